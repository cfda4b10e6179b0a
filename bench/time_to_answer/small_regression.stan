// Linear regression with a known noise sd and a normal prior on the coefficients:
//   beta ~ normal(0, tau),  y ~ normal(X * beta, sigma).
// The posterior is Gaussian in closed form: precision A = X'X / sigma^2 + I / tau^2, mean
// A^{-1} X'y / sigma^2, and log p(y) = log N(y | 0, sigma^2 I + tau^2 X X').  A mean-field
// q recovers the mean exactly and the sds 1 / sqrt(diag A) (the conditional sds); the
// tests check both.
data {
  int<lower=1> N;
  int<lower=1> K;
  matrix[N, K] X;
  vector[N] y;
  real<lower=0> sigma;       // known noise sd
  real<lower=0> tau;         // prior sd of each coefficient
}
parameters {
  vector[K] beta;
}
model {
  beta ~ normal(0, tau);
  y ~ normal(X * beta, sigma);
}
generated quantities {
  real y_new;                // a new observation at the first row of X
  y_new = normal_rng(X[1] * beta, sigma);
}
