// warning: csr_sparse.stan:17:13: warning: parameter 'beta' has no prior: the posterior may be improper
// warning: csr_sparse.stan:18:17: warning: parameter 'sigma' has no prior: the posterior may be improper
// A regression on a sparse design matrix in Stan's CSR form.
data {
  int<lower=1> N;
  int<lower=1> K;
  matrix[N, K] X;
  vector[N] y;
}
transformed data {
  vector[size(csr_extract_w(X))] w = csr_extract_w(X);
  array[size(w)] int v = csr_extract_v(X);
  array[N + 1] int u = csr_extract_u(X);
  matrix[N, K] X_dense = csr_to_dense_matrix(N, K, w, v, u);
}
parameters {
  vector[K] beta;
  real<lower=0> sigma;
}
model {
  y ~ normal(csr_matrix_times_vector(N, K, w, v, u, beta), sigma);
}
