// Zero-inflated Poisson written with a branch on the data (the usual form), plus a
// branch on a parameter (each draw takes its own path: the per-draw fallback of the
// batched evaluator) that leaves the density unchanged.
data {
  int<lower=0> N;
  array[N] int<lower=0> y;
}
parameters {
  real<lower=0, upper=1> theta;
  real<lower=0> lambda;
}
model {
  theta ~ beta(1, 1);
  lambda ~ gamma(2, 0.5);
  for (n in 1:N) {
    if (y[n] == 0) {
      target += log_sum_exp(log(theta), log1m(theta) + poisson_lpmf(0 | lambda));
    } else {
      target += log1m(theta) + poisson_lpmf(y[n] | lambda);
    }
  }
  if (lambda > 3) {
    target += 0;
  } else {
    target += 0 * lambda;
  }
}
generated quantities {
  int zero = bernoulli_rng(theta);
  int y_new = zero ? 0 : poisson_rng(lambda);
  real p0 = theta + (1 - theta) * exp(-lambda);
}
