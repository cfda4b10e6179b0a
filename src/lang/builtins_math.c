/* builtins_math.c: the math, reduction and linear-algebra functions of the model
 * language (vi_builtins_math[]), batched over the draws with hand-written reverse-mode
 * derivatives.  Meanings and signatures follow the Stan Functions Reference; values
 * come from the C library and GSL special functions (gsl_sf_*, gsl_cdf_*), and the
 * matrix derivatives follow Giles, "An extended collection of matrix derivative results
 * for forward and reverse mode AD" (2008) and Murray, "Differentiation of the Cholesky
 * decomposition" (2016).  A function outside its domain returns NaN, as Stan's do. */
#include <math.h>
#include <string.h>
#include <gsl/gsl_cblas.h>
#include <gsl/gsl_cdf.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_math.h>
#include <gsl/gsl_sf_erf.h>
#include <gsl/gsl_sf_gamma.h>
#include <gsl/gsl_sf_psi.h>
#include "lang/ad_kernels.h"
#include "lang/builtins.h"

#define UNUSED(x) (void)(x)

/* ---- scalar functions and their derivatives ------------------------------------- */

static double inv_logit(double x)
{
  if (x >= 0) return 1.0 / (1.0 + exp(-x));
  double e = exp(x);
  return e / (1.0 + e);
}
static double log1p_exp(double x) { return x > 0 ? x + log1p(exp(-x)) : log1p(exp(x)); }
static double log1m_exp(double x)
{
  if (x > 0) return NAN;
  return x > -M_LN2 ? log(-expm1(x)) : log1p(-exp(x));
}

