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
}
model {
  x ~ normal(0, 1);
}
