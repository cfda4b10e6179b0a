// error: tuple_unpack_twice.stan:5:7: error: 'a' is assigned twice in this unpacking
// status: VI_ECHECK
transformed data {
  real a;
  (a, a) = (1, 2);
}
