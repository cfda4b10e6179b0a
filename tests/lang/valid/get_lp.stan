// Pre-2.33 spelling, accepted (read as its current form).
parameters {
  real mu;
}
model {
  real t = get_lp();
}
