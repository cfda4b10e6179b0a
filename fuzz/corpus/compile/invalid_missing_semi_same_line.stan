// error: missing_semi_same_line.stan:4:17: error: expected ';' after declaration but found 'real'
// status: VI_EPARSE
data {
  int N; real x real y;
}
