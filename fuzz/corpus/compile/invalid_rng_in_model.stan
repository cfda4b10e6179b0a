// error: rng_in_model.stan:7:12: error: random number generator 'normal_rng' is only allowed in transformed data and generated quantities, not in the model block
// status: VI_ECHECK
parameters {
  real mu;
}
model {
  real z = normal_rng(0, 1);
  mu ~ normal(z, 1);
}
