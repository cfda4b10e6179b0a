// error: function_return_type.stan:5:14: error: function 'half' returns int but this is real
// status: VI_ECHECK
functions {
  int half(real x) {
    return x / 2;
  }
}
