/* check_math.c: the math builtins (builtins_elementwise.c, _reduce.c,
 * _containers.c, _linalg.c) and the signature matcher
 * (front/signatures.c).  Every function: value against a reference written independently here
 * (libm, GSL), gradient against central finite differences, scalar and vectorised
 * arguments, and batched evaluation (5 draws) equal to one draw at a time -- all through
 * the generic checker of ad_testutil.h. */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <gsl/gsl_cdf.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_math.h>
#include <gsl/gsl_sf_erf.h>
#include <gsl/gsl_sf_gamma.h>
#include <gsl/gsl_sf_psi.h>
#include "ad_testutil.h"
#include "lang/ad/ad_kernels.h"

/* ---- unary functions ------------------------------------------------------------ */

static double r_log1m(double x) { return log(1 - x); }
static double r_square(double x) { return x * x; }
static double r_inv(double x) { return 1 / x; }
static double r_inv_sqrt(double x) { return 1 / sqrt(x); }
static double r_inv_square(double x) { return 1 / (x * x); }
static double r_inv_logit(double x) { return 1 / (1 + exp(-x)); }
static double r_logit(double x) { return log(x) - log(1 - x); }
static double r_log_inv_logit(double x) { return log(1 / (1 + exp(-x))); }
static double r_log1m_inv_logit(double x) { return log(1 - 1 / (1 + exp(-x))); }
static double r_log1p_exp(double x) { return log(1 + exp(x)); }
static double r_log1m_exp(double x) { return log(1 - exp(x)); }
static double r_lgamma(double x) { return lgamma(x); }
static double r_tgamma(double x) { return tgamma(x); }
static double r_digamma(double x) { return gsl_sf_psi(x); }
static double r_trigamma(double x) { return gsl_sf_psi_1(x); }
static double r_Phi(double x) { return 0.5 * erfc(-x / sqrt(2.0)); }
static double r_inv_Phi(double x) { return gsl_cdf_gaussian_Pinv(x, 1.0); }
static double r_Phi_approx(double x) { return 1 / (1 + exp(-(0.07056 * x * x * x + 1.5976 * x))); }
static double r_inv_cloglog(double x) { return 1 - exp(-exp(x)); }

typedef struct ucase {
  const char *name;
  double (*ref)(double);
  double v[4];
  double fdtol;
} ucase;

static const ucase unary_cases[] = {
  {"exp", exp, {-1.2, 0.3, 2.0, 0.7}, 1e-6},
  {"log", log, {0.2, 1.3, 5.0, 0.7}, 1e-6},
  {"log1p", log1p, {-0.5, 0.3, 2.0, 1e-3}, 1e-6},
  {"expm1", expm1, {-1.2, 0.3, 2.0, 1e-4}, 1e-6},
  {"log1m", r_log1m, {-0.5, 0.3, 0.9, 1e-3}, 1e-6},
  {"log2", log2, {0.2, 1.3, 5.0, 0.7}, 1e-6},
  {"log10", log10, {0.2, 1.3, 5.0, 0.7}, 1e-6},
  {"exp2", exp2, {-1.2, 0.3, 2.0, 0.7}, 1e-6},
  {"sqrt", sqrt, {0.2, 1.3, 5.0, 0.7}, 1e-6},
  {"cbrt", cbrt, {-0.2, 1.3, 5.0, 0.7}, 1e-6},
  {"square", r_square, {-1.2, 0.3, 2.0, 0.7}, 1e-6},
  {"fabs", fabs, {-1.2, 0.3, 2.0, -0.7}, 1e-6},
  {"abs", fabs, {-1.2, 0.3, 2.0, -0.7}, 1e-6},
  {"inv", r_inv, {-1.2, 0.3, 2.0, 0.7}, 1e-6},
  {"inv_sqrt", r_inv_sqrt, {0.2, 1.3, 5.0, 0.7}, 1e-6},
  {"inv_square", r_inv_square, {-1.2, 0.3, 2.0, 0.7}, 1e-6},
  {"inv_logit", r_inv_logit, {-3.2, 0.3, 2.0, 0.7}, 1e-6},
  {"logit", r_logit, {0.2, 0.5, 0.9, 0.7}, 1e-6},
  {"log_inv_logit", r_log_inv_logit, {-3.2, 0.3, 2.0, 0.7}, 1e-6},
  {"log1m_inv_logit", r_log1m_inv_logit, {-3.2, 0.3, 2.0, 0.7}, 1e-6},
  {"log1p_exp", r_log1p_exp, {-3.2, 0.3, 2.0, 0.7}, 1e-6},
  {"log1m_exp", r_log1m_exp, {-3.2, -0.3, -2.0, -0.01}, 1e-6},
  {"lgamma", r_lgamma, {0.2, 1.3, 5.0, 12.5}, 1e-6},
  {"tgamma", r_tgamma, {0.2, 1.3, 5.0, 3.5}, 1e-6},
  {"digamma", r_digamma, {0.2, 1.3, 5.0, 12.5}, 1e-6},
  {"trigamma", r_trigamma, {0.2, 1.3, 5.0, 12.5}, 1e-6},
  {"erf", erf, {-1.2, 0.3, 2.0, 0.7}, 1e-6},
  {"erfc", erfc, {-1.2, 0.3, 2.0, 0.7}, 1e-6},
  {"Phi", r_Phi, {-1.2, 0.3, 2.0, 0.7}, 1e-6},
  {"inv_Phi", r_inv_Phi, {0.02, 0.3, 0.5, 0.97}, 1e-6},
  {"Phi_approx", r_Phi_approx, {-1.2, 0.3, 2.0, 0.7}, 1e-6},
  {"inv_cloglog", r_inv_cloglog, {-1.2, 0.3, 1.0, 0.7}, 1e-6},
  {"sin", sin, {-1.2, 0.3, 2.0, 0.7}, 1e-6},
  {"cos", cos, {-1.2, 0.3, 2.0, 0.7}, 1e-6},
  {"tan", tan, {-1.2, 0.3, 1.0, 0.7}, 1e-6},
  {"asin", asin, {-0.8, 0.3, 0.5, 0.7}, 1e-6},
  {"acos", acos, {-0.8, 0.3, 0.5, 0.7}, 1e-6},
  {"atan", atan, {-1.2, 0.3, 2.0, 0.7}, 1e-6},
  {"sinh", sinh, {-1.2, 0.3, 2.0, 0.7}, 1e-6},
  {"cosh", cosh, {-1.2, 0.3, 2.0, 0.7}, 1e-6},
  {"tanh", tanh, {-1.2, 0.3, 2.0, 0.7}, 1e-6},
  {"asinh", asinh, {-1.2, 0.3, 2.0, 0.7}, 1e-6},
  {"acosh", acosh, {1.2, 1.3, 2.0, 3.7}, 1e-6},
  {"atanh", atanh, {-0.8, 0.3, 0.5, 0.7}, 1e-6},
  {"floor", floor, {-1.2, 0.3, 2.5, 0.7}, 1e-6},
  {"ceil", ceil, {-1.2, 0.3, 2.5, 0.7}, 1e-6},
  {"round", round, {-1.2, 0.3, 2.5, 0.7}, 1e-6},
  {"trunc", trunc, {-1.2, 0.3, 2.5, 0.7}, 1e-6},
};

START_TEST(t_unary)
{
  const ucase *c = &unary_cases[_i];
  double y[TA_MAXV];
  size_t n;
  /* scalar */
  ta_check_builtin(c->name, &TR(c->v[1]), 1, c->fdtol, y, &n);
  ck_assert_msg(fabs(y[0] - c->ref(c->v[1])) <= 1e-12 * (1 + fabs(y[0])),
                "%s(%g) = %.17g, reference %.17g", c->name, c->v[1], y[0], c->ref(c->v[1]));
  /* vector, row vector, real array, matrix */
  targ vs[4] = {TV(4, c->v[0], c->v[1], c->v[2], c->v[3]),
                TRV(4, c->v[0], c->v[1], c->v[2], c->v[3]),
                TAR(4, c->v[0], c->v[1], c->v[2], c->v[3]),
                TM(2, 2, c->v[0], c->v[1], c->v[2], c->v[3])};
  for (int k = 0; k < 4; k++) {
    ta_check_builtin(c->name, &vs[k], 1, c->fdtol, y, &n);
    ck_assert_uint_eq(n, 4);
    for (int e = 0; e < 4; e++) {
      double r = c->ref(c->v[e]);
      ck_assert_msg(fabs(y[e] - r) <= 1e-11 * (1 + fabs(r)), "%s(%g) = %.17g, reference %.17g",
                    c->name, c->v[e], y[e], r);
    }
  }
}
END_TEST

START_TEST(t_unary_int)
{
  vi_type ti = {VT_INT, 0}, tr = {VT_REAL, 0}, tai = {VT_INT, 1}, ret;
  char why[256];
  int id = builtin_resolve("abs", &ti, 1, &ret, why, sizeof why);
  ck_assert_int_ge(id, 0);
  ck_assert_int_eq(ret.base, VT_INT);
  id = builtin_resolve("abs", &tai, 1, &ret, why, sizeof why);
  ck_assert_int_ge(id, 0);
  ck_assert_int_eq(ret.base, VT_INT);
  ck_assert_int_eq(ret.ndims, 1);
  id = builtin_resolve("exp", &ti, 1, &ret, why, sizeof why);
  ck_assert_int_ge(id, 0);
  ck_assert_int_eq(ret.base, VT_REAL);
  double y[TA_MAXV];
  size_t n;
  ta_check_builtin("abs", &TI(-3), 1, 1e-6, y, &n);
  ck_assert(y[0] == 3);
  ta_check_builtin("exp", &TI(2), 1, 1e-6, y, &n);
  ck_assert(fabs(y[0] - exp(2)) < 1e-14);
  id = builtin_resolve("int_step", &tr, 1, &ret, why, sizeof why);
  ck_assert_int_eq(ret.base, VT_INT);
  ta_check_builtin("int_step", &TR(0.0), 1, 1e-6, y, &n);
  ck_assert(y[0] == 0);
  ta_check_builtin("int_step", &TR(0.5), 1, 1e-6, y, &n);
  ck_assert(y[0] == 1);
  ta_check_builtin("int_step", &TI(-2), 1, 1e-6, y, &n);
  ck_assert(y[0] == 0);
  ta_check_builtin("step", &TR(0.0), 1, 1e-6, y, &n);
  ck_assert(y[0] == 1);
  ta_check_builtin("step", &TR(-0.1), 1, 1e-6, y, &n);
  ck_assert(y[0] == 0);
  ta_check_builtin("is_nan", &TR(NAN), 1, 1e-6, y, &n);
  ck_assert(y[0] == 1);
  ta_check_builtin("is_inf", &TR(-INFINITY), 1, 1e-6, y, &n);
  ck_assert(y[0] == 1);
  /* Outside the domain: NaN, not an error. */
  ta_check_builtin("log", &TR(-1.0), 1, -1, y, &n);
  ck_assert(isnan(y[0]));
  ta_check_builtin("lgamma", &TR(-2.0), 1, -1, y, &n);
  ck_assert(!isfinite(y[0]));
}
END_TEST

/* ---- binary functions ----------------------------------------------------------- */

static double r_pow(double a, double b) { return exp(b * log(a)); }
static double r_fmin(double a, double b) { return a < b ? a : b; }
static double r_fmax(double a, double b) { return a > b ? a : b; }
static double r_fdim(double a, double b) { return a > b ? a - b : 0; }
static double r_lbeta(double a, double b) { return lgamma(a) + lgamma(b) - lgamma(a + b); }
static double r_lchoose(double n, double k) { return gsl_sf_lnchoose((unsigned)n, (unsigned)k); }
static double r_lse(double a, double b) { return log(exp(a) + exp(b)); }
static double r_lde(double a, double b) { return log(exp(a) - exp(b)); }

static double r_beta(double a, double b) { return exp(r_lbeta(a, b)); }
static double r_lmultiply(double a, double b) { return a * log(b); }
static double r_lild(double a, double b) { return log(r_inv_logit(a) - r_inv_logit(b)); }
static double r_lff(double x, double n) { return lgamma(x + 1) - lgamma(x - n + 1); }
static double r_lrf(double x, double n) { return lgamma(x + n) - lgamma(x); }

typedef struct bcase {
  const char *name;
  double (*ref)(double, double);
  double a[3], b[3];
} bcase;

