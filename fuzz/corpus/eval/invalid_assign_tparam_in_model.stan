// error: assign_tparam_in_model.stan:10:3: error: cannot assign to 'b': it is declared in the transformed parameters block and can only be assigned there
// status: VI_ECHECK
parameters {
  real a;
}
transformed parameters {
  real b = a;
}
model {
  b = 2 * a;
}
