data {
  int N;
  vector[N] v;
  row_vector[N] r;
  matrix[N, N] M;
  real x;
  int k;
}
transformed data {
  real a = -2 ^ 2;
  real b = 2 ^ 3 ^ 2;
  int c = 7 / 2;
  int d = 7 % 3;
  int e = 7 %/% 2;
  real f = 7.0 / 2;
  int g = k > 0 && k < 10 || !k;
  int h = k == 1 != 0;
  int i = k >= 1;
  int j = k <= 1;
  real l = k ? x : 2;
  real m = r * v;
  matrix[N, N] vr = v * r;
  vector[N] mv = M * v;
  row_vector[N] rm = r * M;
  matrix[N, N] mm = M * M';
  vector[N] ew = v .* v ./ v;
  vector[N] sv = 2 * v + v - 1;
  row_vector[N] vt = v';
  vector[N] solve = M \ v;
  matrix[N, N] rdiv = M / M;
  row_vector[N] rd = r / M;
  vector[N] ep = v .^ 2;
  real nn = -x;
  real pp = +x;
  real q = (x + 1) * (x - 1) / 2.5e-1;
  real lit = .5 + 2. + 1e3 + 1.5E-2;
  vector[N] neg = -v;
  matrix[N, N] mt = -M';
  real mix = 1 - -1;
}
parameters {
  real y;
}
model {
  y ~ normal(a + b + c + d + e + f, 1);
}
