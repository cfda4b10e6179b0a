// Shard-unsafe: a parameter per observation (sized by N).
data {
  int<lower=1> N;
  vector[N] y;
}
parameters {
  vector[N] z;
  real<lower=0> sigma;
}
model {
  z ~ std_normal();
  sigma ~ normal(0, 1);
  y ~ normal(z, sigma);
}
