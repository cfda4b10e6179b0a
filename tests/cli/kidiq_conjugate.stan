// Kid IQ regressed on the mother's IQ (uncentred, about 100 +- 15) with an interaction:
// the intercept and slopes are correlated at up to -0.99.  The prior is conjugate
// (normal-inverse-gamma), so the posterior of b is a multivariate t known in closed form
// (tests/cli/families.sh computes it).
data {
  int<lower=1> N;
  vector[N] mom_hs;
  vector[N] mom_iq;
  vector[N] kid_score;
  real<lower=0> a0;
  real<lower=0> b0;
  vector<lower=0>[4] s0;
}
transformed data {
  matrix[N, 4] X = append_col(append_col(append_col(rep_vector(1, N), mom_hs), mom_iq),
                              mom_hs .* mom_iq);
}
parameters {
  vector[4] b;
  real<lower=0> sigma2;
}
model {
  sigma2 ~ inv_gamma(a0, b0);
  b ~ normal(0, sqrt(sigma2) * s0);
  kid_score ~ normal(X * b, sqrt(sigma2));
}
