// error: break_outside_loop.stan:4:3: error: 'break' is only allowed inside a loop
// status: VI_ECHECK
transformed data {
  break;
}
