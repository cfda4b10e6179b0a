// error: reserved_word.stan:4:8: error: 'in' is a reserved word and cannot be used as a variable name
// status: VI_EPARSE
data {
  real in;
}
