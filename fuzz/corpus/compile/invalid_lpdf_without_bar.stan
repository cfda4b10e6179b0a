// error: lpdf_without_bar.stan:7:13: error: 'normal_lpdf' needs '|' after its first argument: normal_lpdf(y | ...)
// status: VI_ECHECK
parameters {
  real mu;
}
model {
  target += normal_lpdf(mu, 0, 1);
}
