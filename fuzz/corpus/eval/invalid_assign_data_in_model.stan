// error: assign_data_in_model.stan:10:3: error: cannot assign to 'y': it is data
// status: VI_ECHECK
data {
  real y;
}
parameters {
  real mu;
}
model {
  y = 2;
  mu ~ normal(y, 1);
}
