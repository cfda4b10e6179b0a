// error: ode_not_a_function.stan:4:35: error: the first argument of ode_rk45 must name a user-defined function (the ODE system)
// status: VI_ECHECK
transformed data {
  array[1] vector[1] x = ode_rk45(1, [1.0]', 0.0, {1.0});
}
