// error: int_tparameter.stan:7:7: error: transformed parameters cannot be integers: 'k' is declared int
// status: VI_ECHECK
parameters {
  real a;
}
transformed parameters {
  int k = 1;
}
