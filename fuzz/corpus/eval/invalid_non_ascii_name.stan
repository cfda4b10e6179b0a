// error: non_ascii_name.stan:4:8: error: invalid character 'σ' (byte 0xCF): only ASCII is allowed outside comments and strings
// status: VI_EPARSE
parameters {
  real σ;
}
