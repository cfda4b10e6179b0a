// map_rect: one Poisson log likelihood per job (shared phi, the job's theta, its data),
// the jobs' results concatenated.
functions {
  vector job(vector phi, vector theta, data array[] real x_r, data array[] int x_i) {
    int n = size(x_i);
    vector[n] lp;
    for (i in 1:n) lp[i] = poisson_log_lpmf(x_i[i] | phi[1] + theta[1] * x_r[i]);
    return lp;
  }
}
data {
  int J;
  int K;
  array[J, K] real x;
  array[J, K] int y;
}
parameters {
  vector[1] phi;
  array[J] vector[1] theta;
}
model {
  target += sum(map_rect(job, phi, theta, x, y));
  phi ~ normal(0, 1);
  for (j in 1:J) theta[j] ~ normal(0, 1);
}
