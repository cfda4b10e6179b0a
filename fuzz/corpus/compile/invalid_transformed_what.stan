// error: transformed_what.stan:3:13: error: expected 'data' or 'parameters' after 'transformed' but found 'model'
// status: VI_EPARSE
transformed model {
}
