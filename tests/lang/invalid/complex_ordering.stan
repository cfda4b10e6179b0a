// error: complex_ordering.stan:4:14: error: operator '<' cannot be applied to complex and complex
// status: VI_ECHECK
transformed data {
  int b = 1i < 2i;
}
