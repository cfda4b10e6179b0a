// error: lupdf_outside_model.stan:10:13: error: 'normal_lupdf' (unnormalised density) can only be used in the model block
// status: VI_ECHECK
parameters {
  real mu;
}
model {
  mu ~ normal(0, 1);
}
generated quantities {
  real lp = normal_lupdf(mu | 0, 1);
}
