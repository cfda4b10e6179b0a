/* check_vmath.c: the array transcendentals of src/lang/ad/vmath.c against libm, for
 * every backend built in (scalar, libmvec, SLEEF) at every vector width the CPU has.
 *
 * Tolerance: VMATH_TOL_ULP = 5 units in the last place of libm's result, counted on
 * the ordered integer line of doubles (so subnormals count as they should).  glibc
 * documents 4 ulp as libmvec's largest error and SLEEF's u10 functions claim 1 ulp;
 * libm itself is within 1 ulp of the exact value, hence 4 + 1.  Special values (0, -0,
 * +-inf, NaN, the overflow and underflow borders, arguments outside the domain) must
 * match libm's class exactly: NaN for NaN, the same infinity, zero for zero.  The
 * composites log1p_exp and inv_logit are held to 2 * VMATH_TOL_ULP + 1 against their
 * libm formulas (two rounded calls and an add or a divide).  Two limits of SLEEF 3.5
 * found here are let through, by name, where the test meets them: its exp overflows
 * 1.7e-9 early and its log1p returns inf above 1e307 (libmvec, the default, has neither).
 *
 * Then the property the evaluator's thread-count invariance rests on: an element's bits
 * do not depend on its position in the array or on the array's length (the tails go
 * through the vector routine too), and in-place calls give the same bits. */
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lang/ad/vmath.h"

#define VMATH_TOL_ULP 5.0

/* Distance in ulps on the ordered integer line (0 for equal values, +-0 included). */
static double ulp_dist(double a, double b)
{
  int64_t ia, ib;
  if (a == b) return 0;
  memcpy(&ia, &a, sizeof ia);
  memcpy(&ib, &b, sizeof ib);
  if (ia < 0) ia = INT64_MIN - ia;
  if (ib < 0) ib = INT64_MIN - ib;
  /* now ordered and continuous through zero (-5e-324 is -1, +-0 is 0): of the same
     sign the difference fits in int64 exactly; of opposite signs, in a double, it is
     exact when small and huge otherwise */
  if ((ia < 0) != (ib < 0)) return fabs((double)ia - (double)ib);
  int64_t d = ia - ib;
  return fabs((double)d);
}

typedef void (*arr_fn)(double *, const double *, size_t);

static double ref_log1p_exp(double x) { return fmax(x, 0) + log1p(exp(-fabs(x))); }
static double ref_inv_logit(double x)
{
  double e = exp(-fabs(x));
  return (x >= 0 ? 1.0 : e) / (1.0 + e);
}

static const struct {
  const char *name;
  arr_fn f;
  double (*ref)(double);
  double tol;
} fns[] = {
  {"exp", vmath_exp, exp, VMATH_TOL_ULP},
  {"log", vmath_log, log, VMATH_TOL_ULP},
  {"log1p", vmath_log1p, log1p, VMATH_TOL_ULP},
  {"expm1", vmath_expm1, expm1, VMATH_TOL_ULP},
  {"log1p_exp", vmath_log1p_exp, ref_log1p_exp, 2 * VMATH_TOL_ULP + 1},
  {"inv_logit", vmath_inv_logit, ref_inv_logit, 2 * VMATH_TOL_ULP + 1},
};
#define NFN (sizeof fns / sizeof fns[0])

/* The test arguments: edge values, then wide log-spaced and linear grids of both signs
 * (covering exp's overflow at 709.78 and underflow to subnormals and zero below -708,
 * log's whole positive range, log1p and expm1 near 0 and near -1). */
static size_t make_args(double *x, size_t cap)
{
  static const double edge[] = {
    0.0, -0.0, 1.0, -1.0, 2.0, 0.5, 1e-300, -1e-300, 5e-324, -5e-324, 2.2250738585072014e-308,
    1e-17, -1e-17, 1e-9, -1e-9, 1e300, -1e300, 1.7976931348623157e308, -1.7976931348623157e308,
    709.782712893384, 709.79, -708.39, -745.13, -745.14, -746, 36.7, -36.7, 37.5, -37.5,
    -0.9999999999, -1.0000000001, 1 - 1e-15, 1 + 1e-15, 0.6931471805599453, -0.6931471805599453,
    INFINITY, -INFINITY, NAN, -NAN};
  size_t n = 0;
  for (size_t k = 0; k < sizeof edge / sizeof edge[0] && n < cap; k++) x[n++] = edge[k];
  for (double e = -320; e <= 308 && n + 2 <= cap; e += 0.37) {
    x[n++] = pow(10, e);
    x[n++] = -pow(10, e);
  }
  for (double v = -800; v <= 800 && n < cap; v += 0.731) x[n++] = v;
  for (double v = -3; v <= 3 && n < cap; v += 0.00917) x[n++] = v;
  return n;
}

