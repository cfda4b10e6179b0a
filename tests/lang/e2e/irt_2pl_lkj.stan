// Hierarchical two-parameter IRT: item parameters with correlated random effects
// (cholesky_factor_corr, lkj_corr_cholesky, multi_normal_cholesky), index arrays.
data {
  int<lower=1> I;
  int<lower=1> J;
  int<lower=1> N;
  array[N] int<lower=1, upper=I> ii;
  array[N] int<lower=1, upper=J> jj;
  array[N] int<lower=0, upper=1> y;
}
parameters {
  vector[J] theta;
  array[I] vector[2] xi;
  vector[2] mu;
  vector<lower=0>[2] tau;
  cholesky_factor_corr[2] L_Omega;
}
transformed parameters {
  vector[I] alpha;
  vector[I] beta;
  for (i in 1:I) {
    alpha[i] = exp(xi[i, 1]);
    beta[i] = xi[i, 2];
  }
}
model {
  matrix[2, 2] L_Sigma = diag_pre_multiply(tau, L_Omega);
  xi ~ multi_normal_cholesky(mu, L_Sigma);
  theta ~ std_normal();
  L_Omega ~ lkj_corr_cholesky(4);
  mu[1] ~ normal(0, 1);
  mu[2] ~ normal(0, 5);
  tau ~ exponential(0.5);
  y ~ bernoulli_logit(alpha[ii] .* (theta[jj] - beta[ii]));
}
generated quantities {
  corr_matrix[2] Omega = multiply_lower_tri_self_transpose(L_Omega);
}
