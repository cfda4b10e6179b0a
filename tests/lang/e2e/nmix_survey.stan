// Binomial mixture (N-mixture) for repeated counts: the latent abundance is summed out
// with log_sum_exp over a vector built in a loop.
data {
  int<lower=1> R;
  int<lower=1> T;
  array[R, T] int<lower=0> y;
  int<lower=0> K;
}
transformed data {
  array[R] int<lower=0> max_y;
  for (i in 1:R) max_y[i] = max(y[i]);
}
parameters {
  real<lower=0> lambda;
  real<lower=0, upper=1> p;
}
model {
  lambda ~ gamma(2, 0.2);
  for (i in 1:R) {
    vector[K - max_y[i] + 1] lp;
    for (j in 1:(K - max_y[i] + 1))
      lp[j] = poisson_lpmf(max_y[i] + j - 1 | lambda)
              + binomial_lpmf(y[i] | max_y[i] + j - 1, p);
    target += log_sum_exp(lp);
  }
}
