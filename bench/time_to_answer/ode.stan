// Predator-prey (Lotka-Volterra) with ode_rk45, lognormal observations of both species.
functions {
  vector lv(real t, vector z, real alpha, real beta, real gamma, real delta) {
    vector[2] dz;
    dz[1] = (alpha - beta * z[2]) * z[1];
    dz[2] = (-gamma + delta * z[1]) * z[2];
    return dz;
  }
}
data {
  int<lower=1> T;
  array[T] real ts;
  vector<lower=0>[2] z0;
  array[T] vector<lower=0>[2] y;
}
parameters {
  real<lower=0> alpha;
  real<lower=0> beta;
  real<lower=0> gamma;
  real<lower=0> delta;
  real<lower=0> sigma;
}
transformed parameters {
  array[T] vector[2] z = ode_rk45(lv, z0, 0, ts, alpha, beta, gamma, delta);
}
model {
  alpha ~ normal(1, 0.5);
  gamma ~ normal(1, 0.5);
  beta ~ normal(0.05, 0.05);
  delta ~ normal(0.05, 0.05);
  sigma ~ lognormal(-1, 1);
  for (t in 1:T)
    y[t] ~ lognormal(log(z[t]), sigma);
}
