// Language features real models use: foreach over arrays and vectors, while, break and
// continue, nested indexing a[b[i]], integer division and modulus, the ternary
// operator, print in transformed data, compound assignment, slices, int outputs.
data {
  int<lower=1> N;
  int<lower=1> G;
  array[N] int<lower=1, upper=G> g;
  array[G] int<lower=1, upper=G> perm;
  vector[N] y;
}
transformed data {
  int half = N / 2;
  int rem = N % 2;
  real ratio = N * 1.0 / 2;
  array[G] int count = rep_array(0, G);
  int n_pos = 0;
  array[G] int inv;
  for (j in 1:G) inv[perm[j]] = j;
  for (n in 1:N) count[g[n]] += 1;
  for (v in y) {
    if (v <= 0) continue;
    n_pos += 1;
  }
  int k = 1;
  while (k < N) {
    k *= 2;
    if (k > 1000) break;
  }
  real ymax = y[1];
  for (i in 2:N) ymax = y[i] > ymax ? y[i] : ymax;
  print("half=", half, " rem=", rem, " ratio=", ratio, " counts=", count, " k=", k);
}
parameters {
  vector[G] mu;
  real<lower=0> sigma;
}
transformed parameters {
  vector[G] mu_perm = mu[perm];
  real first_two = sum(mu[1:2]);
}
model {
  mu ~ normal(0, 5);
  sigma ~ exponential(1);
  for (n in 1:N)
    y[n] ~ normal(mu_perm[inv[g[n]]], sigma);   // = mu[g[n]]
}
generated quantities {
  int n_big = 0;
  int k_out = k;
  int half_out = half %/% 1;
  real sign_mu1 = mu[1] > 0 ? 1 : -1;
  for (m in mu) n_big += m > 1 ? 1 : 0;
}
