// error: stray_else.stan:4:3: error: expected a statement but found 'else'
// status: VI_EPARSE
transformed data {
  else print(1);
}
