/* check_functions.c: user-defined functions (the functions block).  A model written
 * with functions must have exactly the log density and gradient of the same model
 * written inline; recursion, forward declarations, overloading, void, _lp, _lpdf /
 * _lpmf (with `~` and _lupdf calls), _rng in generated quantities and int -> real
 * promotion of arguments all run; a recursion that never ends and a function that
 * ends without returning are clean runtime errors.  The ODE solvers (ode_*, and
 * integrate_ode_* of older Stan) take a user-defined system function. */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <gsl/gsl_rng.h>
#include <vi/lang.h>
#include <vi/status.h>

static vi_program *make(const char *src, const char *json, vi_model *m)
{
  vi_error err;
  int st;
  vi_program *p = vi_program_compile(src, strlen(src), "f.stan", &err, &st);
  ck_assert_msg(p != NULL, "compile: %s", err.message);
  st = vi_program_load_data(p, json, json ? strlen(json) : 0, "f.json", &err);
  ck_assert_msg(st == 0, "data: %s", err.message);
  ck_assert_int_eq(vi_program_model(p, m), VI_SUCCESS);
  return p;
}

/* The two models have the same dimension, log density and gradient at n points. */
static void same_density(const vi_model *a, const vi_model *b, size_t n)
{
  size_t D = a->dim;
  ck_assert_uint_eq(D, b->dim);
  double *z = malloc(n * D * sizeof *z), *ga = malloc(n * D * sizeof *ga);
  double *gb = malloc(n * D * sizeof *gb), *la = malloc(n * sizeof *la);
  double *lb = malloc(n * sizeof *lb);
  for (size_t i = 0; i < n * D; i++) z[i] = 0.9 * sin(1.3 * (double)i + 0.4);
  ck_assert_int_eq(a->log_joint(a->ctx, n, z, la, ga), VI_SUCCESS);
  ck_assert_int_eq(b->log_joint(b->ctx, n, z, lb, gb), VI_SUCCESS);
  for (size_t s = 0; s < n; s++) {
    ck_assert_msg(isfinite(la[s]), "draw %zu: lp %g", s, la[s]);
    ck_assert_msg(fabs(la[s] - lb[s]) <= 1e-12 * fmax(1, fabs(lb[s])),
                  "draw %zu: functions %.17g inline %.17g", s, la[s], lb[s]);
  }
  for (size_t i = 0; i < n * D; i++)
    ck_assert_msg(fabs(ga[i] - gb[i]) <= 1e-12 * fmax(1, fabs(gb[i])),
                  "gradient %zu: functions %.17g inline %.17g", i, ga[i], gb[i]);
  free(z); free(ga); free(gb); free(la); free(lb);
}

/* Two model texts (with the same data) have the same density at n points. */
static void same_model(const char *a, const char *b, const char *json, size_t n)
{
  vi_model ma, mb;
  vi_program *pa = make(a, json, &ma), *pb = make(b, json, &mb);
  same_density(&ma, &mb, n);
  vi_program_free(pa);
  vi_program_free(pb);
}

static const char *DATA = "{\"N\": 6, \"y\": [0.3, -1.2, 2.2, 0.8, 1.1, -0.4],"
                          " \"k\": [0, 3, 1, 2, 5, 1], \"x\": [1, 2, 3, 4, 5, 6]}";

