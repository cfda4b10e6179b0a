// Multivariate normal with an unknown mean and covariance matrix (cov_matrix).
data {
  int<lower=1> N;
  int<lower=1> D;
  array[N] vector[D] y;
}
parameters {
  vector[D] mu;
  cov_matrix[D] Sigma;
}
model {
  mu ~ normal(0, 10);
  Sigma ~ inv_wishart(D + 2, diag_matrix(rep_vector(1, D)));
  y ~ multi_normal(mu, Sigma);
}
generated quantities {
  vector[D] y_new = multi_normal_rng(mu, Sigma);
}