static double d_exp(double x, double y) { UNUSED(x); return y; }
static double d_log(double x, double y) { UNUSED(y); return 1.0 / x; }
static double f_log1m(double x) { return log1p(-x); }
static double d_log1m(double x, double y) { UNUSED(y); return -1.0 / (1.0 - x); }
static double d_log1p(double x, double y) { UNUSED(y); return 1.0 / (1.0 + x); }
static double d_expm1(double x, double y) { UNUSED(x); return y + 1.0; }
static double d_log2(double x, double y) { UNUSED(y); return 1.0 / (x * M_LN2); }
static double d_log10(double x, double y) { UNUSED(y); return 1.0 / (x * M_LN10); }
static double d_exp2(double x, double y) { UNUSED(x); return y * M_LN2; }
static double d_sqrt(double x, double y) { UNUSED(x); return 0.5 / y; }
static double d_cbrt(double x, double y) { UNUSED(x); return 1.0 / (3.0 * y * y); }
static double f_square(double x) { return x * x; }
static double d_square(double x, double y) { UNUSED(y); return 2.0 * x; }
static double d_fabs(double x, double y) { UNUSED(y); return x > 0 ? 1.0 : x < 0 ? -1.0 : 0.0; }
static double f_inv(double x) { return 1.0 / x; }
static double d_inv(double x, double y) { UNUSED(x); return -y * y; }
static double f_inv_sqrt(double x) { return 1.0 / sqrt(x); }
static double d_inv_sqrt(double x, double y) { return -0.5 * y / x; }
static double f_inv_square(double x) { return 1.0 / (x * x); }
static double d_inv_square(double x, double y) { return -2.0 * y / x; }
static double d_inv_logit(double x, double y) { UNUSED(x); return y * (1.0 - y); }
static double f_logit(double x) { return log(x / (1.0 - x)); }
static double d_logit(double x, double y) { UNUSED(y); return 1.0 / (x * (1.0 - x)); }
static double f_log_inv_logit(double x) { return -log1p_exp(-x); }
static double d_log_inv_logit(double x, double y) { UNUSED(y); return inv_logit(-x); }
static double f_log1m_inv_logit(double x) { return -log1p_exp(x); }
static double d_log1m_inv_logit(double x, double y) { UNUSED(y); return -inv_logit(x); }
static double d_log1p_exp(double x, double y) { UNUSED(y); return inv_logit(x); }
static double d_log1m_exp(double x, double y) { UNUSED(y); return -1.0 / expm1(-x); }
static double f_lgamma(double x)
{
  if (x <= 0 && x == floor(x)) return INFINITY;   /* poles, as C's lgamma */
  return gsl_sf_lngamma(x);
}
static double d_lgamma(double x, double y) { UNUSED(y); return gsl_sf_psi(x); }
static double f_tgamma(double x) { return gsl_sf_gamma(x); }
static double d_tgamma(double x, double y) { return y * gsl_sf_psi(x); }
static double f_digamma(double x) { return gsl_sf_psi(x); }
static double d_digamma(double x, double y) { UNUSED(y); return gsl_sf_psi_1(x); }
static double f_trigamma(double x) { return gsl_sf_psi_1(x); }
static double d_trigamma(double x, double y) { UNUSED(y); return gsl_sf_psi_n(2, x); }
static double f_erf(double x) { return gsl_sf_erf(x); }
static double d_erf(double x, double y) { UNUSED(y); return M_2_SQRTPI * exp(-x * x); }
static double f_erfc(double x) { return gsl_sf_erfc(x); }
static double d_erfc(double x, double y) { UNUSED(y); return -M_2_SQRTPI * exp(-x * x); }
static double f_Phi(double x) { return gsl_cdf_ugaussian_P(x); }
static double d_Phi(double x, double y)
{
  UNUSED(y);
  return exp(-0.5 * x * x) / sqrt(2.0 * M_PI);
}
static double f_inv_Phi(double x)
{
  if (!(x >= 0 && x <= 1)) return NAN;
  return gsl_cdf_ugaussian_Pinv(x);
}
static double d_inv_Phi(double x, double y) { UNUSED(x); return sqrt(2.0 * M_PI) * exp(0.5 * y * y); }
static double f_Phi_approx(double x) { return inv_logit(0.07056 * x * x * x + 1.5976 * x); }
static double d_Phi_approx(double x, double y)
{
  return y * (1.0 - y) * (3.0 * 0.07056 * x * x + 1.5976);
}
static double d_sin(double x, double y) { UNUSED(y); return cos(x); }
static double d_cos(double x, double y) { UNUSED(y); return -sin(x); }
static double d_tan(double x, double y) { UNUSED(x); return 1.0 + y * y; }
static double d_asin(double x, double y) { UNUSED(y); return 1.0 / sqrt(1.0 - x * x); }
static double d_acos(double x, double y) { UNUSED(y); return -1.0 / sqrt(1.0 - x * x); }
static double d_atan(double x, double y) { UNUSED(y); return 1.0 / (1.0 + x * x); }
static double d_sinh(double x, double y) { UNUSED(y); return cosh(x); }
static double d_cosh(double x, double y) { UNUSED(y); return sinh(x); }
static double d_tanh(double x, double y) { UNUSED(x); return 1.0 - y * y; }
static double d_asinh(double x, double y) { UNUSED(y); return 1.0 / sqrt(x * x + 1.0); }
static double d_acosh(double x, double y) { UNUSED(y); return 1.0 / sqrt(x * x - 1.0); }
static double d_atanh(double x, double y) { UNUSED(y); return 1.0 / (1.0 - x * x); }
static double f_step(double x) { return x < 0 ? 0.0 : 1.0; }
static double f_int_step(double x) { return x > 0 ? 1.0 : 0.0; }
static double f_is_inf(double x) { return isinf(x) ? 1.0 : 0.0; }
static double f_is_nan(double x) { return isnan(x) ? 1.0 : 0.0; }
static double f_inv_cloglog(double x) { return -expm1(-exp(x)); }
static double d_inv_cloglog(double x, double y) { UNUSED(y); return exp(x - exp(x)); }
static double f_logical_negation(double x) { return x == 0; }

/* ---- builtins: unary elementwise ------------------------------------------------ */

#define UNARY(NAME, F, DF)                                           \
  static ad_val *b_##NAME(ad_tape *t, ad_val **a, int n)             \
  { UNUSED(n); return ad_map1(t, a[0], F, DF, 0); }
#define UNARY_INT(NAME, F)                                           \
  static ad_val *b_##NAME(ad_tape *t, ad_val **a, int n)             \
  { UNUSED(n); return ad_map1(t, a[0], F, NULL, 1); }

