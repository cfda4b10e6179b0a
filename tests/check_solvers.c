/* check_solvers.c: the higher-order builtins of src/lang/back/hof.c through model files:
 * the algebraic solvers (solve_newton, solve_powell, their _tol forms, algebra_solver
 * and algebra_solver_newton), integrate_1d and map_rect.
 *
 * References are independent: the roots of x^2 = theta, of a linear system (A \ b by
 * mdivide_left) and of Stan's documentation example (y1 = theta1, y2 = -theta2 / theta1)
 * in closed form; integrals of the normal density (normal_cdf, normal_lccdf) over finite,
 * half-infinite and infinite ranges, and the beta function (lbeta); map_rect against the
 * same loop written by hand.  Values and gradients (in theta and, for integrate_1d, in
 * the limits) are compared with models written with those closed forms, and the
 * gradients of a system without one against central finite differences.  Failures
 * (no root, too few steps, a wrongly sized system, limits in the wrong order) reject
 * the draw with a message naming the call. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <vi/lang.h>
#include <vi/status.h>

static vi_program *make(const char *src, const char *json, vi_model *m)
{
  vi_error err;
  int st;
  vi_program *p = vi_program_compile(src, strlen(src), "s.stan", &err, &st);
  ck_assert_msg(p != NULL, "compile: %s", err.message);
  st = vi_program_load_data(p, json, json ? strlen(json) : 0, "s.json", &err);
  ck_assert_msg(st == 0, "data: %s", err.message);
  ck_assert_int_eq(vi_program_model(p, m), VI_SUCCESS);
  return p;
}

/* Points of the unconstrained space, the same for every test. */
static void points(double *z, size_t n)
{
  for (size_t i = 0; i < n; i++) z[i] = 0.8 * sin(1.3 * (double)i + 0.4);
}

/* Model a (with the builtin) and b (closed form): log density and gradient agree at n
 * points to vtol / gtol (relative), as a batch and draw by draw. */
static void close_models(const char *a, const char *b, const char *json, size_t n,
                         double vtol, double gtol)
{
  vi_model ma, mb;
  vi_program *pa = make(a, json, &ma), *pb = make(b, json, &mb);
  size_t D = ma.dim;
  ck_assert_uint_eq(D, mb.dim);
  double *z = malloc(n * D * sizeof *z), *ga = malloc(n * D * sizeof *ga);
  double *gb = malloc(n * D * sizeof *gb), *la = malloc(n * sizeof *la);
  double *lb = malloc(n * sizeof *lb), *g1 = malloc(D * sizeof *g1);
  points(z, n * D);
  ck_assert_int_eq(ma.log_joint(ma.ctx, n, z, la, ga), VI_SUCCESS);
  ck_assert_int_eq(mb.log_joint(mb.ctx, n, z, lb, gb), VI_SUCCESS);
  for (size_t s = 0; s < n; s++) {
    ck_assert_msg(isfinite(la[s]), "draw %zu: lp %g (%s)", s, la[s],
                  vi_program_last_error(pa));
    ck_assert_msg(fabs(la[s] - lb[s]) <= vtol * fmax(1, fabs(lb[s])),
                  "draw %zu: builtin %.15g closed form %.15g", s, la[s], lb[s]);
    double l1;
    ck_assert_int_eq(ma.log_joint(ma.ctx, 1, z + s * D, &l1, g1), VI_SUCCESS);
    ck_assert_msg(fabs(l1 - la[s]) <= 1e-12 * fmax(1, fabs(la[s])), "draw %zu alone: %.17g "
                  "in the batch %.17g", s, l1, la[s]);
    for (size_t j = 0; j < D; j++)
      ck_assert_msg(fabs(g1[j] - ga[s * D + j]) <= 1e-10 * fmax(1, fabs(ga[s * D + j])),
                    "draw %zu alone, gradient %zu: %.17g in the batch %.17g", s, j, g1[j],
                    ga[s * D + j]);
  }
  for (size_t i = 0; i < n * D; i++)
    ck_assert_msg(fabs(ga[i] - gb[i]) <= gtol * fmax(1, fabs(gb[i])),
                  "gradient %zu (draw %zu): builtin %.15g closed form %.15g", i, i / D, ga[i],
                  gb[i]);
  free(z); free(ga); free(gb); free(la); free(lb); free(g1);
  vi_program_free(pa);
  vi_program_free(pb);
}

