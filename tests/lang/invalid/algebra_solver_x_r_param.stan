// error: algebra_solver_x_r_param.stan:12:49: error: x_r of algebra_solver must depend on data only (data or transformed data), not on parameters
// status: VI_ECHECK
functions {
  vector f(vector y, vector theta, array[] real x_r, array[] int x_i) {
    return y - theta[1] - x_r[1];
  }
}
parameters {
  real t;
}
model {
  vector[1] r = algebra_solver(f, [1.0]', [t]', {t}, {0});
}
