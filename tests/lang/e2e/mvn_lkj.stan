// Multivariate normal with scales and an LKJ prior on the correlation (Cholesky form).
data {
  int<lower=1> N;
  int<lower=1> D;
  array[N] vector[D] y;
}
parameters {
  vector[D] mu;
  vector<lower=0>[D] sigma;
  cholesky_factor_corr[D] L;
}
model {
  mu ~ normal(0, 10);
  sigma ~ normal(0, 5);
  L ~ lkj_corr_cholesky(2);
  y ~ multi_normal_cholesky(mu, diag_pre_multiply(sigma, L));
}
generated quantities {
  matrix[D, D] Omega = multiply_lower_tri_self_transpose(L);
  cov_matrix[D] Sigma = quad_form_diag(Omega, sigma);
}
