// error: compound_type_mismatch.stan:9:5: error: operator '*=' cannot be applied to vector and matrix
// status: VI_ECHECK
data {
  vector[3] v;
  matrix[3, 3] m;
}
transformed data {
  vector[3] w = v;
  w *= m;
}
