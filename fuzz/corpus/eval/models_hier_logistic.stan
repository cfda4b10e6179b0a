// Hierarchical logistic regression: J groups, each with its own intercept drawn from a
// common normal (non-centered: alpha = mu_alpha + sigma_alpha * alpha_raw), and K
// covariates with shared slopes.
data {
  int<lower=1> N;
  int<lower=1> J;
  int<lower=1> K;
  array[N] int<lower=1, upper=J> g;     // group of each observation
  matrix[N, K] X;
  array[N] int<lower=0, upper=1> y;
}
parameters {
  real mu_alpha;
  real<lower=0> sigma_alpha;
  vector[J] alpha_raw;
  vector[K] beta;
}
transformed parameters {
  vector[J] alpha;
  alpha = mu_alpha + sigma_alpha * alpha_raw;
}
model {
  mu_alpha ~ normal(0, 2);
  sigma_alpha ~ normal(0, 1);
  alpha_raw ~ std_normal();
  beta ~ normal(0, 2);
  y ~ bernoulli_logit(alpha[g] + X * beta);
}
generated quantities {
  vector[J] p_group;                    // each group's success probability at x = 0
  p_group = inv_logit(alpha);
}
