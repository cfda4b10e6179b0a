/* builtins_special_more.c: special functions of Stan 2.36 that GSL lacks as such:
 * Owen's T function owens_t(h, a), the inverse of the regularized incomplete beta
 * function inv_inc_beta(a, b, p), the inverse complementary error function inv_erfc(x)
 * and the standard normal quantile of a log probability std_normal_log_qf(lp).
 *
 * owens_t: T(h, a) = 1/(2 pi) int_0^a exp(-h^2 (1 + x^2) / 2) / (1 + x^2) dx (Owen 1956),
 * even in h and odd in a.  For |a| <= 1 the integral by 40-point Gauss-Legendre on
 * [0, min(a, 9/h)] (beyond 9/h the integrand is below e^-40 of its value at 0); for
 * |a| > 1 through Owen's identity T(h, a) = (Phi(h) Q(ah) + Phi(ah) Q(h)) / 2 - T(ah, 1/a)
 * (h >= 0; Q = 1 - Phi, both from GSL without cancellation), which brings the
 * integral back to [0, 1].  Derivatives in closed form (Owen 1956, eq. 2.4):
 *   dT/dh = -phi(h) erf(a h / sqrt 2) / 2,  dT/da = exp(-h^2 (1 + a^2) / 2) / (2 pi (1 + a^2)).
 * inv_inc_beta: the root of I_x(a, b) = p by Newton's method safeguarded with bisection on
 * [0, 1] (GSL's gsl_sf_beta_inc); derivatives by the implicit function theorem,
 *   dx/dp = 1 / f(x),  dx/da = -(dI/da) / f(x),  dx/db = -(dI/db) / f(x),
 * f the beta density, dI/da and dI/db by central differences (relative step 1e-6, as
 * inc_beta's own, accurate to about 1e-8).
 * inv_erfc(x) = Q^-1(x / 2) / sqrt 2 (GSL's gsl_cdf_ugaussian_Qinv), d/dx = -sqrt(pi)/2 e^(y^2).
 * std_normal_log_qf(lp) = Phi^-1(e^lp): GSL's quantile where e^lp is representable
 * (Q^-1(-expm1(lp)) above lp = log 1/2, for accuracy near p = 1), then Newton steps on
 * log Phi(x) = lp with log Phi from gsl_sf_log_erfc, which also carry it below
 * lp = -700 where e^lp underflows; d/dlp = e^lp / phi(x). */
#include <float.h>
#include <math.h>
#include <gsl/gsl_cdf.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_math.h>
#include <gsl/gsl_sf_erf.h>
#include <gsl/gsl_sf_gamma.h>
#include "lang/ad/ad_kernels.h"
#include "lang/lib/lib.h"

/* ---- Owen's T ------------------------------------------------------------------------ */

/* 40-point Gauss-Legendre rule on [-1, 1]: the positive nodes and their weights (the
 * rule is symmetric), computed by Newton's method on P_40. */
static const double gl40[20][2] = {
  {0.99823770971055925, 0.004521277098533099},
  {0.99072623869945697, 0.010498284531152905},
  {0.9772599499837743, 0.016421058381907876},
  {0.95791681921379168, 0.022245849194166889},
  {0.93281280827867652, 0.027937006980023368},
  {0.90209880696887434, 0.033460195282547865},
  {0.86595950321225956, 0.038782167974471989},
  {0.8246122308333117, 0.043870908185673331},
  {0.77830565142651942, 0.048695807635072211},
  {0.7273182551899271, 0.053227846983936788},
  {0.67195668461417957, 0.057439769099391573},
  {0.6125538896679803, 0.06130624249292891},
  {0.54946712509512818, 0.064804013456601084},
  {0.4830758016861787, 0.067912045815233926},
  {0.41377920437160498, 0.070611647391286808},
  {0.34199409082575849, 0.072886582395804075},
  {0.26815218500725369, 0.074723169057968331},
  {0.19269758070137111, 0.076110361900626172},
  {0.11608407067525521, 0.077039818164248028},
  {0.038772417506050816, 0.077505947978424805},
};

