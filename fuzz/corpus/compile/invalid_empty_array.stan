// error: empty_array.stan:4:20: error: empty array expression '{ }' is not allowed
// status: VI_EPARSE
transformed data {
  array[0] int a = {};
}
