// error: tuple_index.stan:5:13: error: a value of type tuple(real, real) cannot be indexed (its elements are x.1, x.2, ...)
// status: VI_ECHECK
transformed data {
  tuple(real, real) t = (1, 2);
  real x = t[1];
}
