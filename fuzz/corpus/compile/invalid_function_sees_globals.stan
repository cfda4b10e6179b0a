// error: function_sees_globals.stan:5:16: error: 'N' is not declared
// status: VI_ECHECK
functions {
  real shift(real v) {
    return v + N;
  }
}
data {
  int N;
}
