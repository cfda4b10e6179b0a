// A two-state hidden Markov model with the states summed out by hmm_marginal.
data {
  int<lower=1> N;
  array[N] real y;
}
parameters {
  simplex[2] rho;
  array[2] simplex[2] theta;
  ordered[2] mu;
}
model {
  matrix[2, N] log_omega;
  matrix[2, 2] Gamma;
  for (k in 1:2) {
    Gamma[k] = theta[k]';
    for (t in 1:N) log_omega[k, t] = normal_lpdf(y[t] | mu[k], 1);
  }
  mu ~ normal(0, 3);
  target += hmm_marginal(log_omega, Gamma, rho);
}
