// error: tuple_fn_arg.stan:7:12: error: no signature f(tuple(int, int)); user-defined: f(tuple(real, vector))
// status: VI_ECHECK
functions {
  real f(tuple(real, vector) t) { return t.1; }
}
transformed data {
  real x = f((1, 2));
}
