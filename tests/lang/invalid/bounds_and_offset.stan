// error: bounds_and_offset.stan:4:17: error: bounds (lower, upper) cannot be combined with offset/multiplier
// status: VI_EPARSE
parameters {
  real<lower=0, offset=1> x;
}
