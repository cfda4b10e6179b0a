data {
  int N;
  matrix[N, N] M;
}
transformed data {
  vector[N] v = rep_vector(1, N);
  matrix[N, N] A = M;
  row_vector[N] r = v';
  v += 1;
  v -= v;
  v *= 2;
  v /= 2;
  v .*= v;
  v ./= v;
  A *= A;
  A += 1;
  r *= A;
  v[1] = 3;
  v[1:2] = v[2:3];
  A[1, 2] = 0;
  A[1] = r;
  A[:, 1] = v;
  int n = 10;
  n /= 3;
  n *= 2;
}
