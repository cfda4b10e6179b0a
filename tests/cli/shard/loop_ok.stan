// Shard-safe, written per observation: a loop over 1:N, a local sized by N, group
// intercepts read at each observation's group, a term on non-sharded data, and an
// elementwise function of the sharded data.
data {
  int<lower=1> N;
  int<lower=1> J;
  array[N] int<lower=1, upper=J> g;
  vector[N] x;
  vector[N] y;
  vector[J] prior_mean;
}
parameters {
  vector[J] a;
  real b;
  real<lower=0> sigma;
}
model {
  vector[N] mu = a[g] + b * exp(x / 4);
  a ~ normal(prior_mean, 2);
  b ~ normal(0, 2);
  sigma ~ normal(0, 1);
  for (n in 1:N)
    target += normal_lpdf(y[n] | mu[n], sigma);
}
