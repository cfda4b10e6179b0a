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
