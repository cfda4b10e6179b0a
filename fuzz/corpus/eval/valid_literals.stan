transformed data {
  row_vector[3] r = [1, 2.5, 3];
  matrix[2, 3] m = [[1, 2, 3], [4, 5, 6]];
  array[3] int a = {1, 2, 3};
  array[2] real b = {1, 2.5};
  array[2, 2] int c = {{1, 2}, {3, 4}};
  array[2] vector[3] d = {r', r'};
  vector[3] v = [1, 2, 3]';
  real x = sum({1, 2, 3});
}
