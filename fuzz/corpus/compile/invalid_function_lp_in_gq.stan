// error: function_lp_in_gq.stan:12:3: error: 'prior_lp' changes target: it can only be called in the model block, transformed parameters and _lp functions
// status: VI_ECHECK
functions {
  void prior_lp(real v) {
    v ~ normal(0, 1);
  }
}
parameters {
  real y;
}
generated quantities {
  prior_lp(y);
}
