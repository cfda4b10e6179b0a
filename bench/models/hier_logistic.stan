// Hierarchical logistic regression: K groups with non-centred varying intercepts and D
// shared slopes.  Data from bench/gendata.py (hier_logistic).
data {
  int<lower=1> N;
  int<lower=1> K;
  int<lower=1> D;
  array[N] int<lower=1, upper=K> g;
  matrix[N, D] X;
  array[N] int<lower=0, upper=1> y;
}
parameters {
  real mu_a;
  real<lower=0> sigma_a;
  vector[K] a_raw;
  vector[D] beta;
}
transformed parameters {
  vector[K] a = mu_a + sigma_a * a_raw;
}
model {
  mu_a ~ normal(0, 2);
  sigma_a ~ normal(0, 1);
  a_raw ~ std_normal();
  beta ~ normal(0, 1);
  y ~ bernoulli_logit(a[g] + X * beta);
}
