// error: function_defined_twice.stan:7:8: error: function 'f' is already defined with these argument types (at line 4)
// status: VI_EPARSE
functions {
  real f(real v) {
    return v;
  }
  real f(real w) {
    return 2 * w;
  }
}
