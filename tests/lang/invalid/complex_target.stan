// error: complex_target.stan:7:15: error: 'target +=' needs a real value but found complex
// status: VI_ECHECK
parameters {
  real x;
}
model {
  target += x * 1i;
}
