// 'lower', 'upper', 'offset' and 'multiplier' are not reserved words.
data {
  real lower;
  real<lower=lower> upper;
  real offset;
}
parameters {
  real<lower=lower, upper=upper> x;
  real<offset=offset> multiplier;
}
model {
  x ~ uniform(lower, upper);
  multiplier ~ normal(offset, 1);
}
