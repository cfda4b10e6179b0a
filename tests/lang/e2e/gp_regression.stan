// Marginal-likelihood GP regression: covariance built from cov_exp_quad plus a noise
// diagonal, Cholesky factor of a parameter-dependent matrix, multi_normal_cholesky;
// posterior predictive mean at new points in gq.
data {
  int<lower=1> N;
  array[N] real x;
  vector[N] y;
  int<lower=1> N_new;
  array[N_new] real x_new;
}
parameters {
  real<lower=0> rho;
  real<lower=0> alpha;
  real<lower=0> sigma;
}
model {
  matrix[N, N] cov = cov_exp_quad(x, alpha, rho) + diag_matrix(rep_vector(square(sigma), N));
  matrix[N, N] L_cov = cholesky_decompose(cov);
  rho ~ gamma(25, 4);
  alpha ~ normal(0, 2);
  sigma ~ normal(0, 1);
  y ~ multi_normal_cholesky(rep_vector(0, N), L_cov);
}
generated quantities {
  vector[N_new] f_new;
  {
    matrix[N, N] K = add_diag(gp_exp_quad_cov(x, alpha, rho), square(sigma));
    matrix[N, N_new] k_x = gp_exp_quad_cov(x, x_new, alpha, rho);
    f_new = k_x' * mdivide_left_spd(K, y);
  }
}
