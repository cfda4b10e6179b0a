// Hierarchical logistic regression by group with a matrix of coefficients: rows of a
// matrix, rows_dot_product, to_vector, cholesky-free non-centred effects.
data {
  int<lower=1> N;
  int<lower=1> K;
  int<lower=1> J;
  array[N] int<lower=1, upper=J> grp;
  matrix[N, K] X;
  array[N] int<lower=0, upper=1> y;
}
parameters {
  vector[K] gamma;
  vector<lower=0>[K] tau;
  matrix[J, K] z;
}
transformed parameters {
  matrix[J, K] beta;
  for (j in 1:J)
    beta[j] = gamma' + tau' .* z[j];
}
model {
  gamma ~ normal(0, 2);
  tau ~ normal(0, 1);
  to_vector(z) ~ std_normal();
  y ~ bernoulli_logit(rows_dot_product(beta[grp], X));
}