static const bcase binary_cases[] = {
  {"pow", r_pow, {0.5, 1.5, 2.5}, {1.3, -0.7, 2.0}},
  {"fmin", r_fmin, {0.5, 1.5, 2.5}, {1.3, -0.7, 2.0}},
  {"fmax", r_fmax, {0.5, 1.5, 2.5}, {1.3, -0.7, 2.0}},
  {"fdim", r_fdim, {0.5, 1.5, 2.5}, {1.3, -0.7, 2.0}},
  {"fmod", fmod, {5.3, -7.5, 2.5}, {1.3, 2.1, 0.7}},
  {"atan2", atan2, {0.5, -1.5, 2.5}, {1.3, -0.7, 2.0}},
  {"hypot", hypot, {0.5, -1.5, 2.5}, {1.3, -0.7, 2.0}},
  {"lbeta", r_lbeta, {0.5, 1.5, 2.5}, {1.3, 0.7, 2.0}},
  {"log_diff_exp", r_lde, {0.5, 1.5, 2.5}, {-1.3, 0.7, 0.2}},
  {"beta", r_beta, {0.5, 1.5, 2.5}, {1.3, 0.7, 2.0}},
  {"lmultiply", r_lmultiply, {0.5, 1.5, 2.5}, {1.3, 0.7, 2.0}},
  {"log_inv_logit_diff", r_lild, {0.5, 1.5, 2.5}, {-1.3, 0.7, 0.2}},
  {"log_falling_factorial", r_lff, {3.5, 4.5, 2.5}, {1.3, 0.7, 2.0}},
  {"log_rising_factorial", r_lrf, {3.5, 4.5, 2.5}, {1.3, 0.7, 2.0}},
};

START_TEST(t_binary)
{
  const bcase *c = &binary_cases[_i];
  double y[TA_MAXV];
  size_t n;
  targ sc[2] = {TR(c->a[0]), TR(c->b[0])};
  ta_check_builtin(c->name, sc, 2, 1e-6, y, &n);
  ck_assert_msg(fabs(y[0] - c->ref(c->a[0], c->b[0])) < 1e-12, "%s: %.17g vs %.17g", c->name,
                y[0], c->ref(c->a[0], c->b[0]));
  targ vv[2] = {TV(3, c->a[0], c->a[1], c->a[2]), TV(3, c->b[0], c->b[1], c->b[2])};
  ta_check_builtin(c->name, vv, 2, 1e-6, y, &n);
  for (int e = 0; e < 3; e++)
    ck_assert_msg(fabs(y[e] - c->ref(c->a[e], c->b[e])) < 1e-12, "%s[%d]", c->name, e);
  targ vs[2] = {TAR(3, c->a[0], c->a[1], c->a[2]), TR(c->b[2])};
  ta_check_builtin(c->name, vs, 2, 1e-6, y, &n);
  for (int e = 0; e < 3; e++)
    ck_assert_msg(fabs(y[e] - c->ref(c->a[e], c->b[2])) < 1e-12, "%s[%d]", c->name, e);
  targ sv[2] = {TR(c->a[2]), TRV(3, c->b[0], c->b[1], c->b[2])};
  vi_type ty[2] = {{VT_REAL, 0}, {VT_ROW_VECTOR, 0}}, ret;
  ck_assert_int_ge(builtin_resolve(c->name, ty, 2, &ret, NULL, 0), 0);
  ck_assert_int_eq(ret.base, VT_ROW_VECTOR);
  ta_check_builtin(c->name, sv, 2, 1e-6, y, &n);
  for (int e = 0; e < 3; e++)
    ck_assert_msg(fabs(y[e] - c->ref(c->a[2], c->b[e])) < 1e-12, "%s[%d]", c->name, e);
}
END_TEST

START_TEST(t_binary_misc)
{
  double y[TA_MAXV];
  size_t n;
  targ a[3] = {TR(0.3), TR(-1.2), TR(-2.5)};
  ta_check_builtin("log_sum_exp", a + 1, 2, 1e-6, y, &n);
  ck_assert(fabs(y[0] - r_lse(-1.2, -2.5)) < 1e-14);
  ta_check_builtin("log_mix", a, 3, 1e-6, y, &n);
  ck_assert(fabs(y[0] - log(0.3 * exp(-1.2) + 0.7 * exp(-2.5))) < 1e-14);
  ta_check_builtin("fma", a, 3, 1e-6, y, &n);
  ck_assert(fabs(y[0] - (0.3 * -1.2 - 2.5)) < 1e-14);
  {
    targ fi[3] = {TI(2), TI(3), TI(4)};
    ad_tape *t = ad_tape_alloc();
    ad_tape_reset(t, 1, 0);
    vi_type ti3[3] = {{VT_INT, 0}, {VT_INT, 0}, {VT_INT, 0}}, r;
    int id = builtin_resolve("fma", ti3, 3, &r, NULL, 0);
    ad_val *av[3];
    for (int i = 0; i < 3; i++) av[i] = ta_make(t, &fi[i], 1, 0, 0, -1, 0);
    ad_val *v = builtin_call(t, id, av, 3);
    ck_assert(v->type.base == VT_REAL && r.base == VT_REAL && v->x[0] == 10);
    ad_tape_free(t);
  }
  targ ch[2] = {TI(7), TI(3)};
  ta_check_builtin("choose", ch, 2, 1e-6, y, &n);
  ck_assert(y[0] == 35);
  targ lc[2] = {TR(7), TR(3)};
  ta_check_builtin("lchoose", lc, 2, 1e-6, y, &n);
  ck_assert(fabs(y[0] - r_lchoose(7, 3)) < 1e-12);
  ta_check_builtin("binomial_coefficient_log", lc, 2, 1e-6, y, &n);
  ck_assert(fabs(y[0] - log(35)) < 1e-12);
  targ mi[2] = {TI(7), TI(-3)};
  ta_check_builtin("min", mi, 2, 1e-6, y, &n);
  ck_assert(y[0] == -3);
  ta_check_builtin("max", mi, 2, 1e-6, y, &n);
  ck_assert(y[0] == 7);
  vi_type ti[2] = {{VT_INT, 0}, {VT_INT, 0}}, ret;
  builtin_resolve("min", ti, 2, &ret, NULL, 0);
  ck_assert_int_eq(ret.base, VT_INT);
  /* pow with int arguments is real */
  builtin_resolve("pow", ti, 2, &ret, NULL, 0);
  ck_assert_int_eq(ret.base, VT_REAL);
  ta_check_builtin("pow", mi, 2, 1e-6, y, &n);
  ck_assert(fabs(y[0] - pow(7, -3)) < 1e-15);
  targ bl[2] = {TI(1), TR(0.3)};
  ta_check_builtin("binary_log_loss", bl, 2, 1e-6, y, &n);
  ck_assert(fabs(y[0] + log(0.3)) < 1e-14);
  bl[0] = TI(0);
  ta_check_builtin("binary_log_loss", bl, 2, 1e-6, y, &n);
  ck_assert(fabs(y[0] + log(0.7)) < 1e-14);
  targ lm[2] = {TI(3), TR(2.5)};
  ta_check_builtin("lmgamma", lm, 2, 1e-6, y, &n);
  ck_assert(fabs(y[0] - (1.5 * log(M_PI) + lgamma(2.5) + lgamma(2.0) + lgamma(1.5))) < 1e-12);
  targ ff[2] = {TI(5), TI(2)};
  ta_check_builtin("falling_factorial", ff, 2, 1e-6, y, &n);
  ck_assert(y[0] == 20);
  ta_check_builtin("rising_factorial", ff, 2, 1e-6, y, &n);
  ck_assert(y[0] == 30);
  targ ffr[2] = {TR(5.5), TI(2)};
  ta_check_builtin("falling_factorial", ffr, 2, 1e-6, y, &n);
  ck_assert(fabs(y[0] - 5.5 * 4.5) < 1e-12);
  ta_check_builtin("to_int", &TR(-2.7), 1, 1e-6, y, &n);
  ck_assert(y[0] == -2);
  {
    ad_tape *t = ad_tape_alloc();
    ad_tape_reset(t, 1, 0);
    vi_type tr = {VT_REAL, 0};
    int id = builtin_resolve("to_int", &tr, 1, NULL, NULL, 0);
    ad_val *arg = ad_scalar(t, NAN, 0);
    ck_assert_ptr_null(builtin_call(t, id, &arg, 1));
    ck_assert_ptr_nonnull(strstr(ad_tape_error(t), "to_int"));
    ad_tape_free(t);
  }
  /* constants */
  ta_check_builtin("pi", NULL, 0, 1e-6, y, &n);
  ck_assert(y[0] == M_PI);
  ta_check_builtin("e", NULL, 0, 1e-6, y, &n);
  ck_assert(y[0] == M_E);
  ta_check_builtin("log2", NULL, 0, 1e-6, y, &n);
  ck_assert(y[0] == M_LN2);
  ta_check_builtin("not_a_number", NULL, 0, 1e-6, y, &n);
  ck_assert(isnan(y[0]));
  ta_check_builtin("negative_infinity", NULL, 0, 1e-6, y, &n);
  ck_assert(y[0] == -INFINITY);
}
END_TEST

/* ---- reductions ----------------------------------------------------------------- */

START_TEST(t_reductions)
{
  double v[5] = {0.5, -1.25, 2.0, 0.75, 3.5};
  double sum = 0, prod = 1, mn = v[0], mx = v[0], lse = 0;
  for (int i = 0; i < 5; i++) {
    sum += v[i]; prod *= v[i];
    if (v[i] < mn) mn = v[i];
    if (v[i] > mx) mx = v[i];
    lse += exp(v[i]);
  }
  double mean = sum / 5, var = 0;
  for (int i = 0; i < 5; i++) var += (v[i] - mean) * (v[i] - mean);
  var /= 4;
  struct { const char *name; double ref; } rc[] = {
    {"sum", sum}, {"prod", prod}, {"mean", mean}, {"variance", var}, {"sd", sqrt(var)},
    {"min", mn}, {"max", mx}, {"log_sum_exp", log(lse)}};
  targ args[4] = {TV(5, 0.5, -1.25, 2.0, 0.75, 3.5), TRV(5, 0.5, -1.25, 2.0, 0.75, 3.5),
                  TAR(5, 0.5, -1.25, 2.0, 0.75, 3.5), TM(1, 5, 0.5, -1.25, 2.0, 0.75, 3.5)};
  for (size_t k = 0; k < sizeof rc / sizeof rc[0]; k++)
    for (int a = 0; a < 4; a++) {
      double y[TA_MAXV];
      size_t n;
      ta_check_builtin(rc[k].name, &args[a], 1, 1e-6, y, &n);
      ck_assert_uint_eq(n, 1);
      ck_assert_msg(fabs(y[0] - rc[k].ref) < 1e-12, "%s: %.17g vs %.17g", rc[k].name, y[0],
                    rc[k].ref);
    }
  /* ints: sum/min/max of int[] are ints */
  vi_type tai = {VT_INT, 1}, ret;
  double y[TA_MAXV];
  size_t n;
  const char *inames[] = {"sum", "min", "max", "prod"};
  double iref[] = {6, -2, 5, -30};
  for (int k = 0; k < 4; k++) {
    ck_assert_int_ge(builtin_resolve(inames[k], &tai, 1, &ret, NULL, 0), 0);
    ck_assert_int_eq(ret.base, VT_INT);
    ta_check_builtin(inames[k], &TAI(3, 3, -2, 5), 1, 1e-6, y, &n);
    ck_assert(y[0] == iref[k]);
  }
  ta_check_builtin("variance", &TV(1, 2.5), 1, 1e-6, y, &n);
  ck_assert(y[0] == 0);
  /* prod with a zero: gradient by finite differences still */
  ta_check_builtin("prod", &TV(3, 2.0, 0.0, 3.0), 1, 1e-6, y, &n);
  ck_assert(y[0] == 0);
  /* sizes */
  ta_check_builtin("num_elements", &TM(2, 3, 1, 2, 3, 4, 5, 6), 1, 1e-6, y, &n);
  ck_assert(y[0] == 6);
  ta_check_builtin("rows", &TM(2, 3, 1, 2, 3, 4, 5, 6), 1, 1e-6, y, &n);
  ck_assert(y[0] == 2);
  ta_check_builtin("cols", &TM(2, 3, 1, 2, 3, 4, 5, 6), 1, 1e-6, y, &n);
  ck_assert(y[0] == 3);
  ta_check_builtin("rows", &TV(4, 1, 2, 3, 4), 1, 1e-6, y, &n);
  ck_assert(y[0] == 4);
  ta_check_builtin("cols", &TV(4, 1, 2, 3, 4), 1, 1e-6, y, &n);
  ck_assert(y[0] == 1);
  ta_check_builtin("size", &TAR(4, 1, 2, 3, 4), 1, 1e-6, y, &n);
  ck_assert(y[0] == 4);
  ta_check_builtin("size", &TM(2, 3, 1, 2, 3, 4, 5, 6), 1, 1e-6, y, &n);
  ck_assert(y[0] == 6);
  ta_check_builtin("size", &((targ){VT_VECTOR, 1, 2, {3, 2}, {1, 2, 3, 4, 5, 6}}), 1, 1e-6, y, &n);
  ck_assert(y[0] == 3);
}
END_TEST


