// error: tuple_proj_nontuple.stan:5:13: error: '.1' takes an element of a tuple, but this is vector
// status: VI_ECHECK
transformed data {
  vector[2] v = [1, 2]';
  real x = v.1;
}
