// error: missing_paren.stan:7:13: error: expected ')' after the condition but found 'print'
// status: VI_EPARSE
data {
  real x;
}
transformed data {
  if (x > 0 print(x);
}
