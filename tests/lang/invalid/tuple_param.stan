// error: tuple_param.stan:4:30: error: parameters of tuple type are not supported yet ('t' is declared tuple(real, real<lower=0>)): declare its elements as parameters of their own
// status: VI_EUNSUPPORTED
parameters {
  tuple(real, real<lower=0>) t;
}
