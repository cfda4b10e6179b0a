// error: bar_in_plain_call.stan:4:12: error: '|' is only used in calls of densities and distribution functions, not in 'exp'
// status: VI_ECHECK
transformed data {
  real x = exp(1 | 2);
}
