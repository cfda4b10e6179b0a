// error: vector_condition.stan:7:7: error: the condition of 'if' must be an int or a real but found vector
// status: VI_ECHECK
data {
  vector[2] v;
}
transformed data {
  if (v) print("yes");
}