UNARY(exp, exp, d_exp)
UNARY(log, log, d_log)
UNARY(log1p, log1p, d_log1p)
UNARY(expm1, expm1, d_expm1)
UNARY(log1m, f_log1m, d_log1m)
UNARY(log2, log2, d_log2)
UNARY(log10, log10, d_log10)
UNARY(exp2, exp2, d_exp2)
UNARY(sqrt, sqrt, d_sqrt)
UNARY(cbrt, cbrt, d_cbrt)
UNARY(square, f_square, d_square)
UNARY(fabs, fabs, d_fabs)
UNARY(inv, f_inv, d_inv)
UNARY(inv_sqrt, f_inv_sqrt, d_inv_sqrt)
UNARY(inv_square, f_inv_square, d_inv_square)
UNARY(inv_logit, inv_logit, d_inv_logit)
UNARY(logit, f_logit, d_logit)
UNARY(log_inv_logit, f_log_inv_logit, d_log_inv_logit)
UNARY(log1m_inv_logit, f_log1m_inv_logit, d_log1m_inv_logit)
UNARY(log1p_exp, log1p_exp, d_log1p_exp)
UNARY(log1m_exp, log1m_exp, d_log1m_exp)
UNARY(lgamma, f_lgamma, d_lgamma)
UNARY(tgamma, f_tgamma, d_tgamma)
UNARY(digamma, f_digamma, d_digamma)
UNARY(trigamma, f_trigamma, d_trigamma)
UNARY(erf, f_erf, d_erf)
UNARY(erfc, f_erfc, d_erfc)
UNARY(Phi, f_Phi, d_Phi)
UNARY(inv_Phi, f_inv_Phi, d_inv_Phi)
UNARY(Phi_approx, f_Phi_approx, d_Phi_approx)
UNARY(sin, sin, d_sin)
UNARY(cos, cos, d_cos)
UNARY(tan, tan, d_tan)
UNARY(asin, asin, d_asin)
UNARY(acos, acos, d_acos)
UNARY(atan, atan, d_atan)
UNARY(sinh, sinh, d_sinh)
UNARY(cosh, cosh, d_cosh)
UNARY(tanh, tanh, d_tanh)
UNARY(asinh, asinh, d_asinh)
UNARY(acosh, acosh, d_acosh)
UNARY(atanh, atanh, d_atanh)
UNARY(inv_cloglog, f_inv_cloglog, d_inv_cloglog)
UNARY(floor, floor, NULL)
UNARY(ceil, ceil, NULL)
UNARY(round, round, NULL)
UNARY(trunc, trunc, NULL)
UNARY(step, f_step, NULL)
UNARY_INT(int_step, f_int_step)
UNARY_INT(is_inf, f_is_inf)
UNARY_INT(is_nan, f_is_nan)
UNARY_INT(logical_negation, f_logical_negation)
UNARY_INT(abs_int, fabs)

/* abs of a real is fabs. */
static ad_val *b_abs(ad_tape *t, ad_val **a, int n) { return b_fabs(t, a, n); }

/* ---- builtins: binary elementwise ----------------------------------------------- */

