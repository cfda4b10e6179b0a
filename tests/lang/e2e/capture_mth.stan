// Closed-population capture-recapture with time and heterogeneity effects (Mth), data
// augmentation, counts computed in transformed data loops.
data {
  int<lower=0> M;
  int<lower=0> T;
  array[M, T] int<lower=0, upper=1> y;
}
transformed data {
  array[M] int<lower=0> s;
  int<lower=0> C = 0;
  for (i in 1:M) {
    s[i] = sum(y[i]);
    if (s[i] > 0) C = C + 1;
  }
  print("observed individuals: ", C, " of ", M, "; half: ", C / 2);
}
parameters {
  real<lower=0, upper=1> omega;
  vector<lower=0, upper=1>[T] mean_p;
  real<lower=0, upper=5> sigma;
  vector[M] eps_raw;
}
transformed parameters {
  vector[M] eps = logit(mean_p[1]) + sigma * eps_raw;
  array[M] vector[T] logit_p;
  for (i in 1:M)
    for (t in 1:T)
      logit_p[i, t] = logit(mean_p[t]) - logit(mean_p[1]) + eps[i];
}
model {
  eps_raw ~ normal(0, 1);
  for (i in 1:M) {
    if (s[i] > 0) {
      target += bernoulli_lpmf(1 | omega) + bernoulli_logit_lpmf(y[i] | logit_p[i]);
    } else {
      target += log_sum_exp(bernoulli_lpmf(1 | omega) + bernoulli_logit_lpmf(y[i] | logit_p[i]),
                            bernoulli_lpmf(0 | omega));
    }
  }
}
generated quantities {
  int<lower=C> N = C;
  for (i in 1:M) {
    if (s[i] == 0) {
      real qT = 1;
      for (t in 1:T) qT *= 1 - inv_logit(logit_p[i, t]);
      N += bernoulli_rng(omega * qT / (omega * qT + (1 - omega)));
    }
  }
}
