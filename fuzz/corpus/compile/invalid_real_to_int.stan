// error: real_to_int.stan:4:11: error: cannot initialise 'n' of type int with a value of type real
// status: VI_ECHECK
transformed data {
  int n = 1.5;
}
