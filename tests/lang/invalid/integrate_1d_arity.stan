// error: integrate_1d_arity.stan:12:13: error: integrate_1d needs 6 or 7 arguments (f, a, b, theta, x_r, x_i[, relative tolerance]), found 4
// status: VI_ECHECK
functions {
  real f(real x, real xc, array[] real theta, array[] real x_r, array[] int x_i) {
    return exp(-x * theta[1]);
  }
}
parameters {
  real<lower=0> t;
}
model {
  target += integrate_1d(f, 0, 1, {t});
}
