// warning: priors_locals.stan:8:28: warning: parameter 'k' has no prior: the posterior may be improper
// warning: priors_locals.stan:8:53: warning: parameter 'sigma' has no prior: the posterior may be improper
// Dependence through model-block locals, loops and conditions: 'mu' reaches its prior
// through 'm', set in a loop; 'k' only decides a branch whose term is a prior for
// 'z'.  A likelihood written as target += density of data gives 'sigma' no prior;
// a prior written as target += of a parameter's density is one for 'z'.
data { int N; vector[N] y; }
parameters { real mu; real k; real z; real<lower=0> sigma; }
model {
  real m = 0;
  for (n in 1:3) m += mu / 3;
  m ~ normal(0, 10);
  if (k > 0) target += normal_lpdf(z | 0, 1);
  else target += normal_lpdf(z | 0, 2);
  target += normal_lpdf(y | m + z, sigma);
}
