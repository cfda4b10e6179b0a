// error: tuple_param_assign.stan:7:3: error: cannot assign to 't': it is a parameter
// status: VI_ECHECK
parameters {
  array[2] tuple(real, real<lower=0>) t;
}
model {
  t[1].2 = 1;
}