/* ---- linear algebra and containers ---------------------------------------------- */

#define CHK(name, nargs, ...) \
  ta_check_builtin(name, (targ[]){__VA_ARGS__}, nargs, 1e-6, y, &n)
#define TAR2(r, c, ...) ((targ){VT_REAL, 2, 2, {r, c}, {__VA_ARGS__}})
#define TAV(k, m, ...) ((targ){VT_VECTOR, 1, 2, {k, m}, {__VA_ARGS__}})

static void expect(const double *y, size_t n, const double *ref, size_t nref, double tol,
                   const char *what)
{
  ck_assert_msg(n == nref, "%s: %zu elements, expected %zu", what, n, nref);
  for (size_t i = 0; i < n; i++)
    ck_assert_msg(fabs(y[i] - ref[i]) <= tol * (1 + fabs(ref[i])), "%s[%zu] = %.17g, expected %.17g",
                  what, i, y[i], ref[i]);
}
#define EXPECT(what, ...) do { const double r_[] = {__VA_ARGS__}; \
  expect(y, n, r_, sizeof r_ / sizeof r_[0], 1e-12, what); } while (0)

START_TEST(t_products)
{
  double y[TA_MAXV];
  size_t n;
  CHK("dot_product", 2, TV(3, 1, 2, 3), TV(3, 0.5, -1, 2));
  EXPECT("dot_product", 4.5);
  CHK("dot_product", 2, TRV(3, 1, 2, 3), TV(3, 0.5, -1, 2));
  EXPECT("dot_product rv", 4.5);
  CHK("dot_product", 2, TAR(3, 1, 2, 3), TAR(3, 0.5, -1, 2));
  EXPECT("dot_product arr", 4.5);
  CHK("dot_self", 1, TV(3, 1, 2, 3));
  EXPECT("dot_self", 14);
  /* M = [1 3 5; 2 4 6], column-major */
  CHK("columns_dot_product", 2, TM(2, 3, 1, 2, 3, 4, 5, 6), TM(2, 3, 1, 1, 2, 2, 3, 3));
  EXPECT("columns_dot_product", 3, 14, 33);
  CHK("rows_dot_product", 2, TM(2, 3, 1, 2, 3, 4, 5, 6), TM(2, 3, 1, 1, 2, 2, 3, 3));
  EXPECT("rows_dot_product", 1 + 6 + 15, 2 + 8 + 18);
  CHK("columns_dot_self", 1, TM(2, 3, 1, 2, 3, 4, 5, 6));
  EXPECT("columns_dot_self", 5, 25, 61);
  CHK("rows_dot_self", 1, TM(2, 3, 1, 2, 3, 4, 5, 6));
  EXPECT("rows_dot_self", 35, 56);
  CHK("diag_pre_multiply", 2, TV(2, 2, -1), TM(2, 3, 1, 2, 3, 4, 5, 6));
  EXPECT("diag_pre_multiply", 2, -2, 6, -4, 10, -6);
  CHK("diag_post_multiply", 2, TM(2, 3, 1, 2, 3, 4, 5, 6), TRV(3, 2, -1, 0.5));
  EXPECT("diag_post_multiply", 2, 4, -3, -4, 2.5, 3);
  CHK("add_diag", 2, TM(2, 2, 1, 2, 3, 4), TR(0.5));
  EXPECT("add_diag", 1.5, 2, 3, 4.5);
  CHK("add_diag", 2, TM(2, 2, 1, 2, 3, 4), TV(2, 0.5, -1));
  EXPECT("add_diag v", 1.5, 2, 3, 3);
  CHK("crossprod", 1, TM(2, 2, 1, 2, 3, 4));   /* A'A = [5 11; 11 25] */
  EXPECT("crossprod", 5, 11, 11, 25);
  CHK("tcrossprod", 1, TM(2, 2, 1, 2, 3, 4));  /* AA' = [10 14; 14 20] */
  EXPECT("tcrossprod", 10, 14, 14, 20);
  CHK("quad_form", 2, TM(2, 2, 2, 1, 1, 3), TV(2, 1, -2));
  EXPECT("quad_form", 2 - 4 + 12);
  CHK("quad_form_diag", 2, TM(2, 2, 2, 1, 1, 3), TV(2, 1, -2));
  EXPECT("quad_form_diag", 2, -2, -2, 12);
  CHK("trace", 1, TM(2, 2, 2, 1, 1, 3));
  EXPECT("trace", 5);
  CHK("squared_distance", 2, TV(2, 1, 2), TV(2, 0.5, -1));
  EXPECT("squared_distance", 9.25);
  CHK("distance", 2, TV(2, 1, 2), TRV(2, 0.5, -1));
  EXPECT("distance", sqrt(9.25));
  CHK("norm2", 1, TV(2, 3, -4));
  EXPECT("norm2", 5);
  CHK("norm1", 1, TV(2, 3, -4));
  EXPECT("norm1", 7);
  CHK("log_mix", 2, TV(3, 0.2, 0.3, 0.5), TV(3, -1, -2, -0.5));
  EXPECT("log_mix vector", log(0.2 * exp(-1) + 0.3 * exp(-2) + 0.5 * exp(-0.5)));
  CHK("matrix_power", 2, TM(2, 2, 1, 2, 3, 4), TI(3));   /* [1 3; 2 4]^3 = [37 81; 54 118] */
  EXPECT("matrix_power", 37, 54, 81, 118);
  CHK("matrix_power", 2, TM(2, 2, 1, 2, 3, 4), TI(0));
  EXPECT("matrix_power 0", 1, 0, 0, 1);
  CHK("matrix_power", 2, TM(2, 2, 1, 2, 3, 4), TI(1));
  EXPECT("matrix_power 1", 1, 2, 3, 4);
  CHK("symmetrize_from_lower_tri", 1, TM(2, 2, 1, 2, 3, 4));
  EXPECT("symmetrize_from_lower_tri", 1, 2, 2, 4);
  CHK("trace_quad_form", 2, TM(2, 2, 2, 1, 1, 3), TM(2, 2, 1, -2, 0.5, 1));
  EXPECT("trace_quad_form", (2 - 4 + 12) + (0.5 + 1 + 3));
  CHK("trace_gen_quad_form", 3, TM(2, 2, 1, 0, 0, 2), TM(2, 2, 2, 1, 1, 3),
      TM(2, 2, 1, -2, 0.5, 1));
  EXPECT("trace_gen_quad_form", (2 - 4 + 12) + 2 * (0.5 + 1 + 3));
  CHK("log_mix", 2, TV(2, 0.3, 0.7), TAV(2, 2, -1, -2, -0.5, -3));
  EXPECT("log_mix array", log(0.3 * exp(-1) + 0.7 * exp(-2)) + log(0.3 * exp(-0.5) + 0.7 * exp(-3)));
  CHK("rank", 2, TV(4, 3, -1, 2, 0.5), TI(3));
  EXPECT("rank", 2);
  CHK("gp_exp_quad_cov", 3, TAR(3, 0, 1, 2.5), TR(1.5), TR(0.8));
  EXPECT("gp_exp_quad_cov", 2.25, 2.25 * exp(-1 / 1.28), 2.25 * exp(-6.25 / 1.28),
         2.25 * exp(-1 / 1.28), 2.25, 2.25 * exp(-2.25 / 1.28),
         2.25 * exp(-6.25 / 1.28), 2.25 * exp(-2.25 / 1.28), 2.25);
  CHK("gp_exp_quad_cov", 3, TAV(2, 2, 0, 1, 1, 0), TR(1.0), TR(1.0));
  EXPECT("gp_exp_quad_cov vectors", 1, exp(-1), exp(-1), 1);
  {
    /* cross-covariances and the Matern / exponential kernels (values; the CHK gradient
       check covers the distance-0 diagonal, where the derivative is taken as 0) */
    double r3 = sqrt(3.0) * 1.5 / 0.7, r5 = sqrt(5.0) * 1.5 / 0.7, q = 1.5 / 0.7;
    CHK("gp_exp_quad_cov", 4, TAR(2, 0, 1.5), TAR(1, 0.5), TR(1.2), TR(0.7));
    EXPECT("gp_exp_quad_cov cross", 1.44 * exp(-0.25 / 0.98), 1.44 * exp(-1.0 / 0.98));
    CHK("gp_matern32_cov", 3, TAR(2, 0, 1.5), TR(1.2), TR(0.7));
    EXPECT("gp_matern32_cov", 1.44, 1.44 * (1 + r3) * exp(-r3), 1.44 * (1 + r3) * exp(-r3), 1.44);
    CHK("gp_matern52_cov", 3, TAR(2, 0, 1.5), TR(1.2), TR(0.7));
    EXPECT("gp_matern52_cov", 1.44, 1.44 * (1 + r5 + 5.0 / 3 * q * q) * exp(-r5),
           1.44 * (1 + r5 + 5.0 / 3 * q * q) * exp(-r5), 1.44);
    CHK("gp_exponential_cov", 3, TAR(2, 0, 1.5), TR(1.2), TR(0.7));
    EXPECT("gp_exponential_cov", 1.44, 1.44 * exp(-q), 1.44 * exp(-q), 1.44);
    CHK("gp_matern32_cov", 4, TAV(2, 2, 0, 1, 1, 0), TAV(1, 2, 0.5, 0.5), TR(1.0), TR(1.0));
    EXPECT("gp_matern32_cov vectors cross", (1 + sqrt(1.5)) * exp(-sqrt(1.5)),
           (1 + sqrt(1.5)) * exp(-sqrt(1.5)));   /* both points at distance sqrt(0.5) */
    /* ARD: one length scale per dimension; (0, 1) and (1, 0) scaled by (0.5, 2) are
       (0, 0.5) and (2, 0), squared distance 4.25 */
    CHK("gp_exp_quad_cov", 3, TAV(2, 2, 0, 1, 1, 0), TR(1.5), TAR(2, 0.5, 2.0));
    EXPECT("gp_exp_quad_cov ARD", 2.25, 2.25 * exp(-2.125), 2.25 * exp(-2.125), 2.25);
    CHK("gp_matern32_cov", 3, TAV(2, 2, 0, 1, 1, 0), TR(1.0), TAR(2, 0.5, 2.0));
    EXPECT("gp_matern32_cov ARD", 1, (1 + sqrt(3 * 4.25)) * exp(-sqrt(3 * 4.25)),
           (1 + sqrt(3 * 4.25)) * exp(-sqrt(3 * 4.25)), 1);
    /* periodic: sin(pi 1.5 / 2)^2 = 1/2 */
    CHK("gp_periodic_cov", 4, TAR(2, 0, 1.5), TR(1.2), TR(0.7), TR(2.0));
    EXPECT("gp_periodic_cov", 1.44, 1.44 * exp(-1 / 0.49), 1.44 * exp(-1 / 0.49), 1.44);
    CHK("gp_periodic_cov", 5, TAR(2, 0, 1.5), TAR(1, 0.5), TR(1.2), TR(0.7), TR(2.0));
    EXPECT("gp_periodic_cov cross", 1.44 * exp(-2 * 0.5 / 0.49), 1.44 * exp(-2 / 0.49));
    CHK("gp_dot_prod_cov", 2, TAR(2, 1, 2), TR(0.5));
    EXPECT("gp_dot_prod_cov", 1.25, 2.25, 2.25, 4.25);
    CHK("gp_dot_prod_cov", 2, TAV(2, 2, 1, 2, 3, 4), TR(1.0));
    EXPECT("gp_dot_prod_cov vectors", 6, 12, 12, 26);
    CHK("gp_dot_prod_cov", 3, TAV(2, 2, 1, 2, 3, 4), TAV(1, 2, 1, -1), TR(1.0));
    EXPECT("gp_dot_prod_cov cross", 0, 0);
  }
}
END_TEST

/* Special functions from GSL, against reference values (A&S tables, closed forms):
 * J0(1), Y0(1), I1(1), K0(1); I_{1/2}(2) = sqrt(2 / (2 pi)) sinh(2); W0(1) = the omega
 * constant; P(2, 1) = 1 - 2/e; I_0.4(2, 3) as a binomial sum.  CHK checks every
 * gradient against finite differences. */
