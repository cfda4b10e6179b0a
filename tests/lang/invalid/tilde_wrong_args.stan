// error: tilde_wrong_args.stan:10:5: error: no signature normal_lpdf(vector | real); candidates: normal_lpdf(reals | reals, reals)
// status: VI_ECHECK
data {
  vector[3] y;
}
parameters {
  real mu;
}
model {
  y ~ normal(mu);
}