/* The gradient of model src at n points against central differences. */
static void fd_check(const char *src, const char *json, size_t n, double tol)
{
  vi_model m;
  vi_program *p = make(src, json, &m);
  size_t D = m.dim;
  double *z = malloc(D * sizeof *z), *g = malloc(D * sizeof *g), lp, lpp, lpm;
  for (size_t s = 0; s < n; s++) {
    points(z, D);
    for (size_t j = 0; j < D; j++) z[j] += 0.37 * (double)s;
    ck_assert_int_eq(m.log_joint(m.ctx, 1, z, &lp, g), VI_SUCCESS);
    ck_assert_msg(isfinite(lp), "lp %g: %s", lp, vi_program_last_error(p));
    for (size_t j = 0; j < D; j++) {
      double h = 1e-5, z0 = z[j];
      z[j] = z0 + h;
      ck_assert_int_eq(m.log_joint(m.ctx, 1, z, &lpp, NULL), VI_SUCCESS);
      z[j] = z0 - h;
      ck_assert_int_eq(m.log_joint(m.ctx, 1, z, &lpm, NULL), VI_SUCCESS);
      z[j] = z0;
      double fd = (lpp - lpm) / (2 * h);
      ck_assert_msg(fabs(fd - g[j]) <= tol * fmax(1, fabs(fd)), "point %zu, gradient %zu: "
                    "%.12g, finite differences %.12g", s, j, g[j], fd);
    }
  }
  free(z); free(g);
  vi_program_free(p);
}

/* The model's log density at one point is -inf, and the message names what. */
static void rejects(const char *src, const char *json, const char *what)
{
  vi_model m;
  vi_program *p = make(src, json, &m);
  double z[8] = {0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8}, lp, g[8];
  ck_assert_uint_le(m.dim, 8);
  ck_assert_int_eq(m.log_joint(m.ctx, 1, z, &lp, g), VI_SUCCESS);
  ck_assert_msg(lp == -INFINITY, "lp %g", lp);
  const char *e = vi_program_last_error(p);
  ck_assert_msg(e && strstr(e, what), "message '%s' lacks '%s'", e ? e : "(none)", what);
  /* a batch of two: the batch falls back to one draw at a time, both rejected */
  double z2[16], lp2[2], g2[16];
  memcpy(z2, z, 8 * sizeof *z);
  memcpy(z2 + m.dim, z, m.dim * sizeof *z);
  ck_assert_int_eq(m.log_joint(m.ctx, 2, z2, lp2, g2), VI_SUCCESS);
  ck_assert(lp2[0] == -INFINITY && lp2[1] == -INFINITY);
  vi_program_free(p);
}

/* ---- algebraic solvers -------------------------------------------------------------- */

#define SQ_FUNCS                                                                     \
  "functions {\n"                                                                    \
  "  vector sq(vector x, real theta) { return [x[1]^2 - theta]'; }\n"                 \
  "  vector sq_old(vector x, vector th, array[] real xr, array[] int xi) {\n"         \
  "    return [x[1]^2 - th[1]]';\n"                                                   \
  "  }\n"                                                                            \
  "}\n"
#define SQ_PARAMS "parameters { real<lower=0.2, upper=5> th; }\n"

