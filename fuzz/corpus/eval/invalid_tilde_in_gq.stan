// error: tilde_in_gq.stan:7:6: error: '~' statements are only allowed in the model block, not in the generated quantities block
// status: VI_ECHECK
parameters {
  real mu;
}
generated quantities {
  mu ~ normal(0, 1);
}
