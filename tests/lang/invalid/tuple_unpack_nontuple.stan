// error: tuple_unpack_nontuple.stan:6:12: error: only a tuple can be unpacked, but the right side is int
// status: VI_ECHECK
transformed data {
  real a;
  real b;
  (a, b) = 1;
}
