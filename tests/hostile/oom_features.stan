// Most of the language in one small model, for the allocation-failure sweep
// (tests/check_oom.c): transformed data, constraints, loops, matrix algebra,
// transformed parameters, generated quantities with _rng.
data {
  int<lower=0> N;
  int<lower=1> K;
  matrix[N, K] X;
  vector[N] y;
  array[N] int<lower=0, upper=1> z;
}
transformed data {
  vector[N] yc = y - mean(y);
  real sy = sd(y);
}
parameters {
  vector[K] beta;
  real<lower=0> sigma;
  simplex[3] theta;
  ordered[2] cut;
}
transformed parameters {
  vector[N] eta = X * beta;
}
model {
  beta ~ normal(0, 2);
  sigma ~ exponential(1);
  theta ~ dirichlet(rep_vector(2, 3));
  cut ~ normal(0, 3);
  for (n in 1:N) yc[n] ~ normal(eta[n], sigma * sy);
  z ~ bernoulli_logit(eta + cut[1]);
  target += log(theta[1]);
}
generated quantities {
  array[N] real yrep = normal_rng(eta, sigma);
  real m = mean(eta);
}