/* x^2 = theta from a positive guess: sqrt(theta), d/dtheta = 1 / (2 sqrt(theta)). */
START_TEST(test_square_root)
{
  const char *closed = SQ_PARAMS "model { target += normal_lpdf(sqrt(th) | 1.3, 0.4); }\n";
  const char *calls[] = {
    "solve_newton(sq, [1.0]', th)",
    "solve_powell(sq, [1.0]', th)",
    "solve_newton_tol(sq, [1.0]', 1e-3, 1e-8, 100, th)",
    "solve_powell_tol(sq, [1.0]', 1e-12, 1e-8, 100, th)",
    "algebra_solver(sq_old, [1.0]', [th]', {0.0}, {0})",
    "algebra_solver_newton(sq_old, [1.0]', [th]', {0.0}, {0})",
    "algebra_solver(sq_old, [1.0]', [th]', {0.0}, {0}, 1e-10, 1e-8, 500)",
    NULL};
  char src[1024];
  for (int i = 0; calls[i]; i++) {
    snprintf(src, sizeof src, SQ_FUNCS SQ_PARAMS "model {\n  vector[1] r = %s;\n"
             "  target += normal_lpdf(r[1] | 1.3, 0.4);\n}\n", calls[i]);
    close_models(src, closed, NULL, 6, 1e-9, 1e-7);
  }
  /* the guess decides the root: from a negative guess, -sqrt(theta) */
  close_models(SQ_FUNCS SQ_PARAMS "model { vector[1] r = solve_newton(sq, [-2.0]', th);\n"
               "  target += normal_lpdf(r[1] | -1.3, 0.4); }\n",
               SQ_PARAMS "model { target += normal_lpdf(-sqrt(th) | -1.3, 0.4); }\n",
               NULL, 6, 1e-9, 1e-7);
}
END_TEST

/* A x = b(theta) with A data (the system takes a matrix and a vector: variadic
 * arguments of any type) is A \ b; Stan's documentation example z1 = y1 - theta1,
 * z2 = y1 y2 + theta2 has the root (theta1, -theta2 / theta1) ((3, -2) at (3, 6)). */
START_TEST(test_linear_and_stan_example)
{
  const char *json = "{\"A\": [[3, 1, 0.5], [1, 4, -1], [0.5, -1, 5]]}";
  const char *head = "data { matrix[3, 3] A; }\nparameters { vector[3] b; }\n";
  char a[2048], b[1024];
  snprintf(a, sizeof a,
           "functions { vector lin(vector x, matrix A, vector b) { return A * x - b; } }\n"
           "%s model { vector[3] x = solve_powell(lin, rep_vector(0, 3), A, b);\n"
           "  vector[3] y = solve_newton(lin, rep_vector(1, 3), A, b);\n"
           "  target += normal_lpdf(x | 0.5, 1) + normal_lpdf(y | -0.2, 2) + normal_lpdf(b | 0, 2);\n}\n",
           head);
  snprintf(b, sizeof b, "%s model { vector[3] x = A \\ b;\n"
           "  target += normal_lpdf(x | 0.5, 1) + normal_lpdf(x | -0.2, 2) + normal_lpdf(b | 0, 2);\n}\n",
           head);
  close_models(a, b, json, 5, 1e-9, 1e-7);
  close_models(
      "functions {\n"
      "  vector system(vector y, vector theta, array[] real x_r, array[] int x_i) {\n"
      "    vector[2] z;\n"
      "    z[1] = y[1] - theta[1];\n"
      "    z[2] = y[1] * y[2] + theta[2];\n"
      "    return z;\n"
      "  }\n"
      "}\n"
      "parameters { real<lower=1, upper=4> t1; real t2; }\n"
      "model { vector[2] y = algebra_solver(system, [1, 1]', [t1, t2]', {0.0}, {0});\n"
      "  target += normal_lpdf(y | [2, -1]', 1) + normal_lpdf(t2 | 0, 3); }\n",
      "parameters { real<lower=1, upper=4> t1; real t2; }\n"
      "model { target += normal_lpdf([t1, -t2 / t1]' | [2, -1]', 1) + normal_lpdf(t2 | 0, 3); }\n",
      NULL, 5, 1e-9, 1e-7);
  /* the documented values: (3, 6) -> (3, -2), in transformed data */
  vi_model m;
  vi_program *p = make(
      "functions {\n"
      "  vector system(vector y, vector theta) { return [y[1] - theta[1], y[1] * y[2] + theta[2]]'; }\n"
      "}\n"
      "transformed data { vector[2] y = solve_newton(system, [1, 1]', [3, 6]'); }\n"
      "parameters { real mu; }\n"
      "model { mu ~ normal(y[1] + 10 * y[2], 1); }\n", NULL, &m);
  double z = -17, lp, g;
  ck_assert_int_eq(m.log_joint(m.ctx, 1, &z, &lp, &g), VI_SUCCESS);
  ck_assert_msg(fabs(lp + 0.5 * log(6.283185307179586)) < 1e-9 && fabs(g) < 1e-9, "lp %.15g g %g", lp, g);
  vi_program_free(p);
}
END_TEST

