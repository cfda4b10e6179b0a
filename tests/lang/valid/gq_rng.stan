// warning: gq_rng.stan:11:8: warning: parameter 'mu' has no prior: the posterior may be improper
// warning: gq_rng.stan:12:17: warning: parameter 'sigma' has no prior: the posterior may be improper
data {
  int<lower=0> N;
  vector[N] y;
}
transformed data {
  real noise = normal_rng(0, 1);       // _rng allowed in transformed data
}
parameters {
  real mu;
  real<lower=0> sigma;
}
model {
  y ~ normal(mu, sigma);
}
generated quantities {
  array[N] real y_rep;
  real log_lik = normal_lpdf(y | mu, sigma);
  for (n in 1:N) y_rep[n] = normal_rng(mu, sigma);
}
