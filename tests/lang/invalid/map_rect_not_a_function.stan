// error: map_rect_not_a_function.stan:8:26: error: the first argument of map_rect must name a user-defined function (the job function)
// status: VI_ECHECK
parameters {
  vector[1] phi;
  array[2] vector[1] th;
}
model {
  target += sum(map_rect(phi, phi, th, {{1.0}, {1.0}}, {{0}, {0}}));
}
