// error: underscore_name.stan:4:8: error: invalid character '_': identifiers must start with a letter
// status: VI_EPARSE
data {
  real _x;
}
