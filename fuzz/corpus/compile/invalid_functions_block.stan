// error: functions_block.stan:5:5: error: cannot assign to 'x': it is a function argument
// status: VI_ECHECK
functions {
  real f(real x) {
    x = 2 * x;
    return x;
  }
}
