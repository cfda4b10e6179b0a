// error: tuple_unpack_compound.stan:6:10: error: a tuple can only be unpacked with '=', not '+='
// status: VI_EPARSE
transformed data {
  real a;
  real b;
  (a, b) += (1, 2);
}
