// error: declarator_missing_name.stan:4:11: error: expected a variable name but found ';'
// status: VI_EPARSE
data {
  real x, ;
}
