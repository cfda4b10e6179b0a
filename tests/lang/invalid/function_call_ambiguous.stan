// error: function_call_ambiguous.stan:8:20: error: the call of 'f' is ambiguous: 2 signatures take these arguments with 1 int -> real promotions each
// status: VI_ECHECK
functions {
  real f(real a, int b) { return 1; }
  real f(int a, real b) { return 2; }
}
parameters { real y; }
model { y ~ normal(f(1, 1), 1); }
