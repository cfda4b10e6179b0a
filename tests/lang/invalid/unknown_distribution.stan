// error: unknown_distribution.stan:7:6: error: unknown distribution 'foo'
// status: VI_ECHECK
parameters {
  real mu;
}
model {
  mu ~ foo(0, 1);
}
