// warning: sum_to_zero_vector.stan:4:36: warning: parameter 'a' has no prior: the posterior may be improper
// sum_to_zero_vector (Stan 2.36): K values summing to zero, K - 1 free coordinates.
data { int K; vector[K] y; }
parameters { sum_to_zero_vector[K] a; real<lower=0> s; }
model { y ~ normal(a, s); s ~ exponential(1); }
