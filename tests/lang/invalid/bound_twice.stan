// error: bound_twice.stan:4:17: error: 'lower' given twice
// status: VI_EPARSE
data {
  real<lower=0, lower=1> x;
}
