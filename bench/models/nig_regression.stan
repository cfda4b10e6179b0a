// Linear regression with a conjugate normal-inverse-gamma prior: b | sigma2 ~ N(0, sigma2
// diag(s0)^2), sigma2 ~ inv_gamma(a0, b0).  The posterior of b is a multivariate t known
// in closed form, which makes this the reference for sds on correlated posteriors
// (bench/uncertainty: uncentred predictors, interactions).
data {
  int<lower=1> N;
  int<lower=1> K;
  matrix[N, K] X;
  vector[N] y;
  real<lower=0> a0;
  real<lower=0> b0;
  vector<lower=0>[K] s0;
}
parameters {
  vector[K] b;
  real<lower=0> sigma2;
}
model {
  sigma2 ~ inv_gamma(a0, b0);
  b ~ normal(0, sqrt(sigma2) * s0);
  y ~ normal(X * b, sqrt(sigma2));
}
