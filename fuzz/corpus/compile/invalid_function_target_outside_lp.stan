// error: function_target_outside_lp.stan:5:7: error: '~' statements are only allowed in functions whose name ends in _lp, not in 'prior'
// status: VI_ECHECK
functions {
  void prior(vector v) {
    v ~ normal(0, 1);
  }
}
