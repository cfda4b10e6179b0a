// error: param_size.stan:7:16: error: the size of 'v' must depend on data only (data or transformed data)
// status: VI_ECHECK
parameters {
  real<lower=1> n;
}
transformed parameters {
  vector[n > 1 ? 2 : 3] v;
}
