// error: call_statement.stan:5:3: error: a function call cannot be a statement (only void functions could be, and vi has none)
// status: VI_EPARSE
transformed data {
  print(1);
  exp(1);
}
