// error: tilde_with_suffix.stan:7:8: error: after '~' give the distribution name without '_lpdf'
// status: VI_EPARSE
parameters {
  real mu;
}
model {
  mu ~ normal_lpdf(0, 1);
}
