// integrate_1d over finite, half-infinite and infinite ranges, with and without the
// relative tolerance; the integrand uses its complement argument xc near the upper end.
functions {
  real normal_density(real x, real xc, array[] real theta, array[] real x_r,
                      array[] int x_i) {
    return 1 / (sqrt(2 * pi()) * theta[2]) * exp(-0.5 * ((x - theta[1]) / theta[2])^2);
  }
  real beta_f(real x, real xc, array[] real theta, array[] real x_r, array[] int x_i) {
    if (x > 0.5) return x^(theta[1] - 1) * xc^(theta[2] - 1);
    return x^(theta[1] - 1) * (1 - x)^(theta[2] - 1);
  }
}
data {
  real a;
}
parameters {
  real mu;
  real<lower=0> sigma;
  real<lower=1> al;
}
model {
  target += log(integrate_1d(normal_density, a, positive_infinity(), {mu, sigma},
                             rep_array(0.0, 0), rep_array(0, 0)));
  target += integrate_1d(normal_density, negative_infinity(), positive_infinity(),
                         {mu, sigma}, {0.0}, {0}, 1e-6);
  target += log(integrate_1d(beta_f, 0, 1, {al, 2.0}, {0.0}, {0}));
  mu ~ normal(0, 1);
  sigma ~ lognormal(0, 1);
}