START_TEST(t_special)
{
  double y[TA_MAXV];
  size_t n;
  CHK("bessel_first_kind", 2, TI(0), TR(1.0));
  EXPECT("J0(1)", 0.76519768655796655);
  CHK("bessel_second_kind", 2, TI(0), TR(1.0));
  EXPECT("Y0(1)", 0.088256964215676958);
  CHK("modified_bessel_first_kind", 2, TI(1), TR(1.0));
  EXPECT("I1(1)", 0.56515910399248503);
  CHK("modified_bessel_first_kind", 2, TAI(3, 0, 1, 2), TR(1.0));
  EXPECT("I(0:2, 1)", 1.2660658777520082, 0.56515910399248503, 0.13574766976703828);
  CHK("modified_bessel_second_kind", 2, TI(0), TR(1.0));
  EXPECT("K0(1)", 0.42102443824070834);
  CHK("log_modified_bessel_first_kind", 2, TR(0.5), TR(2.0));
  EXPECT("log I_1/2(2)", log(sqrt(1 / M_PI) * sinh(2.0)));
  CHK("lambert_w0", 1, TR(1.0));
  EXPECT("W0(1)", 0.56714329040978387);
  CHK("lambert_wm1", 1, TR(-0.2));
  EXPECT("W-1(-0.2)", -2.5426413577735265);
  CHK("gamma_p", 2, TR(2.0), TR(1.0));
  EXPECT("P(2, 1)", 1 - 2 / M_E);
  CHK("gamma_q", 2, TR(2.0), TR(1.0));
  EXPECT("Q(2, 1)", 2 / M_E);
  /* symmetric eigendecomposition: [2 1; 1 2] has eigenvalues 1, 3 and eigenvectors
     (1, -1) / sqrt 2, (1, 1) / sqrt 2 up to sign; a 3 x 3 for the gradients */
  CHK("eigenvalues_sym", 1, TM(2, 2, 2, 1, 1, 2));
  EXPECT("eigenvalues_sym", 1, 3);
  /* (equal magnitudes: the sign convention has a tie here, no finite differences) */
  ta_check_builtin("eigenvectors_sym", (targ[]){TM(2, 2, 2, 1, 1, 2)}, 1, 0, y, &n);
  ck_assert_uint_eq(n, 4);
  for (size_t i = 0; i < 4; i++) ck_assert(fabs(fabs(y[i]) - M_SQRT1_2) < 1e-12);
  ck_assert(fabs(y[0] + y[1]) < 1e-12 && fabs(y[2] - y[3]) < 1e-12);
  CHK("eigenvalues_sym", 1, TM(3, 3, 4, 1, 0.5, 1, 3, -0.2, 0.5, -0.2, 1));
  CHK("eigenvectors_sym", 1, TM(3, 3, 4, 1, 0.5, 1, 3, -0.2, 0.5, -0.2, 1));
  CHK("inc_beta", 3, TR(2.0), TR(3.0), TR(0.4));
  EXPECT("I_0.4(2, 3)", 6 * 0.16 * 0.36 + 4 * 0.064 * 0.6 + 0.0256);
}
END_TEST

START_TEST(t_containers)
{
  double y[TA_MAXV];
  size_t n;
  CHK("rep_vector", 2, TR(1.5), TI(3));
  EXPECT("rep_vector", 1.5, 1.5, 1.5);
  CHK("rep_row_vector", 2, TI(2), TI(2));
  EXPECT("rep_row_vector", 2, 2);
  CHK("rep_matrix", 3, TR(1.5), TI(2), TI(2));
  EXPECT("rep_matrix", 1.5, 1.5, 1.5, 1.5);
  CHK("rep_matrix", 2, TV(2, 1, 2), TI(3));
  EXPECT("rep_matrix v", 1, 2, 1, 2, 1, 2);
  CHK("rep_matrix", 2, TRV(3, 1, 2, 3), TI(2));
  EXPECT("rep_matrix rv", 1, 1, 2, 2, 3, 3);
  CHK("rep_array", 2, TV(2, 1, 2), TI(2));
  EXPECT("rep_array", 1, 2, 1, 2);
  CHK("rep_array", 3, TR(0.5), TI(2), TI(2));
  EXPECT("rep_array 2d", 0.5, 0.5, 0.5, 0.5);
  CHK("to_vector", 1, TM(2, 3, 1, 2, 3, 4, 5, 6));
  EXPECT("to_vector", 1, 2, 3, 4, 5, 6);
  CHK("to_vector", 1, TAI(2, 4, 5));
  EXPECT("to_vector int[]", 4, 5);
  CHK("to_row_vector", 1, TAR(2, 4, 5));
  EXPECT("to_row_vector", 4, 5);
  CHK("to_matrix", 3, TV(6, 1, 2, 3, 4, 5, 6), TI(3), TI(2));
  EXPECT("to_matrix v", 1, 2, 3, 4, 5, 6);
  CHK("to_matrix", 4, TAR(6, 1, 2, 3, 4, 5, 6), TI(2), TI(3), TI(0));
  EXPECT("to_matrix row-major", 1, 4, 2, 5, 3, 6);
  CHK("to_matrix", 1, TAR2(2, 3, 1, 2, 3, 4, 5, 6));   /* rows {1,2,3}, {4,5,6} */
  EXPECT("to_matrix real[,]", 1, 4, 2, 5, 3, 6);
  CHK("to_array_1d", 1, TM(2, 2, 1, 2, 3, 4));
  EXPECT("to_array_1d", 1, 2, 3, 4);
  CHK("to_array_1d", 1, TAR2(2, 2, 1, 2, 3, 4));
  EXPECT("to_array_1d real[,]", 1, 2, 3, 4);
  CHK("to_array_2d", 1, TM(2, 2, 1, 2, 3, 4));
  EXPECT("to_array_2d", 1, 3, 2, 4);
  /* M = [1 4 7; 2 5 8; 3 6 9] */
  CHK("block", 5, TM(3, 3, 1, 2, 3, 4, 5, 6, 7, 8, 9), TI(2), TI(2), TI(2), TI(1));
  EXPECT("block", 5, 6);
  CHK("block", 5, TM(3, 3, 1, 2, 3, 4, 5, 6, 7, 8, 9), TI(1), TI(2), TI(2), TI(2));
  EXPECT("block 2x2", 4, 5, 7, 8);
  CHK("sub_col", 4, TM(3, 3, 1, 2, 3, 4, 5, 6, 7, 8, 9), TI(2), TI(3), TI(2));
  EXPECT("sub_col", 8, 9);
  CHK("sub_row", 4, TM(3, 3, 1, 2, 3, 4, 5, 6, 7, 8, 9), TI(3), TI(1), TI(3));
  EXPECT("sub_row", 3, 6, 9);
  CHK("col", 2, TM(3, 3, 1, 2, 3, 4, 5, 6, 7, 8, 9), TI(2));
  EXPECT("col", 4, 5, 6);
  CHK("row", 2, TM(3, 3, 1, 2, 3, 4, 5, 6, 7, 8, 9), TI(2));
  EXPECT("row", 2, 5, 8);
  CHK("cumulative_sum", 1, TV(4, 1, 2, 3, 4));
  EXPECT("cumulative_sum", 1, 3, 6, 10);
  CHK("cumulative_sum", 1, TAI(3, 1, 2, 3));
  EXPECT("cumulative_sum int", 1, 3, 6);
  double z = exp(1) + exp(2) + exp(0.5);
  CHK("softmax", 1, TV(3, 1, 2, 0.5));
  EXPECT("softmax", exp(1) / z, exp(2) / z, exp(0.5) / z);
  CHK("log_softmax", 1, TV(3, 1, 2, 0.5));
  EXPECT("log_softmax", 1 - log(z), 2 - log(z), 0.5 - log(z));
  CHK("diag_matrix", 1, TV(2, 1, 2));
  EXPECT("diag_matrix", 1, 0, 0, 2);
  CHK("diagonal", 1, TM(2, 2, 1, 2, 3, 4));
  EXPECT("diagonal", 1, 4);
  CHK("append_row", 2, TV(2, 1, 2), TV(1, 3));
  EXPECT("append_row", 1, 2, 3);
  CHK("append_row", 2, TR(0.5), TV(2, 1, 2));
  EXPECT("append_row real", 0.5, 1, 2);
  CHK("append_row", 2, TM(2, 2, 1, 2, 3, 4), TRV(2, 5, 6));
  EXPECT("append_row matrix", 1, 2, 5, 3, 4, 6);
  CHK("append_col", 2, TM(2, 2, 1, 2, 3, 4), TV(2, 5, 6));
  EXPECT("append_col", 1, 2, 3, 4, 5, 6);
  CHK("append_col", 2, TRV(2, 1, 2), TR(3));
  EXPECT("append_col rv", 1, 2, 3);
  CHK("append_array", 2, TAR(2, 1, 2), TAR(1, 3));
  EXPECT("append_array", 1, 2, 3);
  CHK("head", 2, TV(5, 1, 2, 3, 4, 5), TI(2));
  EXPECT("head", 1, 2);
  CHK("tail", 2, TRV(5, 1, 2, 3, 4, 5), TI(2));
  EXPECT("tail", 4, 5);
  CHK("segment", 3, TAR(5, 1, 2, 3, 4, 5), TI(2), TI(3));
  EXPECT("segment", 2, 3, 4);
  CHK("head", 2, TAV(3, 2, 1, 2, 3, 4, 5, 6), TI(2));
  EXPECT("head of vector[]", 1, 2, 3, 4);
  CHK("reverse", 1, TV(3, 1, 2, 3));
  EXPECT("reverse", 3, 2, 1);
  CHK("sort_asc", 1, TV(4, 3, -1, 2, 0.5));
  EXPECT("sort_asc", -1, 0.5, 2, 3);
  CHK("sort_desc", 1, TAR(4, 3, -1, 2, 0.5));
  EXPECT("sort_desc", 3, 2, 0.5, -1);
  CHK("sort_indices_asc", 1, TV(4, 3, -1, 2, 0.5));
  EXPECT("sort_indices_asc", 2, 4, 3, 1);
  CHK("identity_matrix", 1, TI(2));
  EXPECT("identity_matrix", 1, 0, 0, 1);
  CHK("linspaced_vector", 3, TI(3), TR(0), TR(1));
  EXPECT("linspaced_vector", 0, 0.5, 1);
  CHK("one_hot_vector", 2, TI(3), TI(2));
  EXPECT("one_hot_vector", 0, 1, 0);
  CHK("ones_int_array", 1, TI(2));
  EXPECT("ones", 1, 1);
  CHK("zeros_row_vector", 1, TI(2));
  EXPECT("zeros", 0, 0);
  CHK("linspaced_row_vector", 3, TI(2), TR(-1), TR(1));
  EXPECT("linspaced_row_vector", -1, 1);
  CHK("linspaced_array", 3, TI(1), TR(0), TR(3));
  EXPECT("linspaced_array", 3);
  CHK("one_hot_row_vector", 2, TI(2), TI(1));
  EXPECT("one_hot_row_vector", 1, 0);
  CHK("one_hot_array", 2, TI(2), TI(2));
  EXPECT("one_hot_array", 0, 1);
  CHK("one_hot_int_array", 2, TI(1), TI(1));
  EXPECT("one_hot_int_array", 1);
  CHK("ones_vector", 1, TI(2));
  EXPECT("ones_vector", 1, 1);
  CHK("ones_row_vector", 1, TI(1));
  EXPECT("ones_row_vector", 1);
  CHK("ones_array", 1, TI(1));
  EXPECT("ones_array", 1);
  CHK("zeros_vector", 1, TI(1));
  EXPECT("zeros_vector", 0);
  CHK("zeros_array", 1, TI(1));
  EXPECT("zeros_array", 0);
  CHK("zeros_int_array", 1, TI(0));
  ck_assert_uint_eq(n, 0);
  CHK("sort_indices_desc", 1, TAR(3, 1, 3, 2));
  EXPECT("sort_indices_desc", 2, 3, 1);
  CHK("dims", 1, TAV(3, 2, 1, 2, 3, 4, 5, 6));
  EXPECT("dims", 3, 2, 1);
  CHK("dims", 1, TRV(3, 1, 2, 3));
  EXPECT("dims row_vector", 1, 3);
  CHK("dims", 1, TAR2(2, 3, 1, 2, 3, 4, 5, 6));
  EXPECT("dims real[,]", 2, 3);
  CHK("dims", 1, TR(1));
  ck_assert_uint_eq(n, 0);
  CHK("int_divide", 2, TI(-7), TI(2));
  EXPECT("int_divide", -3);
  CHK("logical_negation", 1, TR(0));
  EXPECT("logical_negation", 1);
  CHK("machine_precision", 0, TR(0));
  EXPECT("machine_precision", 2.220446049250313e-16);
  CHK("positive_infinity", 0, TR(0));
  ck_assert(y[0] == INFINITY);
  CHK("sqrt2", 0, TR(0));
  EXPECT("sqrt2", sqrt(2.0));
  CHK("multiply_log", 2, TR(0.5), TR(2));
  EXPECT("multiply_log", 0.5 * log(2));
  /* size errors are errors, not crashes */
  ad_tape *t = ad_tape_alloc();
  ad_tape_reset(t, 1, 0);
  vi_type tv[2] = {{VT_VECTOR, 0}, {VT_INT, 0}};
  int id = builtin_resolve("head", tv, 2, NULL, NULL, 0);
  size_t d = 3;
  ad_val *args[2] = {ad_new(t, tv[0], 1, &d, 0, 0), ad_scalar(t, 4, 1)};
  ck_assert_ptr_null(builtin_call(t, id, args, 2));
  ck_assert_ptr_nonnull(strstr(ad_tape_error(t), "head"));
  ad_tape_reset(t, 1, 0);
  {   /* absurd sizes: an error, not a crash */
    vi_type tr4[4] = {{VT_REAL, 0}, {VT_INT, 0}, {VT_INT, 0}, {VT_INT, 0}};
    int rid = builtin_resolve("rep_array", tr4, 4, NULL, NULL, 0);
    ad_val *ra[4] = {ad_scalar(t, 1, 0), ad_scalar(t, 2000000000, 1),
                     ad_scalar(t, 2000000000, 1), ad_scalar(t, 2000000000, 1)};
    ck_assert_ptr_null(builtin_call(t, rid, ra, 4));
    ck_assert_ptr_nonnull(ad_tape_error(t));
    ad_tape_reset(t, 1, 0);
  }
  ck_assert_ptr_null(builtin_call(t, id, args, 1));   /* wrong arity: error, no crash */
  ck_assert_ptr_nonnull(strstr(ad_tape_error(t), "arguments"));
  ad_tape_reset(t, 1, 0);
  ck_assert_ptr_null(builtin_call(t, -1, args, 1));
  ck_assert_ptr_nonnull(ad_tape_error(t));
  ad_tape_reset(t, 1, 0);
  vi_type tb[5] = {{VT_MATRIX, 0}, {VT_INT, 0}, {VT_INT, 0}, {VT_INT, 0}, {VT_INT, 0}};
  id = builtin_resolve("block", tb, 5, NULL, NULL, 0);
  size_t d2[2] = {2, 2};
  ad_val *bargs[5] = {ad_new(t, tb[0], 2, d2, 0, 0), ad_scalar(t, 2, 1), ad_scalar(t, 1, 1),
                      ad_scalar(t, 2, 1), ad_scalar(t, 1, 1)};
  ck_assert_ptr_null(builtin_call(t, id, bargs, 5));
  ck_assert_ptr_nonnull(strstr(ad_tape_error(t), "block"));
  ad_tape_free(t);
}
END_TEST

