// error: ternary_mismatch.stan:7:19: error: the branches of '?:' have different types vector and int
// status: VI_ECHECK
data {
  vector[2] v;
}
transformed data {
  vector[2] w = 1 ? v : 2;
}
