// error: solver_control_param.stan:10:52: error: the function tolerance of solve_powell_tol must depend on data only (data or transformed data), not on parameters
// status: VI_ECHECK
functions {
  vector f(vector x, real t) { return x - t; }
}
parameters {
  real<lower=0> t;
}
model {
  vector[1] r = solve_powell_tol(f, [1.0]', 1e-10, t, 100, t);
}
