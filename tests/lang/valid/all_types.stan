// warning: all_types.stan:17:13: warning: parameter 'v' has no prior: the posterior may be improper
// warning: all_types.stan:18:17: warning: parameter 'rv' has no prior: the posterior may be improper
// warning: all_types.stan:19:16: warning: parameter 'm' has no prior: the posterior may be improper
// warning: all_types.stan:21:14: warning: parameter 'o' has no prior: the posterior may be improper
// warning: all_types.stan:22:23: warning: parameter 'po' has no prior: the posterior may be improper
// warning: all_types.stan:25:26: warning: parameter 'Lc' has no prior: the posterior may be improper
// warning: all_types.stan:26:29: warning: parameter 'Lr' has no prior: the posterior may be improper
// warning: all_types.stan:28:17: warning: parameter 'Sigma' has no prior: the posterior may be improper
// warning: all_types.stan:29:34: warning: parameter 'av' has no prior: the posterior may be improper
// warning: all_types.stan:30:34: warning: parameter 'am' has no prior: the posterior may be improper
data {
  int<lower=1> K;
  int<lower=1> N;
}
parameters {
  real a;
  vector[K] v;
  row_vector[K] rv;
  matrix[K, N] m;
  simplex[K] s;
  ordered[K] o;
  positive_ordered[K] po;
  unit_vector[K] u;
  cholesky_factor_corr[K] L;
  cholesky_factor_cov[K] Lc;
  cholesky_factor_cov[N, K] Lr;
  corr_matrix[K] Omega;
  cov_matrix[K] Sigma;
  array[2, 3] vector<lower=0>[K] av;
  array[2] matrix<upper=1>[K, N] am;
}
model {
  a ~ normal(0, 1);
}
