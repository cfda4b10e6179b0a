// error: get_lp.stan:7:12: error: 'get_lp' was removed from Stan; use 'target()'
// status: VI_EUNSUPPORTED
parameters {
  real mu;
}
model {
  real t = get_lp();
}
