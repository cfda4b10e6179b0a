// error: invalid_utf8.stan:3:30: error: invalid UTF-8 byte 0xFF
// status: VI_EPARSE
// a comment with a bad byte ÿ here
data {
}
