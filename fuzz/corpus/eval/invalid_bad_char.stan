// error: bad_char.stan:7:14: error: invalid character '@'
// status: VI_EPARSE
data {
  real x;
}
transformed data {
  real y = x @ 2;
}
