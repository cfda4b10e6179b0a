// error: target_outside_model.stan:8:3: error: 'target +=' is only allowed in the model block, not in the transformed parameters block
// status: VI_ECHECK
parameters {
  real mu;
}
transformed parameters {
  real m = mu;
  target += normal_lpdf(mu | 0, 1);
}
