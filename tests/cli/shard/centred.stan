// Shard-unsafe: transformed data centres x by its mean (a reduction over the sharded x).
data {
  int<lower=1> N;
  vector[N] x;
  array[N] int<lower=0, upper=1> y;
}
transformed data {
  vector[N] xc = x - mean(x);
}
parameters {
  real alpha;
  real beta;
}
model {
  alpha ~ normal(0, 2);
  beta ~ normal(0, 2);
  y ~ bernoulli_logit(alpha + beta * xc);
}
