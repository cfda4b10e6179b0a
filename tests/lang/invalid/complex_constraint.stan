// error: complex_constraint.stan:4:10: error: complex types cannot have constraints ('<...>' after 'complex')
// status: VI_EPARSE
data {
  complex<lower=0> z;
}
