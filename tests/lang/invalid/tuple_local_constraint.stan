// error: tuple_local_constraint.stan:4:13: error: local variables cannot have constraints
// status: VI_EPARSE
model {
  tuple(real<lower=0>, real) t;
}
