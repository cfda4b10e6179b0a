// error: map_rect_data_param.stan:13:40: error: x_rs of map_rect must depend on data only (data or transformed data), not on parameters
// status: VI_ECHECK
functions {
  vector job(vector phi, vector theta, array[] real x_r, array[] int x_i) {
    return phi + theta;
  }
}
parameters {
  vector[1] phi;
  array[2] vector[1] th;
}
model {
  target += sum(map_rect(job, phi, th, {{phi[1]}, {phi[1]}}, {{0}, {0}}));
}
