// error: pow_vector.stan:7:19: error: operator '^' cannot be applied to vector and int
// status: VI_ECHECK
data {
  vector[2] v;
}
transformed data {
  vector[2] w = v ^ 2;
}
