// error: vector_times_vector.stan:7:19: error: operator '*' cannot be applied to vector and vector
// status: VI_ECHECK
data {
  vector[3] v;
}
transformed data {
  vector[3] w = v * v;
}
