// error: bound_comparison.stan:4:16: error: a bound cannot contain comparison, logical or conditional operators unless parenthesised
// status: VI_EPARSE
data {
  real<lower=0 < 1> x;
}
