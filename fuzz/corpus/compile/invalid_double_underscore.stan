// error: double_underscore.stan:4:8: error: variable names cannot end in '__' (found 'x__')
// status: VI_EPARSE
data {
  real x__;
}
