// error: unknown_function.stan:4:12: error: unknown function 'foo'
// status: VI_ECHECK
transformed data {
  real x = foo(1, 2);
}
