// error: int_out_of_range.stan:4:11: error: integer literal '3000000000' out of range (largest int is 2147483647)
// status: VI_EPARSE
transformed data {
  int n = 3000000000;
}
