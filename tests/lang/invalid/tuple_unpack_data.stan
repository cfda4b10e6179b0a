// error: tuple_unpack_data.stan:8:7: error: cannot assign to 'd': it is data
// status: VI_ECHECK
data {
  real d;
}
transformed data {
  real a;
  (a, d) = (1, 2);
}
