// `^` on containers is elementwise, as Stan's vectorised pow (hilbert_gp in posteriordb).
data {
  vector[2] v;
}
transformed data {
  vector[2] w = v ^ 2;
  vector[2] u = 2 ^ v;
  vector[2] x = v ^ v;
}
parameters {
  real mu;
}
model {
  mu ~ normal(sum(w), 1);
}
