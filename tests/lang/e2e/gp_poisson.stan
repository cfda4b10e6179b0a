// Latent GP Poisson regression: gp_exp_quad_cov, cholesky_decompose, add_diag.
data {
  int<lower=1> N;
  array[N] real x;
  array[N] int<lower=0> k;
}
parameters {
  real<lower=0> rho;
  real<lower=0> alpha;
  vector[N] f_tilde;
}
transformed parameters {
  vector[N] f;
  {
    matrix[N, N] cov = add_diag(gp_exp_quad_cov(x, alpha, rho), 1e-8);
    matrix[N, N] L_cov = cholesky_decompose(cov);
    f = L_cov * f_tilde;
  }
}
model {
  rho ~ gamma(25, 4);
  alpha ~ normal(0, 2);
  f_tilde ~ normal(0, 1);
  k ~ poisson_log(f);
}
generated quantities {
  array[N] int k_rep = poisson_log_rng(f);
}