START_TEST(t_matrix_functions)
{
  double y[TA_MAXV];
  size_t n;
  /* A = L L' with L = [2 0 0; 1 1.5 0; -0.5 0.3 1.2] */
  const double L[9] = {2, 1, -0.5, 0, 1.5, 0.3, 0, 0, 1.2};
  double A[9];
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 3; j++) {
      double s = 0;
      for (int k = 0; k < 3; k++) s += L[i + 3 * k] * L[j + 3 * k];
      A[i + 3 * j] = s;
    }
  targ tA = TM(3, 3, A[0], A[1], A[2], A[3], A[4], A[5], A[6], A[7], A[8]);
  targ tL = TM(3, 3, L[0], L[1], L[2], L[3], L[4], L[5], L[6], L[7], L[8]);
  ta_check_builtin("cholesky_decompose", &tA, 1, 1e-5, y, &n);
  expect(y, n, L, 9, 1e-12, "cholesky_decompose");
  ta_check_builtin("multiply_lower_tri_self_transpose", &tL, 1, 1e-6, y, &n);
  expect(y, n, A, 9, 1e-12, "multiply_lower_tri_self_transpose");
  /* upper part ignored */
  targ tLu = tL;
  tLu.v[3] = 7;
  ta_check_builtin("multiply_lower_tri_self_transpose", &tLu, 1, 1e-6, y, &n);
  expect(y, n, A, 9, 1e-12, "multiply_lower_tri_self_transpose (upper ignored)");
  CHK("multiply_lower_tri_self_transpose", 1, TM(3, 2, 1, 2, 3, 0, 4, 5));
  EXPECT("mlt 3x2", 1, 2, 3, 2, 20, 26, 3, 26, 34);
  /* L x = b */
  double b[3] = {1, -2, 0.5}, x[3];
  for (int i = 0; i < 3; i++) {
    double s = b[i];
    for (int k = 0; k < i; k++) s -= L[i + 3 * k] * x[k];
    x[i] = s / L[i + 3 * i];
  }
  targ args[2] = {tL, TV(3, 1, -2, 0.5)};
  ta_check_builtin("mdivide_left_tri_low", args, 2, 1e-6, y, &n);
  expect(y, n, x, 3, 1e-12, "mdivide_left_tri_low");
  args[1] = TM(3, 2, 1, -2, 0.5, 0.3, 0.1, -1);
  ta_check_builtin("mdivide_left_tri_low", args, 2, 1e-6, y, &n);
  expect(y, 3, x, 3, 1e-12, "mdivide_left_tri_low matrix");
  /* x L = b:  check x L reproduces b */
  targ rargs[2] = {TRV(3, 1, -2, 0.5), tL};
  ta_check_builtin("mdivide_right_tri_low", rargs, 2, 1e-6, y, &n);
  for (int j = 0; j < 3; j++) {
    double s = 0;
    for (int k = 0; k < 3; k++) s += y[k] * L[k + 3 * j];
    ck_assert(fabs(s - b[j]) < 1e-12);
  }
  rargs[0] = TM(2, 3, 1, 0.3, -2, 0.1, 0.5, -1);
  ta_check_builtin("mdivide_right_tri_low", rargs, 2, 1e-6, y, &n);
  /* general solves (LU factors, no inverse) */
  CHK("mdivide_left", 2, TM(2, 2, 2, 1, 0.5, 3), TV(2, 1, -1));
  EXPECT("mdivide_left", 7.0 / 11, -6.0 / 11);
  CHK("mdivide_left_spd", 2, TM(2, 2, 2, 1, 1, 3), TM(2, 1, 1, -1));
  EXPECT("mdivide_left_spd", 0.8, -0.6);
  CHK("mdivide_right", 2, TRV(2, 1, -1), TM(2, 2, 2, 1, 0.5, 3));   /* x A = b */
  EXPECT("mdivide_right", 8.0 / 11, -5.0 / 11);
  CHK("mdivide_right_spd", 2, TM(1, 2, 1, -1), TM(2, 2, 2, 1, 1, 3));
  EXPECT("mdivide_right_spd", 0.8, -0.6);
  CHK("inverse_spd", 1, TM(2, 2, 2, 1, 1, 3));
  EXPECT("inverse_spd", 0.6, -0.2, -0.2, 0.4);
  CHK("log_determinant_spd", 1, TM(2, 2, 2, 1, 1, 3));
  EXPECT("log_determinant_spd", log(5));
  CHK("quad_form_sym", 2, TM(2, 2, 2, 1, 1, 3), TV(2, 1, -2));
  EXPECT("quad_form_sym", 10);
  CHK("cov_exp_quad", 3, TAR(2, 0, 1), TR(1), TR(1));
  EXPECT("cov_exp_quad", 1, exp(-0.5), exp(-0.5), 1);
  /* inverse, determinants */
  targ tM = TM(3, 3, 2, 1, 0.5, -1, 3, 0.2, 0.4, 0.1, 1.5);
  ta_check_builtin("inverse", &tM, 1, 1e-6, y, &n);
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 3; j++) {
      double s = 0;
      for (int k = 0; k < 3; k++) s += tM.v[i + 3 * k] * y[k + 3 * j];
      ck_assert(fabs(s - (i == j)) < 1e-12);
    }
  double det = 2 * (3 * 1.5 - 0.1 * 0.2) - (-1) * (1 * 1.5 - 0.1 * 0.5) + 0.4 * (1 * 0.2 - 3 * 0.5);
  ta_check_builtin("determinant", &tM, 1, 1e-6, y, &n);
  ck_assert(fabs(y[0] - det) < 1e-12);
  ta_check_builtin("log_determinant", &tM, 1, 1e-6, y, &n);
  ck_assert(fabs(y[0] - log(fabs(det))) < 1e-12);
  targ neg = TM(2, 2, 1, 2, 3, 4);   /* det -2 */
  ta_check_builtin("log_determinant", &neg, 1, 1e-6, y, &n);
  ck_assert(fabs(y[0] - log(2)) < 1e-12);
  ta_check_builtin("determinant", &neg, 1, 1e-6, y, &n);
  ck_assert(fabs(y[0] + 2) < 1e-12);
  /* not positive definite: NaN, no error */
  ta_check_builtin("cholesky_decompose", &neg, 1, -1, y, &n);
  ck_assert(isnan(y[3]));
}
END_TEST

/* ---- signature matcher ---------------------------------------------------------- */

START_TEST(t_matcher)
{
  vi_type r, args[4];
  char why[1024];
  vi_type I = {VT_INT, 0}, R = {VT_REAL, 0}, V = {VT_VECTOR, 0}, RV = {VT_ROW_VECTOR, 0},
          M = {VT_MATRIX, 0}, AI = {VT_INT, 1}, AR = {VT_REAL, 1}, AR2 = {VT_REAL, 2},
          AV = {VT_VECTOR, 1};
  /* same(any): containers of any depth, int promoted */
  args[0] = AR2;
  ck_assert_int_ge(builtin_resolve("exp", args, 1, &r, why, sizeof why), 0);
  ck_assert(r.base == VT_REAL && r.ndims == 2);
  args[0] = AV;
  ck_assert_int_ge(builtin_resolve("log", args, 1, &r, why, sizeof why), 0);
  ck_assert(r.base == VT_VECTOR && r.ndims == 1);
  args[0] = AI;
  ck_assert_int_ge(builtin_resolve("exp", args, 1, &r, why, sizeof why), 0);
  ck_assert(r.base == VT_REAL && r.ndims == 1);
  /* wrong arity: candidates listed */
  args[1] = R;
  ck_assert_int_eq(builtin_resolve("exp", args, 2, &r, why, sizeof why), -1);
  ck_assert_msg(strstr(why, "no signature exp(int[], real)") && strstr(why, "exp(any)"), "%s",
                why);
  /* bcast: mismatched containers rejected */
  args[0] = V; args[1] = RV;
  ck_assert_int_eq(builtin_resolve("pow", args, 2, &r, why, sizeof why), -1);
  args[0] = I; args[1] = M;
  ck_assert_int_ge(builtin_resolve("pow", args, 2, &r, why, sizeof why), 0);
  ck_assert(r.base == VT_MATRIX);
  /* unknown and unsupported */
  ck_assert_int_eq(builtin_resolve("frobnicate", args, 1, &r, why, sizeof why), -1);
  ck_assert_str_eq(why, "unknown function 'frobnicate'");
  args[0] = M;
  /* the functions that return tuples resolve through their elements' builtins */
  const char *const *parts = builtin_tuple_parts("svd");
  ck_assert_ptr_nonnull(parts);
  ck_assert_str_eq(parts[0], "svd_U");
  ck_assert_str_eq(parts[1], "singular_values");
  ck_assert_str_eq(parts[2], "svd_V");
  ck_assert_ptr_null(parts[3]);
  ck_assert_ptr_null(builtin_tuple_parts("svd_U"));
  ck_assert_int_eq(builtin_resolve("gaussian_dlm_obs_lpdf", args, 1, &r, why, sizeof why),
                   BUILTIN_UNSUPPORTED);
  ck_assert_int_eq(builtin_resolve_tilde("gaussian_dlm_obs", args, 1, why, sizeof why),
                   BUILTIN_UNSUPPORTED);
  ck_assert_str_eq(why, "distribution 'gaussian_dlm_obs' is not supported yet");
  ck_assert_int_eq(builtin_resolve_tilde("fancy", args, 1, why, sizeof why), -1);
  ck_assert_str_eq(why, "unknown distribution 'fancy'");
  /* int versions first, then promotion */
  args[0] = AI;
  ck_assert_int_ge(builtin_resolve("sum", args, 1, &r, why, sizeof why), 0);
  ck_assert(r.base == VT_INT && r.ndims == 0);
  args[0] = AR;
  ck_assert_int_ge(builtin_resolve("sum", args, 1, &r, why, sizeof why), 0);
  ck_assert(r.base == VT_REAL);
  /* kinds and names */
  int id = builtin_resolve("sum", args, 1, &r, why, sizeof why);
  ck_assert_str_eq(builtin_name(id), "sum");
  ck_assert_int_eq(builtin_kind(id), BUILTIN_PLAIN);
  ck_assert_ptr_null(builtin_name(-5));
  ck_assert_ptr_null(builtin_name(1 << 30));
  (void)V;
}
END_TEST

