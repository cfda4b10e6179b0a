// Eight schools (Rubin 1981; Gelman et al., BDA 5.5), non-centered parameterisation:
// theta = mu + tau * theta_tilde, which a mean-field q fits far better than the centered
// form (eight_schools_centered.stan) because the funnel between tau and theta is gone.
// Note: tau ~ cauchy(0, 5) on tau > 0 is a half-Cauchy without its factor 2 (as in the
// usual Stan program), so log p(X) here is the evidence minus log 2.
data {
  int<lower=0> J;            // number of schools
  vector[J] y;               // estimated treatment effects
  vector<lower=0>[J] sigma;  // their standard errors
}
parameters {
  real mu;                   // population mean effect
  real<lower=0> tau;         // population sd
  vector[J] theta_tilde;     // standardised school effects
}
transformed parameters {
  vector[J] theta;           // school effects
  theta = mu + tau * theta_tilde;
}
model {
  mu ~ normal(0, 5);
  tau ~ cauchy(0, 5);
  theta_tilde ~ normal(0, 1);
  y ~ normal(theta, sigma);
}
