// User-defined functions in the forms Stan accepts: both array spellings, data-only
// arguments, every return type, void with a bare return, recursion, a forward
// declaration, overloading, densities and _rng / _lp functions.
functions {
  real[] old_arrays(real[] x, int[,] k) {
    return x;
  }
  array[] vector rows_of(matrix m) {
    array[rows(m)] vector[cols(m)] r;
    for (i in 1:rows(m)) r[i] = m[i]';
    return r;
  }
  matrix outer(data vector a, row_vector b) {
    return a * b;
  }
  int count_down(int n);
  int count_down(int n) {
    if (n <= 0) return 0;
    return 1 + count_down(n - 1);
  }
  void note(real x) {
    if (x > 0) return;
    print("x = ", x);
  }
  real pick(real a) { return a; }
  real pick(real a, real b) { return b; }
  real halfnorm_lpdf(real y, real s) {
    return normal_lpdf(y | 0, s) + log(2);
  }
  real draw_rng(real s) { return fabs(normal_rng(0, s)); }
  void soft_lp(real x) { target += -x^2; }
}
data {
  int N;
  vector[N] v;
}
transformed data {
  array[2] real o = old_arrays({1.0, 2.0}, {{1}, {2}});
  int c = count_down(3);
}
parameters {
  real<lower=0> s;
  real m;
}
transformed parameters {
  real p = pick(m, s);
}
model {
  matrix[N, 2] M = outer(v, [1, 2]);
  array[N] vector[2] rs = rows_of(M);
  note(m);
  s ~ halfnorm(1);
  target += halfnorm_lupdf(s | 2);
  soft_lp(m);
}
generated quantities {
  real d = draw_rng(s);
}
