// error: bad_exponent.stan:4:12: error: malformed number '1e+': exponent without digits
// status: VI_EPARSE
transformed data {
  real x = 1e+;
}
