data { int N; array[N] int cnt; vector[N] x; }
parameters { real a; real<lower=0> b; simplex[3] th; }
model { cnt ~ poisson_log(a + b * x); target += exp(a) + log(b) + log(th[1]); th ~ dirichlet(rep_vector(1, 3)); }
@@
A
