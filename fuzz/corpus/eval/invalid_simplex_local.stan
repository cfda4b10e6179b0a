// error: simplex_local.stan:4:3: error: local variables cannot have constrained type 'simplex'
// status: VI_EPARSE
model {
  simplex[3] s;
}
