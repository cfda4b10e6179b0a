/* builtins_math.c: the math, reduction and linear-algebra functions of the model
 * language (builtin_table_math[]), batched over the draws with hand-written reverse-mode
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
#include "lang/ad/ad_kernels.h"
#include "lang/lib/lib.h"


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
static double f_add(double a, double b) { return a + b; }
static void d_add(double a, double b, double y, double *da, double *db)
{
  UNUSED(a); UNUSED(b); UNUSED(y);
  *da = 1.0; *db = 1.0;
}
static double f_sub(double a, double b) { return a - b; }
static void d_sub(double a, double b, double y, double *da, double *db)
{
  UNUSED(a); UNUSED(b); UNUSED(y);
  *da = 1.0; *db = -1.0;
}
static double f_int_min(double a, double b) { return a <= b ? a : b; }
static double f_int_max(double a, double b) { return a >= b ? a : b; }

#define BINARY_INT(NAME, F)                                          \
  static ad_val *b_##NAME(ad_tape *t, ad_val **a, int n)             \
  { UNUSED(n); return ad_map2(t, a[0], a[1], F, NULL, 1); }

AD_BINARY_BUILTIN(pow, f_pow, d_pow)
AD_BINARY_BUILTIN(fmin, f_fmin, d_fmin)
AD_BINARY_BUILTIN(fmax, f_fmax, d_fmax)
AD_BINARY_BUILTIN(fdim, f_fdim, d_fdim)
AD_BINARY_BUILTIN(fmod, f_fmod, d_fmod)
AD_BINARY_BUILTIN(atan2, f_atan2, d_atan2)
AD_BINARY_BUILTIN(hypot, f_hypot, d_hypot)
AD_BINARY_BUILTIN(lbeta, f_lbeta, d_lbeta)
AD_BINARY_BUILTIN(lchoose, f_lchoose, d_lchoose)
AD_BINARY_BUILTIN(log_sum_exp2, f_log_sum_exp2, d_log_sum_exp2)
AD_BINARY_BUILTIN(log_diff_exp, f_log_diff_exp, d_log_diff_exp)
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
  ad_val *x = a[0]->type.base == VT_INT ? ad_to_real(t, a[0]) : a[0];   /* real result */
  ad_val *p = x ? ad_binary(t, OP_EMUL, x, a[1]) : NULL;
  return p ? ad_binary(t, OP_ADD, p, a[2]) : NULL;
}

/* log_mix(theta, lp1, lp2) = log_sum_exp(log(theta) + lp1, log1m(theta) + lp2). */
/* log_mix(theta, a, b) = log(theta exp(a) + (1 - theta) exp(b)) as one node (it sits in
 * the per-observation loop of every two-component mixture): the responsibilities
 * r1 = theta exp(a - y), r2 = (1 - theta) exp(b - y) are saved, and then
 * dy/da = r1, dy/db = r2, dy/dtheta = r1 / theta - r2 / (1 - theta). */
static void log_mix_backward(ad_tape *t, ad_node *node)
{
  UNUSED(t);
  ad_val *y = node->out, *th = node->in[0], *a = node->in[1], *b = node->in[2];
  const double *r = node->saved;
  size_t nd = y->nd;
  for (size_t s = 0; s < nd; s++) {
    double g = y->adj[s], r1 = r[s], r2 = r[nd + s];
    if (g == 0) continue;
    if (a->adj) *ad_adjp(a, 0, s) += g * r1;
    if (b->adj) *ad_adjp(b, 0, s) += g * r2;
    if (th->adj) {
      double x = ad_get(th, 0, s);
      *ad_adjp(th, 0, s) += g * (r1 / x - r2 / (1 - x));
    }
  }
}

