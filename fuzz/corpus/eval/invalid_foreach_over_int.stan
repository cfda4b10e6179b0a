// error: foreach_over_int.stan:5:13: error: cannot loop over a value of type int (expected an array, vector, row_vector or matrix)
// status: VI_ECHECK
transformed data {
  int n = 3;
  for (i in n) print(i);
}
