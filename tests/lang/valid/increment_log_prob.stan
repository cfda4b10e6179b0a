// Pre-2.33 spelling, accepted (read as its current form).
parameters {
  real mu;
}
model {
  increment_log_prob(normal_log(mu, 0, 1));
}
