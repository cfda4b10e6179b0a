// error: string_at_eof.stan:4:9: error: unterminated string: '"' without a closing '"' on the same line
// status: VI_EPARSE
transformed data {
  print("abc