static ad_val *b_log_mix(ad_tape *t, ad_val **a, int n)
{
  UNUSED(n);
  ad_val *in[3] = {a[0], a[1], a[2]};
  size_t nd = ad_nd2(a[0], a[1]);
  if (a[2]->nd > nd) nd = a[2]->nd;
  int adj = ad_wants_adj(t, in, 3);
  ad_val *y = ad_new_mat(t, VT_REAL, 1, 1, nd, adj);
  double *r = adj ? ad_alloc(t, 2 * nd * sizeof(double)) : NULL;
  if (!y || (adj && !r)) return NULL;
  for (size_t s = 0; s < nd; s++) {
    double th = ad_get(a[0], 0, s), la = ad_get(a[1], 0, s), lb = ad_get(a[2], 0, s);
    double xa = log(th) + la, xb = log1p(-th) + lb, v, r1 = 0, r2 = 0;
    if (th < 0 || th > 1 || isnan(xa) || isnan(xb)) v = NAN;
    else if (xa == -INFINITY && xb == -INFINITY) v = -INFINITY;
    else if (xa == INFINITY || xb == INFINITY) v = INFINITY;
    else {
      /* one exp and one log1p: e = exp(-|xa - xb|) gives the value and both
         responsibilities (1 / (1 + e) for the larger term, e / (1 + e) for the other) */
      int a_big = xa >= xb;
      double e = exp(a_big ? xb - xa : xa - xb), w = 1.0 / (1.0 + e);
      v = (a_big ? xa : xb) + log1p(e);
      r1 = a_big ? w : e * w;
      r2 = a_big ? e * w : w;
    }
    y->x[s] = v;
    if (r) { r[s] = r1; r[nd + s] = r2; }
  }
  ad_node *node = adj ? ad_push(t, log_mix_backward, y, 3, in) : NULL;
  if (node) node->saved = r;
  return y;
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
  if (L < 2) return;   /* variance of one element is the constant 0 */
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
  if (L == 0) {
    ad_tape_set_error(t, "variance: argument has no elements");
    return NULL;
  }
  vi_type ty = {VT_REAL, 0};
  ad_val *y = ad_new_nd(t, ty, 0, NULL, nd, x->adj != NULL);
  double *mean = ad_alloc(t, nd * sizeof *mean);
  if (!y || !mean) return NULL;
  for (size_t s = 0; s < nd; s++) {
    if (L < 2) { y->x[s] = 0; mean[s] = 0; continue; }   /* as Stan's */
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
  /* arrays: the first dimension; vectors and matrices: all elements (Stan's size). */
  return ad_scalar(t, a[0]->type.ndims ? (double)a[0]->dims[0] : (double)a[0]->len, 1);
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
  /* Array dims, then rows and columns for any vector or matrix (as Stan: a vector[3]
   * has dims {3, 1}, a row_vector[3] {1, 3}). */
  const ad_val *v = a[0];
  vi_type ty = {VT_INT, 1};
  int A = v->type.ndims, vecmat = v->type.base == VT_VECTOR ||
                                  v->type.base == VT_ROW_VECTOR || v->type.base == VT_MATRIX;
  size_t d = (size_t)A + (vecmat ? 2 : 0);
  ad_val *y = ad_new_nd(t, ty, 1, &d, 1, 0);
  if (!y) return NULL;
  for (int i = 0; i < A; i++) y->x[i] = (double)v->dims[i];
  if (vecmat) {
    size_t r, c;
    ad_shape2(v, &r, &c);
    y->x[A] = (double)r;
    y->x[A + 1] = (double)c;
  }
  return y;
}

/* ---- containers: construction and reshaping (pure data movement) ----------------- */

static size_t nz1(size_t n) { return n ? n : 1; }

static vi_type ty_of(vi_basetype b, int ndims) { vi_type t = {b, ndims}; return t; }

static long int_arg(const ad_val *v) { return (long)v->x[0]; }

static int check_size(ad_tape *t, const char *fn, long n)
{
  if (n < 0) {
    ad_tape_set_error(t, "%s: size must be non-negative, found %ld", fn, n);
    return -1;
  }
  return 0;
}

/* out = src gathered through ii (out->len indexes), out typed ty/dims. */
static ad_val *gather_new(ad_tape *t, vi_type ty, int ndims, const size_t *dims,
                          ad_val *src, const size_t *ii)
{
  ad_val *out = ad_new_nd(t, ty, ndims, dims, src->nd, src->adj != NULL);
  if (!out) return NULL;
  ad_gather(t, out, src, out->len, NULL, ii);
  return out;
}

static size_t *idx_alloc(ad_tape *t, size_t n)
{
  return ad_alloc(t, nz1(n) * sizeof(size_t));
}

/* rep_vector(x, n), rep_row_vector(x, n) */
static ad_val *rep_vec(ad_tape *t, ad_val **a, vi_basetype b, const char *fn)
{
  long n = int_arg(a[1]);
  if (check_size(t, fn, n)) return NULL;
  size_t d = (size_t)n;
  size_t *ii = idx_alloc(t, d);
  if (!ii) return NULL;
  memset(ii, 0, nz1(d) * sizeof *ii);
  ad_val *x = a[0];
  if (x->type.base == VT_INT) x = ad_to_real(t, x);
  return x ? gather_new(t, ty_of(b, 0), 1, &d, x, ii) : NULL;
}
static ad_val *b_rep_vector(ad_tape *t, ad_val **a, int n) { UNUSED(n); return rep_vec(t, a, VT_VECTOR, "rep_vector"); }
static ad_val *b_rep_row_vector(ad_tape *t, ad_val **a, int n) { UNUSED(n); return rep_vec(t, a, VT_ROW_VECTOR, "rep_row_vector"); }

/* rep_matrix(x, m, n), rep_matrix(vector v, n) (n columns v), rep_matrix(row_vector, m) */
static ad_val *b_rep_matrix(ad_tape *t, ad_val **a, int nargs)
{
  ad_val *x = a[0];
  size_t dims[2];
  if (x->type.base == VT_INT) x = ad_to_real(t, x);
  if (!x) return NULL;
  if (nargs == 3) {
    long m = int_arg(a[1]), n = int_arg(a[2]);
    if (check_size(t, "rep_matrix", m) || check_size(t, "rep_matrix", n)) return NULL;
    dims[0] = (size_t)m; dims[1] = (size_t)n;
    size_t *ii = idx_alloc(t, dims[0] * dims[1]);
    if (!ii) return NULL;
    memset(ii, 0, nz1(dims[0] * dims[1]) * sizeof *ii);
    return gather_new(t, ty_of(VT_MATRIX, 0), 2, dims, x, ii);
  }
  long k = int_arg(a[1]);
  if (check_size(t, "rep_matrix", k)) return NULL;
  size_t L = x->len;
  int isvec = x->type.base == VT_VECTOR;
  dims[0] = isvec ? L : (size_t)k;
  dims[1] = isvec ? (size_t)k : L;
  size_t tot = dims[0] * dims[1];
  size_t *ii = idx_alloc(t, tot);
  if (!ii) return NULL;
  for (size_t j = 0; j < dims[1]; j++)
    for (size_t i = 0; i < dims[0]; i++) ii[i + j * dims[0]] = isvec ? i : j;
  return gather_new(t, ty_of(VT_MATRIX, 0), 2, dims, x, ii);
}

/* rep_array(x, n), rep_array(x, m, n), rep_array(x, k, m, n): x of any type. */
static ad_val *b_rep_array(ad_tape *t, ad_val **a, int nargs)
{
  ad_val *x = a[0];
  int k = nargs - 1;
  if (x->ndims + k > AD_MAX_DIMS) {
    ad_tape_set_error(t, "rep_array: too many dimensions");
    return NULL;
  }
  size_t dims[AD_MAX_DIMS], reps = 1;
  for (int i = 0; i < k; i++) {
    long n = int_arg(a[1 + i]);
    if (check_size(t, "rep_array", n)) return NULL;
    dims[i] = (size_t)n;
    if (n && reps > ((size_t)1 << 40) / (size_t)n) {
      ad_tape_set_error(t, "rep_array: too many elements");
      return NULL;
    }
    reps *= (size_t)n;
  }
  for (int i = 0; i < x->ndims; i++) dims[k + i] = x->dims[i];
  size_t L = x->len, tot = reps * L;
  size_t *ii = idx_alloc(t, tot);
  if (!ii) return NULL;
  for (size_t r = 0; r < reps; r++)
    for (size_t e = 0; e < L; e++) ii[r * L + e] = e;
  return gather_new(t, ty_of(x->type.base, x->type.ndims + k), x->ndims + k, dims, x, ii);
}

/* Same elements, new type (to_vector, to_row_vector, to_array_1d on vectors/matrices,
 * which all keep the column-major order). */
static ad_val *retype(ad_tape *t, ad_val *x, vi_type ty, int ndims, const size_t *dims)
{
  if (x->type.base == VT_INT && ty.base != VT_INT) {
    x = ad_to_real(t, x);
    if (!x) return NULL;
  }
  return gather_new(t, ty, ndims, dims, x, NULL);
}
static ad_val *b_to_vector(ad_tape *t, ad_val **a, int n)
{
  UNUSED(n);
  size_t d = a[0]->len;
  return retype(t, a[0], ty_of(VT_VECTOR, 0), 1, &d);
}
static ad_val *b_to_row_vector(ad_tape *t, ad_val **a, int n)
{
  UNUSED(n);
  size_t d = a[0]->len;
  return retype(t, a[0], ty_of(VT_ROW_VECTOR, 0), 1, &d);
}
static ad_val *b_to_array_1d(ad_tape *t, ad_val **a, int n)
{
  UNUSED(n);
  size_t d = a[0]->len;
  vi_basetype b = a[0]->type.base == VT_INT ? VT_INT : VT_REAL;
  return retype(t, a[0], ty_of(b, 1), 1, &d);
}
/* to_array_2d(matrix): rows of the matrix as a real[,] (row-major). */
static ad_val *b_to_array_2d(ad_tape *t, ad_val **a, int n)
{
  UNUSED(n);
  size_t r, c;
  ad_shape2(a[0], &r, &c);
  size_t dims[2] = {r, c};
  size_t *ii = idx_alloc(t, r * c);
  if (!ii) return NULL;
  for (size_t i = 0; i < r; i++)
    for (size_t j = 0; j < c; j++) ii[i * c + j] = i + j * r;
  return gather_new(t, ty_of(VT_REAL, 2), 2, dims, a[0], ii);
}

/* to_matrix(m), to_matrix(v, m, n) (column-major fill), to_matrix(real[,]) (rows). */
static ad_val *b_to_matrix(ad_tape *t, ad_val **a, int nargs)
{
  ad_val *x = a[0];
  if (x->type.base == VT_INT) x = ad_to_real(t, x);
  if (!x) return NULL;
  size_t dims[2];
  if (nargs >= 3) {
    long m = int_arg(a[1]), n = int_arg(a[2]);
    if (check_size(t, "to_matrix", m) || check_size(t, "to_matrix", n)) return NULL;
    if ((size_t)m * (size_t)n != x->len) {
      ad_tape_set_error(t, "to_matrix: %zu elements cannot fill a %ld x %ld matrix", x->len,
                        m, n);
      return NULL;
    }
    dims[0] = (size_t)m; dims[1] = (size_t)n;
    if (nargs == 4 && int_arg(a[3]) == 0) {   /* row-major fill */
      size_t *ii = idx_alloc(t, x->len);
      if (!ii) return NULL;
      for (size_t i = 0; i < dims[0]; i++)
        for (size_t j = 0; j < dims[1]; j++) ii[i + j * dims[0]] = i * dims[1] + j;
      return gather_new(t, ty_of(VT_MATRIX, 0), 2, dims, x, ii);
    }
    return gather_new(t, ty_of(VT_MATRIX, 0), 2, dims, x, NULL);
  }
  if (x->type.ndims == 2) {   /* real[r, c]: row-major storage */
    dims[0] = x->dims[0]; dims[1] = x->dims[1];
    size_t *ii = idx_alloc(t, x->len);
    if (!ii) return NULL;
    for (size_t i = 0; i < dims[0]; i++)
      for (size_t j = 0; j < dims[1]; j++) ii[i + j * dims[0]] = i * dims[1] + j;
    return gather_new(t, ty_of(VT_MATRIX, 0), 2, dims, x, ii);
  }
  ad_shape2(x, &dims[0], &dims[1]);
  return gather_new(t, ty_of(VT_MATRIX, 0), 2, dims, x, NULL);
}

/* First-dimension slices of vectors, row vectors and arrays: head, tail, segment,
 * reverse.  An element of the first dimension is a block of len / dims[0] elements. */
static ad_val *slice_first(ad_tape *t, ad_val *x, size_t start, size_t n, int rev,
                           const char *fn)
{
  size_t d0 = x->ndims ? x->dims[0] : 1;
  if (start > d0 || n > d0 - start) {
    ad_tape_set_error(t, "%s: range [%zu, %zu] out of bounds for size %zu", fn, start + 1,
                      start + n, d0);
    return NULL;
  }
  size_t block = d0 ? x->len / d0 : 0;
  size_t dims[AD_MAX_DIMS];
  for (int i = 0; i < x->ndims; i++) dims[i] = x->dims[i];
  dims[0] = n;
  size_t *ii = idx_alloc(t, n * block);
  if (!ii) return NULL;
  for (size_t k = 0; k < n; k++)
    for (size_t b = 0; b < block; b++)
      ii[k * block + b] = (rev ? d0 - 1 - k : start + k) * block + b;
  return gather_new(t, x->type, x->ndims, dims, x, ii);
}
static ad_val *b_head(ad_tape *t, ad_val **a, int n)
{
  UNUSED(n);
  long k = int_arg(a[1]);
  if (check_size(t, "head", k)) return NULL;
  return slice_first(t, a[0], 0, (size_t)k, 0, "head");
}
static ad_val *b_tail(ad_tape *t, ad_val **a, int n)
{
  UNUSED(n);
  long k = int_arg(a[1]);
  size_t d0 = a[0]->ndims ? a[0]->dims[0] : 1;
  if (check_size(t, "tail", k)) return NULL;
  if ((size_t)k > d0) {
    ad_tape_set_error(t, "tail: %ld elements requested from size %zu", k, d0);
    return NULL;
  }
  return slice_first(t, a[0], d0 - (size_t)k, (size_t)k, 0, "tail");
}
static ad_val *b_segment(ad_tape *t, ad_val **a, int n)
{
  UNUSED(n);
  long i = int_arg(a[1]), k = int_arg(a[2]);
  if (i < 1) {
    ad_tape_set_error(t, "segment: start %ld must be at least 1", i);
    return NULL;
  }
  if (check_size(t, "segment", k)) return NULL;
  return slice_first(t, a[0], (size_t)i - 1, (size_t)k, 0, "segment");
}
static ad_val *b_reverse(ad_tape *t, ad_val **a, int n)
{
  UNUSED(n);
  size_t d0 = a[0]->ndims ? a[0]->dims[0] : 1;
  return slice_first(t, a[0], 0, d0, 1, "reverse");
}

/* append_row / append_col: each operand seen as r x c (a scalar is 1 x 1). */
static ad_val *append2(ad_tape *t, ad_val *A, ad_val *B, int by_row)
{
  if (A->type.base == VT_INT) A = ad_to_real(t, A);
  if (B && B->type.base == VT_INT) B = ad_to_real(t, B);
  if (!A || !B) return NULL;
  size_t ra, ca, rb, cb;
  ad_shape2(A, &ra, &ca);
  ad_shape2(B, &rb, &cb);
  vi_basetype ba = A->type.base, bb = B->type.base, rt;
  size_t R, C;
  if (by_row) {
    if (ca != cb) {
      ad_tape_set_error(t, "append_row: column counts differ (%zu and %zu)", ca, cb);
      return NULL;
    }
    R = ra + rb; C = ca;
    rt = (ba == VT_VECTOR || ba == VT_REAL) && (bb == VT_VECTOR || bb == VT_REAL)
         ? VT_VECTOR : VT_MATRIX;
  } else {
    if (ra != rb) {
      ad_tape_set_error(t, "append_col: row counts differ (%zu and %zu)", ra, rb);
      return NULL;
    }
    R = ra; C = ca + cb;
    rt = (ba == VT_ROW_VECTOR || ba == VT_REAL) && (bb == VT_ROW_VECTOR || bb == VT_REAL)
         ? VT_ROW_VECTOR : VT_MATRIX;
  }
  size_t nd = ad_nd2(A, B);
  ad_val *out = ad_new_mat(t, rt, R, C, nd, A->adj || B->adj);
  if (!out) return NULL;
  size_t *oa = idx_alloc(t, ra * ca), *ob = idx_alloc(t, rb * cb);
  if (!oa || !ob) return NULL;
  for (size_t j = 0; j < ca; j++)
    for (size_t i = 0; i < ra; i++) oa[i + j * ra] = i + j * R;
  for (size_t j = 0; j < cb; j++)
    for (size_t i = 0; i < rb; i++)
      ob[i + j * rb] = by_row ? (ra + i) + j * R : i + (ca + j) * R;
  ad_gather(t, out, A, ra * ca, oa, NULL);
  ad_gather(t, out, B, rb * cb, ob, NULL);
  return out;
}
static ad_val *b_append_row(ad_tape *t, ad_val **a, int n) { UNUSED(n); return append2(t, a[0], a[1], 1); }
static ad_val *b_append_col(ad_tape *t, ad_val **a, int n) { UNUSED(n); return append2(t, a[0], a[1], 0); }

/* append_array(a, b): arrays of equal element shape. */
static ad_val *b_append_array(ad_tape *t, ad_val **a, int n)
{
  UNUSED(n);
  ad_val *A = a[0], *B = a[1];
  if (A->type.base != B->type.base) {
    if (A->type.base == VT_INT) A = ad_to_real(t, A);
    if (B->type.base == VT_INT) B = ad_to_real(t, B);
    if (!A || !B) return NULL;
  }
  int ok = A->ndims == B->ndims;
  for (int i = 1; ok && i < A->ndims; i++) ok = A->dims[i] == B->dims[i];
  if (!ok) {
    ad_tape_set_error(t, "append_array: element sizes differ");
    return NULL;
  }
  size_t dims[AD_MAX_DIMS];
  for (int i = 0; i < A->ndims; i++) dims[i] = A->dims[i];
  dims[0] = A->dims[0] + B->dims[0];
  ad_val *out = ad_new_nd(t, A->type, A->ndims, dims, ad_nd2(A, B), A->adj || B->adj);
  if (!out) return NULL;
  size_t *ob = idx_alloc(t, B->len);
  if (!ob) return NULL;
  for (size_t e = 0; e < B->len; e++) ob[e] = A->len + e;
  ad_gather(t, out, A, A->len, NULL, NULL);
  ad_gather(t, out, B, B->len, ob, NULL);
  return out;
}

static ad_val *b_diag_matrix(ad_tape *t, ad_val **a, int n)
{
  UNUSED(n);
  ad_val *v = a[0];
  size_t K = v->len;
  ad_val *out = ad_new_mat(t, VT_MATRIX, K, K, v->nd, v->adj != NULL);
  size_t *oi = idx_alloc(t, K);
  if (!out || !oi) return NULL;
  memset(out->x, 0, K * K * v->nd * sizeof(double));
  for (size_t i = 0; i < K; i++) oi[i] = i + i * K;
  ad_gather(t, out, v, K, oi, NULL);
  return out;
}

static ad_val *b_diagonal(ad_tape *t, ad_val **a, int n)
{
  UNUSED(n);
  size_t r, c;
  ad_shape2(a[0], &r, &c);
  size_t K = r < c ? r : c;
  size_t *ii = idx_alloc(t, K);
  if (!ii) return NULL;
  for (size_t i = 0; i < K; i++) ii[i] = i + i * r;
  return gather_new(t, ty_of(VT_VECTOR, 0), 1, &K, a[0], ii);
}

static ad_val *b_identity_matrix(ad_tape *t, ad_val **a, int n)
{
  UNUSED(n);
  long k = int_arg(a[0]);
  if (check_size(t, "identity_matrix", k)) return NULL;
  size_t K = (size_t)k;
  ad_val *out = ad_new_mat(t, VT_MATRIX, K, K, 1, 0);
  if (!out) return NULL;
  memset(out->x, 0, K * K * sizeof(double));
  for (size_t i = 0; i < K; i++) out->x[i + i * K] = 1.0;
  return out;
}

/* linspaced_vector(n, lo, hi) and friends: data only. */
static ad_val *linspaced(ad_tape *t, ad_val **a, vi_type ty)
{
  long k = int_arg(a[0]);
  if (check_size(t, "linspaced", k)) return NULL;
  size_t K = (size_t)k;
  size_t nd = ad_nd2(a[1], a[2]);
  ad_val *out = ad_new_nd(t, ty, 1, &K, nd, 0);   /* data-only in Stan: no gradient */
  if (!out) return NULL;
  for (size_t s = 0; s < nd; s++) {
    double lo = ad_get(a[1], 0, s), hi = ad_get(a[2], 0, s);
    for (size_t i = 0; i < K; i++)
      out->x[i * nd + s] = K == 1 ? hi : lo + (hi - lo) * (double)i / (double)(K - 1);
  }
  return out;
}
static ad_val *b_linspaced_vector(ad_tape *t, ad_val **a, int n) { UNUSED(n); return linspaced(t, a, ty_of(VT_VECTOR, 0)); }
static ad_val *b_linspaced_row_vector(ad_tape *t, ad_val **a, int n) { UNUSED(n); return linspaced(t, a, ty_of(VT_ROW_VECTOR, 0)); }
static ad_val *b_linspaced_array(ad_tape *t, ad_val **a, int n) { UNUSED(n); return linspaced(t, a, ty_of(VT_REAL, 1)); }

/* one_hot_*(n, k), zeros_*(n), ones_*(n): data only. */
static ad_val *filled(ad_tape *t, long n, double v, long hot, vi_type ty)
{
  if (check_size(t, "fill", n)) return NULL;
  size_t K = (size_t)n;
  if (hot != 0 && (hot < 1 || hot > n)) {
    ad_tape_set_error(t, "one_hot: index %ld out of range [1, %ld]", hot, n);
    return NULL;
  }
  ad_val *out = ad_new_nd(t, ty, 1, &K, 1, 0);
  if (!out) return NULL;
  for (size_t i = 0; i < K; i++) out->x[i] = v;
  if (hot) out->x[hot - 1] = 1.0;
  return out;
}
static ad_val *b_one_hot_vector(ad_tape *t, ad_val **a, int n) { UNUSED(n); return filled(t, int_arg(a[0]), 0, int_arg(a[1]), ty_of(VT_VECTOR, 0)); }
static ad_val *b_one_hot_row_vector(ad_tape *t, ad_val **a, int n) { UNUSED(n); return filled(t, int_arg(a[0]), 0, int_arg(a[1]), ty_of(VT_ROW_VECTOR, 0)); }
static ad_val *b_one_hot_array(ad_tape *t, ad_val **a, int n) { UNUSED(n); return filled(t, int_arg(a[0]), 0, int_arg(a[1]), ty_of(VT_REAL, 1)); }
static ad_val *b_one_hot_int_array(ad_tape *t, ad_val **a, int n) { UNUSED(n); return filled(t, int_arg(a[0]), 0, int_arg(a[1]), ty_of(VT_INT, 1)); }
static ad_val *b_zeros_vector(ad_tape *t, ad_val **a, int n) { UNUSED(n); return filled(t, int_arg(a[0]), 0, 0, ty_of(VT_VECTOR, 0)); }
static ad_val *b_zeros_row_vector(ad_tape *t, ad_val **a, int n) { UNUSED(n); return filled(t, int_arg(a[0]), 0, 0, ty_of(VT_ROW_VECTOR, 0)); }
static ad_val *b_zeros_array(ad_tape *t, ad_val **a, int n) { UNUSED(n); return filled(t, int_arg(a[0]), 0, 0, ty_of(VT_REAL, 1)); }
static ad_val *b_zeros_int_array(ad_tape *t, ad_val **a, int n) { UNUSED(n); return filled(t, int_arg(a[0]), 0, 0, ty_of(VT_INT, 1)); }
static ad_val *b_ones_vector(ad_tape *t, ad_val **a, int n) { UNUSED(n); return filled(t, int_arg(a[0]), 1, 0, ty_of(VT_VECTOR, 0)); }
static ad_val *b_ones_row_vector(ad_tape *t, ad_val **a, int n) { UNUSED(n); return filled(t, int_arg(a[0]), 1, 0, ty_of(VT_ROW_VECTOR, 0)); }
static ad_val *b_ones_array(ad_tape *t, ad_val **a, int n) { UNUSED(n); return filled(t, int_arg(a[0]), 1, 0, ty_of(VT_REAL, 1)); }
static ad_val *b_ones_int_array(ad_tape *t, ad_val **a, int n) { UNUSED(n); return filled(t, int_arg(a[0]), 1, 0, ty_of(VT_INT, 1)); }

/* ---- products and sums by group ------------------------------------------------- */

/* y[g(e)] = sum_e a_e b_e with g(e) = e / div % mod: dot_product (one group),
 * columns_dot_product (g = column), rows_dot_product (g = row). */
static void gdot_backward(ad_tape *t, ad_node *node)
{
  UNUSED(t);
  ad_val *a = node->in[0], *b = node->in[1], *y = node->out;
  size_t div = (size_t)node->iarg[0], mod = (size_t)node->iarg[1], nd = y->nd;
  for (size_t e = 0; e < a->len; e++) {
    size_t g = (e / div) % mod;
    const double *gy = y->adj + g * nd;
    for (size_t s = 0; s < nd; s++) {
      double ga = gy[s];
      if (a->adj) *ad_adjp(a, e, s) += ga * ad_get(b, e, s);
      if (b->adj) *ad_adjp(b, e, s) += ga * ad_get(a, e, s);
    }
  }
}

static ad_val *grouped_dot(ad_tape *t, ad_val *a, ad_val *b, vi_basetype rt, size_t ng,
                           size_t div, size_t mod, const char *fn)
{
  if (a->len != b->len) {
    ad_tape_set_error(t, "%s: size mismatch (%zu and %zu elements)", fn, a->len, b->len);
    return NULL;
  }
  size_t nd = ad_nd2(a, b);
  vi_type ty = ty_of(rt, 0);
  ad_val *y = ad_new_nd(t, ty, rt == VT_REAL ? 0 : 1, &ng, nd, a->adj || b->adj);
  if (!y) return NULL;
  memset(y->x, 0, ng * nd * sizeof(double));
  size_t sa = a->nd > 1, sb = b->nd > 1;
  for (size_t e = 0; e < a->len; e++) {
    size_t g = (e / div) % mod;
    double *py = y->x + g * nd;
    const double *pa = a->x + e * a->nd, *pb = b->x + e * b->nd;
    for (size_t s = 0; s < nd; s++) py[s] += pa[s * sa] * pb[s * sb];
  }
  ad_val *in[2] = {a, b};
  ad_node *node = ad_push(t, gdot_backward, y, 2, in);
  if (node) { node->iarg[0] = (long)div; node->iarg[1] = (long)mod; }
  return y;
}
static ad_val *b_dot_product(ad_tape *t, ad_val **a, int n)
{
  UNUSED(n);
  return grouped_dot(t, a[0], a[1], VT_REAL, 1, 1, 1, "dot_product");
}
static ad_val *b_dot_self(ad_tape *t, ad_val **a, int n)
{
  UNUSED(n);
  return grouped_dot(t, a[0], a[0], VT_REAL, 1, 1, 1, "dot_self");
}
static ad_val *cols_dot(ad_tape *t, ad_val *A, ad_val *B)
{
  size_t r, c, r2, c2;
  ad_shape2(A, &r, &c);
  ad_shape2(B, &r2, &c2);
  if (r != r2 || c != c2) {
    ad_tape_set_error(t, "columns_dot_product: size mismatch");
    return NULL;
  }
  return grouped_dot(t, A, B, VT_ROW_VECTOR, c, r ? r : 1, c ? c : 1, "columns_dot_product");
}
static ad_val *rows_dot(ad_tape *t, ad_val *A, ad_val *B)
{
  size_t r, c, r2, c2;
  ad_shape2(A, &r, &c);
  ad_shape2(B, &r2, &c2);
  if (r != r2 || c != c2) {
    ad_tape_set_error(t, "rows_dot_product: size mismatch");
    return NULL;
  }
  return grouped_dot(t, A, B, VT_VECTOR, r, 1, r ? r : 1, "rows_dot_product");
}
static ad_val *b_columns_dot_product(ad_tape *t, ad_val **a, int n) { UNUSED(n); return cols_dot(t, a[0], a[1]); }
static ad_val *b_rows_dot_product(ad_tape *t, ad_val **a, int n) { UNUSED(n); return rows_dot(t, a[0], a[1]); }
static ad_val *b_columns_dot_self(ad_tape *t, ad_val **a, int n) { UNUSED(n); return cols_dot(t, a[0], a[0]); }
static ad_val *b_rows_dot_self(ad_tape *t, ad_val **a, int n) { UNUSED(n); return rows_dot(t, a[0], a[0]); }

/* y_e = v_{g(e)} * M_e: diag_pre_multiply (g = row), diag_post_multiply (g = column). */
static void gscale_backward(ad_tape *t, ad_node *node)
{
  UNUSED(t);
  ad_val *v = node->in[0], *M = node->in[1], *y = node->out;
  size_t div = (size_t)node->iarg[0], mod = (size_t)node->iarg[1], nd = y->nd;
  for (size_t e = 0; e < M->len; e++) {
    size_t g = (e / div) % mod;
    const double *gy = y->adj + e * nd;
    for (size_t s = 0; s < nd; s++) {
      if (M->adj) *ad_adjp(M, e, s) += gy[s] * ad_get(v, g, s);
      if (v->adj) *ad_adjp(v, g, s) += gy[s] * ad_get(M, e, s);
    }
  }
}

static ad_val *group_scale(ad_tape *t, ad_val *v, ad_val *M, int by_row, const char *fn)
{
  size_t r, c;
  ad_shape2(M, &r, &c);
  size_t need = by_row ? r : c;
  if (v->len != need) {
    ad_tape_set_error(t, "%s: vector of size %zu for a %zu x %zu matrix", fn, v->len, r, c);
    return NULL;
  }
  size_t div = by_row ? 1 : nz1(r), mod = by_row ? nz1(r) : nz1(c);
  size_t nd = ad_nd2(v, M);
  ad_val *y = ad_new_mat(t, VT_MATRIX, r, c, nd, v->adj || M->adj);
  if (!y) return NULL;
  for (size_t e = 0; e < M->len; e++) {
    size_t g = (e / div) % mod;
    double *py = y->x + e * nd;
    for (size_t s = 0; s < nd; s++) py[s] = ad_get(v, g, s) * ad_get(M, e, s);
  }
  ad_val *in[2] = {v, M};
  ad_node *node = ad_push(t, gscale_backward, y, 2, in);
  if (node) { node->iarg[0] = (long)div; node->iarg[1] = (long)mod; }
  return y;
}
static ad_val *b_diag_pre_multiply(ad_tape *t, ad_val **a, int n) { UNUSED(n); return group_scale(t, a[0], a[1], 1, "diag_pre_multiply"); }
static ad_val *b_diag_post_multiply(ad_tape *t, ad_val **a, int n) { UNUSED(n); return group_scale(t, a[1], a[0], 0, "diag_post_multiply"); }

/* add_diag(M, d): d a scalar or a vector of the diagonal's size. */
static void add_diag_backward(ad_tape *t, ad_node *node)
{
  UNUSED(t);
  ad_val *M = node->in[0], *d = node->in[1], *y = node->out;
  size_t r = (size_t)node->iarg[0], K = (size_t)node->iarg[1], nd = y->nd;
  for (size_t e = 0; e < y->len; e++)
    for (size_t s = 0; s < nd; s++)
      if (M->adj) *ad_adjp(M, e, s) += y->adj[e * nd + s];
  if (d->adj)
    for (size_t i = 0; i < K; i++)
      for (size_t s = 0; s < nd; s++)
        *ad_adjp(d, d->len == 1 ? 0 : i, s) += y->adj[(i + i * r) * nd + s];
}

static ad_val *b_add_diag(ad_tape *t, ad_val **a, int n)
{
  UNUSED(n);
  ad_val *M = a[0], *d = a[1];
  size_t r, c;
  ad_shape2(M, &r, &c);
  size_t K = r < c ? r : c;
  if (!ad_is_scalar(d) && d->len != K) {
    ad_tape_set_error(t, "add_diag: diagonal of size %zu, vector of size %zu", K, d->len);
    return NULL;
  }
  size_t nd = ad_nd2(M, d);
  ad_val *y = ad_new_mat(t, VT_MATRIX, r, c, nd, M->adj || d->adj);
  if (!y) return NULL;
  for (size_t e = 0; e < M->len; e++)
    for (size_t s = 0; s < nd; s++) y->x[e * nd + s] = ad_get(M, e, s);
  for (size_t i = 0; i < K; i++)
    for (size_t s = 0; s < nd; s++)
      y->x[(i + i * r) * nd + s] += ad_get(d, d->len == 1 ? 0 : i, s);
  ad_val *in[2] = {M, d};
  ad_node *node = ad_push(t, add_diag_backward, y, 2, in);
  if (node) { node->iarg[0] = (long)r; node->iarg[1] = (long)K; }
  return y;
}

/* ---- sequences: cumulative_sum, softmax, log_softmax, sort --------------------- */

static void cumsum_backward(ad_tape *t, ad_node *node)
{
  UNUSED(t);
  ad_val *a = node->in[0], *y = node->out;
  size_t nd = y->nd, L = y->len;
  for (size_t s = 0; s < nd; s++) {
    double acc = 0;
    for (size_t e = L; e-- > 0;) {
      acc += y->adj[e * nd + s];
      *ad_adjp(a, e, s) += acc;
    }
  }
}

static ad_val *b_cumulative_sum(ad_tape *t, ad_val **a, int n)
{
  UNUSED(n);
  ad_val *x = a[0];
  ad_val *y = ad_new_nd(t, x->type, x->ndims, x->dims, x->nd, x->adj != NULL);
  if (!y) return NULL;
  size_t nd = x->nd;
  for (size_t e = 0; e < x->len; e++)
    for (size_t s = 0; s < nd; s++)
      y->x[e * nd + s] = x->x[e * nd + s] + (e ? y->x[(e - 1) * nd + s] : 0.0);
  ad_val *in[1] = {x};
  ad_push(t, cumsum_backward, y, 1, in);
  return y;
}

/* softmax: y = exp(x - lse(x)); dx = y .* (gy - <gy, y>).
 * log_softmax: y = x - lse(x); dx = gy - softmax(x) * sum(gy). */
static void softmax_backward(ad_tape *t, ad_node *node)
{
  UNUSED(t);
  ad_val *a = node->in[0], *y = node->out;
  int logf = (int)node->iarg[0];
  size_t nd = y->nd, L = y->len;
  for (size_t s = 0; s < nd; s++) {
    double acc = 0;
    for (size_t e = 0; e < L; e++)
      acc += logf ? y->adj[e * nd + s] : y->adj[e * nd + s] * y->x[e * nd + s];
    for (size_t e = 0; e < L; e++) {
      double ye = y->x[e * nd + s], g = y->adj[e * nd + s];
      *ad_adjp(a, e, s) += logf ? g - exp(ye) * acc : ye * (g - acc);
    }
  }
}

static ad_val *softmax_common(ad_tape *t, ad_val *x, int logf)
{
  if (x->len == 0) {
    ad_tape_set_error(t, "%s: empty vector", logf ? "log_softmax" : "softmax");
    return NULL;
  }
  ad_val *y = ad_new_nd(t, ty_of(VT_VECTOR, 0), 1, &x->len, x->nd, x->adj != NULL);
  if (!y) return NULL;
  size_t nd = x->nd, L = x->len;
  for (size_t s = 0; s < nd; s++) {
    double m = -INFINITY;
    for (size_t e = 0; e < L; e++) if (x->x[e * nd + s] > m) m = x->x[e * nd + s];
    double acc = 0;
    for (size_t e = 0; e < L; e++) acc += exp(x->x[e * nd + s] - m);
    double lse = m + log(acc);
    for (size_t e = 0; e < L; e++) {
      double v = x->x[e * nd + s] - lse;
      y->x[e * nd + s] = logf ? v : exp(v);
    }
  }
  ad_val *in[1] = {x};
  ad_node *node = ad_push(t, softmax_backward, y, 1, in);
  if (node) node->iarg[0] = logf;
  ad_mark_shared(y);
  return y;
}
static ad_val *b_softmax(ad_tape *t, ad_val **a, int n) { UNUSED(n); return softmax_common(t, a[0], 0); }
static ad_val *b_log_softmax(ad_tape *t, ad_val **a, int n) { UNUSED(n); return softmax_common(t, a[0], 1); }

/* sort: each draw has its own permutation, saved for the reverse sweep. */
static void sort_backward(ad_tape *t, ad_node *node)
{
  UNUSED(t);
  ad_val *a = node->in[0], *y = node->out;
  const size_t *perm = node->ptr;
  size_t nd = y->nd;
  for (size_t e = 0; e < y->len; e++)
    for (size_t s = 0; s < nd; s++) *ad_adjp(a, perm[e * nd + s], s) += y->adj[e * nd + s];
}

/* Insertion sort of indexes idx[0..L) by key[idx * nd] (stable; small vectors), or a
 * merge of runs for long ones would be better; sizes in models are modest. */
static void sort_idx(size_t *idx, size_t L, const double *key, size_t nd, int desc)
{
  /* Shell sort with a gap sequence: O(L^1.3), no allocation. */
  static const size_t gaps[] = {701, 301, 132, 57, 23, 10, 4, 1};
  for (size_t gi = 0; gi < sizeof gaps / sizeof gaps[0]; gi++) {
    size_t gap = gaps[gi];
    for (size_t i = gap; i < L; i++) {
      size_t v = idx[i];
      double kv = key[v * nd];
      size_t j = i;
      while (j >= gap) {
        double kj = key[idx[j - gap] * nd];
        int after = desc ? (kj < kv || (isnan(kj) && !isnan(kv)))
                         : (kj > kv || (isnan(kj) && !isnan(kv)));
        if (!after) break;
        idx[j] = idx[j - gap];
        j -= gap;
      }
      idx[j] = v;
    }
  }
}

static ad_val *sort_common(ad_tape *t, ad_val *x, int desc)
{
  size_t nd = x->nd, L = x->len;
  ad_val *y = ad_new_nd(t, x->type, x->ndims, x->dims, nd, x->adj != NULL);
  size_t *perm = ad_alloc(t, nz1(L * nd) * sizeof *perm);
  size_t *idx = ad_alloc(t, nz1(L) * sizeof *idx);
  if (!y || !perm || !idx) return NULL;
  for (size_t s = 0; s < nd; s++) {
    for (size_t e = 0; e < L; e++) idx[e] = e;
    sort_idx(idx, L, x->x + s, nd, desc);
    for (size_t e = 0; e < L; e++) {
      perm[e * nd + s] = idx[e];
      y->x[e * nd + s] = x->x[idx[e] * nd + s];
    }
  }
  ad_val *in[1] = {x};
  ad_node *node = ad_push(t, sort_backward, y, 1, in);
  if (node) node->ptr = perm;
  return y;
}
static ad_val *b_sort_asc(ad_tape *t, ad_val **a, int n) { UNUSED(n); return sort_common(t, a[0], 0); }
static ad_val *b_sort_desc(ad_tape *t, ad_val **a, int n) { UNUSED(n); return sort_common(t, a[0], 1); }

/* sort_indices_asc / _desc and rank: ints, no gradient; one draw (data or nd = 1). */
static ad_val *sort_indices(ad_tape *t, ad_val *x, int desc)
{
  size_t nd = x->nd, L = x->len;
  ad_val *y = ad_new_nd(t, ty_of(VT_INT, 1), 1, &L, nd, 0);
  size_t *idx = ad_alloc(t, nz1(L) * sizeof *idx);
  if (!y || !idx) return NULL;
  for (size_t s = 0; s < nd; s++) {
    for (size_t e = 0; e < L; e++) idx[e] = e;
    sort_idx(idx, L, x->x + s, nd, desc);
    for (size_t e = 0; e < L; e++) y->x[e * nd + s] = (double)(idx[e] + 1);
  }
  return y;
}
static ad_val *b_sort_indices_asc(ad_tape *t, ad_val **a, int n) { UNUSED(n); return sort_indices(t, a[0], 0); }
static ad_val *b_sort_indices_desc(ad_tape *t, ad_val **a, int n) { UNUSED(n); return sort_indices(t, a[0], 1); }

/* ---- triangular and dense matrix functions -------------------------------------- */

static int square_check(ad_tape *t, const ad_val *M, const char *fn, size_t *K)
{
  size_t r, c;
  ad_shape2(M, &r, &c);
  if (r != c) {
    ad_tape_set_error(t, "%s: matrix must be square, found %zu x %zu", fn, r, c);
    return -1;
  }
  *K = r;
  return 0;
}

/* multiply_lower_tri_self_transpose(L) = tril(L) tril(L)^T, for an m x n L. */
static void mlt_backward(ad_tape *t, ad_node *node)
{
  UNUSED(t);
  ad_val *L = node->in[0], *A = node->out;
  size_t m = (size_t)node->iarg[0], n = (size_t)node->iarg[1], nd = A->nd;
  /* dL_ik = sum_j (gA_ij + gA_ji) L_jk over j with k <= j, for k <= i. */
  for (size_t i = 0; i < m; i++)
    for (size_t k = 0; k < n && k <= i; k++)
      for (size_t j = k; j < m; j++) {
        const double *g1 = A->adj + (i + j * m) * nd, *g2 = A->adj + (j + i * m) * nd;
        for (size_t s = 0; s < nd; s++)
          *ad_adjp(L, i + k * m, s) += (g1[s] + g2[s]) * ad_get(L, j + k * m, s);
      }
}

static ad_val *b_multiply_lower_tri_self_transpose(ad_tape *t, ad_val **a, int nargs)
{
  UNUSED(nargs);
  ad_val *L = a[0];
  size_t m, n;
  ad_shape2(L, &m, &n);
  size_t nd = L->nd;
  ad_val *A = ad_new_mat(t, VT_MATRIX, m, m, nd, L->adj != NULL);
  if (!A) return NULL;
  memset(A->x, 0, m * m * nd * sizeof(double));
  for (size_t i = 0; i < m; i++)
    for (size_t j = 0; j <= i; j++) {
      double *y = A->x + (i + j * m) * nd;
      for (size_t k = 0; k <= j && k < n; k++) {
        const double *li = L->x + (i + k * m) * nd, *lj = L->x + (j + k * m) * nd;
        for (size_t s = 0; s < nd; s++) y[s] += li[s] * lj[s];
      }
      if (i != j) memcpy(A->x + (j + i * m) * nd, y, nd * sizeof(double));
    }
  ad_val *in[1] = {L};
  ad_node *node = ad_push(t, mlt_backward, A, 1, in);
  if (node) { node->iarg[0] = (long)m; node->iarg[1] = (long)n; }
  return A;
}

/* Cholesky factor, column by column with the draw axis innermost; lower triangle of A
 * read only.  Not positive definite: NaN (the draw is rejected downstream). */
static void chol_backward(ad_tape *t, ad_node *node)
{
  ad_val *A = node->in[0], *L = node->out;
  size_t K = (size_t)node->iarg[0], nd = L->nd;
  double *Ls = ad_alloc(t, nz1(K * K) * 2 * sizeof(double));
  if (!Ls) return;
  double *P = Ls + K * K;
  for (size_t s = 0; s < nd; s++) {
    for (size_t e = 0; e < K * K; e++) Ls[e] = L->x[e * nd + s];
    int bad = 0;
    for (size_t i = 0; i < K; i++) if (!(Ls[i + i * K] > 0)) bad = 1;
    if (bad) continue;
    /* P = Phi(L^T Lbar): lower triangle, diagonal halved (only lower Lbar counts). */
    for (size_t i = 0; i < K; i++)
      for (size_t j = 0; j < K; j++) {
        double acc = 0;
        if (j <= i)
          for (size_t k = i; k < K; k++)   /* (L^T)_ik = L_ki, Lbar_kj, k >= j, k >= i */
            acc += Ls[k + i * K] * L->adj[(k + j * K) * nd + s];
        P[i + j * K] = j < i ? acc : j == i ? 0.5 * acc : 0.0;
      }
    /* S = L^{-T} P L^{-1}: solve L^T X = P, then S L = X. */
    cblas_dtrsm(CblasColMajor, CblasLeft, CblasLower, CblasTrans, CblasNonUnit, (int)K,
                (int)K, 1.0, Ls, (int)K, P, (int)K);
    cblas_dtrsm(CblasColMajor, CblasRight, CblasLower, CblasNoTrans, CblasNonUnit, (int)K,
                (int)K, 1.0, Ls, (int)K, P, (int)K);
    for (size_t j = 0; j < K; j++)
      for (size_t i = j; i < K; i++) {
        double g = i == j ? P[i + i * K] : P[i + j * K] + P[j + i * K];
        *ad_adjp(A, i + j * K, s) += g;
      }
  }
}

static ad_val *b_cholesky_decompose(ad_tape *t, ad_val **a, int nargs)
{
  UNUSED(nargs);
  ad_val *A = a[0];
  size_t K;
  if (square_check(t, A, "cholesky_decompose", &K)) return NULL;
  size_t nd = A->nd;
  ad_val *L = ad_new_mat(t, VT_MATRIX, K, K, nd, A->adj != NULL);
  if (!L) return NULL;
  memset(L->x, 0, K * K * nd * sizeof(double));
  for (size_t j = 0; j < K; j++) {
    double *ljj = L->x + (j + j * K) * nd;
    for (size_t s = 0; s < nd; s++) ljj[s] = A->x[(j + j * K) * nd + s];
    for (size_t k = 0; k < j; k++) {
      const double *ljk = L->x + (j + k * K) * nd;
      for (size_t s = 0; s < nd; s++) ljj[s] -= ljk[s] * ljk[s];
    }
    for (size_t s = 0; s < nd; s++) ljj[s] = ljj[s] > 0 ? sqrt(ljj[s]) : NAN;
    for (size_t i = j + 1; i < K; i++) {
      double *lij = L->x + (i + j * K) * nd;
      for (size_t s = 0; s < nd; s++) lij[s] = A->x[(i + j * K) * nd + s];
      for (size_t k = 0; k < j; k++) {
        const double *lik = L->x + (i + k * K) * nd, *ljk = L->x + (j + k * K) * nd;
        for (size_t s = 0; s < nd; s++) lij[s] -= lik[s] * ljk[s];
      }
      for (size_t s = 0; s < nd; s++) lij[s] /= ljj[s];
    }
  }
  ad_val *in[1] = {A};
  ad_node *node = ad_push(t, chol_backward, L, 1, in);
  if (node) node->iarg[0] = (long)K;
  ad_mark_shared(L);
  return L;
}

/* QR decomposition (qr_thin_Q, qr_thin_R, qr_Q, qr_R) by Householder reflections, per
 * draw, normalised as Stan does: R has a non-negative diagonal (rows of R and columns of
 * Q flipped together).  Used on data (the QR reparametrisation of a design matrix in
 * transformed data); the derivative is not implemented, so a parameter argument is an
 * error that says so.  which: 0 thin Q, 1 thin R, 2 full Q, 3 full R. */
static ad_val *qr_common(ad_tape *t, ad_val *A, int which, const char *fn)
{
  if (A->adj) {
    ad_tape_set_error(t, "%s of a matrix that depends on parameters is not supported yet "
                         "(use it on data, e.g. in transformed data)", fn);
    return NULL;
  }
  size_t N, K;
  ad_shape2(A, &N, &K);
  size_t m = N < K ? N : K, nd = A->nd;
  size_t qc = which == 0 ? m : N;            /* columns of Q */
  size_t rr = which == 1 ? m : N;            /* rows of R */
  int want_q = which == 0 || which == 2;
  ad_val *out = want_q ? ad_new_mat(t, VT_MATRIX, N, qc, nd, 0)
                       : ad_new_mat(t, VT_MATRIX, rr, K, nd, 0);
  double *W = ad_alloc(t, (N * K + N * (qc > 0 ? qc : 1) + N * (m > 0 ? m : 1) + m + 1)
                              * sizeof(double));
  if (!out || !W) return NULL;
  double *R = W, *Q = R + N * K, *V = Q + N * (qc > 0 ? qc : 1), *beta = V + N * (m > 0 ? m : 1);
  for (size_t s = 0; s < nd; s++) {
    for (size_t e = 0; e < N * K; e++) R[e] = A->x[e * nd + s];
    for (size_t j = 0; j < m; j++) {
      double *v = V + j * N, nx = 0;
      for (size_t i = j; i < N; i++) { v[i] = R[i + j * N]; nx += v[i] * v[i]; }
      nx = sqrt(nx);
      double alpha = v[j] > 0 ? -nx : nx, vn = 0;
      v[j] -= alpha;
      for (size_t i = j; i < N; i++) vn += v[i] * v[i];
      beta[j] = vn > 0 ? 2.0 / vn : 0.0;
      for (size_t c = j; c < K; c++) {
        double w = 0;
        for (size_t i = j; i < N; i++) w += v[i] * R[i + c * N];
        w *= beta[j];
        for (size_t i = j; i < N; i++) R[i + c * N] -= w * v[i];
      }
    }
    /* Q = H_0 ... H_{m-1} applied to the first qc columns of the identity */
    if (want_q) {
      for (size_t c = 0; c < qc; c++)
        for (size_t i = 0; i < N; i++) Q[i + c * N] = i == c ? 1.0 : 0.0;
      for (size_t j = m; j-- > 0;) {
        const double *v = V + j * N;
        for (size_t c = 0; c < qc; c++) {
          double w = 0;
          for (size_t i = j; i < N; i++) w += v[i] * Q[i + c * N];
          w *= beta[j];
          for (size_t i = j; i < N; i++) Q[i + c * N] -= w * v[i];
        }
      }
    }
    for (size_t i = 0; i < m; i++)
      if (R[i + i * N] < 0) {
        for (size_t c = i; c < K; c++) R[i + c * N] = -R[i + c * N];
        if (want_q) for (size_t r = 0; r < N; r++) Q[r + i * N] = -Q[r + i * N];
      }
    if (want_q) {
      for (size_t e = 0; e < N * qc; e++) out->x[e * nd + s] = Q[e];
    } else {
      for (size_t c = 0; c < K; c++)
        for (size_t r = 0; r < rr; r++)
          out->x[(r + c * rr) * nd + s] = r <= c ? R[r + c * N] : 0.0;
    }
  }
  return out;
}
static ad_val *b_qr_thin_Q(ad_tape *t, ad_val **a, int n) { UNUSED(n); return qr_common(t, a[0], 0, "qr_thin_Q"); }
static ad_val *b_qr_thin_R(ad_tape *t, ad_val **a, int n) { UNUSED(n); return qr_common(t, a[0], 1, "qr_thin_R"); }
static ad_val *b_qr_Q(ad_tape *t, ad_val **a, int n) { UNUSED(n); return qr_common(t, a[0], 2, "qr_Q"); }
static ad_val *b_qr_R(ad_tape *t, ad_val **a, int n) { UNUSED(n); return qr_common(t, a[0], 3, "qr_R"); }

/* mdivide_left_tri_low(L, B) = tril(L)^{-1} B by forward substitution; B a vector or
 * matrix.  Reverse: Bbar = L^{-T} Xbar, Lbar = -tril(Bbar X^T). */
static void mdl_tri_backward(ad_tape *t, ad_node *node)
{
  ad_val *L = node->in[0], *B = node->in[1], *X = node->out;
  size_t K = (size_t)node->iarg[0], C = (size_t)node->iarg[1], nd = X->nd;
  double *bb = ad_alloc(t, nz1(K) * nd * sizeof(double));
  if (!bb) return;
  for (size_t c = 0; c < C; c++) {
    /* back substitution: L^T bb = Xbar[:, c] */
    for (size_t i = K; i-- > 0;) {
      double *bi = bb + i * nd;
      const double *gx = X->adj + (i + c * K) * nd;
      for (size_t s = 0; s < nd; s++) bi[s] = gx[s];
      for (size_t k = i + 1; k < K; k++) {
        const double *bk = bb + k * nd;
        for (size_t s = 0; s < nd; s++) bi[s] -= ad_get(L, k + i * K, s) * bk[s];
      }
      for (size_t s = 0; s < nd; s++) bi[s] /= ad_get(L, i + i * K, s);
    }
    for (size_t i = 0; i < K; i++) {
      const double *bi = bb + i * nd;
      if (B->adj)
        for (size_t s = 0; s < nd; s++) *ad_adjp(B, i + c * K, s) += bi[s];
      if (L->adj)
        for (size_t k = 0; k <= i; k++)
          for (size_t s = 0; s < nd; s++)
            *ad_adjp(L, i + k * K, s) -= bi[s] * X->x[(k + c * K) * nd + s];
    }
  }
}

static ad_val *b_mdivide_left_tri_low(ad_tape *t, ad_val **a, int nargs)
{
  UNUSED(nargs);
  ad_val *L = a[0], *B = a[1];
  size_t K, r, C;
  if (square_check(t, L, "mdivide_left_tri_low", &K)) return NULL;
  ad_shape2(B, &r, &C);
  if (r != K) {
    ad_tape_set_error(t, "mdivide_left_tri_low: %zu x %zu matrix, right side with %zu rows",
                      K, K, r);
    return NULL;
  }
  size_t nd = ad_nd2(L, B);
  ad_val *X = ad_new_mat(t, B->type.base, K, C, nd, L->adj || B->adj);
  if (!X) return NULL;
  for (size_t c = 0; c < C; c++)
    for (size_t i = 0; i < K; i++) {
      double *xi = X->x + (i + c * K) * nd;
      for (size_t s = 0; s < nd; s++) xi[s] = ad_get(B, i + c * K, s);
      for (size_t k = 0; k < i; k++) {
        const double *xk = X->x + (k + c * K) * nd;
        for (size_t s = 0; s < nd; s++) xi[s] -= ad_get(L, i + k * K, s) * xk[s];
      }
      for (size_t s = 0; s < nd; s++) xi[s] /= ad_get(L, i + i * K, s);
    }
  ad_val *in[2] = {L, B};
  ad_node *node = ad_push(t, mdl_tri_backward, X, 2, in);
  if (node) { node->iarg[0] = (long)K; node->iarg[1] = (long)C; }
  ad_mark_shared(X);
  return X;
}

/* mdivide_right_tri_low(B, L) = B tril(L)^{-1} = (tril(L)^{-T} B^T)^T: through the
 * transposes, with L^T upper triangular solved by back substitution. */
static void mdr_tri_backward(ad_tape *t, ad_node *node)
{
  ad_val *B = node->in[0], *L = node->in[1], *X = node->out;
  size_t R = (size_t)node->iarg[0], K = (size_t)node->iarg[1], nd = X->nd;
  double *bb = ad_alloc(t, nz1(K) * nd * sizeof(double));
  if (!bb) return;
  /* Row r: x L = b.  Bbar_r L^T = Xbar_r  ->  L Bbar_r^T = Xbar_r^T: forward subst. */
  for (size_t r = 0; r < R; r++) {
    for (size_t i = 0; i < K; i++) {
      double *bi = bb + i * nd;
      const double *gx = X->adj + (r + i * R) * nd;
      for (size_t s = 0; s < nd; s++) bi[s] = gx[s];
      for (size_t k = 0; k < i; k++) {
        const double *bk = bb + k * nd;
        for (size_t s = 0; s < nd; s++) bi[s] -= ad_get(L, i + k * K, s) * bk[s];
      }
      for (size_t s = 0; s < nd; s++) bi[s] /= ad_get(L, i + i * K, s);
    }
    for (size_t j = 0; j < K; j++) {
      const double *bj = bb + j * nd;
      if (B->adj)
        for (size_t s = 0; s < nd; s++) *ad_adjp(B, r + j * R, s) += bj[s];
      /* Lbar = -X^T Bbar: Lbar_kj -= x_k bbar_j for k >= j */
      if (L->adj)
        for (size_t k = j; k < K; k++)
          for (size_t s = 0; s < nd; s++)
            *ad_adjp(L, k + j * K, s) -= X->x[(r + k * R) * nd + s] * bj[s];
    }
  }
}

static ad_val *b_mdivide_right_tri_low(ad_tape *t, ad_val **a, int nargs)
{
  UNUSED(nargs);
  ad_val *B = a[0], *L = a[1];
  size_t K, R, c;
  if (square_check(t, L, "mdivide_right_tri_low", &K)) return NULL;
  ad_shape2(B, &R, &c);
  if (c != K) {
    ad_tape_set_error(t, "mdivide_right_tri_low: left side with %zu columns, %zu x %zu matrix",
                      c, K, K);
    return NULL;
  }
  size_t nd = ad_nd2(L, B);
  ad_val *X = ad_new_mat(t, B->type.base, R, K, nd, L->adj || B->adj);
  if (!X) return NULL;
  /* x L = b: x_j = (b_j - sum_{k > j} x_k L_kj) / L_jj, j from the last. */
  for (size_t r = 0; r < R; r++)
    for (size_t j = K; j-- > 0;) {
      double *xj = X->x + (r + j * R) * nd;
      for (size_t s = 0; s < nd; s++) xj[s] = ad_get(B, r + j * R, s);
      for (size_t k = j + 1; k < K; k++) {
        const double *xk = X->x + (r + k * R) * nd;
        for (size_t s = 0; s < nd; s++) xj[s] -= xk[s] * ad_get(L, k + j * K, s);
      }
      for (size_t s = 0; s < nd; s++) xj[s] /= ad_get(L, j + j * K, s);
    }
  ad_val *in[2] = {B, L};
  ad_node *node = ad_push(t, mdr_tri_backward, X, 2, in);
  if (node) { node->iarg[0] = (long)R; node->iarg[1] = (long)K; }
  ad_mark_shared(X);
  return X;
}

static ad_val *b_inverse(ad_tape *t, ad_val **a, int nargs)
{
  UNUSED(nargs);
  return ad_inverse(t, a[0]);
}

/* mdivide_left(A, B) = A \ B, mdivide_right(B, A) = B / A (and the _spd forms). */
static ad_val *b_mdivide_left(ad_tape *t, ad_val **a, int n)
{
  UNUSED(n);
  return ad_binary(t, OP_LDIV, a[0], a[1]);
}
static ad_val *b_mdivide_right(ad_tape *t, ad_val **a, int n)
{
  UNUSED(n);
  return ad_binary(t, OP_DIV, a[0], a[1]);
}

/* log_determinant / determinant: d log|det A| / dA = A^{-T}. */
static void logdet_backward(ad_tape *t, ad_node *node)
{
  UNUSED(t);
  ad_val *A = node->in[0], *y = node->out;
  size_t K = (size_t)node->iarg[0], nd = y->nd;
  int isdet = (int)node->iarg[1];
  const double *inv = node->saved;
  for (size_t i = 0; i < K; i++)
    for (size_t j = 0; j < K; j++)
      for (size_t s = 0; s < nd; s++) {
        double g = y->adj[s] * (isdet ? y->x[s] : 1.0);
        *ad_adjp(A, i + j * K, s) += g * inv[(j + i * K) * nd + s];
      }
}

static ad_val *logdet_common(ad_tape *t, ad_val *A, int isdet)
{
  size_t K;
  if (square_check(t, A, isdet ? "determinant" : "log_determinant", &K)) return NULL;
  size_t nd = A->nd;
  ad_val *y = ad_new_nd(t, ty_of(VT_REAL, 0), 0, NULL, nd, A->adj != NULL);
  double *inv = ad_alloc(t, nz1(K * K) * nd * sizeof(double));
  double *lad = ad_alloc(t, 2 * nd * sizeof(double));
  if (!y || !inv || !lad || ad_inverse_draws(t, A, K, inv, lad, lad + nd)) return NULL;
  for (size_t s = 0; s < nd; s++)
    y->x[s] = isdet ? lad[nd + s] * exp(lad[s]) : lad[s];
  ad_val *in[1] = {A};
  ad_node *node = ad_push(t, logdet_backward, y, 1, in);
  if (node) { node->iarg[0] = (long)K; node->iarg[1] = isdet; node->saved = inv; }
  return y;
}
static ad_val *b_log_determinant(ad_tape *t, ad_val **a, int n) { UNUSED(n); return logdet_common(t, a[0], 0); }
static ad_val *b_determinant(ad_tape *t, ad_val **a, int n) { UNUSED(n); return logdet_common(t, a[0], 1); }

/* Compositions. */
static ad_val *b_crossprod(ad_tape *t, ad_val **a, int n)
{
  UNUSED(n);
  ad_val *tr = ad_unary(t, OP_TRANSPOSE, a[0]);
  return tr ? ad_binary(t, OP_MUL, tr, a[0]) : NULL;
}
static ad_val *b_tcrossprod(ad_tape *t, ad_val **a, int n)
{
  UNUSED(n);
  ad_val *tr = ad_unary(t, OP_TRANSPOSE, a[0]);
  return tr ? ad_binary(t, OP_MUL, a[0], tr) : NULL;
}
/* quad_form(A, B) = B' A B; quad_form_sym the same (A symmetric). */
static ad_val *b_quad_form(ad_tape *t, ad_val **a, int n)
{
  UNUSED(n);
  ad_val *bt = ad_unary(t, OP_TRANSPOSE, a[1]);
  ad_val *ab = ad_binary(t, OP_MUL, a[0], a[1]);
  return bt && ab ? ad_binary(t, OP_MUL, bt, ab) : NULL;
}
/* quad_form_diag(M, v) = diag(v) M diag(v). */
static ad_val *b_quad_form_diag(ad_tape *t, ad_val **a, int n)
{
  UNUSED(n);
  ad_val *m = group_scale(t, a[1], a[0], 1, "quad_form_diag");
  return m ? group_scale(t, a[1], m, 0, "quad_form_diag") : NULL;
}
static ad_val *b_trace(ad_tape *t, ad_val **a, int n)
{
  ad_val *d = b_diagonal(t, a, n);
  return d ? ad_sum_all(t, d) : NULL;
}
static ad_val *b_squared_distance(ad_tape *t, ad_val **a, int n)
{
  UNUSED(n);
  if (a[0]->len != a[1]->len) {
    ad_tape_set_error(t, "squared_distance: size mismatch (%zu and %zu)", a[0]->len, a[1]->len);
    return NULL;
  }
  ad_val *b = a[1];
  if (b->type.base != a[0]->type.base) {
    b = retype(t, b, a[0]->type, a[0]->ndims, a[0]->dims);
    if (!b) return NULL;
  }
  ad_val *d = ad_map2(t, a[0], b, f_sub, d_sub, 0);
  return d ? grouped_dot(t, d, d, VT_REAL, 1, 1, 1, "squared_distance") : NULL;
}
static ad_val *b_distance(ad_tape *t, ad_val **a, int n)
{
  ad_val *d = b_squared_distance(t, a, n);
  return d ? ad_map1(t, d, sqrt, d_sqrt, 0) : NULL;
}
static ad_val *b_norm2(ad_tape *t, ad_val **a, int n)
{
  UNUSED(n);
  ad_val *d = grouped_dot(t, a[0], a[0], VT_REAL, 1, 1, 1, "norm2");
  return d ? ad_map1(t, d, sqrt, d_sqrt, 0) : NULL;
}
static ad_val *b_norm1(ad_tape *t, ad_val **a, int n)
{
  UNUSED(n);
  ad_val *d = ad_map1(t, a[0], fabs, d_fabs, 0);
  return d ? ad_sum_all(t, d) : NULL;
}
/* log_mix(vector theta, vector lp) = log_sum_exp(log(theta) + lp). */
static ad_val *b_log_mix_vec(ad_tape *t, ad_val **a, int n)
{
  UNUSED(n);
  if (a[0]->len != a[1]->len) {
    ad_tape_set_error(t, "log_mix: %zu mixing proportions, %zu densities", a[0]->len,
                      a[1]->len);
    return NULL;
  }
  ad_val *lt = ad_map1(t, a[0], log, d_log, 0);
  ad_val *s = lt ? ad_map2(t, lt, a[1], f_add, d_add, 0) : NULL;
  return s ? b_log_sum_exp1(t, &s, 1) : NULL;
}

/* gp_exp_quad_cov(x, sigma, l) (cov_exp_quad): K_ij = sigma^2 exp(-|x_i - x_j|^2 / (2 l^2)),
 * x a real[] or an array of vectors. */
static void sqdist_backward(ad_tape *t, ad_node *node)
{
  UNUSED(t);
  ad_val *x = node->in[0], *D = node->out;
  size_t N = (size_t)node->iarg[0], d = (size_t)node->iarg[1], nd = D->nd;
  for (size_t i = 0; i < N; i++)
    for (size_t j = 0; j < N; j++) {
      const double *g = D->adj + (i + j * N) * nd;
      for (size_t k = 0; k < d; k++)
        for (size_t s = 0; s < nd; s++) {
          double diff = ad_get(x, i * d + k, s) - ad_get(x, j * d + k, s);
          *ad_adjp(x, i * d + k, s) += 2 * g[s] * diff;
          *ad_adjp(x, j * d + k, s) -= 2 * g[s] * diff;
        }
    }
}

static ad_val *sq_dists(ad_tape *t, ad_val *x)
{
  size_t N = x->ndims ? x->dims[0] : 1, d = N ? x->len / N : 1, nd = x->nd;
  ad_val *D = ad_new_mat(t, VT_MATRIX, N, N, nd, x->adj != NULL);
  if (!D) return NULL;
  for (size_t i = 0; i < N; i++)
    for (size_t j = 0; j < N; j++)
      for (size_t s = 0; s < nd; s++) {
        double acc = 0;
        for (size_t k = 0; k < d; k++) {
          double diff = ad_get(x, i * d + k, s) - ad_get(x, j * d + k, s);
          acc += diff * diff;
        }
        D->x[(i + j * N) * nd + s] = acc;
      }
  ad_val *in[1] = {x};
  ad_node *node = ad_push(t, sqdist_backward, D, 1, in);
  if (node) { node->iarg[0] = (long)N; node->iarg[1] = (long)d; }
  return D;
}

static ad_val *b_gp_exp_quad_cov(ad_tape *t, ad_val **a, int n)
{
  UNUSED(n);
  ad_val *x = a[0];
  if (x->type.base == VT_INT) x = ad_to_real(t, x);
  if (!x) return NULL;
  ad_val *D = sq_dists(t, x);
  ad_val *l2 = ad_map1(t, a[2], f_square, d_square, 0);
  ad_val *m2 = ad_scalar(t, -2.0, 0);
  ad_val *den = l2 && m2 ? ad_binary(t, OP_MUL, m2, l2) : NULL;
  ad_val *q = D && den ? ad_binary(t, OP_DIV, D, den) : NULL;
  ad_val *e = q ? ad_map1(t, q, exp, d_exp, 0) : NULL;
  ad_val *s2 = ad_map1(t, a[1], f_square, d_square, 0);
  return e && s2 ? ad_binary(t, OP_MUL, s2, e) : NULL;
}

/* The cross-covariance forms gp_*_cov(x1, x2, sigma, l) (an N1 x N2 matrix, the
 * prediction step of GP models) and the Matern / exponential kernels share the squared
 * distances D_ij = |x1_i - x2_j|^2. */
static void sqdist2_backward(ad_tape *t, ad_node *node)
{
  UNUSED(t);
  ad_val *x1 = node->in[0], *x2 = node->in[1], *D = node->out;
  size_t N1 = (size_t)node->iarg[0], N2 = (size_t)node->iarg[1], d = (size_t)node->iarg[2];
  size_t nd = D->nd;
  for (size_t i = 0; i < N1; i++)
    for (size_t j = 0; j < N2; j++) {
      const double *g = D->adj + (i + j * N1) * nd;
      for (size_t k = 0; k < d; k++)
        for (size_t s = 0; s < nd; s++) {
          double diff = ad_get(x1, i * d + k, s) - ad_get(x2, j * d + k, s);
          if (x1->adj) *ad_adjp(x1, i * d + k, s) += 2 * g[s] * diff;
          if (x2->adj) *ad_adjp(x2, j * d + k, s) -= 2 * g[s] * diff;
        }
    }
}

static ad_val *sq_dists2(ad_tape *t, ad_val *x1, ad_val *x2)
{
  size_t N1 = x1->ndims ? x1->dims[0] : 1, d = N1 ? x1->len / N1 : 1;
  size_t N2 = x2->ndims ? x2->dims[0] : 1, d2 = N2 ? x2->len / N2 : 1;
  if (N1 && N2 && d != d2) {
    ad_tape_set_error(t, "covariance function: points of dimension %zu and %zu", d, d2);
    return NULL;
  }
  size_t nd = ad_nd2(x1, x2);
  ad_val *in[2] = {x1, x2};
  ad_val *D = ad_new_mat(t, VT_MATRIX, N1, N2, nd, ad_wants_adj(t, in, 2));
  if (!D) return NULL;
  for (size_t i = 0; i < N1; i++)
    for (size_t j = 0; j < N2; j++)
      for (size_t s = 0; s < nd; s++) {
        double acc = 0;
        for (size_t k = 0; k < d; k++) {
          double diff = ad_get(x1, i * d + k, s) - ad_get(x2, j * d + k, s);
          acc += diff * diff;
        }
        D->x[(i + j * N1) * nd + s] = acc;
      }
  ad_node *node = ad_push(t, sqdist2_backward, D, 2, in);
  if (node) { node->iarg[0] = (long)N1; node->iarg[1] = (long)N2; node->iarg[2] = (long)d; }
  return D;
}

/* sqrt with derivative 0 at 0: distances on the diagonal, where the Matern kernels are
 * flat (the exponential kernel's kink gets the subgradient 0). */
static double d_sqrt0(double x, double y) { return x > 0 ? 0.5 / y : 0.0; }

enum { GP_EXP_QUAD, GP_EXPONENTIAL, GP_MATERN32, GP_MATERN52 };

static ad_val *gp_kernel(ad_tape *t, ad_val *x1, ad_val *x2, ad_val *sigma, ad_val *l,
                         int kind)
{
  if (x1->type.base == VT_INT && !(x1 = ad_to_real(t, x1))) return NULL;
  if (x2 && x2->type.base == VT_INT && !(x2 = ad_to_real(t, x2))) return NULL;
  ad_val *D = x2 ? sq_dists2(t, x1, x2) : sq_dists(t, x1);
  ad_val *s2 = ad_map1(t, sigma, f_square, d_square, 0), *k = NULL;
  if (!D || !s2) return NULL;
  if (kind == GP_EXP_QUAD) {
    ad_val *l2 = ad_map1(t, l, f_square, d_square, 0);
    ad_val *m2 = ad_scalar(t, -2.0, 0);
    ad_val *den = l2 && m2 ? ad_binary(t, OP_MUL, m2, l2) : NULL;
    ad_val *q = den ? ad_binary(t, OP_DIV, D, den) : NULL;
    k = q ? ad_map1(t, q, exp, d_exp, 0) : NULL;
  } else {
    ad_val *dist = ad_map1(t, D, sqrt, d_sqrt0, 0);
    ad_val *r = dist ? ad_binary(t, OP_DIV, dist, l) : NULL;   /* d / l */
    if (!r) return NULL;
    double c = kind == GP_EXPONENTIAL ? 1.0 : kind == GP_MATERN32 ? sqrt(3.0) : sqrt(5.0);
    ad_val *cr = ad_binary(t, OP_MUL, ad_scalar(t, c, 0), r);
    ad_val *ncr = cr ? ad_unary(t, OP_NEG, cr) : NULL;
    ad_val *e = ncr ? ad_map1(t, ncr, exp, d_exp, 0) : NULL;
    if (!e) return NULL;
    if (kind == GP_EXPONENTIAL) {
      k = e;
    } else {
      ad_val *poly = ad_binary(t, OP_ADD, ad_scalar(t, 1.0, 0), cr);
      if (poly && kind == GP_MATERN52) {
        ad_val *r2 = ad_map1(t, r, f_square, d_square, 0);
        ad_val *t2 = r2 ? ad_binary(t, OP_MUL, ad_scalar(t, 5.0 / 3.0, 0), r2) : NULL;
        poly = t2 ? ad_binary(t, OP_ADD, poly, t2) : NULL;
      }
      k = poly ? ad_binary(t, OP_EMUL, poly, e) : NULL;
    }
  }
  return k ? ad_binary(t, OP_MUL, s2, k) : NULL;
}

static ad_val *b_gp_exp_quad_cov2(ad_tape *t, ad_val **a, int n)
{ UNUSED(n); return gp_kernel(t, a[0], a[1], a[2], a[3], GP_EXP_QUAD); }
static ad_val *b_gp_exponential_cov(ad_tape *t, ad_val **a, int n)
{ UNUSED(n); return gp_kernel(t, a[0], NULL, a[1], a[2], GP_EXPONENTIAL); }
static ad_val *b_gp_exponential_cov2(ad_tape *t, ad_val **a, int n)
{ UNUSED(n); return gp_kernel(t, a[0], a[1], a[2], a[3], GP_EXPONENTIAL); }
static ad_val *b_gp_matern32_cov(ad_tape *t, ad_val **a, int n)
{ UNUSED(n); return gp_kernel(t, a[0], NULL, a[1], a[2], GP_MATERN32); }
static ad_val *b_gp_matern32_cov2(ad_tape *t, ad_val **a, int n)
{ UNUSED(n); return gp_kernel(t, a[0], a[1], a[2], a[3], GP_MATERN32); }
static ad_val *b_gp_matern52_cov(ad_tape *t, ad_val **a, int n)
{ UNUSED(n); return gp_kernel(t, a[0], NULL, a[1], a[2], GP_MATERN52); }
static ad_val *b_gp_matern52_cov2(ad_tape *t, ad_val **a, int n)
{ UNUSED(n); return gp_kernel(t, a[0], a[1], a[2], a[3], GP_MATERN52); }

/* ARD (one length scale per input dimension): the kernels of points x[i] ./ l with
 * length scale 1.  x an array of N vectors of size d, l a real[d]. */
static void ard_backward(ad_tape *t, ad_node *node)
{
  UNUSED(t);
  ad_val *x = node->in[0], *l = node->in[1], *o = node->out;
  size_t N = (size_t)node->iarg[0], d = (size_t)node->iarg[1];
  for (size_t i = 0; i < N; i++)
    for (size_t k = 0; k < d; k++)
      for (size_t s = 0; s < o->nd; s++) {
        double g = o->adj[(i * d + k) * o->nd + s], lk = ad_get(l, k, s);
        if (x->adj) *ad_adjp(x, i * d + k, s) += g / lk;
        if (l->adj) *ad_adjp(l, k, s) -= g * ad_get(x, i * d + k, s) / (lk * lk);
      }
}

static ad_val *ard_scale(ad_tape *t, ad_val *x, ad_val *l)
{
  size_t N = x->ndims ? x->dims[0] : 1, d = N ? x->len / N : 1;
  if (l->len != d) {
    ad_tape_set_error(t, "%zu length scales for points of dimension %zu", l->len, d);
    return NULL;
  }
  ad_val *in[2] = {x, l};
  size_t nd = ad_nd2(x, l);
  ad_val *o = ad_new(t, x->type, x->ndims, x->dims, nd > 1, ad_wants_adj(t, in, 2));
  if (!o) return NULL;
  for (size_t i = 0; i < N; i++)
    for (size_t k = 0; k < d; k++)
      for (size_t s = 0; s < nd; s++)
        o->x[(i * d + k) * nd + s] = ad_get(x, i * d + k, s) / ad_get(l, k, s);
  ad_node *node = ad_push(t, ard_backward, o, 2, in);
  if (node) { node->iarg[0] = (long)N; node->iarg[1] = (long)d; }
  return o;
}

static ad_val *gp_ard(ad_tape *t, ad_val *x1, ad_val *x2, ad_val *sigma, ad_val *l, int kind)
{
  ad_val *one = ad_scalar(t, 1.0, 0), *s1 = ard_scale(t, x1, l), *s2 = NULL;
  if (!one || !s1 || (x2 && !(s2 = ard_scale(t, x2, l)))) return NULL;
  return gp_kernel(t, s1, s2, sigma, one, kind);
}

static ad_val *b_gp_exp_quad_ard(ad_tape *t, ad_val **a, int n)
{ UNUSED(n); return gp_ard(t, a[0], NULL, a[1], a[2], GP_EXP_QUAD); }
static ad_val *b_gp_exp_quad_ard2(ad_tape *t, ad_val **a, int n)
{ UNUSED(n); return gp_ard(t, a[0], a[1], a[2], a[3], GP_EXP_QUAD); }
static ad_val *b_gp_exponential_ard(ad_tape *t, ad_val **a, int n)
{ UNUSED(n); return gp_ard(t, a[0], NULL, a[1], a[2], GP_EXPONENTIAL); }
static ad_val *b_gp_exponential_ard2(ad_tape *t, ad_val **a, int n)
{ UNUSED(n); return gp_ard(t, a[0], a[1], a[2], a[3], GP_EXPONENTIAL); }
static ad_val *b_gp_matern32_ard(ad_tape *t, ad_val **a, int n)
{ UNUSED(n); return gp_ard(t, a[0], NULL, a[1], a[2], GP_MATERN32); }
static ad_val *b_gp_matern32_ard2(ad_tape *t, ad_val **a, int n)
{ UNUSED(n); return gp_ard(t, a[0], a[1], a[2], a[3], GP_MATERN32); }
static ad_val *b_gp_matern52_ard(ad_tape *t, ad_val **a, int n)
{ UNUSED(n); return gp_ard(t, a[0], NULL, a[1], a[2], GP_MATERN52); }
static ad_val *b_gp_matern52_ard2(ad_tape *t, ad_val **a, int n)
{ UNUSED(n); return gp_ard(t, a[0], a[1], a[2], a[3], GP_MATERN52); }

/* gp_periodic_cov(x, sigma, l, p): sigma^2 exp(-2 sin^2(pi |x_i - x_j| / p) / l^2). */
static ad_val *gp_periodic(ad_tape *t, ad_val *x1, ad_val *x2, ad_val *sigma, ad_val *l,
                           ad_val *p)
{
  if (x1->type.base == VT_INT && !(x1 = ad_to_real(t, x1))) return NULL;
  if (x2 && x2->type.base == VT_INT && !(x2 = ad_to_real(t, x2))) return NULL;
  ad_val *D = x2 ? sq_dists2(t, x1, x2) : sq_dists(t, x1);
  ad_val *dist = D ? ad_map1(t, D, sqrt, d_sqrt0, 0) : NULL;
  ad_val *pi_p = ad_binary(t, OP_DIV, ad_scalar(t, M_PI, 0), p);
  ad_val *arg = dist && pi_p ? ad_binary(t, OP_MUL, pi_p, dist) : NULL;
  ad_val *sn = arg ? ad_map1(t, arg, sin, d_sin, 0) : NULL;
  ad_val *sn2 = sn ? ad_map1(t, sn, f_square, d_square, 0) : NULL;
  ad_val *l2 = ad_map1(t, l, f_square, d_square, 0);
  ad_val *c = l2 ? ad_binary(t, OP_DIV, ad_scalar(t, -2.0, 0), l2) : NULL;
  ad_val *q = sn2 && c ? ad_binary(t, OP_MUL, c, sn2) : NULL;
  ad_val *e = q ? ad_map1(t, q, exp, d_exp, 0) : NULL;
  ad_val *s2 = ad_map1(t, sigma, f_square, d_square, 0);
  return e && s2 ? ad_binary(t, OP_MUL, s2, e) : NULL;
}

static ad_val *b_gp_periodic_cov(ad_tape *t, ad_val **a, int n)
{ UNUSED(n); return gp_periodic(t, a[0], NULL, a[1], a[2], a[3]); }
static ad_val *b_gp_periodic_cov2(ad_tape *t, ad_val **a, int n)
{ UNUSED(n); return gp_periodic(t, a[0], a[1], a[2], a[3], a[4]); }

/* gp_dot_prod_cov(x1[, x2], sigma): sigma^2 + x1_i . x2_j (the linear kernel). */
static void dot_gram_backward(ad_tape *t, ad_node *node)
{
  UNUSED(t);
  ad_val *x1 = node->in[0], *x2 = node->in[1], *K = node->out;
  size_t N1 = (size_t)node->iarg[0], N2 = (size_t)node->iarg[1], d = (size_t)node->iarg[2];
  for (size_t i = 0; i < N1; i++)
    for (size_t j = 0; j < N2; j++)
      for (size_t s = 0; s < K->nd; s++) {
        double g = K->adj[(i + j * N1) * K->nd + s];
        for (size_t k = 0; k < d; k++) {
          if (x1->adj) *ad_adjp(x1, i * d + k, s) += g * ad_get(x2, j * d + k, s);
          if (x2->adj) *ad_adjp(x2, j * d + k, s) += g * ad_get(x1, i * d + k, s);
        }
      }
}

static ad_val *gp_dot_prod(ad_tape *t, ad_val *x1, ad_val *x2, ad_val *sigma)
{
  if (x1->type.base == VT_INT && !(x1 = ad_to_real(t, x1))) return NULL;
  if (!x2) x2 = x1;
  else if (x2->type.base == VT_INT && !(x2 = ad_to_real(t, x2))) return NULL;
  size_t N1 = x1->ndims ? x1->dims[0] : 1, d = N1 ? x1->len / N1 : 1;
  size_t N2 = x2->ndims ? x2->dims[0] : 1, d2 = N2 ? x2->len / N2 : 1;
  if (N1 && N2 && d != d2) {
    ad_tape_set_error(t, "covariance function: points of dimension %zu and %zu", d, d2);
    return NULL;
  }
  ad_val *in[2] = {x1, x2};
  size_t nd = ad_nd2(x1, x2);
  ad_val *K = ad_new_mat(t, VT_MATRIX, N1, N2, nd, ad_wants_adj(t, in, 2));
  if (!K) return NULL;
  for (size_t i = 0; i < N1; i++)
    for (size_t j = 0; j < N2; j++)
      for (size_t s = 0; s < nd; s++) {
        double acc = 0;
        for (size_t k = 0; k < d; k++) acc += ad_get(x1, i * d + k, s) * ad_get(x2, j * d + k, s);
        K->x[(i + j * N1) * nd + s] = acc;
      }
  ad_node *node = ad_push(t, dot_gram_backward, K, 2, in);   /* x1 == x2 adds twice */
  if (node) { node->iarg[0] = (long)N1; node->iarg[1] = (long)N2; node->iarg[2] = (long)d; }
  ad_val *s2 = ad_map1(t, sigma, f_square, d_square, 0);
  return s2 ? ad_binary(t, OP_ADD, s2, K) : NULL;
}

static ad_val *b_gp_dot_prod_cov(ad_tape *t, ad_val **a, int n)
{ UNUSED(n); return gp_dot_prod(t, a[0], NULL, a[1]); }
static ad_val *b_gp_dot_prod_cov2(ad_tape *t, ad_val **a, int n)
{ UNUSED(n); return gp_dot_prod(t, a[0], a[1], a[2]); }

/* transpose(m): the ' operator as a function (older Stan models call it). */
static ad_val *b_transpose(ad_tape *t, ad_val **a, int n)
{ UNUSED(n); return ad_unary(t, OP_TRANSPOSE, a[0]); }

/* ---- more special functions ----------------------------------------------------- */

static double f_lmultiply(double a, double b) { return a == 0 && b == 0 ? 0.0 : a * log(b); }
static void d_lmultiply(double a, double b, double y, double *da, double *db)
{
  UNUSED(y);
  *da = a == 0 && b == 0 ? 0.0 : log(b);
  *db = a == 0 ? 0.0 : a / b;
}
static double f_binary_log_loss(double y, double p) { return y != 0 ? -log(p) : -log1p(-p); }
static void d_binary_log_loss(double y, double p, double v, double *da, double *db)
{
  UNUSED(v);
  *da = 0.0;
  *db = y != 0 ? -1.0 / p : 1.0 / (1.0 - p);
}
static double f_log_inv_logit_diff(double x, double y)
{
  if (!(x > y)) return x == y ? -INFINITY : NAN;
  return x - log1p_exp(x) + log1m_exp(y - x) - log1p_exp(y);
}
static void d_log_inv_logit_diff(double x, double y, double v, double *da, double *db)
{
  UNUSED(v);
  double e = expm1(x - y);
  *da = 1.0 - inv_logit(x) + 1.0 / e;
  *db = -1.0 / e - inv_logit(y);
}
static double f_log_falling_factorial(double x, double n)
{
  return f_lgamma(x + 1) - f_lgamma(x - n + 1);
}
static void d_log_falling_factorial(double x, double n, double y, double *da, double *db)
{
  UNUSED(y);
  double p = gsl_sf_psi(x - n + 1);
  *da = gsl_sf_psi(x + 1) - p; *db = p;
}
static double f_log_rising_factorial(double x, double n) { return f_lgamma(x + n) - f_lgamma(x); }
static void d_log_rising_factorial(double x, double n, double y, double *da, double *db)
{
  UNUSED(y);
  double p = gsl_sf_psi(x + n);
  *da = p - gsl_sf_psi(x); *db = p;
}
static double f_falling_factorial(double x, double n) { return exp(f_log_falling_factorial(x, n)); }
static void d_falling_factorial(double x, double n, double y, double *da, double *db)
{
  d_log_falling_factorial(x, n, y, da, db);
  *da *= y; *db = 0.0;
}
static double f_rising_factorial(double x, double n) { return exp(f_log_rising_factorial(x, n)); }
static void d_rising_factorial(double x, double n, double y, double *da, double *db)
{
  d_log_rising_factorial(x, n, y, da, db);
  *da *= y; *db = 0.0;
}
/* lmgamma(k, x) = k (k - 1) / 4 log(pi) + sum_{j=1..k} lgamma(x + (1 - j) / 2) */
static double f_lmgamma(double k, double x)
{
  double r = k * (k - 1) / 4.0 * log(M_PI);
  for (long j = 1; j <= (long)k; j++) r += f_lgamma(x + (1.0 - (double)j) / 2.0);
  return r;
}
static void d_lmgamma(double k, double x, double y, double *da, double *db)
{
  UNUSED(y);
  double r = 0;
  for (long j = 1; j <= (long)k; j++) r += gsl_sf_psi(x + (1.0 - (double)j) / 2.0);
  *da = 0.0; *db = r;
}

AD_BINARY_BUILTIN(lmultiply, f_lmultiply, d_lmultiply)
AD_BINARY_BUILTIN(binary_log_loss, f_binary_log_loss, d_binary_log_loss)
AD_BINARY_BUILTIN(log_inv_logit_diff, f_log_inv_logit_diff, d_log_inv_logit_diff)
AD_BINARY_BUILTIN(log_falling_factorial, f_log_falling_factorial, d_log_falling_factorial)
AD_BINARY_BUILTIN(log_rising_factorial, f_log_rising_factorial, d_log_rising_factorial)
AD_BINARY_BUILTIN(falling_factorial, f_falling_factorial, d_falling_factorial)
AD_BINARY_BUILTIN(rising_factorial, f_rising_factorial, d_rising_factorial)
AD_BINARY_BUILTIN(lmgamma, f_lmgamma, d_lmgamma)
static double f_falling_int(double x, double n) { return round(f_falling_factorial(x, n)); }
static double f_rising_int(double x, double n) { return round(f_rising_factorial(x, n)); }
BINARY_INT(falling_factorial_int, f_falling_int)
BINARY_INT(rising_factorial_int, f_rising_int)
/* to_int(x): truncation toward zero; outside the int range it is an error (Stan's). */
static ad_val *b_to_int(ad_tape *t, ad_val **a, int n)
{
  UNUSED(n);
  size_t m = a[0]->len * a[0]->nd;
  for (size_t i = 0; i < m; i++) {
    double v = a[0]->x[i];
    if (!(v > -2147483649.0 && v < 2147483648.0)) {
      ad_tape_set_error(t, "to_int: %g is outside the range of an int", v);
      return NULL;
    }
  }
  return ad_map1(t, a[0], trunc, NULL, 1);
}

/* beta(a, b) = exp(lbeta(a, b)). */
static ad_val *b_beta(ad_tape *t, ad_val **a, int n)
{
  ad_val *l = b_lbeta(t, a, n);
  return l ? ad_map1(t, l, exp, d_exp, 0) : NULL;
}

/* rank(v, s): the number of elements of v less than v[s]. */
static ad_val *b_rank(ad_tape *t, ad_val **a, int n)
{
  UNUSED(n);
  ad_val *v = a[0];
  long s1 = int_arg(a[1]);
  if (s1 < 1 || (size_t)s1 > v->len) {
    ad_tape_set_error(t, "rank: index %ld out of range [1, %zu]", s1, v->len);
    return NULL;
  }
  size_t nd = v->nd;
  ad_val *y = ad_new_nd(t, ty_of(VT_INT, 0), 0, NULL, nd, 0);
  if (!y) return NULL;
  for (size_t s = 0; s < nd; s++) {
    double ref = v->x[(size_t)(s1 - 1) * nd + s], c = 0;
    for (size_t e = 0; e < v->len; e++) c += v->x[e * nd + s] < ref;
    y->x[s] = c;
  }
  return y;
}

/* matrix_power(M, n) by repeated squaring of products on the tape. */
static ad_val *b_matrix_power(ad_tape *t, ad_val **a, int nargs)
{
  UNUSED(nargs);
  ad_val *M = a[0];
  size_t K;
  long p = int_arg(a[1]);
  if (square_check(t, M, "matrix_power", &K)) return NULL;
  if (p < 0) {
    ad_tape_set_error(t, "matrix_power: exponent must be non-negative, found %ld", p);
    return NULL;
  }
  ad_val *r = NULL, *base = M;
  while (p > 0) {
    if (p & 1) {
      r = r ? ad_binary(t, OP_MUL, r, base) : base;
      if (!r) return NULL;
    }
    p >>= 1;
    if (p) {
      base = ad_binary(t, OP_MUL, base, base);
      if (!base) return NULL;
    }
  }
  if (!r) {
    ad_val *kk = ad_scalar(t, (double)K, 1);
    return kk ? b_identity_matrix(t, &kk, 1) : NULL;
  }
  return r == M ? ad_copy(t, M) : r;
}

/* symmetrize_from_lower_tri(M): the lower triangle mirrored. */
static ad_val *b_symmetrize_from_lower_tri(ad_tape *t, ad_val **a, int n)
{
  UNUSED(n);
  size_t K;
  if (square_check(t, a[0], "symmetrize_from_lower_tri", &K)) return NULL;
  size_t *ii = idx_alloc(t, K * K);
  if (!ii) return NULL;
  for (size_t j = 0; j < K; j++)
    for (size_t i = 0; i < K; i++) ii[i + j * K] = i >= j ? i + j * K : j + i * K;
  size_t dims[2] = {K, K};
  return gather_new(t, ty_of(VT_MATRIX, 0), 2, dims, a[0], ii);
}

/* trace_quad_form(A, B) = trace(B' A B); trace_gen_quad_form(D, A, B) = trace(D B' A B). */
static ad_val *b_trace_quad_form(ad_tape *t, ad_val **a, int n)
{
  UNUSED(n);
  ad_val *ab = ad_binary(t, OP_MUL, a[0], a[1]);
  return ab ? grouped_dot(t, a[1], ab, VT_REAL, 1, 1, 1, "trace_quad_form") : NULL;
}
static ad_val *b_trace_gen_quad_form(ad_tape *t, ad_val **a, int n)
{
  UNUSED(n);
  ad_val *args[2] = {a[1], a[2]};
  ad_val *q = b_quad_form(t, args, 2);
  ad_val *dq = q ? ad_binary(t, OP_MUL, a[0], q) : NULL;
  return dq ? b_trace(t, &dq, 1) : NULL;
}

/* log_mix(vector theta, vector[] lps) = sum_n log_sum_exp(log(theta) + lps[n]). */
static ad_val *b_log_mix_arr(ad_tape *t, ad_val **a, int nargs)
{
  UNUSED(nargs);
  ad_val *lps = a[1];
  size_t N = lps->dims[0];
  ad_val *lt = ad_map1(t, a[0], log, d_log, 0);
  if (!lt) return NULL;
  ad_val *tot = ad_scalar(t, 0.0, 0);
  for (size_t i = 0; i < N && tot; i++) {
    ad_ix ix = {0, i, NULL, 0};
    ad_val *row = ad_index(t, lps, &ix, 1);
    if (!row) return NULL;
    if (row->len != lt->len) {
      ad_tape_set_error(t, "log_mix: %zu mixing proportions, %zu densities", lt->len, row->len);
      return NULL;
    }
    ad_val *s = ad_map2(t, lt, row, f_add, d_add, 0);
    ad_val *l = s ? b_log_sum_exp1(t, &s, 1) : NULL;
    tot = l ? ad_binary(t, OP_ADD, tot, l) : NULL;
  }
  return tot;
}

/* block(M, i, j, nr, nc), sub_col(M, i, j, nr), sub_row(M, i, j, nc), col(M, j),
 * row(M, i): rectangles of a matrix (1-based positions, checked). */
static ad_val *rect(ad_tape *t, ad_val *M, long i, long j, long nr, long nc, vi_basetype rt,
                    const char *fn)
{
  size_t r, c;
  ad_shape2(M, &r, &c);
  if (nr < 0 || nc < 0 || i < 1 || j < 1 || (size_t)(i - 1) + (size_t)nr > r ||
      (size_t)(j - 1) + (size_t)nc > c) {
    ad_tape_set_error(t, "%s: block at (%ld, %ld) of size %ld x %ld outside a %zu x %zu matrix",
                      fn, i, j, nr, nc, r, c);
    return NULL;
  }
  size_t R = (size_t)nr, C = (size_t)nc;
  size_t *ii = idx_alloc(t, R * C);
  if (!ii) return NULL;
  for (size_t q = 0; q < C; q++)
    for (size_t p = 0; p < R; p++) ii[p + q * R] = ((size_t)i - 1 + p) + ((size_t)j - 1 + q) * r;
  size_t dims[2] = {R, C};
  if (rt == VT_ROW_VECTOR) dims[0] = C;
  return gather_new(t, ty_of(rt, 0), rt == VT_MATRIX ? 2 : 1, dims, M, ii);
}
static ad_val *b_block(ad_tape *t, ad_val **a, int n)
{
  UNUSED(n);
  return rect(t, a[0], int_arg(a[1]), int_arg(a[2]), int_arg(a[3]), int_arg(a[4]), VT_MATRIX,
              "block");
}
static ad_val *b_sub_col(ad_tape *t, ad_val **a, int n)
{
  UNUSED(n);
  return rect(t, a[0], int_arg(a[1]), int_arg(a[2]), int_arg(a[3]), 1, VT_VECTOR, "sub_col");
}
static ad_val *b_sub_row(ad_tape *t, ad_val **a, int n)
{
  UNUSED(n);
  return rect(t, a[0], int_arg(a[1]), int_arg(a[2]), 1, int_arg(a[3]), VT_ROW_VECTOR, "sub_row");
}
static ad_val *b_col(ad_tape *t, ad_val **a, int n)
{
  UNUSED(n);
  size_t r, c;
  ad_shape2(a[0], &r, &c);
  return rect(t, a[0], 1, int_arg(a[1]), (long)r, 1, VT_VECTOR, "col");
}
static ad_val *b_row(ad_tape *t, ad_val **a, int n)
{
  UNUSED(n);
  size_t r, c;
  ad_shape2(a[0], &r, &c);
  return rect(t, a[0], int_arg(a[1]), 1, 1, (long)c, VT_ROW_VECTOR, "row");
}

/* ---- the table ------------------------------------------------------------------ */

#define BUILTIN(name, sig, impl) {name, sig, impl},
const builtin_def builtin_kernels_math[] = {
#include "lang/lib/table_math.def"
  {NULL, NULL, NULL}
};
#undef BUILTIN
