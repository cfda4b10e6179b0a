// error: statement_in_data.stan:5:3: error: expected a variable declaration in the data block but found 'N'
// status: VI_EPARSE
data {
  int N;
  N = 3;
}
