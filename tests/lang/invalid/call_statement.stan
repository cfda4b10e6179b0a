// error: call_statement.stan:5:3: error: 'exp' returns a value, so its call cannot be a statement (only void functions can)
// status: VI_ECHECK
transformed data {
  print(1);
  exp(1);
}
