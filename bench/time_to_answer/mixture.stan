// Two-component normal mixture: ordered means, log_mix and log_sum_exp over a vector.
data {
  int<lower=1> N;
  vector[N] y;
}
parameters {
  ordered[2] mu;
  vector<lower=0>[2] sigma;
  simplex[2] w;
}
model {
  sigma ~ lognormal(0, 1);
  mu ~ normal(0, 5);
  for (n in 1:N) {
    vector[2] lps = log(w);
    for (k in 1:2)
      lps[k] += normal_lpdf(y[n] | mu[k], sigma[k]);
    target += log_sum_exp(lps);
  }
}
generated quantities {
  real lm1 = log_mix(w[1], normal_lpdf(y[1] | mu[1], sigma[1]), normal_lpdf(y[1] | mu[2], sigma[2]));
}
