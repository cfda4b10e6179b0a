// error: real_loop_bound.stan:4:15: error: the upper end of a loop range must be an int but found real
// status: VI_ECHECK
transformed data {
  for (i in 1:2.5) print(i);
}
