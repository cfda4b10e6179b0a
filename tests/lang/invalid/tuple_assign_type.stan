// error: tuple_assign_type.stan:4:24: error: cannot initialise 't' of type tuple(int, real) with a value of type tuple(real, int)
// status: VI_ECHECK
transformed data {
  tuple(int, real) t = (1.5, 2);
}
