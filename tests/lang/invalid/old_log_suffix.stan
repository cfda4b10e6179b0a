// error: old_log_suffix.stan:7:13: error: 'normal_log' was removed from Stan; use 'normal_lpdf'
// status: VI_EUNSUPPORTED
parameters {
  real mu;
}
model {
  target += normal_log(mu, 0, 1);
}
