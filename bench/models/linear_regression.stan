// Bayesian linear regression with known noise sd and a normal prior: the posterior is
// Gaussian with precision X'X / sigma^2 + I / tau^2, so the mean-field optimum (means =
// posterior means, variances = 1 / diag(precision)) and log p(X) are known in closed
// form; bench/run computes them from the data file.  Used twice: well scaled
// (linear_regression) and with predictors on scales 1e-3 .. 1e3 (badly_scaled).
data {
  int<lower=0> N;
  int<lower=1> D;
  matrix[N, D] X;
  vector[N] y;
  real<lower=0> sigma;
  real<lower=0> tau;
}
parameters {
  vector[D] beta;
}
model {
  beta ~ normal(0, tau);
  y ~ normal(X * beta, sigma);
}
