// Shard-unsafe: a prior centred at the mean of the sharded y.
data {
  int<lower=1> N;
  vector[N] y;
}
parameters {
  real mu;
}
model {
  mu ~ normal(mean(y), 10);
  y ~ normal(mu, 1);
}
