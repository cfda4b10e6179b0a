// error: duplicate_block.stan:5:1: error: the data block appears twice
// status: VI_EPARSE
data {
}
data {
}
