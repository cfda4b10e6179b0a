// warning: priors_lp_function.stan:11:44: warning: parameter 'b' has no prior: the posterior may be improper
// warning: priors_lp_function.stan:11:52: warning: parameter 'c' has no prior: the posterior may be improper
// Priors set inside an _lp function count at each call, with the call's arguments;
// a likelihood inside one (its variate is data at the call) does not.  'b' only
// reaches a likelihood through the function, 'c' only a generated quantity.
functions {
  void prior_lp(real a, real s) { a ~ normal(0, s); }
  void lik_lp(vector y, real m) { y ~ normal(m, 1); }
}
data { int N; vector[N] y; }
parameters { real a; real<lower=0> s; real b; real c; }
model {
  prior_lp(a, 1);
  s ~ exponential(1);
  prior_lp(a, s);
  lik_lp(y, a + b);
}
generated quantities { real d = c; }
