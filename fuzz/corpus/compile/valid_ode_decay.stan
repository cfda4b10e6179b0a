functions {
  vector decay(real t, vector y, real k) { return -k * y; }
  array[] real decay_old(real t, array[] real y, array[] real theta, array[] real x_r, array[] int x_i) {
    return {-theta[1] * y[1], theta[1] * y[1] - 0.5 * y[2]};
  }
}
data { int T; array[T] real ts; vector[T] y; }
parameters { real<lower=0> k; real<lower=0> sigma; }
transformed parameters {
  array[T] vector[1] z = ode_rk45(decay, [2.0]', 0, ts, k);
  array[T, 2] real w = integrate_ode_rk45(decay_old, {2.0, 0.0}, 0, ts, {k}, rep_array(0.0, 0), rep_array(0, 0));
}
model {
  k ~ lognormal(0, 1);
  sigma ~ normal(0, 1);
  for (t in 1:T) y[t] ~ normal(z[t][1], sigma);
}
generated quantities {
  real err = 0;
  for (t in 1:T) err = fmax(err, fabs(z[t][1] - 2 * exp(-k * ts[t])));
  real err2 = 0;
  for (t in 1:T) err2 = fmax(err2, fabs(w[t, 1] - 2 * exp(-k * ts[t])));
  real err3 = 0;
  for (t in 1:T) err3 = fmax(err3, fabs(w[t, 2] - 2 * k / (k - 0.5) * (exp(-0.5 * ts[t]) - exp(-k * ts[t]))));
}
