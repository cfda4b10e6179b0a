// Words that are keywords only in context are ordinary names elsewhere.
data {
  int T;
  vector[T] transformed;
  real generated;
  real quantities;
  real var;
  real static;
}
parameters {
  real<lower=0> offset;
}
model {
  transformed ~ normal(generated + quantities + var + static, offset);
  offset ~ exponential(1);
}
