// Random-effect logistic regression for germination counts (binomial_logit).
data {
  int<lower=0> I;
  array[I] int<lower=0> n;
  array[I] int<lower=0> N;
  vector[I] x1;
  vector[I] x2;
}
parameters {
  real alpha0;
  real alpha1;
  real alpha2;
  real alpha12;
  real<lower=0> sigma;
  vector[I] b_raw;
}
transformed parameters {
  vector[I] b = sigma * b_raw;
}
model {
  alpha0 ~ normal(0.0, 10);
  alpha1 ~ normal(0.0, 10);
  alpha2 ~ normal(0.0, 10);
  alpha12 ~ normal(0.0, 10);
  sigma ~ normal(0, 1);
  b_raw ~ std_normal();
  n ~ binomial_logit(N, alpha0 + alpha1 * x1 + alpha2 * x2 + alpha12 * x1 .* x2 + b);
}
