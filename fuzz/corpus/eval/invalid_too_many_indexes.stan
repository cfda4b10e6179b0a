// error: too_many_indexes.stan:7:13: error: too many indexes (2) for a value of type vector
// status: VI_ECHECK
data {
  vector[3] v;
}
transformed data {
  real x = v[1, 2];
}
