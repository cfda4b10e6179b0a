// error: functions_block.stan:4:3: error: user-defined functions are not supported yet
// status: VI_EUNSUPPORTED
functions {
  real f(real x) {
    return 2 * x;
  }
}
