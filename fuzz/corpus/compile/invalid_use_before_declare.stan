// error: use_before_declare.stan:4:10: error: 'N' is not declared
// status: VI_ECHECK
data {
  vector[N] y;
  int N;
}
