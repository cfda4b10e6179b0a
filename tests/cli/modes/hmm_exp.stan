// A two-state hidden Markov model with exponential emissions, as the posteriordb drive
// model (hmm_drive_0): two streams, rates positive_ordered per stream, the states' rows of
// the transition matrix as simplexes; the forward algorithm by hmm_marginal.
data {
  int<lower=1> N;
  array[N] real<lower=0> u;
  array[N] real<lower=0> v;
}
parameters {
  simplex[2] theta1;
  simplex[2] theta2;
  positive_ordered[2] phi;
  positive_ordered[2] lambda;
}
model {
  matrix[2, 2] Gamma;
  matrix[2, N] log_omega;
  for (k in 1:2) {
    Gamma[1, k] = theta1[k];
    Gamma[2, k] = theta2[k];
  }
  theta1 ~ dirichlet([4, 2]');
  theta2 ~ dirichlet([2, 4]');
  phi[1] ~ normal(0, 1);
  phi[2] ~ normal(3, 1);
  lambda[1] ~ normal(0, 1);
  lambda[2] ~ normal(3, 1);
  for (n in 1:N)
    for (k in 1:2)
      log_omega[k, n] = exponential_lpdf(u[n] | phi[k]) + exponential_lpdf(v[n] | lambda[k]);
  target += hmm_marginal(log_omega, Gamma, [0.5, 0.5]');
}