static const char *WITH_FUNCTIONS =
    "functions {\n"
    "  real sq(real x) { return x * x; }\n"
    "  vector line(vector x, real a, real b) { return a + b * x; }\n"
    "  real fact(int n);\n"                            /* forward declaration */
    "  real fact(int n) { if (n <= 1) return 1; return n * fact(n - 1); }\n"
    "  real scale(real s) { return s; }\n"              /* overloads */
    "  real scale(vector s) { return sum(s); }\n"
    "  real my_normal_lpdf(vector y, vector mu, real s) {\n"
    "    real acc = 0;\n"
    "    for (i in 1:rows(y)) acc += normal_lpdf(y[i] | mu[i], s);\n"
    "    return acc;\n"
    "  }\n"
    "  real my_pois_lpmf(array[] int k, real lam) { return poisson_lpmf(k | lam); }\n"
    "  void prior_lp(real a, real b) { a ~ normal(0, 2); target += normal_lpdf(b | 0, 3); }\n"
    "  void nothing(real a) { if (a > 1e300) print(a); }\n"
    "  real twice_sum(array[] real v) { return 2 * sum(v); }\n"
    "}\n"
    "data { int N; vector[N] y; array[N] int k; vector[N] x; }\n"
    "transformed data { real f4 = fact(4); }\n"
    "parameters { real a; real b; real<lower=0> s; real<lower=0> lam; }\n"
    "model {\n"
    "  y ~ my_normal(line(x, a, b), s);\n"
    "  target += my_pois_lupmf(k | lam);\n"
    "  prior_lp(a, b);\n"
    "  nothing(a);\n"
    "  s ~ exponential(scale(1) + scale([1, 2]') - f4 / 24.0 + sq(0));\n"
    "  lam ~ gamma(twice_sum({1, 1}), 1);\n"        /* int array promoted to real */
    "}\n";

static const char *INLINE =
    "data { int N; vector[N] y; array[N] int k; vector[N] x; }\n"
    "parameters { real a; real b; real<lower=0> s; real<lower=0> lam; }\n"
    "model {\n"
    "  y ~ normal(a + b * x, s);\n"
    "  target += poisson_lpmf(k | lam);\n"
    "  a ~ normal(0, 2); target += normal_lpdf(b | 0, 3);\n"
    "  s ~ exponential(3);\n"
    "  lam ~ gamma(4, 1);\n"
    "}\n";

START_TEST(test_same_as_inline)
{
  same_model(WITH_FUNCTIONS, INLINE, DATA, 1);
  same_model(WITH_FUNCTIONS, INLINE, DATA, 7);
}
END_TEST

/* A truncated `~` inside an _lp function equals the same statement in the model. */
START_TEST(test_truncation_in_function)
{
  same_model("functions { void obs_lp(real y, real mu) { y ~ normal(mu, 1) T[0, ]; } }\n"
             "data { real y; }\nparameters { real mu; }\n"
             "model { mu ~ normal(0, 1); obs_lp(y, mu); }\n",
             "data { real y; }\nparameters { real mu; }\n"
             "model { mu ~ normal(0, 1); y ~ normal(mu, 1) T[0, ]; }\n", "{\"y\": 0.7}", 5);
}
END_TEST

/* A branch on a parameter inside a function: the draws part ways (the per-draw path)
 * and still agree with the inline model. */
START_TEST(test_branch_on_parameter)
{
  same_model("functions {\n"
             "  real hinge(real v) { if (v > 0) return v * v; else return -v; }\n"
             "}\n"
             "parameters { real a; }\n"
             "model { target += -hinge(a); }\n",
             "parameters { real a; }\n"
             "model { target += a > 0 ? -a * a : a; }\n", NULL, 9);
}
END_TEST

START_TEST(test_rng_and_recursion_in_gq)
{
  vi_model m;
  vi_program *p = make("functions {\n"
                       "  int fib(int n) { if (n < 2) return n; return fib(n - 1) + fib(n - 2); }\n"
                       "  real shifted_rng(real mu) { return normal_rng(mu, 1e-9); }\n"
                       "}\n"
                       "parameters { real a; }\n"
                       "model { a ~ normal(0, 1); }\n"
                       "generated quantities { int f = fib(10); real r = shifted_rng(a); }\n",
                       NULL, &m);
  ck_assert_uint_eq(m.n_out, 3);
  double z = 0.25, out[3];
  gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
  ck_assert_int_eq(m.constrain(m.ctx, &z, rng, out), VI_SUCCESS);
  ck_assert_double_eq(out[1], 55);
  ck_assert_double_eq_tol(out[2], 0.25, 1e-7);
  gsl_rng_free(rng);
  vi_program_free(p);
}
END_TEST

/* Overloads: the signature with the fewest int -> real promotions wins, whatever the
 * order of definition (Stan's rule). */
