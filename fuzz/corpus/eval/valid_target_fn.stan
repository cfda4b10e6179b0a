parameters {
  real theta;
}
model {
  theta ~ normal(0, 1);
  print("target = ", target());
  target += std_normal_lupdf(theta);
  target += normal_lupdf(theta | 0, 1);
}
