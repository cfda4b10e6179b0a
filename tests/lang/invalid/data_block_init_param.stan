// error: data_block_init_param.stan:4:11: error: variables in the parameters block cannot be given a value
// status: VI_EPARSE
parameters {
  real mu = 1;
}
