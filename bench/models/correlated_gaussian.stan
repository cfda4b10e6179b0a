// A strongly correlated posterior: a D-dimensional Gaussian AR(1) chain with lag-one
// correlation rho (0.9 in the benchmark), written as a product of normalised
// conditionals, so log p(X) = 0 exactly.  Its precision is tridiagonal, the mean-field
// optimum is known (means 0, variances 1 / diag(precision)), and KL(q* || p) at the
// optimum is 0.5 (sum log P_ii - log det P).  The hardest case for a diagonal q.
data {
  int<lower=2> D;
  real<lower=-1, upper=1> rho;
}
parameters {
  vector[D] z;
}
model {
  z[1] ~ normal(0, 1);
  z[2:D] ~ normal(rho * z[1:(D - 1)], sqrt(1 - rho^2));
}
