// error: include_directive.stan:3:1: error: '#include' is not supported yet: put the included code in the file
// status: VI_EUNSUPPORTED
#include "other.stan"
parameters {
  real mu;
}
