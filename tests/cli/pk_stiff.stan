// One-compartment pharmacokinetics with first-order absorption ka and elimination
// ke ~ 1000 ka: a stiff system (tests/cli/ode_stiff_fit.sh; data simulated with
// ka = 0.8, ke = 800, lognormal noise sd 0.1).
functions {
  vector one_cpt(real t, vector y, real ka, real ke) {
    return [-ka * y[1], ka * y[1] - ke * y[2]]';
  }
}
data {
  int N;
  array[N] real ts;
  vector[N] c;
  real dose;
}
parameters {
  real<lower=0> ka;
  real<lower=0> ke;
  real<lower=0> sigma;
}
model {
  array[N] vector[2] y = ode_bdf(one_cpt, [dose, 0]', 0, ts, ka, ke);
  ka ~ lognormal(0, 1);
  ke ~ lognormal(log(1000), 1);
  sigma ~ normal(0, 1);
  for (n in 1:N) c[n] ~ lognormal(log(y[n][2]), sigma);
}
