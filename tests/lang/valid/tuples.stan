// Tuples (Stan 2.33+) where Stan allows them: data, transformed data, transformed
// parameters, locals of every block, generated quantities, function arguments and
// results; tuple expressions, element access x.1, arrays of tuples, nested tuples,
// unpacking (a, b) = ..., promotion tuple(int, ...) -> tuple(real, ...).
functions {
  tuple(real, vector) moments(vector v) { return (mean(v), v - mean(v)); }
  real area(tuple(real, real) wh) { return wh.1 * wh.2; }
  tuple(int, tuple(real, array[] int)) nest(int k) { return (k, (k * 0.5, {k, k})); }
}
data {
  int<lower=1> N;
  tuple(real, array[N] int) d;
  array[2] tuple(vector[N], real<lower=0>) da;
}
transformed data {
  tuple(real, vector[N]) m = moments(da[1].1);
  tuple(real, real) wh = (2, 3.5);             // int -> real
  real a = area(wh) + area((1, 2));
  array[2] tuple(int, real) pairs = {(1, 2.5), (3, 4)};
  tuple(int, tuple(real, array[2] int)) t3 = nest(4);
  real s;
  vector[N] c;
  (s, c) = m;
  (s, c[1]) = (c[1], s);                        // the right side is evaluated first
  t3.2.2[1] = 7;
  pairs[2].2 = 5;
  pairs[1] = (9, 9.5);
  for (p in pairs) s += p.1 * p.2;
  tuple(complex, matrix[2, 2]) cz = (1i, diag_matrix(rep_vector(1, 2)));
}
parameters {
  real mu;
  real<lower=0> sigma;
}
transformed parameters {
  tuple(real, real<lower=0>) theta = (mu, sigma);
}
model {
  tuple(real, real) loc = (theta.1, theta.2 + d.1);
  mu ~ normal(0, 1);
  sigma ~ lognormal(0, 1);
  da[1].1 ~ normal(loc.1, loc.2);
}
generated quantities {
  tuple(real, vector[N]) g = moments(da[2].1 * mu);
  array[2] tuple(int, real) gp = pairs;
  real ab = area((mu, sigma));
}
