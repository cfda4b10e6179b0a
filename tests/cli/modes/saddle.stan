// y ~ normal(a^2, 0.5): modes at a = +-2 of equal height and, between them, a symmetric
// saddle at a = 0 where the gradient in a is exactly zero.
data {
  int<lower=1> N;
  vector[N] y;
}
parameters {
  real a;
  real b;
}
model {
  a ~ normal(0, 3);
  b ~ normal(0, 1);
  y ~ normal(a * a + 0.1 * b, 0.5);
}
