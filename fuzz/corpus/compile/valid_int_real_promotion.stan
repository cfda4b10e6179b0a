data {
  int n;
  array[3] int ns;
}
transformed data {
  real x = n;
  array[3] real xs = ns;
  vector[3] v = [n, 1, 2]';
  real y = n / 2;            // integer division, then promoted
  real z = n * 1.0 / 2;
  x = 1;
  x += n;
}