START_TEST(test_overload_choice)
{
  vi_model m;
  vi_program *p = make("functions {\n"
                       "  real f(real x) { return 1; }\n"
                       "  real f(int x) { return 2; }\n"
                       "  real g(real x, real y) { return 3; }\n"
                       "  real g(int x, real y) { return 4; }\n"
                       "}\n"
                       "parameters { real a; }\n"
                       "model { a ~ normal(0, 1); }\n"
                       "generated quantities { real r1 = f(1); real r2 = f(1.5);\n"
                       "  real r3 = g(1, 2); real r4 = g(1.0, 2); }\n", NULL, &m);
  double z = 0.1, out[5];
  ck_assert_int_eq(m.constrain(m.ctx, &z, NULL, out), VI_SUCCESS);
  ck_assert_double_eq(out[1], 2);
  ck_assert_double_eq(out[2], 1);
  ck_assert_double_eq(out[3], 4);
  ck_assert_double_eq(out[4], 3);
  vi_program_free(p);
}
END_TEST

START_TEST(test_runtime_errors)
{
  vi_model m;
  double z = 0.5, lp, g;
  vi_program *p = make("functions {\n"
                       "  real forever(real x) { return forever(x + 1); }\n"
                       "}\n"
                       "parameters { real a; }\n"
                       "model { target += forever(a); }\n", NULL, &m);
  ck_assert_int_eq(m.log_joint(m.ctx, 1, &z, &lp, &g), VI_ERUNTIME);
  const char *e = vi_program_last_error(p);
  ck_assert_msg(strstr(e, "f.stan:2:") && strstr(e, "'forever'") && strstr(e, "200"), "%s", e);
  vi_program_free(p);

  p = make("functions {\n"
           "  real maybe(real x) { if (x > 0) return x; }\n"
           "}\n"
           "parameters { real a; }\n"
           "model { target += maybe(a - 10); }\n", NULL, &m);
  ck_assert_int_eq(m.log_joint(m.ctx, 1, &z, &lp, &g), VI_ERUNTIME);
  e = vi_program_last_error(p);
  ck_assert_msg(strstr(e, "f.stan:2:") && strstr(e, "without returning"), "%s", e);
  vi_program_free(p);

  /* reject inside a function rejects the draw, as in the model block */
  p = make("functions {\n"
           "  real checked(real x) { if (x > 1) reject(\"too big: \", x); return x; }\n"
           "}\n"
           "parameters { real a; }\n"
           "model { a ~ normal(checked(a), 1); }\n", NULL, &m);
  double zz[2] = {0.5, 2.0}, l2[2], g2[2];
  ck_assert_int_eq(m.log_joint(m.ctx, 2, zz, l2, g2), VI_SUCCESS);
  ck_assert(isfinite(l2[0]));
  ck_assert(isinf(l2[1]) && l2[1] < 0);
  vi_program_free(p);
}
END_TEST

/* reduce_sum(f, x, grainsize, ...) is f(x, 1, size(x), ...): Stan's map-reduce gives
 * the same sum. */
START_TEST(test_reduce_sum)
{
  same_model("functions {\n"
             "  real partial_sum_lpmf(array[] int slice, int start, int end, vector lam) {\n"
             "    return poisson_lupmf(slice | lam[start:end]);\n"
             "  }\n"
             "}\n"
             "data { int N; vector[N] y; array[N] int k; vector[N] x; }\n"
             "parameters { vector<lower=0>[N] lam; }\n"
             "model { target += reduce_sum(partial_sum_lupmf, k, 1, lam); lam ~ exponential(1); }\n",
             "data { int N; vector[N] y; array[N] int k; vector[N] x; }\n"
             "parameters { vector<lower=0>[N] lam; }\n"
             "model { k ~ poisson(lam); lam ~ exponential(1); }\n", DATA, 4);
}
END_TEST

/* ODE solvers: the decay system y' = -k y has y(t) = y0 exp(-k t).  With tight
 * tolerances the model through ode_rk45_tol equals the closed form to 1e-8 (value and
 * gradient); the old integrate_ode_rk45 interface gives the same; a batch equals one draw
 * at a time. */
