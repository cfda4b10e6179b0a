// error: solver_system_return.stan:10:30: error: the algebraic system 'f' of solve_newton must return vector but returns real
// status: VI_ECHECK
functions {
  real f(vector x, real t) { return x[1] - t; }
}
parameters {
  real t;
}
model {
  vector[1] r = solve_newton(f, [1.0]', t);
}