/* Distributions through the merged table (builtins_dist.c's entries). */
START_TEST(t_dist_resolution)
{
  vi_type I = {VT_INT, 0}, R = {VT_REAL, 0}, V = {VT_VECTOR, 0}, M = {VT_MATRIX, 0},
          AI = {VT_INT, 1}, r;
  char why[1024];
  vi_type a3[3] = {V, R, R};
  int id = builtin_resolve_tilde("normal", a3, 3, why, sizeof why);
  ck_assert_msg(id >= 0, "%s", why);
  ck_assert_str_eq(builtin_name(id), "normal_lpdf");
  ck_assert_int_eq(builtin_kind(id), BUILTIN_DENSITY);
  vi_type a2[2] = {AI, R};
  id = builtin_resolve_tilde("poisson", a2, 2, why, sizeof why);
  ck_assert_msg(id >= 0, "%s", why);
  ck_assert_str_eq(builtin_name(id), "poisson_lpmf");
  id = builtin_resolve("normal_lupdf", a3, 3, &r, why, sizeof why);
  ck_assert_msg(id >= 0, "%s", why);
  ck_assert_int_eq(builtin_kind(id), BUILTIN_DENSITY);
  ck_assert(r.base == VT_REAL && r.ndims == 0);
  vi_type rr[2] = {R, I};
  id = builtin_resolve("normal_rng", rr, 2, &r, why, sizeof why);
  ck_assert_msg(id >= 0, "%s", why);
  ck_assert_int_eq(builtin_kind(id), BUILTIN_RNG);
  ck_assert(r.base == VT_REAL && r.ndims == 0);
  vi_type vr[2] = {V, R};
  id = builtin_resolve("normal_rng", vr, 2, &r, why, sizeof why);
  ck_assert(id >= 0 && r.base == VT_REAL && r.ndims == 1);
  vi_type bad[3] = {I, M, R};
  ck_assert_int_eq(builtin_resolve("normal_lpdf", bad, 3, &r, why, sizeof why), -1);
  ck_assert_msg(strstr(why, "no signature normal_lpdf(int | matrix, real)") &&
                strstr(why, "candidates: normal_lpdf(reals | reals, reals)"), "%s", why);
  ck_assert_int_eq(builtin_resolve_tilde("normal", bad, 3, why, sizeof why), -1);
  ck_assert_msg(strstr(why, "normal_lpdf(reals | reals, reals)"), "%s", why);
}
END_TEST

/* The spec language itself, word by word. */
START_TEST(t_spec_words)
{
  vi_type I = {VT_INT, 0}, R = {VT_REAL, 0}, V = {VT_VECTOR, 0}, RV = {VT_ROW_VECTOR, 0},
          M = {VT_MATRIX, 0}, AI = {VT_INT, 1}, AR = {VT_REAL, 1}, AI2 = {VT_INT, 2},
          AR2 = {VT_REAL, 2}, AV = {VT_VECTOR, 1}, S = {VT_STRING, 0}, E = {VT_ERROR, 0};
  vi_type r, a[4];
#define MATCH(sig, n, ...) (memcpy(a, (vi_type[]){__VA_ARGS__}, (n) * sizeof(vi_type)), \
                            builtin_sig_match(sig, a, n, &r))
  /* exact types and int -> real promotion, never real -> int */
  ck_assert_int_eq(MATCH("real(real, vector)", 2, I, V), 1);
  ck_assert_int_eq(MATCH("real(int)", 1, R), 0);
  ck_assert_int_eq(MATCH("real(vector)", 1, RV), 0);
  ck_assert_int_eq(MATCH("matrix(matrix)", 1, M), 1);
  ck_assert(r.base == VT_MATRIX && r.ndims == 0);
  /* arrays: depth must agree; int[] promotes to real[] */
  ck_assert_int_eq(MATCH("real(real[])", 1, AI), 1);
  ck_assert_int_eq(MATCH("real(real[])", 1, AR2), 0);
  ck_assert_int_eq(MATCH("real(real[,])", 1, AI2), 1);
  ck_assert_int_eq(MATCH("real(vector[])", 1, AV), 1);
  ck_assert_int_eq(MATCH("int[](int)", 1, I), 1);
  ck_assert(r.base == VT_INT && r.ndims == 1);
  /* ints */
  ck_assert_int_eq(MATCH("real(ints)", 1, I), 1);
  ck_assert_int_eq(MATCH("real(ints)", 1, AI), 1);
  ck_assert_int_eq(MATCH("real(ints)", 1, R), 0);
  ck_assert_int_eq(MATCH("real(ints)", 1, AI2), 0);
  /* reals */
  ck_assert_int_eq(MATCH("real(reals)", 1, I), 1);
  ck_assert_int_eq(MATCH("real(reals)", 1, R), 1);
  ck_assert_int_eq(MATCH("real(reals)", 1, V), 1);
  ck_assert_int_eq(MATCH("real(reals)", 1, RV), 1);
  ck_assert_int_eq(MATCH("real(reals)", 1, AI), 1);
  ck_assert_int_eq(MATCH("real(reals)", 1, AR), 1);
  ck_assert_int_eq(MATCH("real(reals)", 1, M), 0);
  ck_assert_int_eq(MATCH("real(reals)", 1, AR2), 0);
  ck_assert_int_eq(MATCH("real(reals)", 1, AV), 0);
  /* vectors */
  ck_assert_int_eq(MATCH("real(vectors)", 1, V), 1);
  ck_assert_int_eq(MATCH("real(vectors)", 1, RV), 1);
  ck_assert_int_eq(MATCH("real(vectors)", 1, AR), 1);
  ck_assert_int_eq(MATCH("real(vectors)", 1, AI), 1);
  ck_assert_int_eq(MATCH("real(vectors)", 1, R), 0);
  ck_assert_int_eq(MATCH("real(vectors)", 1, M), 0);
  /* any */
  ck_assert_int_eq(MATCH("same(any)", 1, AR2), 1);
  ck_assert(r.base == VT_REAL && r.ndims == 2);
  ck_assert_int_eq(MATCH("same(any)", 1, S), 0);
  ck_assert_int_eq(MATCH("same_int(any)", 1, AI), 1);
  ck_assert(r.base == VT_INT && r.ndims == 1);
  /* ... : zero or more of the previous parameter */
  ck_assert_int_eq(MATCH("real(vector, real, ...)", 1, V), 0);
  ck_assert_int_eq(MATCH("real(vector, real, ...)", 2, V, I), 1);
  ck_assert_int_eq(MATCH("real(vector, real, ...)", 4, V, I, R, R), 1);
  ck_assert_int_eq(MATCH("real(vector, real, ...)", 3, V, I, V), 0);
  ck_assert_int_eq(MATCH("real(vector, real, ...)", 0, V), 0);
  /* '|' separates like ',' */
  ck_assert_int_eq(MATCH("real(reals | reals, reals)", 3, AR, R, I), 1);
  ck_assert_int_eq(MATCH("real(reals | reals, reals)", 2, AR, R), 0);
  /* rng_real / rng_int */
  ck_assert_int_eq(MATCH("rng_real(reals, reals)", 2, R, I), 1);
  ck_assert(r.base == VT_REAL && r.ndims == 0);
  ck_assert_int_eq(MATCH("rng_real(reals, reals)", 2, V, R), 1);
  ck_assert(r.base == VT_REAL && r.ndims == 1);
  ck_assert_int_eq(MATCH("rng_int(reals)", 1, AR), 1);
  ck_assert(r.base == VT_INT && r.ndims == 1);
  ck_assert_int_eq(MATCH("rng_int(reals)", 1, R), 1);
  ck_assert(r.base == VT_INT && r.ndims == 0);
  /* bcast */
  ck_assert_int_eq(MATCH("bcast(any, any)", 2, I, I), 1);
  ck_assert(r.base == VT_REAL && r.ndims == 0);
  ck_assert_int_eq(MATCH("bcast(any, any)", 2, R, AI), 1);
  ck_assert(r.base == VT_REAL && r.ndims == 1);
  ck_assert_int_eq(MATCH("bcast(any, any)", 2, V, AR), 0);
  /* an argument that failed to check matches anything (no follow-on errors) */
  ck_assert_int_eq(MATCH("real(vector)", 1, E), 1);
  /* malformed specs */
  ck_assert_int_eq(MATCH("real(vector", 1, V), -1);
  ck_assert_int_eq(MATCH("real(vectr)", 1, V), -1);
  ck_assert_int_eq(MATCH("real(reals[])", 1, V), -1);
  /* no parameters */
  ck_assert_int_eq(MATCH("real()", 0, V), 1);
#undef MATCH
  /* Every sig in the tables is well formed. */
  for (int id = 0; id < builtin_count(); id++)
    ck_assert_msg(builtin_sig_match(builtin_signature(id), NULL, 0, NULL) >= 0,
                  "malformed sig %s: %s", builtin_name(id), builtin_signature(id));
}
END_TEST

/* The checker's signature table (front/) and the evaluator's kernel table (lib/) come
 * from the same table_*.def files in the same order: an id means the same builtin in
 * both. */
/* ---- hidden Markov models and sparse matrices ------------------------------------ */

/* Resolve name for args, evaluate it on one draw; the tape's error (copied into err,
 * "" on success) and the value's draw-0 elements through y (len n). */
static void call_once(const char *name, const targ *args, int nargs, char *err, size_t errlen,
                      double *y, size_t *n)
{
  vi_type types[8], ret;
  for (int i = 0; i < nargs; i++) types[i] = (vi_type){args[i].base, args[i].arr};
  char why[512];
  int id = builtin_resolve(name, types, nargs, &ret, why, sizeof why);
  ck_assert_msg(id >= 0, "%s: %s", name, why);
  ad_tape *t = ad_tape_alloc();
  ad_tape_reset(t, 1, 0);
  ad_val *av[8];
  for (int i = 0; i < nargs; i++) av[i] = ta_make(t, &args[i], 1, 0, 0, -1, 0);
  ad_val *r = builtin_call(t, id, av, nargs);
  snprintf(err, errlen, "%s", r ? "" : ad_tape_error(t));
  if (r && y) {
    for (size_t e = 0; e < r->len; e++) y[e] = r->x[e];
    *n = r->len;
  }
  ad_tape_free(t);
}

#define EXPECT_ERROR(msg, name, nargs, ...) do { char err_[512]; \
  call_once(name, (targ[]){__VA_ARGS__}, nargs, err_, sizeof err_, NULL, NULL); \
  ck_assert_str_eq(err_, msg); } while (0)

/* The HMM's log density by brute force: log of the sum over all K^N state paths. */
static double hmm_brute_force(const double *lw, const double *G, const double *rho, int K,
                              int N)
{
  int z[8] = {0};
  double terms[4096], m = -INFINITY;
  int np = 0;
  for (;;) {
    double lp = log(rho[z[0]]) + lw[z[0]];
    for (int t = 1; t < N; t++) lp += log(G[z[t - 1] + z[t] * K]) + lw[z[t] + t * K];
    terms[np++] = lp;
    if (lp > m) m = lp;
    int t = 0;
    while (t < N && ++z[t] == K) z[t++] = 0;
    if (t == N) break;
  }
  if (!isfinite(m)) return m;
  double acc = 0;
  for (int i = 0; i < np; i++) acc += exp(terms[i] - m);
  return m + log(acc);
}

/* hmm_marginal on Gamma's rows and rho normalised to simplexes inside the tape, so the
 * finite differences of the generic checker stay on the simplexes and reach every
 * direction they allow. */
