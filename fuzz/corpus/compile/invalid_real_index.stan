// error: real_index.stan:7:14: error: an index must be an int or an int array (array[] int) but found real
// status: VI_ECHECK
data {
  vector[3] v;
}
transformed data {
  real x = v[1.5];
}
