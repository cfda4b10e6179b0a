// A normal mean with known sigma and a normal prior: the posterior is normal in closed
// form (tests/cli/minibatch.sh checks a minibatch fit against it).
data {
  int<lower=1> N;
  vector[N] y;
  real<lower=0> sigma;
}
parameters {
  real mu;
}
model {
  mu ~ normal(0, 10);
  y ~ normal(mu, sigma);
}
