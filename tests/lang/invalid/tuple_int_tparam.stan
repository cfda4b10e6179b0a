// error: tuple_int_tparam.stan:4:15: error: transformed parameters cannot be integers: 't.2' is declared int
// status: VI_ECHECK
transformed parameters {
  tuple(real, int) t = (1, 2);
}
