// error: function_void_returns_value.stan:5:12: error: void function 'show' cannot return a value
// status: VI_ECHECK
functions {
  void show(real v) {
    return v;
  }
}