static double f_pow(double a, double b) { return pow(a, b); }
static void d_pow(double a, double b, double y, double *da, double *db)
{
  *da = b == 0 ? 0.0 : b * pow(a, b - 1.0);
  *db = y == 0 ? 0.0 : y * log(a);
}
static double f_fmin(double a, double b) { return isnan(a) ? b : isnan(b) ? a : a <= b ? a : b; }
static void d_fmin(double a, double b, double y, double *da, double *db)
{
  UNUSED(y);
  int pa = isnan(b) || (!isnan(a) && a <= b);
  *da = pa; *db = !pa;
}
static double f_fmax(double a, double b) { return isnan(a) ? b : isnan(b) ? a : a >= b ? a : b; }
static void d_fmax(double a, double b, double y, double *da, double *db)
{
  UNUSED(y);
  int pa = isnan(b) || (!isnan(a) && a >= b);
  *da = pa; *db = !pa;
}
static double f_fdim(double a, double b) { return a > b ? a - b : 0.0; }
static void d_fdim(double a, double b, double y, double *da, double *db)
{
  UNUSED(y);
  *da = a > b ? 1.0 : 0.0; *db = a > b ? -1.0 : 0.0;
}
static double f_fmod(double a, double b) { return fmod(a, b); }
static void d_fmod(double a, double b, double y, double *da, double *db)
{
  UNUSED(y);
  *da = 1.0; *db = -trunc(a / b);
}
static double f_atan2(double a, double b) { return atan2(a, b); }
static void d_atan2(double a, double b, double y, double *da, double *db)
{
  UNUSED(y);
  double r = a * a + b * b;
  *da = b / r; *db = -a / r;
}
static double f_hypot(double a, double b) { return hypot(a, b); }
static void d_hypot(double a, double b, double y, double *da, double *db)
{
  *da = a / y; *db = b / y;
}
static double f_lbeta(double a, double b)
{
  return f_lgamma(a) + f_lgamma(b) - f_lgamma(a + b);
}
static void d_lbeta(double a, double b, double y, double *da, double *db)
{
  UNUSED(y);
  double p = gsl_sf_psi(a + b);
  *da = gsl_sf_psi(a) - p; *db = gsl_sf_psi(b) - p;
}
static double f_lchoose(double n, double k)
{
  return f_lgamma(n + 1) - f_lgamma(k + 1) - f_lgamma(n - k + 1);
}
static void d_lchoose(double n, double k, double y, double *da, double *db)
{
  UNUSED(y);
  double p = gsl_sf_psi(n - k + 1);
  *da = gsl_sf_psi(n + 1) - p; *db = -gsl_sf_psi(k + 1) + p;
}
static double f_choose(double n, double k)
{
  if (k < 0 || n < 0 || k > n) return 0.0;
  return round(exp(f_lchoose(n, k)));
}
static double f_log_sum_exp2(double a, double b)
{
  if (a == -INFINITY && b == -INFINITY) return -INFINITY;
  if (a == INFINITY || b == INFINITY) return INFINITY;
  double m = a > b ? a : b;
  return m + log1p(exp(-fabs(a - b)));
}
static void d_log_sum_exp2(double a, double b, double y, double *da, double *db)
{
  if (y == -INFINITY || isinf(y)) { *da = *db = 0.0; return; }
  *da = exp(a - y); *db = exp(b - y);
}
static double f_log_diff_exp(double a, double b)
{
  if (b > a) return NAN;
  if (b == -INFINITY) return a;
  return a + log1m_exp(b - a);
}
static void d_log_diff_exp(double a, double b, double y, double *da, double *db)
{
  UNUSED(y);
  if (b == -INFINITY) { *da = 1.0; *db = 0.0; return; }
  *da = -1.0 / expm1(b - a);
  *db = -1.0 / expm1(a - b);
}
static double f_int_min(double a, double b) { return a <= b ? a : b; }
static double f_int_max(double a, double b) { return a >= b ? a : b; }

#define BINARY(NAME, F, DF)                                          \
  static ad_val *b_##NAME(ad_tape *t, ad_val **a, int n)             \
  { UNUSED(n); return ad_map2(t, a[0], a[1], F, DF, 0); }
#define BINARY_INT(NAME, F)                                          \
  static ad_val *b_##NAME(ad_tape *t, ad_val **a, int n)             \
  { UNUSED(n); return ad_map2(t, a[0], a[1], F, NULL, 1); }

BINARY(pow, f_pow, d_pow)
BINARY(fmin, f_fmin, d_fmin)
BINARY(fmax, f_fmax, d_fmax)
BINARY(fdim, f_fdim, d_fdim)
BINARY(fmod, f_fmod, d_fmod)
BINARY(atan2, f_atan2, d_atan2)
BINARY(hypot, f_hypot, d_hypot)
BINARY(lbeta, f_lbeta, d_lbeta)
BINARY(lchoose, f_lchoose, d_lchoose)
BINARY(log_sum_exp2, f_log_sum_exp2, d_log_sum_exp2)
BINARY(log_diff_exp, f_log_diff_exp, d_log_diff_exp)
BINARY_INT(choose, f_choose)
BINARY_INT(min_int, f_int_min)
BINARY_INT(max_int, f_int_max)

static ad_val *b_int_div(ad_tape *t, ad_val **a, int n)
{
  UNUSED(n);
  return ad_binary(t, OP_DIV, a[0], a[1]);
}

/* fma(a, b, c) = a * b + c, by composition. */
static ad_val *b_fma(ad_tape *t, ad_val **a, int n)
{
  UNUSED(n);
  ad_val *p = ad_binary(t, OP_EMUL, a[0], a[1]);
  return p ? ad_binary(t, OP_ADD, p, a[2]) : NULL;
}

