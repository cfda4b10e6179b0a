// Log-scale regression with a transformed outcome computed in transformed data and
// lognormal likelihood equivalence checked in gq.
data {
  int<lower=0> N;
  vector<lower=0>[N] earn;
  vector[N] height;
  array[N] int<lower=0, upper=1> male;
}
transformed data {
  vector[N] log_earn = log(earn);
  vector[N] male_v = to_vector(male);
}
parameters {
  vector[3] beta;
  real<lower=0> sigma;
}
model {
  log_earn ~ normal(beta[1] + beta[2] * height + beta[3] * male_v, sigma);
}
generated quantities {
  real lp_ln = lognormal_lpdf(earn | beta[1] + beta[2] * height + beta[3] * male_v, sigma);
}
