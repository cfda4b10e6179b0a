// error: function_rng_outside_rng.stan:5:16: error: random number generator 'normal_rng' is only allowed in functions whose name ends in _rng, not in 'noisy'
// status: VI_ECHECK
functions {
  real noisy(real x) {
    return x + normal_rng(0, 1);
  }
}
