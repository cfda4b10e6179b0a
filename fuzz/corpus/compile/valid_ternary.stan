data {
  int k;
  real x;
}
transformed data {
  real a = k > 0 ? x : k < 0 ? -x : 0;
  int b = k ? 1 : 0;
  real c = (k == 1 ? 2 : 3) * x;
}