/* log_mix(theta, lp1, lp2) = log_sum_exp(log(theta) + lp1, log1m(theta) + lp2). */
static ad_val *b_log_mix(ad_tape *t, ad_val **a, int n)
{
  UNUSED(n);
  ad_val *l1 = ad_map1(t, a[0], log, d_log, 0);
  ad_val *l2 = ad_map1(t, a[0], f_log1m, d_log1m, 0);
  if (!l1 || !l2) return NULL;
  ad_val *x1 = ad_binary(t, OP_ADD, l1, a[1]);
  ad_val *x2 = ad_binary(t, OP_ADD, l2, a[2]);
  if (!x1 || !x2) return NULL;
  return ad_map2(t, x1, x2, f_log_sum_exp2, d_log_sum_exp2, 0);
}

/* ---- constants ------------------------------------------------------------------ */

#define CONST(NAME, V) \
  static ad_val *b_##NAME(ad_tape *t, ad_val **a, int n) { UNUSED(a); UNUSED(n); return ad_scalar(t, (V), 0); }
CONST(pi, M_PI)
CONST(e, M_E)
CONST(sqrt2, M_SQRT2)
CONST(log2c, M_LN2)
CONST(log10c, M_LN10)
CONST(not_a_number, NAN)
CONST(positive_infinity, INFINITY)
CONST(negative_infinity, -INFINITY)
CONST(machine_precision, 2.220446049250313e-16)

/* ---- reductions ----------------------------------------------------------------- */

static ad_val *b_sum(ad_tape *t, ad_val **a, int n)
{
  UNUSED(n);
  ad_val *y = ad_sum_all(t, a[0]);
  if (y && a[0]->type.base == VT_INT) y->type.base = VT_INT;
  return y;
}

static ad_val *b_mean(ad_tape *t, ad_val **a, int n)
{
  UNUSED(n);
  if (a[0]->len == 0) {
    ad_tape_set_error(t, "mean: argument has no elements");
    return NULL;
  }
  ad_val *s = ad_sum_all(t, a[0]);
  ad_val *c = ad_scalar(t, (double)a[0]->len, 0);
  return s && c ? ad_binary(t, OP_DIV, s, c) : NULL;
}

static void prod_backward(ad_tape *t, ad_node *node)
{
  UNUSED(t);
  ad_val *a = node->in[0], *y = node->out;
  size_t nd = y->nd, L = a->len;
  for (size_t s = 0; s < nd; s++) {
    size_t zeros = 0, zk = 0;
    double pnz = 1.0;
    for (size_t e = 0; e < L; e++) {
      double x = ad_get(a, e, s);
      if (x == 0) { zeros++; zk = e; } else pnz *= x;
    }
    double g = y->adj[s];
    if (zeros == 0)
      for (size_t e = 0; e < L; e++) *ad_adjp(a, e, s) += g * pnz / ad_get(a, e, s);
    else if (zeros == 1)
      *ad_adjp(a, zk, s) += g * pnz;
  }
}

static ad_val *b_prod(ad_tape *t, ad_val **a, int n)
{
  UNUSED(n);
  ad_val *x = a[0];
  vi_type ty = {x->type.base == VT_INT ? VT_INT : VT_REAL, 0};
  ad_val *y = ad_new_nd(t, ty, 0, NULL, x->nd, x->adj != NULL);
  if (!y) return NULL;
  for (size_t s = 0; s < x->nd; s++) {
    double p = 1.0;
    for (size_t e = 0; e < x->len; e++) p *= x->x[e * x->nd + s];
    y->x[s] = p;
  }
  ad_val *in[1] = {x};
  ad_push(t, prod_backward, y, 1, in);
  return y;
}

static void variance_backward(ad_tape *t, ad_node *node)
{
  UNUSED(t);
  ad_val *a = node->in[0], *y = node->out;
  size_t nd = y->nd, L = a->len;
  const double *mean = node->saved;
  for (size_t s = 0; s < nd; s++) {
    double g = y->adj[s] * 2.0 / (double)(L - 1);
    for (size_t e = 0; e < L; e++) *ad_adjp(a, e, s) += g * (ad_get(a, e, s) - mean[s]);
  }
}

