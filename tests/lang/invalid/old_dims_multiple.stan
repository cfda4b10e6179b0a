// error: old_dims_multiple.stan:4:12: error: array sizes after the name are only allowed when declaring one variable; use 'array[...]'
// status: VI_EPARSE
data {
  real x, y[3];
}