/* A nonlinear system with no closed form, parameters in several variadic arguments:
 * the implicit-function gradient against finite differences. */
START_TEST(test_nonlinear_fd)
{
  fd_check("functions {\n"
           "  vector sys(vector x, real a, vector c) {\n"
           "    return [x[1] + x[2]^3 + exp(0.3 * x[1]) - a, x[1] * c[1] - sin(x[2]) - c[2]]';\n"
           "  }\n"
           "}\n"
           "parameters { real<lower=0.5, upper=3> a; vector<lower=1, upper=2>[2] c; }\n"
           "model {\n"
           "  vector[2] x = solve_newton(sys, [0.5, 0.5]', a, c);\n"
           "  vector[2] y = solve_powell(sys, [0.5, 0.5]', a, c);\n"
           "  target += normal_lpdf(x | [0.4, 0.7]', 0.3) + normal_lpdf(y | 0.1, 1);\n"
           "}\n", NULL, 4, 1e-6);
}
END_TEST

START_TEST(test_solver_failures)
{
  /* x^2 + theta = 0 has no real root: Powell stops away from one */
  rejects("functions { vector f(vector x, real t) { return [x[1]^2 + t]'; } }\n"
          "parameters { real<lower=0.5> t; }\n"
          "model { vector[1] r = solve_powell(f, [1.0]', t); target += -r[1]^2; }\n",
          NULL, "solve_powell: ");
  /* one step is not enough */
  rejects("functions { vector f(vector x, real t) { return [exp(x[1]) - t]'; } }\n"
          "parameters { real<lower=0.5> t; }\n"
          "model { vector[1] r = solve_newton_tol(f, [20.0]', 1e-3, 1e-10, 1, t); target += -r[1]^2; }\n",
          NULL, "maximum number of steps (1)");
  /* a system that returns the wrong number of values is an error of the model */
  vi_model m;
  vi_program *p = make("functions { vector f(vector x, real t) { return [x[1] - t, 1]'; } }\n"
                       "parameters { real t; }\n"
                       "model { vector[1] r = solve_newton(f, [1.0]', t); target += -r[1]^2; }\n",
                       NULL, &m);
  double z = 0.3, lp, g;
  ck_assert_int_eq(m.log_joint(m.ctx, 1, &z, &lp, &g), VI_ERUNTIME);
  ck_assert_msg(strstr(vi_program_last_error(p), "returned 2 values for 1 unknowns"), "%s",
                vi_program_last_error(p));
  vi_program_free(p);
}
END_TEST

/* ---- integrate_1d ------------------------------------------------------------------- */

#define NORMAL_DENSITY                                                                \
  "functions {\n"                                                                     \
  "  real dens(real x, real xc, array[] real theta, array[] real x_r, array[] int x_i) {\n" \
  "    return exp(normal_lpdf(x | theta[1], theta[2]));\n"                            \
  "  }\n"                                                                             \
  "}\n"
#define NORMAL_PARAMS \
  "parameters { real mu; real<lower=0.5, upper=2> sigma; real a; real<lower=0> w; }\n"

/* The normal density over [a, a + w] (mu, sigma, a and w parameters), [a, inf),
 * (-inf, a] and the whole line. */
