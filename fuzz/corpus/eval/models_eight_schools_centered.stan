// Eight schools, centered parameterisation: theta ~ normal(mu, tau) directly.  The
// posterior has a funnel (small tau pins the thetas together) that a mean-field Gaussian
// cannot follow: expect a worse ELBO and a larger PSIS k-hat than eight_schools.stan.
data {
  int<lower=0> J;
  vector[J] y;
  vector<lower=0>[J] sigma;
}
parameters {
  real mu;
  real<lower=0> tau;
  vector[J] theta;
}
model {
  mu ~ normal(0, 5);
  tau ~ cauchy(0, 5);
  theta ~ normal(mu, tau);
  y ~ normal(theta, sigma);
}
