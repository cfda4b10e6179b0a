// Negative binomial regression with an exposure offset (neg_binomial_2_log), and a
// Poisson comparison in gq.
data {
  int<lower=1> N;
  array[N] int<lower=0> y;
  vector[N] x;
  vector<lower=0>[N] exposure;
}
transformed data {
  vector[N] log_expo = log(exposure);
}
parameters {
  real a;
  real b;
  real<lower=0> phi;
}
model {
  a ~ normal(0, 5);
  b ~ normal(0, 5);
  phi ~ gamma(2, 0.1);
  y ~ neg_binomial_2_log(a + b * x + log_expo, phi);
}
generated quantities {
  array[N] int y_rep = neg_binomial_2_log_rng(a + b * x + log_expo, phi);
  real lp_pois = poisson_log_lpmf(y | a + b * x + log_expo);
}
