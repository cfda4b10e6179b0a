// error: complex_fft_matrix.stan:5:25: error: no signature fft(matrix); candidates: fft(complex_vector)
// status: VI_ECHECK
transformed data {
  matrix[2, 2] m = [[1, 2], [3, 4]];
  complex_vector[2] f = fft(m);
}
