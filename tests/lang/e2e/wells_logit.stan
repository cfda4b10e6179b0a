// Logistic regression with a design matrix and bernoulli_logit_glm; log_lik in gq.
data {
  int<lower=0> N;
  int<lower=0> P;
  matrix[N, P] X;
  array[N] int<lower=0, upper=1> switched;
}
parameters {
  real alpha;
  vector[P] beta;
}
model {
  alpha ~ normal(0, 2.5);
  beta ~ normal(0, 2.5);
  switched ~ bernoulli_logit_glm(X, alpha, beta);
}
generated quantities {
  vector[N] log_lik;
  array[N] int y_rep;
  {
    vector[N] eta = alpha + X * beta;
    for (n in 1:N) {
      log_lik[n] = bernoulli_logit_lpmf(switched[n] | eta[n]);
      y_rep[n] = bernoulli_logit_rng(eta[n]);
    }
  }
}
