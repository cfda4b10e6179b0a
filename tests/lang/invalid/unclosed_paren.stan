// error: unclosed_paren.stan:4:18: error: expected ')' but found ';'
// status: VI_EPARSE
transformed data {
  real x = (1 + 2;
}
