// error: complex_parameter.stan:4:11: error: parameters cannot be complex: 'z' is declared complex (as in Stan, declare the real and imaginary parts as real parameters)
// status: VI_ECHECK
parameters {
  complex z;
}
