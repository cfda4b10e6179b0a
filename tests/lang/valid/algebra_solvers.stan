// Stan's algebraic solvers in all their forms: the variadic solve_newton / solve_powell
// (and _tol, controls before the system's arguments), and the older algebra_solver and
// algebra_solver_newton with theta, x_r, x_i.
functions {
  vector system(vector y, vector theta, data array[] real x_r, array[] int x_i) {
    vector[2] z;
    z[1] = y[1] - theta[1];
    z[2] = y[1] * y[2] + theta[2];
    return z;
  }
  vector lin(vector x, matrix A, vector b) {
    return A * x - b;
  }
}
data {
  matrix[2, 2] A;
  array[0] real x_r;
  array[0] int x_i;
}
transformed data {
  vector[2] y0 = solve_newton(lin, rep_vector(0, 2), A, [1, 2]');
}
parameters {
  vector<lower=1>[2] theta;
}
transformed parameters {
  vector[2] y1 = algebra_solver(system, [1, 1]', theta, x_r, x_i);
  vector[2] y2 = algebra_solver_newton(system, [1, 1]', theta, x_r, x_i, 1e-3, 1e-6, 100);
  vector[2] y3 = solve_powell_tol(lin, y0, 1e-10, 1e-6, 200, A, theta);
  vector[2] y4 = solve_newton_tol(lin, y0, 1e-3, 1e-6, 200, A, theta);
}
model {
  theta ~ normal(2, 1);
}