/* int_0^a exp(-h^2 (1 + x^2) / 2) / (1 + x^2) dx / (2 pi) for h >= 0, 0 <= a <= 1. */
static double owens_t_quad(double h, double a)
{
  double u = h > 0 ? fmin(a, 9.0 / h) : a, c = 0.5 * u, acc = 0, h2 = 0.5 * h * h;
  for (int i = 0; i < 20; i++)
    for (int sg = -1; sg <= 1; sg += 2) {
      double x = c * (1.0 + sg * gl40[i][0]), q = 1.0 + x * x;
      acc += gl40[i][1] * exp(-h2 * q) / q;
    }
  return acc * c / (2 * M_PI);
}

static double f_owens_t(double h, double a)
{
  if (isnan(h) || isnan(a)) return NAN;
  double sg = a < 0 ? -1.0 : 1.0;
  h = fabs(h);
  a = fabs(a);
  if (a == 0) return 0.0;
  if (isinf(h)) return 0.0;
  if (isinf(a)) return sg * 0.5 * gsl_cdf_ugaussian_Q(h);
  if (h == 0) return sg * atan(a) / (2 * M_PI);
  if (a <= 1) return sg * owens_t_quad(h, a);
  double ah = a * h;
  double v = 0.5 * (gsl_cdf_ugaussian_P(h) * gsl_cdf_ugaussian_Q(ah) +
                    gsl_cdf_ugaussian_P(ah) * gsl_cdf_ugaussian_Q(h)) -
             owens_t_quad(ah, 1.0 / a);
  return sg * v;
}

static void d_owens_t(double h, double a, double y, double *dh, double *da)
{
  UNUSED(y);
  double q = 1.0 + a * a;
  *dh = -0.5 * exp(-0.5 * h * h) / sqrt(2 * M_PI) * erf(a * h / M_SQRT2);
  *da = isinf(a) ? 0.0 : exp(-0.5 * h * h * q) / (2 * M_PI * q);
}

AD_BINARY_BUILTIN(owens_t, f_owens_t, d_owens_t)

/* ---- inv_erfc ------------------------------------------------------------------------ */

static double f_inv_erfc(double x)
{
  if (!(x >= 0 && x <= 2)) return NAN;
  return gsl_cdf_ugaussian_Qinv(0.5 * x) / M_SQRT2;
}
static double d_inv_erfc(double x, double y)
{
  UNUSED(x);
  return -0.5 * sqrt(M_PI) * exp(y * y);
}
static ad_val *b_inv_erfc(ad_tape *t, ad_val **a, int n)
{ UNUSED(n); return ad_map1(t, a[0], f_inv_erfc, d_inv_erfc, 0); }

/* ---- std_normal_log_qf --------------------------------------------------------------- */

static double log_Phi(double x) { return gsl_sf_log_erfc(-x / M_SQRT2) - M_LN2; }
static double log_phi(double x) { return -0.5 * x * x - 0.5 * log(2 * M_PI); }

static double f_std_normal_log_qf(double lp)
{
  if (isnan(lp) || lp > 0) return NAN;
  if (lp == 0) return INFINITY;
  if (lp == -INFINITY) return -INFINITY;
  if (lp > -M_LN2) return gsl_cdf_ugaussian_Qinv(-expm1(lp));
  double x;
  if (lp > -700) {
    x = gsl_cdf_ugaussian_Pinv(exp(lp));
  } else {
    /* the tail: log Phi(x) ~ -x^2/2 - log(-x) - log(2 pi)/2 */
    double l = -2 * lp;
    x = -sqrt(l - log(l) - log(2 * M_PI));
  }
  /* Newton on g(x) = log Phi(x) - lp, g' = phi / Phi */
  for (int k = 0; k < 50; k++) {
    double lP = log_Phi(x), step = (lP - lp) / exp(log_phi(x) - lP);
    x -= step;
    if (fabs(step) <= 1e-15 * fmax(1.0, fabs(x))) break;
  }
  return x;
}
static double d_std_normal_log_qf(double lp, double x)
{
  return isfinite(x) ? exp(lp - log_phi(x)) : 0.0;
}
static ad_val *b_std_normal_log_qf(ad_tape *t, ad_val **a, int n)
{ UNUSED(n); return ad_map1(t, a[0], f_std_normal_log_qf, d_std_normal_log_qf, 0); }

