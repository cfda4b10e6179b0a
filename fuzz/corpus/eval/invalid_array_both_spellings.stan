// error: array_both_spellings.stan:4:18: error: array sizes given twice (both 'array[...]' and after the name)
// status: VI_EPARSE
data {
  array[3] real x[2];
}
