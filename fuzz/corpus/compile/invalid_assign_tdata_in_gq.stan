// error: assign_tdata_in_gq.stan:7:3: error: cannot assign to 'c': it is declared in the transformed data block and can only be assigned there
// status: VI_ECHECK
transformed data {
  real c = 1;
}
generated quantities {
  c = 2;
}
