functions {
  real fact(int n) { if (n <= 1) return 1; return n * fact(n - 1); }
  vector line(vector x, real a, real b) { return a + b * x; }
  real hinge(real v) { if (v > 0) return v * v; return -v; }
  real my_normal_lpdf(vector y, vector mu, real s) { return normal_lpdf(y | mu, s); }
  void prior_lp(real a) { a ~ normal(0, fact(3)); }
  real noise_rng(real s) { return normal_rng(0, s); }
}
data { int N; vector[N] y; vector[N] x; }
parameters { real a; real b; real<lower=0> s; }
model {
  y ~ my_normal(line(x, a, b), s);
  prior_lp(a);
  target += -hinge(b);
}
generated quantities { real r = noise_rng(s); }