static ad_val *b_variance(ad_tape *t, ad_val **a, int n)
{
  UNUSED(n);
  ad_val *x = a[0];
  size_t L = x->len, nd = x->nd;
  vi_type ty = {VT_REAL, 0};
  ad_val *y = ad_new_nd(t, ty, 0, NULL, nd, x->adj != NULL);
  double *mean = ad_alloc(t, nd * sizeof *mean);
  if (!y || !mean) return NULL;
  for (size_t s = 0; s < nd; s++) {
    if (L < 2) { y->x[s] = NAN; mean[s] = 0; continue; }
    double m = 0;
    for (size_t e = 0; e < L; e++) m += x->x[e * nd + s];
    m /= (double)L;
    double v = 0;
    for (size_t e = 0; e < L; e++) {
      double d = x->x[e * nd + s] - m;
      v += d * d;
    }
    mean[s] = m;
    y->x[s] = v / (double)(L - 1);
  }
  ad_val *in[1] = {x};
  ad_node *node = ad_push(t, variance_backward, y, 1, in);
  if (node) node->saved = mean;
  return y;
}

static ad_val *b_sd(ad_tape *t, ad_val **a, int n)
{
  ad_val *v = b_variance(t, a, n);
  return v ? ad_map1(t, v, sqrt, d_sqrt, 0) : NULL;
}

/* min / max over a container: the gradient goes to the (first) extreme element. */
static void argext_backward(ad_tape *t, ad_node *node)
{
  UNUSED(t);
  ad_val *a = node->in[0], *y = node->out;
  const double *idx = node->saved;
  for (size_t s = 0; s < y->nd; s++)
    if (idx[s] >= 0) *ad_adjp(a, (size_t)idx[s], s) += y->adj[s];
}

static ad_val *extreme(ad_tape *t, ad_val *x, int want_max)
{
  size_t L = x->len, nd = x->nd;
  int isint = x->type.base == VT_INT;
  vi_type ty = {isint ? VT_INT : VT_REAL, 0};
  if (L == 0) {
    if (isint) {
      ad_tape_set_error(t, "%s: argument has no elements", want_max ? "max" : "min");
      return NULL;
    }
    return ad_scalar(t, want_max ? -INFINITY : INFINITY, 0);
  }
  ad_val *y = ad_new_nd(t, ty, 0, NULL, nd, !isint && x->adj != NULL);
  double *idx = ad_alloc(t, nd * sizeof *idx);
  if (!y || !idx) return NULL;
  for (size_t s = 0; s < nd; s++) {
    size_t best = 0;
    double bv = x->x[s];
    for (size_t e = 1; e < L; e++) {
      double v = x->x[e * nd + s];
      if (isnan(v) && !isnan(bv)) { best = e; bv = v; break; }
      if (want_max ? v > bv : v < bv) { best = e; bv = v; }
    }
    if (isnan(bv)) {
      for (size_t e = 0; e < L; e++)
        if (isnan(x->x[e * nd + s])) { best = e; break; }
    }
    y->x[s] = bv;
    idx[s] = (double)best;
  }
  ad_val *in[1] = {x};
  ad_node *node = ad_push(t, argext_backward, y, 1, in);
  if (node) node->saved = idx;
  return y;
}
static ad_val *b_max1(ad_tape *t, ad_val **a, int n) { UNUSED(n); return extreme(t, a[0], 1); }
static ad_val *b_min1(ad_tape *t, ad_val **a, int n) { UNUSED(n); return extreme(t, a[0], 0); }

static void lse_backward(ad_tape *t, ad_node *node)
{
  UNUSED(t);
  ad_val *a = node->in[0], *y = node->out;
  for (size_t s = 0; s < y->nd; s++) {
    if (!isfinite(y->x[s])) continue;
    for (size_t e = 0; e < a->len; e++)
      *ad_adjp(a, e, s) += y->adj[s] * exp(ad_get(a, e, s) - y->x[s]);
  }
}

static ad_val *b_log_sum_exp1(ad_tape *t, ad_val **a, int n)
{
  UNUSED(n);
  ad_val *x = a[0];
  size_t L = x->len, nd = x->nd;
  vi_type ty = {VT_REAL, 0};
  ad_val *y = ad_new_nd(t, ty, 0, NULL, nd, x->adj != NULL);
  if (!y) return NULL;
  for (size_t s = 0; s < nd; s++) {
    double m = -INFINITY;
    for (size_t e = 0; e < L; e++) {
      double v = x->x[e * nd + s];
      if (v > m || isnan(v)) m = v;
    }
    if (!isfinite(m)) { y->x[s] = m; continue; }
    double acc = 0;
    for (size_t e = 0; e < L; e++) acc += exp(x->x[e * nd + s] - m);
    y->x[s] = m + log(acc);
  }
  ad_val *in[1] = {x};
  ad_push(t, lse_backward, y, 1, in);
  ad_mark_shared(y);
  return y;
}

