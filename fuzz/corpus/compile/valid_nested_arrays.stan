data {
  int I;
  int J;
  int K;
  array[I, J, K] real x;
  int y[I, J];
  vector[K] v[I];
}
transformed data {
  real s = x[1, 2, 3];
  array[J, K] real x1 = x[1];
  array[K] real x12 = x[1, 2];
  array[I] real xa = x[:, 1, 1];
  int yy = y[1, 1];
  real vv = v[1, 2];
}
