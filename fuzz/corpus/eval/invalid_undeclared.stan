// error: undeclared.stan:7:15: error: 'm' is not declared
// status: VI_ECHECK
parameters {
  real mu;
}
model {
  mu ~ normal(m, 1);
}
