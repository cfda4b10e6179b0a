data {
  int<lower=0> N;
  int<lower=1> D;
  matrix[N, D] X;
  array[N] int<lower=0, upper=1> y;
}
parameters {
  vector[D] beta;
  real alpha;
}
model {
  beta ~ normal(0, 1);
  alpha ~ normal(0, 1);
  y ~ bernoulli_logit(alpha + X * beta);
}