static const char *ODE_DATA = "{\"T\": 4, \"ts\": [0.5, 1, 2.5, 4], \"y\": [1.4, 0.9, 0.35, 0.12]}";

START_TEST(test_ode_decay)
{
  vi_model mo, mold, mc;
  vi_program *po = make(
      "functions { vector decay(real t, vector y, real k) { return -k * y; } }\n"
      "data { int T; array[T] real ts; vector[T] y; }\n"
      "parameters { real<lower=0> k; real<lower=0> s; vector[1] y0; }\n"
      "model {\n"
      "  array[T] vector[1] z = ode_rk45_tol(decay, y0, 0, ts, 1e-11, 1e-11, 100000, k);\n"
      "  for (t in 1:T) y[t] ~ normal(z[t][1], s);\n"
      "}\n", ODE_DATA, &mo);
  vi_program *pold = make(
      "functions {\n"
      "  real[] decay(real t, real[] y, real[] th, real[] xr, int[] xi) { return {-th[1] * y[1]}; }\n"
      "}\n"
      "data { int T; array[T] real ts; vector[T] y; }\n"
      "parameters { real<lower=0> k; real<lower=0> s; vector[1] y0; }\n"
      "model {\n"
      "  array[T, 1] real z = integrate_ode_rk45(decay, to_array_1d(y0), 0, ts, {k},\n"
      "                                         rep_array(0.0, 0), rep_array(0, 0), 1e-11, 1e-11, 1e5);\n"
      "  for (t in 1:T) y[t] ~ normal(z[t, 1], s);\n"
      "}\n", ODE_DATA, &mold);
  vi_program *pc = make(
      "data { int T; array[T] real ts; vector[T] y; }\n"
      "parameters { real<lower=0> k; real<lower=0> s; vector[1] y0; }\n"
      "model { y ~ normal(y0[1] * exp(-k * to_vector(ts)), s); }\n", ODE_DATA, &mc);
  size_t n = 5, D = mc.dim;
  double z[15], lo[5], lc[5], ll[5], go[15], gc[15], gl[15];
  for (size_t i = 0; i < n * D; i++) z[i] = 0.6 * sin(1.7 * (double)i + 0.3);
  ck_assert_int_eq(mo.log_joint(mo.ctx, n, z, lo, go), VI_SUCCESS);
  ck_assert_int_eq(mold.log_joint(mold.ctx, n, z, ll, gl), VI_SUCCESS);
  ck_assert_int_eq(mc.log_joint(mc.ctx, n, z, lc, gc), VI_SUCCESS);
  for (size_t s = 0; s < n; s++) {
    ck_assert_msg(fabs(lo[s] - lc[s]) < 1e-8 * fmax(1, fabs(lc[s])), "ode %.15g closed form %.15g",
                  lo[s], lc[s]);
    ck_assert_msg(fabs(ll[s] - lc[s]) < 1e-8 * fmax(1, fabs(lc[s])), "old %.15g closed form %.15g",
                  ll[s], lc[s]);
  }
  for (size_t i = 0; i < n * D; i++) {
    ck_assert_msg(fabs(go[i] - gc[i]) < 1e-7 * fmax(1, fabs(gc[i])), "grad %zu: ode %.15g, "
                  "closed form %.15g", i, go[i], gc[i]);
    ck_assert_msg(fabs(gl[i] - gc[i]) < 1e-7 * fmax(1, fabs(gc[i])), "grad %zu: old %.15g, "
                  "closed form %.15g", i, gl[i], gc[i]);
  }
  /* one draw at a time (its own step sizes) agrees with the batch to the tolerance */
  for (size_t s = 0; s < n; s++) {
    double l1;
    ck_assert_int_eq(mo.log_joint(mo.ctx, 1, z + s * D, &l1, NULL), VI_SUCCESS);
    ck_assert(fabs(l1 - lo[s]) < 1e-8 * fmax(1, fabs(lo[s])));
  }
  vi_program_free(po);
  vi_program_free(pold);
  vi_program_free(pc);
  /* repeated output times are allowed (Stan checks that ts is sorted) */
  const char *rep = "{\"T\": 3, \"ts\": [1, 2, 2], \"y\": [0.6, 0.4, 0.4]}";
  po = make("functions { vector decay(real t, vector y, real k) { return -k * y; } }\n"
            "data { int T; array[T] real ts; vector[T] y; }\n"
            "parameters { real<lower=0> k; }\n"
            "model { array[T] vector[1] z = ode_rk45(decay, [1.0]', 0, ts, k);\n"
            "  target += z[3][1] - z[2][1]; }\n", rep, &mo);
  double zk = 0.3, lk;
  ck_assert_int_eq(mo.log_joint(mo.ctx, 1, &zk, &lk, NULL), VI_SUCCESS);
  ck_assert_double_eq_tol(lk, 0.3, 1e-12);   /* the Jacobian log k only */
  vi_program_free(po);
}
END_TEST

