// error: function_never_defined.stan:4:8: error: function 'g' is declared but never defined
// status: VI_ECHECK
functions {
  real g(real x);
}
parameters {
  real y;
}
model {
  y ~ normal(g(1), 1);
}
