// error: matrix_literal_mixed.stan:4:29: error: elements of '[...]' must be all int/real/complex (a row vector) or all row vectors (a matrix); found int
// status: VI_ECHECK
transformed data {
  matrix[2, 2] m = [[1, 2], 3];
}
