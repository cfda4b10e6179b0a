// error: block_order.stan:5:1: error: the parameters block must come before the model block
// status: VI_EPARSE
model {
}
parameters {
  real mu;
}
