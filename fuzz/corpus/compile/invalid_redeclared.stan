// error: redeclared.stan:5:8: error: 'N' is already declared (at line 4, column 7)
// status: VI_ECHECK
data {
  int N;
  real N;
}
