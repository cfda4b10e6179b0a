data {
  int N;
  array[N] real a;
  array[N, 2] int b;
  vector[N] v;
  matrix[2, 2] m;
}
transformed data {
  real s = 0;
  int t = 0;
  for (x in a) s += x;
  for (row in b) for (e in row) t += e;
  for (x in v) s += x;
  for (x in m) s += x;
  for (x in v') s += x;
}
