// Several variables in one declaration, bounds in either order.
data {
  int N, M;
  vector[N] x, y;
  real<upper=10, lower=0> a, b;
}
transformed data {
  real s = 1, t, u = 2;
  array[2] int i = {1, 2}, j = {3, 4};
  t = s + u;
}
parameters {
  real mu, nu;
  vector<lower=0>[M] w, v;
}
model {
  real c = 1, d = 2;
  mu ~ normal(c, d);
  nu ~ normal(0, 1);
  w ~ exponential(1);
  v ~ exponential(1);
  y ~ normal(mu + nu * x, 1);
}
