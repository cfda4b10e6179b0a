// error: increment_log_prob.stan:7:3: error: 'increment_log_prob' was removed from Stan; use 'target += ...'
// status: VI_EUNSUPPORTED
parameters {
  real mu;
}
model {
  increment_log_prob(normal_log(mu, 0, 1));
}
