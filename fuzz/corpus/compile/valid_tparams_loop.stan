data {
  int<lower=1> T;
  vector[T] y;
}
parameters {
  real<lower=-1, upper=1> phi;
  real<lower=0> sigma;
  real x0;
}
transformed parameters {
  vector[T] x;
  x[1] = x0;
  for (t in 2:T)
    x[t] = phi * x[t - 1];
}
model {
  x0 ~ normal(0, 1);
  sigma ~ exponential(1);
  y ~ normal(x, sigma);
}
