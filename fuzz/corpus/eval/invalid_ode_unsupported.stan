// error: ode_unsupported.stan:4:12: error: function 'ode_rk45' is not supported yet
// status: VI_EUNSUPPORTED
transformed data {
  real x = ode_rk45(1, 2);
}
