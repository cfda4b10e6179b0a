// error: mod_real.stan:4:16: error: operator '%' cannot be applied to real and int
// status: VI_ECHECK
transformed data {
  real x = 2.5 % 2;
}
