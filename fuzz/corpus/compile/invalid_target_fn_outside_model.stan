// error: target_fn_outside_model.stan:7:12: error: target() can only be used in the model block
// status: VI_ECHECK
parameters {
  real mu;
}
generated quantities {
  real t = target();
}
