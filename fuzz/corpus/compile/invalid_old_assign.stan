// error: old_assign.stan:5:5: error: the '<-' assignment was removed from Stan; use '='
// status: VI_EUNSUPPORTED
transformed data {
  real x;
  x <- 1;
}
