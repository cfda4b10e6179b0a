// Categorical outcomes with a Dirichlet prior on the simplex; per-group categorical_logit.
data {
  int<lower=2> K;
  int<lower=0> N;
  array[N] int<lower=1, upper=K> z;
  vector<lower=0>[K] a;
}
parameters {
  simplex[K] pi;
  vector[K - 1] eta_free;
}
transformed parameters {
  vector[K] eta = append_row(0, eta_free);
}
model {
  pi ~ dirichlet(a);
  z ~ categorical(pi);
  eta_free ~ normal(0, 3);
  for (n in 1:N) z[n] ~ categorical_logit(eta);
}
generated quantities {
  int z_new = categorical_rng(pi);
  vector[K] p_soft = softmax(eta);
  simplex[K] pi_draw = dirichlet_rng(a + rep_vector(1, K));
}
