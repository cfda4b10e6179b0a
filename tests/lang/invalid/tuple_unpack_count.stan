// error: tuple_unpack_count.stan:6:3: error: cannot unpack a tuple of 3 elements (tuple(int, int, int)) into 2 targets
// status: VI_ECHECK
transformed data {
  real a;
  real b;
  (a, b) = (1, 2, 3);
}