typedef struct hmm_ids { int hmm, dpm; } hmm_ids;
static ad_val *hmm_on_simplexes(ad_tape *t, ad_val **a, int nargs, const void *ctx)
{
  (void)nargs;
  const hmm_ids *ids = ctx;
  size_t K = a[2]->len;
  ad_val *ones = ad_new_mat(t, VT_VECTOR, K, 1, 1, 0);
  for (size_t k = 0; k < K; k++) ones->x[k] = 1;
  ad_val *inv_rows = ad_binary(t, OP_EDIV, ones, ad_binary(t, OP_MUL, a[1], ones));
  ad_val *dpm_args[2] = {inv_rows, a[1]};
  ad_val *G = builtin_call(t, ids->dpm, dpm_args, 2);
  ad_val *rho = ad_binary(t, OP_DIV, a[2], ad_sum_all(t, a[2]));
  ad_val *hmm_args[3] = {a[0], G, rho};
  return builtin_call(t, ids->hmm, hmm_args, 3);
}

static int resolve_or_fail(const char *name, const vi_type *types, int nargs)
{
  vi_type ret;
  char why[512];
  int id = builtin_resolve(name, types, nargs, &ret, why, sizeof why);
  ck_assert_msg(id >= 0, "%s: %s", name, why);
  return id;
}

/* Check hmm_marginal on log_omega (3 x 4), Gamma and rho given unnormalised: value
 * against the brute force, gradient against finite differences, batched against one
 * draw at a time. */
static void check_hmm_case(const targ *lw, const targ *Graw, const targ *rhoraw)
{
  vi_type tm = {VT_MATRIX, 0}, tv = {VT_VECTOR, 0};
  hmm_ids ids = {resolve_or_fail("hmm_marginal", (vi_type[]){tm, tm, tv}, 3),
                 resolve_or_fail("diag_pre_multiply", (vi_type[]){tv, tm}, 2)};
  targ args[3] = {*lw, *Graw, *rhoraw};
  double y[TA_MAXV];
  size_t n;
  ta_check("hmm_marginal", hmm_on_simplexes, &ids, args, 3, 1e-6, y, &n);
  int K = (int)rhoraw->dims[0], N = (int)lw->dims[1];
  double G[9], rho[3], rs = 0;
  for (int i = 0; i < K; i++) {
    double s = 0;
    for (int j = 0; j < K; j++) s += Graw->v[i + j * K];
    for (int j = 0; j < K; j++) G[i + j * K] = Graw->v[i + j * K] / s;
    rs += rhoraw->v[i];
  }
  for (int i = 0; i < K; i++) rho[i] = rhoraw->v[i] / rs;
  ck_assert_uint_eq(n, 1);
  double ref = hmm_brute_force(lw->v, G, rho, K, N);
  ck_assert_msg(fabs(y[0] - ref) <= 1e-12 * (1 + fabs(ref)), "hmm_marginal %.17g, brute force %.17g",
                y[0], ref);
}

START_TEST(t_hmm_marginal)
{
  targ lw = TM(3, 4, -1.2, -0.3, -2.5, -0.7, -1.9, -0.4, -3.0, -0.1, -1.1, -0.6, -0.8, -2.2);
  targ G = TM(3, 3, 0.7, 0.2, 0.1, 0.2, 0.5, 0.3, 0.1, 0.3, 0.6);
  targ rho = TV(3, 0.5, 0.3, 0.2);
  check_hmm_case(&lw, &G, &rho);
  /* far below exp's range: the scaled recursion must not underflow */
  targ lw_small = lw;
  for (int e = 0; e < 12; e++) lw_small.v[e] -= 900 + 37 * e;
  check_hmm_case(&lw_small, &G, &rho);
  /* one state impossible at time 2 (density zero) */
  targ lw_zero = lw;
  lw_zero.v[1 + 1 * 3] = -INFINITY;
  double y[TA_MAXV];
  size_t n;
  char err[512];
  targ Gs = TM(3, 3, 0.7, 0.2, 0.1, 0.2, 0.5, 0.3, 0.1, 0.3, 0.6);
  call_once("hmm_marginal", (targ[]){lw_zero, Gs, rho}, 3, err, sizeof err, y, &n);
  ck_assert_str_eq(err, "");
  ck_assert(fabs(y[0] - hmm_brute_force(lw_zero.v, Gs.v, rho.v, 3, 4)) < 1e-12);
  /* no path possible: state 1 only at time 1, and state 1 cannot be left */
  targ lw_none = TM(2, 2, 0.0, -INFINITY, -INFINITY, 0.0);
  call_once("hmm_marginal", (targ[]){lw_none, TM(2, 2, 1.0, 0.5, 0.0, 0.5), TV(2, 0.5, 0.5)},
            3, err, sizeof err, y, &n);
  ck_assert_str_eq(err, "");
  ck_assert(y[0] == -INFINITY);
  /* one time point: log sum_k rho_k omega_k */
  call_once("hmm_marginal", (targ[]){TM(2, 1, -1.0, -2.0), TM(2, 2, 0.9, 0.4, 0.1, 0.6),
                                     TV(2, 0.25, 0.75)}, 3, err, sizeof err, y, &n);
  ck_assert(fabs(y[0] - log(0.25 * exp(-1.0) + 0.75 * exp(-2.0))) < 1e-14);
}
END_TEST

/* Identities of the gradient that hold off the simplexes too: log p is homogeneous of
 * degree N - 1 in Gamma and 1 in rho, and shifting a column of log_omega by c adds c. */
START_TEST(t_hmm_marginal_identities)
{
  vi_type tm = {VT_MATRIX, 0}, tv = {VT_VECTOR, 0};
  int id = resolve_or_fail("hmm_marginal", (vi_type[]){tm, tm, tv}, 3);
  targ a[3] = {TM(3, 4, -1.2, -0.3, -2.5, -0.7, -1.9, -0.4, -3.0, -0.1, -1.1, -0.6, -0.8, -2.2),
               TM(3, 3, 0.7, 0.2, 0.1, 0.2, 0.5, 0.3, 0.1, 0.3, 0.6), TV(3, 0.5, 0.3, 0.2)};
  ad_tape *t = ad_tape_alloc();
  ad_tape_reset(t, 1, 1);
  ad_val *av[3];
  for (int i = 0; i < 3; i++) av[i] = ta_make(t, &a[i], 1, 1, 0, -1, 0);
  ad_val *y = builtin_call(t, id, av, 3);
  ck_assert_ptr_nonnull(y);
  y->adj[0] = 1;
  ad_tape_backward(t);
  double sg = 0, sr = 0;
  for (int e = 0; e < 9; e++) sg += av[1]->x[e] * av[1]->adj[e];
  for (int e = 0; e < 3; e++) sr += av[2]->x[e] * av[2]->adj[e];
  ck_assert_msg(fabs(sg - 3) < 1e-12, "sum Gamma .* Gamma_bar = %.17g, N - 1 = 3", sg);
  ck_assert_msg(fabs(sr - 1) < 1e-12, "sum rho .* rho_bar = %.17g", sr);
  for (int c = 0; c < 4; c++) {
    double s = 0;
    for (int k = 0; k < 3; k++) {
      double g = av[0]->adj[k + c * 3];
      ck_assert(g >= 0 && g <= 1);
      s += g;
    }
    ck_assert_msg(fabs(s - 1) < 1e-12, "column %d of log_omega's adjoint sums to %.17g", c, s);
  }
  /* a draw whose Gamma is not row-stochastic gets NaN; the other draw is unaffected */
  ad_tape_reset(t, 2, 0);
  for (int i = 0; i < 3; i++) av[i] = ta_make(t, &a[i], 2, 0, 0, -1, 0);
  av[1]->x[0 * 2 + 1] = 0.9;   /* Gamma[1, 1] in draw 2: row 1 sums to 1.2 */
  y = builtin_call(t, id, av, 3);
  ck_assert_ptr_nonnull(y);
  ck_assert(isfinite(y->x[0]) && isnan(y->x[1]));
  ad_tape_free(t);
}
END_TEST

START_TEST(t_hmm_marginal_errors)
{
  targ lw = TM(2, 3, -1.0, -2.0, -0.5, -0.1, -3.0, -1.0);
  targ G = TM(2, 2, 0.9, 0.4, 0.1, 0.6), rho = TV(2, 0.25, 0.75);
  EXPECT_ERROR("hmm_marginal: Gamma must be square, found 2 x 3", "hmm_marginal", 3, lw, lw, rho);
  EXPECT_ERROR("hmm_marginal: log_omega has 3 rows, Gamma has 2 states", "hmm_marginal", 3,
               TM(3, 1, 0.0, 0.0, 0.0), G, rho);
  EXPECT_ERROR("hmm_marginal: rho has 3 elements, Gamma has 2 states", "hmm_marginal", 3, lw,
               G, TV(3, 0.2, 0.3, 0.5));
  EXPECT_ERROR("hmm_marginal: log_omega has no columns (no observations)", "hmm_marginal", 3,
               TM(2, 0, 0.0), G, rho);
  EXPECT_ERROR("hmm_marginal: Gamma has no states (0 x 0)", "hmm_marginal", 3, TM(0, 2, 0.0),
               TM(0, 0, 0.0), TV(0, 0.0));
  EXPECT_ERROR("hmm_marginal: row 2 of Gamma is not a simplex", "hmm_marginal", 3, lw,
               TM(2, 2, 0.9, 0.4, 0.1, 0.5), rho);
  EXPECT_ERROR("hmm_marginal: row 1 of Gamma is not a simplex", "hmm_marginal", 3, lw,
               TM(2, 2, 1.1, 0.4, -0.1, 0.6), rho);
  EXPECT_ERROR("hmm_marginal: rho is not a simplex", "hmm_marginal", 3, lw, G, TV(2, 0.5, 0.6));
}
END_TEST

/* The posterior of the path: each path's probability into prob (K^N, the path's index
 * sum z_t K^t), by brute force. */
static void hmm_path_posterior(const double *lw, const double *G, const double *rho, int K,
                               int N, double *prob)
{
  int z[8] = {0}, np = 0;
  double tot = 0;
  for (;;) {
    double p = rho[z[0]] * exp(lw[z[0]]);
    for (int t = 1; t < N; t++) p *= G[z[t - 1] + z[t] * K] * exp(lw[z[t] + t * K]);
    prob[np++] = p;
    tot += p;
    int t = 0;
    while (t < N && ++z[t] == K) z[t++] = 0;
    if (t == N) break;
  }
  for (int i = 0; i < np; i++) prob[i] /= tot;
}

START_TEST(t_hmm_hidden_state_prob)
{
  targ lw = TM(3, 4, -1.2, -0.3, -2.5, -0.7, -1.9, -0.4, -3.0, -0.1, -1.1, -0.6, -0.8, -2.2);
  targ G = TM(3, 3, 0.7, 0.2, 0.1, 0.2, 0.5, 0.3, 0.1, 0.3, 0.6), rho = TV(3, 0.5, 0.3, 0.2);
  double y[TA_MAXV], prob[81];
  size_t n;
  char err[512];
  call_once("hmm_hidden_state_prob", (targ[]){lw, G, rho}, 3, err, sizeof err, y, &n);
  ck_assert_str_eq(err, "");
  ck_assert_uint_eq(n, 12);
  hmm_path_posterior(lw.v, G.v, rho.v, 3, 4, prob);
  for (int t = 0; t < 4; t++)
    for (int k = 0; k < 3; k++) {
      double ref = 0;
      for (int path = 0; path < 81; path++) {
        int zt = path;
        for (int i = 0; i < t; i++) zt /= 3;
        if (zt % 3 == k) ref += prob[path];
      }
      ck_assert_msg(fabs(y[k + 3 * t] - ref) < 1e-13, "P(z_%d = %d): %.17g, brute force %.17g",
                    t + 1, k + 1, y[k + 3 * t], ref);
    }
  /* far below exp's range, the same probabilities after shifting each column */
  targ lw_small = lw;
  for (int e = 0; e < 12; e++) lw_small.v[e] -= 900 + 50 * (e / 3);
  double y2[TA_MAXV];
  call_once("hmm_hidden_state_prob", (targ[]){lw_small, G, rho}, 3, err, sizeof err, y2, &n);
  for (int e = 0; e < 12; e++) ck_assert(fabs(y2[e] - y[e]) < 1e-12);
  EXPECT_ERROR("hmm_hidden_state_prob: rho is not a simplex", "hmm_hidden_state_prob", 3, lw,
               G, TV(3, 0.5, 0.3, 0.3));
}
END_TEST

/* hmm_latent_rng: the frequencies of the 8 paths of a 2-state, 3-step model over 40000
 * draws (one batched call) against their posterior probabilities, within 4.5 binomial
 * standard deviations (fixed seed). */
