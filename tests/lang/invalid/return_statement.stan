// error: return_statement.stan:4:3: error: 'return' is only allowed in user-defined functions, which are not supported yet
// status: VI_EUNSUPPORTED
transformed data {
  return 1;
}
