// error: real_out_of_range.stan:4:12: error: real literal '1e999' out of range
// status: VI_EPARSE
transformed data {
  real x = 1e999;
}
