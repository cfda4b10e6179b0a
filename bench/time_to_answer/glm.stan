// bench/throughput's model: logistic regression without intercept, beta ~ N(0, tau^2 I),
// the same density as the hand-written C model cm_logreg (models/c_models.h), so the
// two paths can be timed against each other and their log joints compared.
data {
  int<lower=0> N;
  int<lower=1> K;
  matrix[N, K] X;
  array[N] int<lower=0, upper=1> y;
  real<lower=0> tau;
}
parameters {
  vector[K] beta;
}
model {
  beta ~ normal(0, tau);
  y ~ bernoulli_logit(X * beta);
}
