// error: wrong_assign_shape.stan:7:18: error: cannot initialise 'v' of type vector with a value of type row_vector
// status: VI_ECHECK
data {
  matrix[2, 2] m;
}
transformed data {
  vector[2] v = m[1];
}
