// Two modes: a narrower one at -2 (weight 0.4) nearer the default start of zero, and the
// better one at 4 (weight 0.6), log(0.6 / 0.4) = 0.41 nats apart.
parameters {
  real x;
}
model {
  target += log_mix(0.4, normal_lpdf(x | -2, 1), normal_lpdf(x | 4, 1));
}
