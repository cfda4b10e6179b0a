// error: eof_mid_block.stan:4:9: error: expected '}' to close the block but found end of input
// status: VI_EPARSE
data {
  int N;
