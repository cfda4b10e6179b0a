// warning: get_lp.stan:4:8: warning: parameter 'mu' has no prior: the posterior may be improper
// Pre-2.33 spelling, accepted (read as its current form).
parameters {
  real mu;
}
model {
  real t = get_lp();
}
