// Poisson regression with a log link and an exposure offset.  Data from
// bench/gendata.py (poisson_glm).
data {
  int<lower=0> N;
  int<lower=1> D;
  matrix[N, D] X;
  vector[N] log_exposure;
  array[N] int<lower=0> y;
}
parameters {
  real alpha;
  vector[D] beta;
}
model {
  alpha ~ normal(0, 2);
  beta ~ normal(0, 1);
  y ~ poisson_log(log_exposure + alpha + X * beta);
}
