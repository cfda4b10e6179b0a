// error: param_in_tdata.stan:4:12: error: 'mu' is not declared
// status: VI_ECHECK
transformed data {
  real x = mu;
}
parameters {
  real mu;
}
