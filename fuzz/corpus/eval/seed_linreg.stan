data { int<lower=0> N; int<lower=1> K; matrix[N, K] X; vector[N] y; }
parameters { vector[K] beta; real<lower=0> sigma_y; }
transformed parameters { vector[N] eta = X * beta; }
model { beta ~ normal(0, 2); sigma_y ~ exponential(1); y ~ normal(eta, sigma_y); }
generated quantities { real m = mean(eta); array[N] real yrep = normal_rng(eta, sigma_y); }
@@
 ~0@A~
