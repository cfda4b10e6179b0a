// error: solver_no_signature.stan:10:30: error: no signature f(vector, vector); user-defined: f(vector, real)
// status: VI_ECHECK
functions {
  vector f(vector x, real t) { return x - t; }
}
parameters {
  vector[1] t;
}
model {
  vector[1] r = solve_powell(f, [1.0]', t);
}
