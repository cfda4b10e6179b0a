data {
  int N;
  int M;
  array[N] int idx;
  vector[N] v;
  matrix[N, M] X;
  array[N, M] real a2;
  array[N] vector[M] av;
}
transformed data {
  real s1 = v[1];
  vector[3] s2 = v[2:4];
  vector[N - 2] s3 = v[3:];
  vector[4] s4 = v[:4];
  vector[N] s5 = v[idx];
  vector[N] s6 = v[:];
  row_vector[M] x1 = X[1];
  real x2 = X[1, 2];
  vector[N] x3 = X[:, 2];
  row_vector[M] x4 = X[2, :];
  matrix[2, M] x5 = X[1:2];
  matrix[2, 2] x6 = X[1:2, 1:2];
  vector[2] x7 = X[1:2, 1];
  row_vector[2] x8 = X[1, 1:2];
  real x9 = X[1][2];
  array[M] real a1 = a2[1];
  real a3 = a2[1, 2];
  array[N] real a4 = a2[:, 1];
  array[2, M] real a5 = a2[1:2];
  vector[M] v1 = av[1];
  real v2 = av[1, 2];
  real v3 = av[1][2];
  array[N] real v4 = av[:, 1];
  array[2] vector[M] v5 = av[1:2];
  array[N] vector[2] v6 = av[:, 1:2];
  int i1 = idx[idx[1]];
}
