// error: not_lvalue.stan:5:9: error: the left side of '=' must be a variable or an indexed variable
// status: VI_EPARSE
transformed data {
  real x;
  x + 1 = 2;
}
