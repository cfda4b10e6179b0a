// warning: priors_bounded.stan:9:17: warning: parameter 'sigma' has no prior: the posterior may be improper
// warning: priors_bounded.stan:10:32: warning: parameter 'nu' has no prior: the posterior may be improper
// Both bounds: an implicit uniform prior, proper.  One bound: improper, as are the
// unconstrained and offset/multiplier parameters.  Simplex and correlation types are
// proper on their own.
data { int N; vector[N] y; }
parameters {
  real<lower=-5, upper=5> mu;
  real<lower=0> sigma;
  real<offset=1, multiplier=2> nu;
  simplex[3] w;
  cholesky_factor_corr[2] L;
}
model {
  y ~ student_t(nu, mu, sigma);
}
