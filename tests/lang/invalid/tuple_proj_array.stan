// error: tuple_proj_array.stan:5:13: error: '.1' takes an element of a tuple, but this is an array of tuples (array[] tuple(real, int)): index it first, x[i].1
// status: VI_ECHECK
transformed data {
  array[2] tuple(real, int) t;
  real x = t.1;
}
