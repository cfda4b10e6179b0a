// error: complex_type.stan:4:3: error: type 'complex' is not supported yet
// status: VI_EUNSUPPORTED
data {
  complex z;
}
