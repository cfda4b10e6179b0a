// error: old_dims_then_comma.stan:4:12: error: array sizes after the name are only allowed when declaring one variable; use 'array[...]'
// status: VI_EPARSE
data {
  real y[3], x;
}
