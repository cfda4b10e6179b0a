// error: tuple_one_element.stan:4:8: error: a tuple type needs at least two element types
// status: VI_EPARSE
data {
  tuple(real) t;
}
