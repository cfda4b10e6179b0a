// A two-component normal mixture with known, unequal weights (0.3, 0.7): the two
// labellings are distinct modes with different ELBOs.
data {
  int<lower=1> N;
  vector[N] y;
}
parameters {
  real mu1;
  real mu2;
  real<lower=0> sigma;
}
model {
  mu1 ~ normal(0, 5);
  mu2 ~ normal(0, 5);
  sigma ~ lognormal(0, 1);
  for (n in 1:N)
    target += log_mix(0.3, normal_lpdf(y[n] | mu1, sigma), normal_lpdf(y[n] | mu2, sigma));
}
