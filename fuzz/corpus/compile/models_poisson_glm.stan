// Poisson regression with a log link and an exposure offset:
//   y_n ~ poisson(exposure_n * exp(alpha + x_n . beta)).
data {
  int<lower=0> N;
  int<lower=1> K;
  matrix[N, K] X;
  vector<lower=0>[N] exposure;
  array[N] int<lower=0> y;
}
transformed data {
  vector[N] log_exposure;
  log_exposure = log(exposure);
}
parameters {
  real alpha;
  vector[K] beta;
}
model {
  alpha ~ normal(0, 5);
  beta ~ normal(0, 1);
  y ~ poisson_log(log_exposure + alpha + X * beta);
}
generated quantities {
  real base_rate;                       // events per unit exposure at x = 0
  base_rate = exp(alpha);
}
