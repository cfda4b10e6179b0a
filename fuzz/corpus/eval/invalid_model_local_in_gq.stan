// error: model_local_in_gq.stan:11:12: error: 'z' is not declared
// status: VI_ECHECK
parameters {
  real mu;
}
model {
  real z = 2 * mu;
  mu ~ normal(0, 1);
}
generated quantities {
  real w = z;
}
