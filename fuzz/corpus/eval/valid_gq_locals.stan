parameters {
  real mu;
}
model {
  mu ~ normal(0, 1);
}
generated quantities {
  real mu2 = square(mu);
  int positive = mu > 0;
  {
    real tmp = exp(mu);
    mu2 += tmp;
  }
}
