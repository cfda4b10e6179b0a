// warning: constraints.stan:16:17: warning: parameter 'y' has no prior: the posterior may be improper
// warning: constraints.stan:17:18: warning: parameter 'z' has no prior: the posterior may be improper
// warning: constraints.stan:18:33: warning: parameter 'p' has no prior: the posterior may be improper
// warning: constraints.stan:19:18: warning: parameter 'q' has no prior: the posterior may be improper
// warning: constraints.stan:20:22: warning: parameter 'r' has no prior: the posterior may be improper
// warning: constraints.stan:21:32: warning: parameter 's' has no prior: the posterior may be improper
// warning: constraints.stan:22:22: warning: parameter 't' has no prior: the posterior may be improper
data {
  real lo;
  real<lower=lo> hi;
  int<lower=0, upper=10> n;
  vector<lower=0>[3] w;
}
parameters {
  real<lower=lo, upper=hi> x;
  real<upper=x> y;
  real<lower=-1> z;
  real<lower=(lo < 0 ? lo : 0)> p;
  real<offset=1> q;
  real<multiplier=2> r;
  real<multiplier=2, offset=1> s;
  vector<lower=w>[3] t;
  real<lower=lo * 2 + 1, upper=hi ^ 2> u;
  real<upper=hi, lower=lo> w2;
  real<lower=-lo, upper=-(-hi)> w3;
}
model {
  x ~ normal(0, 1);
}
