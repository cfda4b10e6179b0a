// warning: truncation.stan:9:8: warning: parameter 'mu' has no prior: the posterior may be improper
// warning: truncation.stan:10:17: warning: parameter 'sigma' has no prior: the posterior may be improper
data {
  int N;
  array[N] real<lower=0> y;
  real U;
}
parameters {
  real mu;
  real<lower=0> sigma;
}
model {
  for (n in 1:N)
    y[n] ~ normal(mu, sigma) T[0, U];
  for (n in 1:N)
    y[n] ~ normal(mu, sigma) T[0, ];
  for (n in 1:N)
    y[n] ~ normal(mu, sigma) T[, U];
}
