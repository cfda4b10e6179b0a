// error: array_literal_mixed.stan:4:24: error: elements of '{...}' must have the same type; found row_vector after int
// status: VI_ECHECK
transformed data {
  array[2] int a = {1, [1, 2]};
}
