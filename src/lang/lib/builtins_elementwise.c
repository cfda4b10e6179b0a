/* builtins_elementwise.c: the elementwise functions of the model language: unary (exp, log, lgamma, ...)
 * and binary (pow, fmin, lbeta, ...) maps over any container, and the constants.
 * Batched over the draws with hand-written reverse-mode derivatives; meanings and
 * signatures follow the Stan Functions Reference (see math_impl.h for what these files
 * share).  A function outside its domain returns NaN, as Stan's do. */
#include "lang/ad/ad_kernels.h"
#include "lang/ad/vmath.h"
#include "lang/lib/lib.h"
#include "lang/lib/math_impl.h"

/* ---- builtins: unary elementwise ------------------------------------------------ */

#define UNARY(NAME, F, DF)                                           \
  static ad_val *b_##NAME(ad_tape *t, ad_val **a, int n)             \
  { UNUSED(n); return ad_map1(t, a[0], F, DF, 0); }
#define UNARY_INT(NAME, F)                                           \
  static ad_val *b_##NAME(ad_tape *t, ad_val **a, int n)             \
  { UNUSED(n); return ad_map1(t, a[0], F, NULL, 1); }

/* The values of these through vmath's vector routines (the derivatives stay scalar:
 * all but the logistic ones are arithmetic on x and y). */
#define UNARY_V(NAME, VF, DF)                                        \
  static ad_val *b_##NAME(ad_tape *t, ad_val **a, int n)             \
  { UNUSED(n); return ad_map1v(t, a[0], VF, DF); }

/* -log1p_exp(-x) and -log1p_exp(x) over arrays. */
static void v_log_inv_logit(double *y, const double *x, size_t n)
{
  enum { TILE = 256 };
  double b[TILE];
  for (size_t i0 = 0; i0 < n; i0 += TILE) {
    size_t m = n - i0 < TILE ? n - i0 : TILE;
    for (size_t k = 0; k < m; k++) b[k] = -x[i0 + k];
    vmath_log1p_exp(b, b, m);
    for (size_t k = 0; k < m; k++) y[i0 + k] = -b[k];
  }
}
static void v_log1m_inv_logit(double *y, const double *x, size_t n)
{
  vmath_log1p_exp(y, x, n);
  for (size_t i = 0; i < n; i++) y[i] = -y[i];
}

UNARY_V(exp, vmath_exp, d_exp)
UNARY_V(log, vmath_log, d_log)
UNARY_V(log1p, vmath_log1p, d_log1p)
UNARY_V(expm1, vmath_expm1, d_expm1)
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
UNARY_V(inv_logit, vmath_inv_logit, d_inv_logit)
UNARY(logit, f_logit, d_logit)
UNARY_V(log_inv_logit, v_log_inv_logit, d_log_inv_logit)
UNARY_V(log1m_inv_logit, v_log1m_inv_logit, d_log1m_inv_logit)
UNARY_V(log1p_exp, vmath_log1p_exp, d_log1p_exp)
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

/* beta(a, b) = exp(lbeta(a, b)). */
static ad_val *b_beta(ad_tape *t, ad_val **a, int n)
{
  ad_val *l = b_lbeta(t, a, n);
  return l ? ad_map1(t, l, exp, d_exp, 0) : NULL;
}

#define BUILTIN(name, sig, impl) {name, sig, impl},
const builtin_def builtin_kernels_elementwise[] = {
#include "lang/lib/table_elementwise.def"
  {NULL, NULL, NULL}
};
#undef BUILTIN