/* ---- sizes ---------------------------------------------------------------------- */

static ad_val *b_num_elements(ad_tape *t, ad_val **a, int n)
{
  UNUSED(n);
  return ad_scalar(t, (double)a[0]->len, 1);
}
static ad_val *b_size(ad_tape *t, ad_val **a, int n)
{
  UNUSED(n);
  return ad_scalar(t, a[0]->ndims ? (double)a[0]->dims[0] : 1.0, 1);
}
static ad_val *b_rows(ad_tape *t, ad_val **a, int n)
{
  UNUSED(n);
  size_t r, c;
  ad_shape2(a[0], &r, &c);
  return ad_scalar(t, (double)r, 1);
}
static ad_val *b_cols(ad_tape *t, ad_val **a, int n)
{
  UNUSED(n);
  size_t r, c;
  ad_shape2(a[0], &r, &c);
  return ad_scalar(t, (double)c, 1);
}
static ad_val *b_dims(ad_tape *t, ad_val **a, int n)
{
  UNUSED(n);
  vi_type ty = {VT_INT, 1};
  size_t d = (size_t)a[0]->ndims;
  ad_val *y = ad_new_nd(t, ty, 1, &d, 1, 0);
  if (!y) return NULL;
  for (size_t i = 0; i < d; i++) y->x[i] = (double)a[0]->dims[i];
  return y;
}

/* ---- the table ------------------------------------------------------------------ */