/* ---- inv_inc_beta -------------------------------------------------------------------- */

static double inc_beta3(double a, double b, double x)
{
  gsl_sf_result r;
  if (x <= 0) return 0.0;
  if (x >= 1) return 1.0;
  int st = gsl_sf_beta_inc_e(a, b, x, &r);
  return st == GSL_SUCCESS ? r.val : st == GSL_EUNDRFLW ? 0.0 : NAN;
}

static double beta_density(double a, double b, double x)
{
  if (x <= 0 || x >= 1) return 0.0;
  return exp((a - 1) * log(x) + (b - 1) * log1p(-x) - gsl_sf_lnbeta(a, b));
}

static double inv_inc_beta(double a, double b, double p)
{
  if (!(a > 0) || !(b > 0) || !(p >= 0) || !(p <= 1)) return NAN;
  if (p == 0) return 0.0;
  if (p == 1) return 1.0;
  double lo = 0, hi = 1, x = a / (a + b);
  for (int k = 0; k < 400; k++) {
    double f = inc_beta3(a, b, x) - p;
    if (isnan(f)) return NAN;
    if (f == 0) return x;
    if (f < 0) lo = x; else hi = x;
    double d = beta_density(a, b, x), xn = d > 0 ? x - f / d : NAN;
    /* bisection when Newton leaves the bracket */
    if (!(xn > lo && xn < hi)) xn = 0.5 * (lo + hi);
    if (fabs(xn - x) <= 4 * DBL_EPSILON * x || hi - lo <= 4 * DBL_EPSILON * hi) return xn;
    x = xn;
  }
  return x;
}

static double inc_beta_dshape(double a, double b, double x, int k)
{
  double v = k ? b : a, h = 1e-6 * fmax(1.0, v);
  double hi = k ? inc_beta3(a, b + h, x) : inc_beta3(a + h, b, x);
  if (v - h <= 0) return (hi - inc_beta3(a, b, x)) / h;
  double lo = k ? inc_beta3(a, b - h, x) : inc_beta3(a - h, b, x);
  return (hi - lo) / (2 * h);
}

static void inv_inc_beta_backward(ad_tape *t, ad_node *node)
{
  UNUSED(t);
  ad_val *A = node->in[0], *B = node->in[1], *P = node->in[2], *o = node->out;
  for (size_t s = 0; s < o->nd; s++) {
    double g = o->adj[s], a = ad_get(A, 0, s), b = ad_get(B, 0, s), x = o->x[s];
    double f = beta_density(a, b, x);
    if (!(f > 0) || !isfinite(f)) continue;
    if (P->adj) *ad_adjp(P, 0, s) += g / f;
    if (A->adj) *ad_adjp(A, 0, s) -= g * inc_beta_dshape(a, b, x, 0) / f;
    if (B->adj) *ad_adjp(B, 0, s) -= g * inc_beta_dshape(a, b, x, 1) / f;
  }
}

static ad_val *b_inv_inc_beta(ad_tape *t, ad_val **a, int n)
{
  UNUSED(n);
  size_t nd = ad_nd2(a[0], a[1]);
  if (a[2]->nd > nd) nd = a[2]->nd;
  ad_val *o = ad_new_mat(t, VT_REAL, 0, 0, nd, ad_wants_adj(t, a, 3));
  if (!o) return NULL;
  for (size_t s = 0; s < nd; s++)
    o->x[s] = inv_inc_beta(ad_get(a[0], 0, s), ad_get(a[1], 0, s), ad_get(a[2], 0, s));
  if (o->adj) {
    ad_push(t, inv_inc_beta_backward, o, 3, a);
    ad_mark_shared(o);       /* the reverse step reads x */
  }
  return o;
}

#define BUILTIN(name, sig, impl) {name, sig, impl},
const builtin_def builtin_kernels_special_more[] = {
#include "lang/lib/table_special_more.def"
  {NULL, NULL, NULL}
};
#undef BUILTIN
