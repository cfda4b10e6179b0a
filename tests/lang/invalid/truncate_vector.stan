// error: truncate_vector.stan:10:3: error: truncation T[...] needs a univariate outcome but found vector
// status: VI_ECHECK
data {
  vector[3] y;
}
parameters {
  real mu;
}
model {
  y ~ normal(mu, 1) T[0, ];
}
