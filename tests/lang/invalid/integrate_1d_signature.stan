// error: integrate_1d_signature.stan:12:26: error: no signature f(real, real, array[] real, array[] real, array[] int); user-defined: f(real, array[] real)
// status: VI_ECHECK
functions {
  real f(real x, array[] real theta) {
    return exp(-x * theta[1]);
  }
}
parameters {
  real<lower=0> t;
}
model {
  target += integrate_1d(f, 0, 1, {t}, {0.0}, {0});
}
