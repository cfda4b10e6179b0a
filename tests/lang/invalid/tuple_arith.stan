// error: tuple_arith.stan:5:27: error: operator '+' cannot be applied to tuple(real, real) and tuple(real, real)
// status: VI_ECHECK
transformed data {
  tuple(real, real) t = (1, 2);
  tuple(real, real) u = t + t;
}
