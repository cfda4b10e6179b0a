// error: eof_mid_decl.stan:4:10: error: expected an expression but found end of input
// status: VI_EPARSE
data {
  vector[