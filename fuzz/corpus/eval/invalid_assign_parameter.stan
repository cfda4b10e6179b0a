// error: assign_parameter.stan:7:3: error: cannot assign to 'mu': it is a parameter
// status: VI_ECHECK
parameters {
  real mu;
}
model {
  mu = 1;
}
