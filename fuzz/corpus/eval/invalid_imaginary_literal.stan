// error: imaginary_literal.stan:4:12: error: complex numbers are not supported yet (found '2i')
// status: VI_EUNSUPPORTED
transformed data {
  real z = 2i;
}
