// Crossed varying intercepts (group and scenario), centred parametrisation, data
// rescaled in transformed data, mixed old/new array syntax.
data {
  int<lower=0> N;
  int<lower=0> n_groups;
  int<lower=0> n_scenarios;
  int<lower=1, upper=n_groups> group_id[N];
  array[N] int<lower=1, upper=n_scenarios> scenario_id;
  vector[N] y;
}
transformed data {
  real y_scale = sd(y);
  vector[N] ys = y / y_scale;
}
parameters {
  vector[n_groups] a;
  vector[n_scenarios] g;
  real mu_a;
  real mu_g;
  real<lower=0, upper=100> sigma_a;
  real<lower=0, upper=100> sigma_g;
  real<lower=0, upper=100> sigma_y;
}
model {
  vector[N] y_hat;
  for (i in 1:N) y_hat[i] = a[group_id[i]] + g[scenario_id[i]];
  mu_a ~ normal(0, 1);
  a ~ normal(10 * mu_a, sigma_a);
  mu_g ~ normal(0, 1);
  g ~ normal(10 * mu_g, sigma_g);
  ys ~ normal(y_hat, sigma_y);
}
generated quantities {
  real sigma_y_orig = sigma_y * y_scale;
}
