// error: tuple_param_int.stan:4:21: error: parameters cannot be integers: 't.2.1' is declared int
// status: VI_ECHECK
parameters {
  tuple(real, tuple(int, vector[2])) t;
}
