// error: integrate_1d_x_r_param.stan:12:40: error: x_r of integrate_1d must depend on data only (data or transformed data), not on parameters
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
  target += integrate_1d(f, 0, 1, {t}, {t}, {0});
}
