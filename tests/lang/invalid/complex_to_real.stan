// error: complex_to_real.stan:4:14: error: cannot initialise 'x' of type real with a value of type complex
// status: VI_ECHECK
transformed data {
  real x = 3 + 2i;
}
