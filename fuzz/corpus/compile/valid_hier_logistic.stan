// Hierarchical logistic regression with group intercepts.
data {
  int<lower=1> N;
  int<lower=1> D;
  int<lower=1> G;
  matrix[N, D] X;
  array[N] int<lower=1, upper=G> g;
  array[N] int<lower=0, upper=1> y;
}
parameters {
  vector[D] beta;
  real mu_a;
  real<lower=0> sigma_a;
  vector<offset=mu_a, multiplier=sigma_a>[G] a;
}
model {
  beta ~ normal(0, 2.5);
  mu_a ~ normal(0, 1);
  sigma_a ~ exponential(1);
  a ~ normal(mu_a, sigma_a);
  y ~ bernoulli_logit(X * beta + a[g]);
}
generated quantities {
  array[N] int y_rep;
  for (n in 1:N)
    y_rep[n] = bernoulli_logit_rng(X[n] * beta + a[g[n]]);
}
