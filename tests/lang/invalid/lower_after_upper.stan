// error: lower_after_upper.stan:4:17: error: 'lower' must come before 'upper'
// status: VI_EPARSE
data {
  real<upper=1, lower=0> x;
}
