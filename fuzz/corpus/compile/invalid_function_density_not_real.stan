// error: function_density_not_real.stan:4:10: error: 'pair_lpdf' is a probability function: it must return real, not vector
// status: VI_ECHECK
functions {
  vector pair_lpdf(real y, real mu) { return [normal_lpdf(y | mu, 1), 100]'; }
}
parameters { real y; }
model { y ~ pair(0); }
