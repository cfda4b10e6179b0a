// Robust regression with student-t errors and unknown degrees of freedom.
data {
  int<lower=1> N;
  vector[N] x;
  vector[N] y;
}
parameters {
  real alpha;
  real beta;
  real<lower=0> sigma;
  real<lower=1> nu;
}
model {
  nu ~ gamma(2, 0.1);
  sigma ~ normal(0, 5);
  alpha ~ normal(0, 10);
  beta ~ normal(0, 10);
  y ~ student_t(nu, alpha + beta * x, sigma);
}