START_TEST(test_integrate_normal)
{
  close_models(NORMAL_DENSITY NORMAL_PARAMS
               "model { real b = a + w;\n"
               "  target += log(integrate_1d(dens, a, b, {mu, sigma}, {0.0}, {0}));\n"
               "  target += normal_lpdf(mu | 0, 1) + normal_lpdf(a | 0, 1) + exponential_lpdf(w | 1); }\n",
               NORMAL_PARAMS
               "model { real b = a + w;\n"
               "  target += log_diff_exp(normal_lcdf(b | mu, sigma), normal_lcdf(a | mu, sigma));\n"
               "  target += normal_lpdf(mu | 0, 1) + normal_lpdf(a | 0, 1) + exponential_lpdf(w | 1); }\n",
               NULL, 6, 1e-7, 1e-6);
  close_models(NORMAL_DENSITY NORMAL_PARAMS
               "model { target += log(integrate_1d(dens, a, positive_infinity(), {mu, sigma}, {0.0}, {0}, 1e-10));\n"
               "  target += 2 * log(integrate_1d(dens, negative_infinity(), a, {mu, sigma}, {0.0}, {0}, 1e-10));\n"
               "  target += normal_lpdf(mu | 0, 1) + normal_lpdf(a | 0, 1) + exponential_lpdf(w | 1); }\n",
               NORMAL_PARAMS
               "model { target += normal_lccdf(a | mu, sigma) + 2 * normal_lcdf(a | mu, sigma);\n"
               "  target += normal_lpdf(mu | 0, 1) + normal_lpdf(a | 0, 1) + exponential_lpdf(w | 1); }\n",
               NULL, 6, 1e-8, 1e-6);
  /* the whole line: 1, whatever mu and sigma (gradient 0) */
  close_models(NORMAL_DENSITY NORMAL_PARAMS
               "model { target += 5 * integrate_1d(dens, negative_infinity(), positive_infinity(), {mu, sigma}, {0.0}, {0});\n"
               "  target += normal_lpdf(mu | 0, 1) + normal_lpdf(a | 0, 1) + exponential_lpdf(w | 1); }\n",
               NORMAL_PARAMS
               "model { target += 5;\n"
               "  target += normal_lpdf(mu | 0, 1) + normal_lpdf(a | 0, 1) + exponential_lpdf(w | 1); }\n",
               NULL, 6, 1e-8, 1e-7);
}
END_TEST

/* The beta function B(alpha, beta) = int_0^1 x^(alpha-1) (1-x)^(beta-1) dx, with the
 * complement xc = 1 - x near 1 (Stan's example); alpha < 1 makes the integrand
 * singular at 0. */
START_TEST(test_integrate_beta)
{
  close_models("functions {\n"
               "  real beta_f(real x, real xc, array[] real theta, array[] real x_r, array[] int x_i) {\n"
               "    real v;\n"
               "    if (x > 0.5) v = x^(theta[1] - 1) * xc^(theta[2] - 1);\n"
               "    else v = x^(theta[1] - 1) * (1 - x)^(theta[2] - 1);\n"
               "    return v;\n"
               "  }\n"
               "}\n"
               "parameters { real<lower=0.6, upper=4> al; real<lower=1.5, upper=4> be; }\n"
               "model { target += log(integrate_1d(beta_f, 0, 1, {al, be}, {0.0}, {0})); }\n",
               "parameters { real<lower=0.6, upper=4> al; real<lower=1.5, upper=4> be; }\n"
               "model { target += lbeta(al, be); }\n", NULL, 6, 1e-7, 1e-5);
}
END_TEST

/* xc is the distance to the nearer end of each piece of an interval split at 0:
 * int_{-1}^{2} |xc| dx = 2 (1/2)^2 / 2 + 2 (1)^2 / 2 = 1.25; x_r and x_i reach f. */
START_TEST(test_integrate_xc_and_data)
{
  const char *json = "{\"xr\": [2.0], \"xi\": [3]}";
  close_models("functions {\n"
               "  real g(real x, real xc, array[] real theta, array[] real x_r, array[] int x_i) {\n"
               "    return x_r[1] * x_i[1] * abs(xc) + theta[1] * 0;\n"
               "  }\n"
               "}\n"
               "data { array[1] real xr; array[1] int xi; }\n"
               "parameters { real t; }\n"
               "model { target += integrate_1d(g, -1, 2, {t}, xr, xi) + normal_lpdf(t | 0, 1); }\n",
               "data { array[1] real xr; array[1] int xi; }\n"
               "parameters { real t; }\n"
               "model { target += 6 * 1.25 + normal_lpdf(t | 0, 1); }\n", json, 3, 1e-9, 1e-9);
}
END_TEST