START_TEST(t_hmm_latent_rng)
{
  targ a[3] = {TM(2, 3, -0.2, -1.5, -1.1, -0.3, -0.4, -0.9), TM(2, 2, 0.8, 0.3, 0.2, 0.7),
               TV(2, 0.6, 0.4)};
  vi_type tm = {VT_MATRIX, 0}, tv = {VT_VECTOR, 0};
  int id = resolve_or_fail("hmm_latent_rng", (vi_type[]){tm, tm, tv}, 3);
  double prob[8], count[8] = {0};
  hmm_path_posterior(a[0].v, a[1].v, a[2].v, 2, 3, prob);
  const size_t S = 40000;
  ad_tape *t = ad_tape_alloc();
  gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
  gsl_rng_set(r, 2024);
  ad_tape_reset(t, S, 0);
  ad_tape_set_rng(t, r);
  ad_val *av[3];
  for (int i = 0; i < 3; i++) av[i] = ta_make(t, &a[i], 1, 0, 0, -1, 0);
  ad_val *z = builtin_call(t, id, av, 3);
  ck_assert_msg(z != NULL, "%s", ad_tape_error(t));
  ck_assert(z->type.base == VT_INT && z->len == 3 && z->nd == S);
  for (size_t s = 0; s < S; s++) {
    int path = 0;
    for (int i = 2; i >= 0; i--) {
      double v = z->x[(size_t)i * S + s];
      ck_assert(v == 1 || v == 2);
      path = 2 * path + (int)v - 1;
    }
    count[path]++;
  }
  for (int p = 0; p < 8; p++) {
    double sdv = sqrt(S * prob[p] * (1 - prob[p]));
    ck_assert_msg(fabs(count[p] - S * prob[p]) < 4.5 * sdv + 1e-9,
                  "path %d: %g of %zu, expected %.1f", p, count[p], S, S * prob[p]);
  }
  /* a state with zero density is never drawn */
  ad_tape_reset(t, 100, 0);
  ad_tape_set_rng(t, r);
  a[0].v[1 + 2 * 1] = -INFINITY;   /* state 2 impossible at time 2 */
  for (int i = 0; i < 3; i++) av[i] = ta_make(t, &a[i], 1, 0, 0, -1, 0);
  z = builtin_call(t, id, av, 3);
  ck_assert_ptr_nonnull(z);
  for (size_t s = 0; s < 100; s++) ck_assert(z->x[1 * 100 + s] == 1);
  /* without a generator (the model block) it is an error */
  ad_tape_reset(t, 1, 0);
  ad_tape_set_rng(t, NULL);
  for (int i = 0; i < 3; i++) av[i] = ta_make(t, &a[i], 1, 0, 0, -1, 0);
  ck_assert_ptr_null(builtin_call(t, id, av, 3));
  gsl_rng_free(r);
  ad_tape_free(t);
}
END_TEST

/* The 3 x 4 matrix [1 0 2 0; 0 0 0 0; 0 3 0 4] in Stan's CSR form: w = (1, 2, 3, 4),
 * v = (1, 3, 2, 4), u = (1, 3, 3, 5). */
#define CSR_DENSE TM(3, 4, 1.0, 0.0, 0.0, 0.0, 0.0, 3.0, 2.0, 0.0, 0.0, 0.0, 0.0, 4.0)
#define CSR_ARGS TI(3), TI(4), TV(4, 1.0, 2.0, 3.0, 4.0), TAI(4, 1, 3, 2, 4), TAI(4, 1, 3, 3, 5)

/* csr_extract_w of A .* mask, the mask data: the zeros stay exactly zero in every draw
 * and under the finite differences, so the pattern stays fixed. */
static ad_val *extract_w_masked(ad_tape *t, ad_val **a, int nargs, const void *ctx)
{
  (void)nargs;
  ad_val *mask = ad_new_mat(t, VT_MATRIX, 3, 4, 1, 0);
  const double *dense = ctx;
  for (size_t e = 0; e < 12; e++) mask->x[e] = dense[e] != 0;
  ad_val *masked = ad_binary(t, OP_EMUL, a[0], mask);
  vi_type tm = {VT_MATRIX, 0};
  return builtin_call(t, resolve_or_fail("csr_extract_w", &tm, 1), &masked, 1);
}

START_TEST(t_csr)
{
  double y[TA_MAXV];
  size_t n;
  char err[512];
  targ A = CSR_DENSE;
  ta_check("csr_extract_w", extract_w_masked, A.v, &A, 1, 1e-6, y, &n);
  EXPECT("csr_extract_w", 1, 2, 3, 4);
  call_once("csr_extract_v", &A, 1, err, sizeof err, y, &n);
  EXPECT("csr_extract_v", 1, 3, 2, 4);
  call_once("csr_extract_u", &A, 1, err, sizeof err, y, &n);
  EXPECT("csr_extract_u", 1, 3, 3, 5);
  /* an all-zero matrix: no values, every row empty */
  call_once("csr_extract_u", (targ[]){TM(2, 2, 0.0, 0.0, 0.0, 0.0)}, 1, err, sizeof err, y, &n);
  EXPECT("csr_extract_u of zeros", 1, 1, 1);
  CHK("csr_to_dense_matrix", 5, CSR_ARGS);
  EXPECT("csr_to_dense_matrix", 1, 0, 0, 0, 0, 3, 2, 0, 0, 0, 0, 4);
  /* the product against the dense product, written out */
  CHK("csr_matrix_times_vector", 6, CSR_ARGS, TV(4, 0.5, -1.0, 2.0, 0.25));
  EXPECT("csr_matrix_times_vector", 1 * 0.5 + 2 * 2.0, 0, 3 * -1.0 + 4 * 0.25);
  /* a repeated column in a row: the product adds, the dense matrix keeps the last */
  CHK("csr_matrix_times_vector", 6, TI(1), TI(2), TV(3, 1.0, 2.0, 5.0), TAI(3, 2, 2, 1),
      TAI(2, 1, 4), TV(2, 10.0, 100.0));
  EXPECT("repeated column product", 5 * 10.0 + 3 * 100.0);
  CHK("csr_to_dense_matrix", 5, TI(1), TI(2), TV(3, 1.0, 2.0, 5.0), TAI(3, 2, 2, 1),
      TAI(2, 1, 4));
  EXPECT("repeated column dense", 5, 2);
}
END_TEST

/* A matrix that varies by draw: its pattern is the union over the draws. */
START_TEST(t_csr_union_pattern)
{
  vi_type tm = {VT_MATRIX, 0};
  ad_tape *t = ad_tape_alloc();
  ad_tape_reset(t, 2, 0);
  targ A = TM(2, 2, 1.0, 0.0, 0.0, 2.0);
  ad_val *a = ta_make(t, &A, 2, 0, 0, -1, 0);
  for (size_t e = 0; e < 4; e++) a->x[e * 2 + 1] = A.v[e];
  a->x[1 * 2 + 1] = 7;   /* A[2, 1] non-zero in draw 2 only */
  ad_val *w = builtin_call(t, resolve_or_fail("csr_extract_w", &tm, 1), &a, 1);
  ad_val *v = builtin_call(t, resolve_or_fail("csr_extract_v", &tm, 1), &a, 1);
  ad_val *u = builtin_call(t, resolve_or_fail("csr_extract_u", &tm, 1), &a, 1);
  ck_assert(w && v && u);
  ck_assert_uint_eq(w->len, 3);
  const double w_ref[2][3] = {{1, 0, 2}, {1, 7, 2}}, v_ref[3] = {1, 1, 2}, u_ref[3] = {1, 2, 4};
  for (size_t k = 0; k < 3; k++) {
    ck_assert(w->x[k * 2] == w_ref[0][k] && w->x[k * 2 + 1] == w_ref[1][k]);
    ck_assert(v->x[k] == v_ref[k] && u->x[k] == u_ref[k]);
  }
  ad_tape_free(t);
}
END_TEST

START_TEST(t_csr_errors)
{
  targ w = TV(4, 1.0, 2.0, 3.0, 4.0), v = TAI(4, 1, 3, 2, 4), u = TAI(4, 1, 3, 3, 5);
  targ b = TV(4, 1.0, 1.0, 1.0, 1.0);
  const char *f = "csr_matrix_times_vector";
  EXPECT_ERROR("csr_matrix_times_vector: m must be positive, found 0", f, 6, TI(0), TI(4), w,
               v, u, b);
  EXPECT_ERROR("csr_matrix_times_vector: n must be positive, found -1", f, 6, TI(3), TI(-1),
               w, v, u, b);
  EXPECT_ERROR("csr_matrix_times_vector: b has 3 elements, n = 4 expected", f, 6, TI(3), TI(4),
               w, v, u, TV(3, 1.0, 1.0, 1.0));
  EXPECT_ERROR("csr_matrix_times_vector: u has 4 elements, m + 1 = 3 expected", f, 6, TI(2),
               TI(4), w, v, u, b);
  EXPECT_ERROR("csr_matrix_times_vector: w has 4 elements, v has 3", f, 6, TI(3), TI(4), w,
               TAI(3, 1, 3, 2), u, b);
  EXPECT_ERROR("csr_matrix_times_vector: u[4] is 4, size(w) + 1 = 5 expected", f, 6, TI(3),
               TI(4), w, v, TAI(4, 1, 3, 3, 4), b);
  EXPECT_ERROR("csr_matrix_times_vector: u decreases from u[2] = 3 to u[3] = 2", f, 6, TI(3),
               TI(4), w, v, TAI(4, 1, 3, 2, 5), b);
  EXPECT_ERROR("csr_matrix_times_vector: u[1] is 0, row starts are 1 or more", f, 6, TI(3),
               TI(4), w, v, TAI(4, 0, 3, 3, 5), b);
  EXPECT_ERROR("csr_matrix_times_vector: v[3] is 5, outside the columns 1..4", f, 6, TI(3),
               TI(4), w, TAI(4, 1, 3, 5, 4), u, b);
  EXPECT_ERROR("csr_to_dense_matrix: v[1] is 0, outside the columns 1..4",
               "csr_to_dense_matrix", 5, TI(3), TI(4), w, TAI(4, 0, 3, 2, 4), u);
}
END_TEST

START_TEST(t_tables_agree)
{
  int n = builtin_count();
  ck_assert_int_gt(n, 400);
  ck_assert_int_eq(builtin_kernel_count(), n);
  for (int id = 0; id < n; id++)
    ck_assert_msg(strcmp(builtin_name(id), builtin_kernel_name(id)) == 0,
                  "id %d: signature %s, kernel %s", id, builtin_name(id),
                  builtin_kernel_name(id));
  ck_assert_ptr_null(builtin_name(n));
  ck_assert_ptr_null(builtin_kernel_name(n));
}
END_TEST

Suite *math_suite(void);
Suite *math_suite(void)
{
  Suite *s = suite_create("math");
  TCase *tc = tcase_create("functions");
  tcase_set_timeout(tc, 60);
  tcase_add_loop_test(tc, t_unary, 0, (int)(sizeof unary_cases / sizeof unary_cases[0]));
  tcase_add_test(tc, t_tables_agree);
  tcase_add_test(tc, t_unary_int);
  tcase_add_loop_test(tc, t_binary, 0, (int)(sizeof binary_cases / sizeof binary_cases[0]));
  tcase_add_test(tc, t_binary_misc);
  tcase_add_test(tc, t_reductions);
  tcase_add_test(tc, t_products);
  tcase_add_test(tc, t_containers);
  tcase_add_test(tc, t_special);
  tcase_add_test(tc, t_matrix_functions);
  tcase_add_test(tc, t_hmm_marginal);
  tcase_add_test(tc, t_hmm_marginal_identities);
  tcase_add_test(tc, t_hmm_marginal_errors);
  tcase_add_test(tc, t_hmm_hidden_state_prob);
  tcase_add_test(tc, t_hmm_latent_rng);
  tcase_add_test(tc, t_csr);
  tcase_add_test(tc, t_csr_union_pattern);
  tcase_add_test(tc, t_csr_errors);
  suite_add_tcase(s, tc);
  TCase *tm = tcase_create("matcher");
  tcase_add_test(tm, t_matcher);
  tcase_add_test(tm, t_spec_words);
  tcase_add_test(tm, t_dist_resolution);
  suite_add_tcase(s, tm);
  return s;
}

int main(void)
{
  gsl_set_error_handler_off();
  SRunner *r = srunner_create(math_suite());
  srunner_run_all(r, CK_NORMAL);
  int nf = srunner_ntests_failed(r);
  srunner_free(r);
  return nf ? EXIT_FAILURE : EXIT_SUCCESS;
}
