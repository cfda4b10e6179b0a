// error: int_offset.stan:4:17: error: integer variables cannot have an offset or multiplier ('n')
// status: VI_ECHECK
data {
  int<offset=1> n;
}
