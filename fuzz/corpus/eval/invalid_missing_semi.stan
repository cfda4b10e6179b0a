// error: missing_semi.stan:4:9: error: expected ';' after declaration but found 'real'
// status: VI_EPARSE
data {
  real x
  real y;
}
