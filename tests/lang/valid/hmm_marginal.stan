// A two-state hidden Markov model: the states summed out by hmm_marginal, their
// posterior probabilities and a draw of the path in generated quantities.
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
generated quantities {
  matrix[2, N] state_prob;
  array[N] int states;
  {
    matrix[2, N] log_omega;
    matrix[2, 2] Gamma;
    for (k in 1:2) {
      Gamma[k] = theta[k]';
      for (t in 1:N) log_omega[k, t] = normal_lpdf(y[t] | mu[k], 1);
    }
    state_prob = hmm_hidden_state_prob(log_omega, Gamma, rho);
    states = hmm_latent_rng(log_omega, Gamma, rho);
  }
}
