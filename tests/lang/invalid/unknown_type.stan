// error: unknown_type.stan:5:3: error: 'vectr' is not a type (expected a declaration or a statement)
// status: VI_EPARSE
transformed data {
  int N = 3;
  vectr[N] x;
}
