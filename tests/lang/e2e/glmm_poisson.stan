// Poisson GLMM: site and year effects laid out with rep_matrix, a log offset.
data {
  int<lower=1> nsite;
  int<lower=1> nyear;
  array[nsite, nyear] int<lower=0> C;
  vector[nyear] year;
  vector[nsite] log_area;
}
transformed data {
  matrix[nsite, nyear] off = rep_matrix(log_area, nyear);
}
parameters {
  real mu;
  vector[nsite] alpha_raw;
  real beta;
  real<lower=0, upper=5> sd_alpha;
}
transformed parameters {
  vector[nsite] alpha = mu + sd_alpha * alpha_raw;
  matrix[nsite, nyear] log_lambda = rep_matrix(alpha, nyear) + rep_matrix(beta * year', nsite) + off;
}
model {
  alpha_raw ~ std_normal();
  mu ~ normal(0, 10);
  beta ~ normal(0, 10);
  for (i in 1:nsite)
    C[i] ~ poisson_log(log_lambda[i]);
}
