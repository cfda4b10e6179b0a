// error: continue_outside_loop.stan:4:10: error: 'continue' is only allowed inside a loop
// status: VI_ECHECK
transformed data {
  if (1) continue;
}
