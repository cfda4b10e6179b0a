// error: return_statement.stan:4:3: error: 'return' is only allowed in user-defined functions
// status: VI_EPARSE
transformed data {
  return 1;
}
