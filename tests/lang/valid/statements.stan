// warning: statements.stan:35:8: warning: parameter 'mu' has no prior: the posterior may be improper
data {
  int N;
  vector[N] y;
}
transformed data {
  int count = 0;
  real acc = 0;
  for (n in 1:N) {
    if (y[n] > 0) count += 1;
    else if (y[n] < 0) {
      count -= 1;
    } else {
      continue;
    }
    if (count > 100) break;
  }
  while (acc < 10) {
    acc += 1;
    acc *= 2;
    acc /= 1.5;
    acc -= 0.1;
  }
  for (yn in y) acc += yn;
  {
    real local = 1;
    acc = acc + local;
  }
  ;
  print("count = ", count, " acc = ", acc);
  if (N < 0) reject("N must be non-negative, got ", N);
  if (N < -1) fatal_error("impossible");
}
parameters {
  real mu;
}
model {
  y ~ normal(mu, 1);
}
