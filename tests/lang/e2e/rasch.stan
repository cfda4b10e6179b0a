// Rasch model with an int response matrix looped over, a sum-to-zero constraint built
// in transformed parameters, and the ability mean in gq.
data {
  int<lower=0> N;
  int<lower=0> R;
  array[N, R] int<lower=0, upper=1> response;
}
parameters {
  vector[R - 1] alpha_free;
  vector[N] theta;
  real<lower=0> sigma;
}
transformed parameters {
  vector[R] alpha = append_row(alpha_free, -sum(alpha_free));
}
model {
  alpha_free ~ normal(0, 5);
  theta ~ normal(0, sigma);
  sigma ~ normal(0, 2);
  for (j in 1:N)
    response[j] ~ bernoulli_logit(theta[j] - alpha);
}
generated quantities {
  real mean_theta = mean(theta);
}
