// error: hmm_hidden_state_prob_in_model.stan:12:7: error: 'hmm_hidden_state_prob' has no gradient: it is only allowed in transformed data, generated quantities and _rng functions
// status: VI_ECHECK
data {
  matrix[2, 3] log_omega;
  matrix[2, 2] Gamma;
}
parameters {
  simplex[2] rho;
}
model {
  matrix[2, 3] P;
  P = hmm_hidden_state_prob(log_omega, Gamma, rho);
}