START_TEST(test_integrate_failures)
{
  rejects(NORMAL_DENSITY "parameters { real a; }\n"
          "model { target += integrate_1d(dens, 1, 0, {a, 1.0}, {0.0}, {0}); }\n", NULL,
          "lower limit (1) must be below the upper limit (0)");
  rejects("functions {\n"
          "  real f(real x, real xc, array[] real theta, array[] real x_r, array[] int x_i) {\n"
          "    return 1 / (x - theta[1]);\n"
          "  }\n"
          "}\n"
          "parameters { real<lower=0, upper=0.5> a; }\n"
          "model { target += integrate_1d(f, 0, 1, {a}, {0.0}, {0}); }\n", NULL,
          "integrate_1d: ");
}
END_TEST

/* ---- map_rect ------------------------------------------------------------------------ */

/* Each job: a vector of as many values as the job has observations, from the shared
 * and the job's parameters and data; against the same loop by hand. */
START_TEST(test_map_rect)
{
  const char *json = "{\"J\": 3, \"xs\": [[0.5, 1.5], [-1, 2], [0.2, 0.1]], \"ks\": [[1, 2], [0, 4], [3, 1]]}";
  const char *head = "data { int J; array[J, 2] real xs; array[J, 2] int ks; }\n"
                     "parameters { vector[2] phi; array[J] vector[2] th; }\n";
  char a[2048], b[2048];
  snprintf(a, sizeof a,
           "functions {\n"
           "  vector job(vector phi, vector theta, array[] real x_r, array[] int x_i) {\n"
           "    vector[2] lp;\n"
           "    for (i in 1:2) lp[i] = poisson_log_lpmf(x_i[i] | phi[1] + theta[1] * x_r[i] + phi[2] * theta[2]);\n"
           "    return lp;\n"
           "  }\n"
           "}\n%s"
           "model { target += sum(map_rect(job, phi, th, xs, ks));\n"
           "  phi ~ normal(0, 1); for (j in 1:J) th[j] ~ normal(0, 1); }\n", head);
  snprintf(b, sizeof b, "%s"
           "model { for (j in 1:J) for (i in 1:2)\n"
           "    target += poisson_log_lpmf(ks[j, i] | phi[1] + th[j][1] * xs[j, i] + phi[2] * th[j][2]);\n"
           "  phi ~ normal(0, 1); for (j in 1:J) th[j] ~ normal(0, 1); }\n", head);
  close_models(a, b, json, 5, 1e-12, 1e-12);
  /* the results are concatenated in job order */
  close_models("functions { vector job(vector phi, vector theta, array[] real x_r, array[] int x_i) {\n"
               "    return [theta[1] * x_r[1], phi[1] + x_i[1]]'; } }\n"
               "data { int J; array[J, 2] real xs; array[J, 2] int ks; }\n"
               "parameters { vector[1] phi; array[J] vector[1] th; }\n"
               "model { vector[6] v = map_rect(job, phi, th, xs, ks);\n"
               "  target += normal_lpdf(v | [0, 1, 2, 3, 4, 5]', 1); }\n",
               "data { int J; array[J, 2] real xs; array[J, 2] int ks; }\n"
               "parameters { vector[1] phi; array[J] vector[1] th; }\n"
               "model { vector[6] v;\n"
               "  for (j in 1:J) { v[2 * j - 1] = th[j][1] * xs[j, 1]; v[2 * j] = phi[1] + ks[j, 1]; }\n"
               "  target += normal_lpdf(v | [0, 1, 2, 3, 4, 5]', 1); }\n", json, 4, 1e-12, 1e-12);
}
END_TEST

static Suite *suite(void)
{
  Suite *s = suite_create("solvers");
  TCase *tc = tcase_create("core");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, test_square_root);
  tcase_add_test(tc, test_linear_and_stan_example);
  tcase_add_test(tc, test_nonlinear_fd);
  tcase_add_test(tc, test_solver_failures);
  tcase_add_test(tc, test_integrate_normal);
  tcase_add_test(tc, test_integrate_beta);
  tcase_add_test(tc, test_integrate_xc_and_data);
  tcase_add_test(tc, test_integrate_failures);
  tcase_add_test(tc, test_map_rect);
  suite_add_tcase(s, tc);
  return s;
}

int main(void)
{
  SRunner *sr = srunner_create(suite());
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
