// error: real_size.stan:5:10: error: the size must be an int but found real
// status: VI_ECHECK
data {
  real n;
  vector[n] v;
}
