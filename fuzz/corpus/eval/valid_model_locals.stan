data {
  int N;
  vector[N] x;
  vector[N] y;
}
parameters {
  real a;
  real b;
  real<lower=0> s;
}
model {
  vector[N] mu;              // model-block local
  mu = a + b * x;
  for (n in 1:N) {
    real r = y[n] - mu[n];
    target += -0.5 * square(r / s) - log(s);
  }
  a ~ normal(0, 10);
  b ~ normal(0, 10);
  s ~ exponential(1);
}
