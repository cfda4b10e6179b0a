// error: assign_vector_to_real.stan:8:7: error: cannot assign a value of type vector to 'x' of type real
// status: VI_ECHECK
data {
  vector[3] v;
}
transformed data {
  real x;
  x = v;
}
