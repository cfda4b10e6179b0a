// Hierarchical: theta ~ normal(mu, tau) is a prior for theta, mu and tau (stanc3's
// factor graph); y's likelihood involves theta only.  No warning.
data { int J; vector[J] y; vector<lower=0>[J] s; }
parameters { real mu; real<lower=0> tau; vector[J] theta; }
model {
  theta ~ normal(mu, tau);
  y ~ normal(theta, s);
}
