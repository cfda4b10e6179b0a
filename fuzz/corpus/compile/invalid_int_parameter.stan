// error: int_parameter.stan:4:16: error: parameters cannot be integers: 'k' is declared int<lower=0>
// status: VI_ECHECK
parameters {
  int<lower=0> k;
}
