// error: shadowing.stan:8:10: error: 'N' is already declared (at line 4, column 7)
// status: VI_ECHECK
data {
  int N;
}
model {
  for (n in 1:N) {
    real N = 1;
  }
}
