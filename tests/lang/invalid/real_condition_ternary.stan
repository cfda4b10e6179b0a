// error: real_condition_ternary.stan:4:12: error: the condition of '?:' must be an int but found real
// status: VI_ECHECK
transformed data {
  real x = 1.5 ? 1 : 2;
}
