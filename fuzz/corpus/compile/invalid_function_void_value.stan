// error: function_void_value.stan:12:14: error: 'show' is a void function: it has no value to use
// status: VI_ECHECK
functions {
  void show(real v) {
    print(v);
  }
}
parameters {
  real y;
}
model {
  y ~ normal(show(1), 1);
}