/* A system the step budget cannot cover: the draw is rejected (lp = -inf), as in Stan. */
START_TEST(test_ode_budget)
{
  vi_model m;
  vi_program *p = make(
      "functions { vector fast(real t, vector y, real k) { return -k * y; } }\n"
      "parameters { real<lower=0> k; }\n"
      "model {\n"
      "  array[1] vector[1] z = ode_rk45_tol(fast, [1.0]', 0, {1000.0}, 1e-6, 1e-6, 10, k);\n"
      "  k ~ lognormal(0, 1);\n"
      "  target += z[1][1];\n"
      "}\n", NULL, &m);
  double z[2] = {log(2000.0), log(3000.0)}, lp[2];
  ck_assert_int_eq(m.log_joint(m.ctx, 2, z, lp, NULL), VI_SUCCESS);
  ck_assert(isinf(lp[0]) && lp[0] < 0 && isinf(lp[1]));
  ck_assert_msg(strstr(vi_program_last_error(p), "steps") != NULL, "%s", vi_program_last_error(p));
  vi_program_free(p);
  /* a first step that overflows is shortened, not given up: y' = -y^3 from y(0) = 100
     has y(10) = 1 / sqrt(20 + 1e-4) */
  p = make("functions { vector cube(real t, vector y) { return -(y .* y .* y); } }\n"
           "transformed data { array[1] vector[1] a = ode_rk45(cube, [100.0]', 0.0, {10.0}); }\n"
           "parameters { real mu; }\n"
           "model { mu ~ normal(a[1][1], 1); }\n", NULL, &m);
  double y10 = 1 / sqrt(20 + 1e-4), g;
  ck_assert_int_eq(m.log_joint(m.ctx, 1, &y10, lp, &g), VI_SUCCESS);
  ck_assert_msg(fabs(g) < 1e-5, "gradient %g: the solution is off by that much", g);
  vi_program_free(p);
  /* output times that depend on a parameter are refused (no derivative in time) */
  p = make("functions { vector decay(real t, vector y) { return -y; } }\n"
           "parameters { real<lower=0.5, upper=2> T; }\n"
           "model { array[1] vector[1] s = ode_rk45(decay, [1.0]', 0.0, {T});\n"
           "  target += s[1][1]; }\n", NULL, &m);
  double zt = 0;
  ck_assert_int_eq(m.log_joint(m.ctx, 1, &zt, lp, &g), VI_EUNSUPPORTED);
  vi_program_free(p);
}
END_TEST

int main(void)
{
  Suite *s = suite_create("functions");
  TCase *tc = tcase_create("core");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, test_same_as_inline);
  tcase_add_test(tc, test_branch_on_parameter);
  tcase_add_test(tc, test_truncation_in_function);
  tcase_add_test(tc, test_rng_and_recursion_in_gq);
  tcase_add_test(tc, test_overload_choice);
  tcase_add_test(tc, test_runtime_errors);
  tcase_add_test(tc, test_reduce_sum);
  tcase_add_test(tc, test_ode_decay);
  tcase_add_test(tc, test_ode_budget);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
