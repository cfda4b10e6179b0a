// The SVD, the pseudo-inverse, chol2inv, the matrix exponential and its products, and the
// special functions of Stan 2.36 that came with them, on data and on parameters.
data {
  int<lower=1> N;
  matrix[N, 2] X;
  vector[N] y;
}
transformed data {
  vector[2] sv = singular_values(X);
  matrix[N, 2] U = svd_U(X);
  matrix[2, 2] V = svd_V(X);
  matrix[2, N] X_pinv = generalized_inverse(X);
  vector[2] beta_ls = X_pinv * y;
  array[5] int grid = linspaced_int_array(5, 0, 12);
  vector[3] flat = uniform_simplex(3);
  real med = quantile(y, 0.5);
  array[2] real quarts = quantile(to_array_1d(y), {0.25, 0.75});
}
parameters {
  vector[2] beta;
  real<lower=0> sigma;
  cholesky_factor_cov[2] L;
  real<lower=0, upper=1> p;
}
transformed parameters {
  matrix[2, 2] A = [[-sigma, beta[1]], [beta[2], -1]];
  matrix[2, 2] E = matrix_exp(A);
  matrix[2, 1] Eb = matrix_exp_multiply(A, to_matrix(beta, 2, 1));
  matrix[2, 1] Es = scale_matrix_exp_multiply(0.5, A, to_matrix(beta, 2, 1));
  matrix[2, 2] S_inv = chol2inv(L);
  real q = inv_inc_beta(2, 3, p);
}
model {
  y ~ normal(X * beta, sigma);
  beta ~ normal(0, 2);
  sigma ~ exponential(1);
  to_vector(L) ~ normal(0, 2);
  target += owens_t(beta[1], 0.5) + std_normal_log_qf(log(p)) * 0 + inv_erfc(p) * 0;
  target += -0.5 * trace(S_inv) + sum(singular_values(L)) * 0;
  target += -0.1 * dot_self(to_vector(svd_U(A))) - 0.1 * sum(svd_V(A)) * 0;
  target += -0.1 * sum(generalized_inverse(L + diag_matrix(rep_vector(1, 2))));
}
generated quantities {
  real t = owens_t(0.5, 2);
}
