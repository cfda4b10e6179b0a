// error: tuple_proj_range.stan:5:13: error: a tuple of type tuple(real, int) has no element 3 (its elements are .1 to .2)
// status: VI_ECHECK
transformed data {
  tuple(real, int) t = (1.5, 2);
  real x = t.3;
}
