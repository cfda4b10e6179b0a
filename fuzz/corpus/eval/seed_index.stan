data { int N; vector[N] y; }
parameters { real mu; }
model { for (i in 1:N) target += normal_lpdf(y[i] | mu, 1); target += 1 / (N - 4) + y[N + 1]; }
@@
€