// Ordinal regression: ordered cutpoints, ordered_logistic, rng in gq.
data {
  int<lower=2> K;
  int<lower=0> N;
  int<lower=1> D;
  array[N] int<lower=1, upper=K> y;
  array[N] row_vector[D] x;
}
parameters {
  vector[D] beta;
  ordered[K - 1] c;
}
model {
  beta ~ normal(0, 5);
  c ~ normal(0, 5);
  for (n in 1:N)
    y[n] ~ ordered_logistic(x[n] * beta, c);
}
generated quantities {
  int y1 = ordered_logistic_rng(x[1] * beta, c);
}
