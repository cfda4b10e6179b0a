// error: int_bound_real.stan:4:13: error: the lower bound of 'n' (int) must be an int but found real
// status: VI_ECHECK
data {
  int<lower=0.5> n;
}
