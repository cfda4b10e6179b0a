// A prior on a transformed parameter, with its Jacobian written as a target term: a
// prior for the parameter it is computed from.  The scale of a prior may be data: it
// stays a prior (the variate is a parameter).
data { int N; vector[N] y; real<lower=0> prior_scale; }
parameters { real log_sigma; real mu; }
transformed parameters { real<lower=0> sigma = exp(log_sigma); }
model {
  sigma ~ lognormal(0, 1);
  target += log_sigma;   // log |d sigma / d log_sigma|
  mu ~ normal(0, prior_scale);
  y ~ normal(mu, sigma);
}
