// error: target_alone.stan:4:10: error: expected '+=' after 'target' but found '='
// status: VI_EPARSE
model {
  target = 1;
}
