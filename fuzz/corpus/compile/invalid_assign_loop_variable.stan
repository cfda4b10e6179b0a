// error: assign_loop_variable.stan:5:5: error: cannot assign to 'i': it is a loop variable
// status: VI_ECHECK
transformed data {
  for (i in 1:3) {
    i = 2;
  }
}
