// error: control_byte.stan:4:6: error: invalid control byte 0x01
// status: VI_EPARSE
data {
  int N;
}
