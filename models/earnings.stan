// Earnings on height and sex with their interaction, the uncentred kind of regression on
// which mean-field sds are an order of magnitude too small (height ~ 66 +- 4 inches: the
// intercept and the height slope are correlated at about -0.99).  The noise sd is known
// and the prior normal, so the posterior is Gaussian in closed form (as in linreg.stan):
// precision A = X'X / sigma^2 + I / tau^2 with X = [1, height, male, height * male].
// tests/cli/lrvb_resample.sh checks --covariance lrvb against it.
data {
  int<lower=1> N;
  vector[N] height;          // inches
  vector<lower=0, upper=1>[N] male;
  vector[N] earn;            // thousands of dollars
  real<lower=0> sigma;       // known noise sd
  real<lower=0> tau;         // prior sd of each coefficient
}
parameters {
  real a;                    // intercept
  real b_height;
  real b_male;
  real b_inter;              // height x male
}
model {
  a ~ normal(0, tau);
  b_height ~ normal(0, tau);
  b_male ~ normal(0, tau);
  b_inter ~ normal(0, tau);
  earn ~ normal(a + b_height * height + b_male * male + b_inter * (height .* male), sigma);
}
