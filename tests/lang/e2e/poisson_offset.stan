// Poisson regression with an offset on the rate scale: poisson(exp(...) .* t).
data {
  int<lower=1> N;
  array[N] int<lower=0> y;
  vector[N] x;
  vector<lower=0>[N] t;
}
parameters {
  real a;
  real b;
}
model {
  a ~ normal(0, 5);
  b ~ normal(0, 5);
  y ~ poisson(exp(a + b * x) .* t);
}
