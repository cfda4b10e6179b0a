// Logistic regression with an intercept and D slopes.  The benchmark's large-N model
// (N = 20,000, D = 20) and bench/throughput's model (N up to 10^6, D = 100).
data {
  int<lower=0> N;
  int<lower=1> D;
  matrix[N, D] X;
  array[N] int<lower=0, upper=1> y;
}
parameters {
  real alpha;
  vector[D] beta;
}
model {
  alpha ~ normal(0, 5);
  beta ~ normal(0, 1);
  y ~ bernoulli_logit(alpha + X * beta);
}
