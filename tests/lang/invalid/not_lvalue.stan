// error: not_lvalue.stan:5:9: error: the left side of '=' must be a variable, an indexed variable, a tuple element or a tuple of these
// status: VI_EPARSE
transformed data {
  real x;
  x + 1 = 2;
}