const vi_builtin_def vi_builtins_math[] = {
  {"exp", "same(any)", b_exp},
  {"log", "same(any)", b_log},
  {"log1p", "same(any)", b_log1p},
  {"expm1", "same(any)", b_expm1},
  {"log1m", "same(any)", b_log1m},
  {"log2", "same(any)", b_log2},
  {"log2", "real()", b_log2c},
  {"log10", "same(any)", b_log10},
  {"log10", "real()", b_log10c},
  {"exp2", "same(any)", b_exp2},
  {"sqrt", "same(any)", b_sqrt},
  {"cbrt", "same(any)", b_cbrt},
  {"square", "same(any)", b_square},
  {"fabs", "same(any)", b_fabs},
  {"abs", "same_int(int)", b_abs_int},
  {"abs", "same_int(int[])", b_abs_int},
  {"abs", "same_int(int[,])", b_abs_int},
  {"abs", "same(any)", b_abs},
  {"inv", "same(any)", b_inv},
  {"inv_sqrt", "same(any)", b_inv_sqrt},
  {"inv_square", "same(any)", b_inv_square},
  {"inv_logit", "same(any)", b_inv_logit},
  {"logit", "same(any)", b_logit},
  {"log_inv_logit", "same(any)", b_log_inv_logit},
  {"log1m_inv_logit", "same(any)", b_log1m_inv_logit},
  {"log1p_exp", "same(any)", b_log1p_exp},
  {"log1m_exp", "same(any)", b_log1m_exp},
  {"lgamma", "same(any)", b_lgamma},
  {"tgamma", "same(any)", b_tgamma},
  {"digamma", "same(any)", b_digamma},
  {"trigamma", "same(any)", b_trigamma},
  {"erf", "same(any)", b_erf},
  {"erfc", "same(any)", b_erfc},
  {"Phi", "same(any)", b_Phi},
  {"inv_Phi", "same(any)", b_inv_Phi},
  {"Phi_approx", "same(any)", b_Phi_approx},
  {"inv_cloglog", "same(any)", b_inv_cloglog},
  {"sin", "same(any)", b_sin},
  {"cos", "same(any)", b_cos},
  {"tan", "same(any)", b_tan},
  {"asin", "same(any)", b_asin},
  {"acos", "same(any)", b_acos},
  {"atan", "same(any)", b_atan},
  {"sinh", "same(any)", b_sinh},
  {"cosh", "same(any)", b_cosh},
  {"tanh", "same(any)", b_tanh},
  {"asinh", "same(any)", b_asinh},
  {"acosh", "same(any)", b_acosh},
  {"atanh", "same(any)", b_atanh},
  {"floor", "same(any)", b_floor},
  {"ceil", "same(any)", b_ceil},
  {"round", "same(any)", b_round},
  {"trunc", "same(any)", b_trunc},
  {"step", "real(real)", b_step},
  {"int_step", "int(real)", b_int_step},
  {"is_inf", "int(real)", b_is_inf},
  {"is_nan", "int(real)", b_is_nan},
  {"logical_negation", "int(real)", b_logical_negation},
  {"pow", "bcast(any, any)", b_pow},
  {"fmin", "bcast(any, any)", b_fmin},
  {"fmax", "bcast(any, any)", b_fmax},
  {"fdim", "bcast(any, any)", b_fdim},
  {"fmod", "bcast(any, any)", b_fmod},
  {"atan2", "bcast(any, any)", b_atan2},
  {"hypot", "bcast(any, any)", b_hypot},
  {"lbeta", "bcast(any, any)", b_lbeta},
  {"lchoose", "bcast(any, any)", b_lchoose},
  {"binomial_coefficient_log", "bcast(any, any)", b_lchoose},
  {"choose", "int(int, int)", b_choose},
  {"choose", "int[](int[], int)", b_choose},
  {"choose", "int[](int[], int[])", b_choose},
  {"log_diff_exp", "bcast(any, any)", b_log_diff_exp},
  {"log_sum_exp", "real(real, real)", b_log_sum_exp2},
  {"log_sum_exp", "real(real[])", b_log_sum_exp1},
  {"log_sum_exp", "real(vector)", b_log_sum_exp1},
  {"log_sum_exp", "real(row_vector)", b_log_sum_exp1},
  {"log_sum_exp", "real(matrix)", b_log_sum_exp1},
  {"log_mix", "real(real, real, real)", b_log_mix},
  {"fma", "real(real, real, real)", b_fma},
  {"int_divide", "int(int, int)", b_int_div},
  {"min", "int(int, int)", b_min_int},
  {"max", "int(int, int)", b_max_int},
  {"min", "real(real, real)", b_fmin},
  {"max", "real(real, real)", b_fmax},
  {"min", "int(int[])", b_min1},
  {"max", "int(int[])", b_max1},
  {"min", "real(real[])", b_min1},
  {"max", "real(real[])", b_max1},
  {"min", "real(vector)", b_min1},
  {"max", "real(vector)", b_max1},
  {"min", "real(row_vector)", b_min1},
  {"max", "real(row_vector)", b_max1},
  {"min", "real(matrix)", b_min1},
  {"max", "real(matrix)", b_max1},
  {"sum", "int(int[])", b_sum},
  {"sum", "real(real[])", b_sum},
  {"sum", "real(vector)", b_sum},
  {"sum", "real(row_vector)", b_sum},
  {"sum", "real(matrix)", b_sum},
  {"prod", "int(int[])", b_prod},
  {"prod", "real(real[])", b_prod},
  {"prod", "real(vector)", b_prod},
  {"prod", "real(row_vector)", b_prod},
  {"prod", "real(matrix)", b_prod},
  {"mean", "real(real[])", b_mean},
  {"mean", "real(vector)", b_mean},
  {"mean", "real(row_vector)", b_mean},
  {"mean", "real(matrix)", b_mean},
  {"variance", "real(real[])", b_variance},
  {"variance", "real(vector)", b_variance},
  {"variance", "real(row_vector)", b_variance},
  {"variance", "real(matrix)", b_variance},
  {"sd", "real(real[])", b_sd},
  {"sd", "real(vector)", b_sd},
  {"sd", "real(row_vector)", b_sd},
  {"sd", "real(matrix)", b_sd},
  {"num_elements", "int(any)", b_num_elements},
  {"size", "int(any)", b_size},
  {"rows", "int(vector)", b_rows},
  {"rows", "int(row_vector)", b_rows},
  {"rows", "int(matrix)", b_rows},
  {"cols", "int(vector)", b_cols},
  {"cols", "int(row_vector)", b_cols},
  {"cols", "int(matrix)", b_cols},
  {"dims", "int[](any)", b_dims},
  {"pi", "real()", b_pi},
  {"e", "real()", b_e},
  {"sqrt2", "real()", b_sqrt2},
  {"not_a_number", "real()", b_not_a_number},
  {"positive_infinity", "real()", b_positive_infinity},
  {"negative_infinity", "real()", b_negative_infinity},
  {"machine_precision", "real()", b_machine_precision},
  {NULL, NULL, NULL}};