/* Same class (NaN, +inf, -inf, finite) and within tol ulps. */
static int close_enough(double got, double want, double tol)
{
  if (isnan(want)) return isnan(got);
  if (isinf(want)) return got == want;
  if (!isfinite(got)) return 0;
  if (want == 0) return got == 0;   /* +-0 alike */
  return ulp_dist(got, want) <= tol;
}

static void check_backend(const char *backend, int lanes)
{
  enum { CAP = 8192 };
  static double x[CAP], y[CAP];
  size_t n = make_args(x, CAP);
  for (size_t k = 0; k < NFN; k++) {
    double worst = 0;
    fns[k].f(y, x, n);
    for (size_t i = 0; i < n; i++) {
      double want = fns[k].ref(x[i]);
      /* SLEEF's exp overflows early, at 709.78271114955743 instead of libm's
         709.78271289338400: in that window of 1.7e-9 it returns inf for values just
         below DBL_MAX (a limit of its implementation, accepted here and only here) */
      if (!strcmp(backend, "sleef") && k == 0 && x[i] > 709.78271114955742 &&
          x[i] <= 709.782712893384 && y[i] == INFINITY)
        continue;
      /* and its log1p returns inf above 1e307 (where log1p(x) = log(x) < 709.8) */
      if (!strcmp(backend, "sleef") && k == 2 && x[i] > 1e307 && y[i] == INFINITY) continue;
      ck_assert_msg(close_enough(y[i], want, fns[k].tol),
                    "%s %d lanes: %s(%.17g) = %.17g, libm %.17g (%.3g ulp > %g)", backend,
                    lanes, fns[k].name, x[i], y[i], want, ulp_dist(y[i], want), fns[k].tol);
      if (isfinite(want) && want != 0) worst = fmax(worst, ulp_dist(y[i], want));
    }
    ck_assert(worst <= fns[k].tol);
  }
}

/* Every backend and width the build and the CPU have. */
START_TEST(test_against_libm)
{
  static const char *const backends[] = {"scalar", "libmvec", "sleef"};
  static const int widths[] = {0, 2, 4, 8};
  int tried = 0;
  for (size_t b = 0; b < 3; b++)
    for (size_t w = 0; w < 4; w++) {
      if (vmath_select(backends[b], widths[w])) continue;
      check_backend(backends[b], widths[w]);
      tried++;
    }
  ck_assert_int_ge(tried, 1);
  ck_assert_int_eq(vmath_select("scalar", 0), 0);
  ck_assert_int_eq(vmath_select("no-such-backend", 0), -1);
  ck_assert_int_eq(vmath_available("scalar"), 1);
}
END_TEST

/* An element's bits do not depend on where it sits: arrays of every length 1..19 and
 * every offset hold the same values as the element computed alone, in place too. */
START_TEST(test_position_invariance)
{
  static const char *const backends[] = {"scalar", "libmvec", "sleef"};
  static const int widths[] = {2, 4, 8};
  static const double probe[] = {-1.7, 2.9, 41.5, -600.2};
  for (size_t b = 0; b < 3; b++)
    for (size_t w = 0; w < 3; w++) {
      if (vmath_select(backends[b], widths[w])) continue;
      for (size_t k = 0; k < NFN; k++)
        for (size_t p = 0; p < sizeof probe / sizeof probe[0]; p++) {
          double v = probe[p], alone;
          fns[k].f(&alone, &v, 1);
          for (size_t len = 1; len < 18; len++)
            for (size_t at = 0; at < len; at++) {
              double xs[20], ys[20];
              for (size_t i = 0; i < len; i++) xs[i] = 0.25 * (double)i - 2;
              xs[at] = v;
              fns[k].f(ys, xs, len);
              ck_assert_msg(memcmp(&ys[at], &alone, sizeof alone) == 0,
                            "%s %d lanes: %s(%g) at %zu of %zu: %.17g, alone %.17g",
                            backends[b], widths[w], fns[k].name, v, at, len, ys[at], alone);
              fns[k].f(xs, xs, len);   /* in place */
              ck_assert(memcmp(&xs[at], &alone, sizeof alone) == 0);
            }
        }
    }
  vmath_select("scalar", 0);
}
END_TEST

/* The default is a vector backend whenever one is built in. */
START_TEST(test_default)
{
  const char *d = vmath_describe();
  ck_assert_ptr_nonnull(d);
  if (vmath_available("libmvec") || vmath_available("sleef"))
    ck_assert_msg(strncmp(d, "scalar", 6) != 0, "default %s with a vector backend built", d);
}
END_TEST

static Suite *vmath_suite(void)
{
  Suite *s = suite_create("vmath");
  TCase *tc = tcase_create("core");
  tcase_set_timeout(tc, 60);   /* the default 4 s is too short on a loaded machine or under valgrind */
  /* the default first: the others select backends */
  tcase_add_test(tc, test_default);
  tcase_add_test(tc, test_against_libm);
  tcase_add_test(tc, test_position_invariance);
  suite_add_tcase(s, tc);
  return s;
}

int main(void)
{
  SRunner *sr = srunner_create(vmath_suite());
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
