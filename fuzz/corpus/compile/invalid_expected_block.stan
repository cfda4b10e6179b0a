// error: expected_block.stan:3:1: error: expected a program block ('data', 'parameters', 'model', ...) but found 'real'
// status: VI_EPARSE
real x;
