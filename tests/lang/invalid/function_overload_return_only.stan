// error: function_overload_return_only.stan:5:7: error: function 'g' is already defined for these argument types (at line 4); overloads cannot differ only in the return type
// status: VI_ECHECK
functions {
  real g(real x) { return 1.5; }
  int g(real x) { return 2; }
}
parameters { real y; }
model { y ~ normal(g(0.0), 1); }
