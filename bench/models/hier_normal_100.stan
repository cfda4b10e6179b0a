// A model with 100+ parameters: normal observations in J = 100 groups with non-centred
// group means (J + 3 unconstrained parameters).
data {
  int<lower=1> J;
  int<lower=0> N;
  array[N] int<lower=1, upper=J> g;
  vector[N] y;
}
parameters {
  real mu;
  real<lower=0> tau;
  real<lower=0> sigma;
  vector[J] eta;
}
model {
  mu ~ normal(0, 5);
  tau ~ normal(0, 5);
  sigma ~ normal(0, 5);
  eta ~ std_normal();
  y ~ normal(mu + tau * eta[g], sigma);
}
