// error: constraint_on_local.stan:4:7: error: local variables cannot have constraints
// status: VI_EPARSE
model {
  real<lower=0> x = 1;
}
