// error: string_outside_print.stan:4:12: error: string literals are only allowed in print, reject and fatal_error
// status: VI_EPARSE
transformed data {
  real x = "abc";
}
