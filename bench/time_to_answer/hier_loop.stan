// Varying intercepts, the likelihood's mean built in an indexing loop (the form the
// issue measured: m[i] = a[g[i]] + beta * x[i]), non-centred.
data {
  int<lower=1> N;
  int<lower=1> J;
  array[N] int<lower=1, upper=J> g;
  vector[N] x;
  vector[N] y;
}
parameters {
  real mu_a;
  real<lower=0> tau;
  vector[J] a_raw;
  real beta;
  real<lower=0> sigma;
}
transformed parameters {
  vector[J] a = mu_a + tau * a_raw;
}
model {
  vector[N] m;
  for (i in 1:N)
    m[i] = a[g[i]] + beta * x[i];
  mu_a ~ normal(0, 5);
  tau ~ normal(0, 1);
  a_raw ~ std_normal();
  beta ~ normal(0, 5);
  sigma ~ normal(0, 1);
  y ~ normal(m, sigma);
}
