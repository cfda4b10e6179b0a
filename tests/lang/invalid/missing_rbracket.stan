// error: missing_rbracket.stan:5:12: error: expected ']' after the size but found 'x'
// status: VI_EPARSE
data {
  int N;
  vector[N x;
}
