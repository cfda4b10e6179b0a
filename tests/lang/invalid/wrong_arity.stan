// error: wrong_arity.stan:4:12: error: no signature exp(int, int); candidates: exp(any), exp(cany)
// status: VI_ECHECK
transformed data {
  real x = exp(1, 2);
}
