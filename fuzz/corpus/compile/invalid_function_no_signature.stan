// error: function_no_signature.stan:12:14: error: no signature g(real); user-defined: g(vector)
// status: VI_ECHECK
functions {
  real g(vector x) {
    return sum(x);
  }
}
parameters {
  real y;
}
model {
  y ~ normal(g(1.5), 1);
}
