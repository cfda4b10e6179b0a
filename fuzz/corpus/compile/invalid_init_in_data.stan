// error: init_in_data.stan:4:9: error: variables in the data block cannot be given a value
// status: VI_EPARSE
data {
  int N = 3;
}
