/* builtins_special.c: the special functions of the model language that GSL evaluates
 * (builtin_table_special[]): Bessel functions of integer order, log I of real order,
 * Lambert W, the regularized incomplete gamma and beta functions.
 *
 * Derivatives in x come from the classical identities (Abramowitz & Stegun 9.1.27,
 * 9.6.26, 6.5.25, 26.5.16; dW/dx = W / (x (1 + W))).  Derivatives in a shape or an
 * order (gamma_p's a, inc_beta's a and b, log_modified_bessel_first_kind's v) have no
 * closed form in GSL's terms: they are central differences with a step of 1e-6
 * relative, which is accurate to about 1e-8, ample for a gradient-based fit. */
#include <math.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_math.h>
#include <gsl/gsl_sf_bessel.h>
#include <gsl/gsl_sf_gamma.h>
#include <gsl/gsl_sf_lambert.h>
#include "lang/ad/ad_kernels.h"
#include "lang/lib/lib.h"


/* GSL's value: 0 on underflow, NaN where GSL reports a domain error or no convergence. */
static double gsl_value(int status, const gsl_sf_result *r)
{
  return status == GSL_SUCCESS ? r->val : status == GSL_EUNDRFLW ? 0.0 : NAN;
}

/* df/da (wrt 0) or df/db (wrt 1) by a central difference, or a forward one next to the
 * edge of the domain (a shape just above 0), where f(x - h) is not defined. */
static double central_diff(double (*f)(double, double), double a, double b, int wrt)
{
  double h = 1e-6 * fmax(1.0, fabs(wrt ? b : a));
  double hi = wrt ? f(a, b + h) : f(a + h, b), lo = wrt ? f(a, b - h) : f(a - h, b);
  return isnan(lo) ? (hi - f(a, b)) / h : (hi - lo) / (2 * h);
}

/* The same for inc_beta in a (k = 0) or b (k = 1). */
static double inc_beta(double a, double b, double x);
static double inc_beta_diff(double a, double b, double x, int k)
{
  double v = k ? b : a, h = 1e-6 * fmax(1.0, v);
  double hi = k ? inc_beta(a, b + h, x) : inc_beta(a + h, b, x);
  double lo = k ? inc_beta(a, b - h, x) : inc_beta(a - h, b, x);
  return isnan(lo) ? (hi - inc_beta(a, b, x)) / h : (hi - lo) / (2 * h);
}

/* ---- Bessel functions of integer order v (first argument, an int) ----------------- */

static double f_bessel_j(double v, double x)
{
  gsl_sf_result r;
  return gsl_value(gsl_sf_bessel_Jn_e((int)v, x, &r), &r);
}
static double f_bessel_y(double v, double x)
{
  gsl_sf_result r;
  return x > 0 ? gsl_value(gsl_sf_bessel_Yn_e((int)v, x, &r), &r) : NAN;
}
static double f_bessel_i(double v, double x)
{
  gsl_sf_result r;
  return gsl_value(gsl_sf_bessel_In_e((int)v, x, &r), &r);
}
static double f_bessel_k(double v, double x)
{
  gsl_sf_result r;
  return x > 0 ? gsl_value(gsl_sf_bessel_Kn_e((int)v, x, &r), &r) : NAN;
}

static void d_bessel_j(double v, double x, double y, double *dv, double *dx)
{
  UNUSED(y);
  *dv = 0;
  *dx = 0.5 * (f_bessel_j(v - 1, x) - f_bessel_j(v + 1, x));
}
static void d_bessel_y(double v, double x, double y, double *dv, double *dx)
{
  UNUSED(y);
  *dv = 0;
  *dx = 0.5 * (f_bessel_y(v - 1, x) - f_bessel_y(v + 1, x));
}
static void d_bessel_i(double v, double x, double y, double *dv, double *dx)
{
  UNUSED(y);
  *dv = 0;
  *dx = 0.5 * (f_bessel_i(v - 1, x) + f_bessel_i(v + 1, x));
}
static void d_bessel_k(double v, double x, double y, double *dv, double *dx)
{
  UNUSED(y);
  *dv = 0;
  *dx = -0.5 * (f_bessel_k(v - 1, x) + f_bessel_k(v + 1, x));
}

/* log I_v(z) for real v >= 0, z > 0, from the scaled I (no overflow for large z);
 * d/dz = I_{v+1}(z) / I_v(z) + v / z. */
static double f_log_bessel_i(double v, double z)
{
  if (!(v >= 0) || !(z > 0)) return z == 0 && v == 0 ? 0.0 : (z == 0 && v > 0 ? -INFINITY : NAN);
  gsl_sf_result r;
  double i = gsl_value(gsl_sf_bessel_Inu_scaled_e(v, z, &r), &r);
  return log(i) + z;
}
static void d_log_bessel_i(double v, double z, double y, double *dv, double *dz)
{
  *dz = exp(f_log_bessel_i(v + 1, z) - y) + v / z;
  *dv = central_diff(f_log_bessel_i, v, z, 0);
}

/* ---- Lambert W ------------------------------------------------------------------ */

static double f_lambert_w0(double x)
{
  gsl_sf_result r;
  return gsl_value(gsl_sf_lambert_W0_e(x, &r), &r);
}
static double f_lambert_wm1(double x)
{
  gsl_sf_result r;
  return x < 0 ? gsl_value(gsl_sf_lambert_Wm1_e(x, &r), &r) : NAN;
}
static double d_lambert(double x, double w) { return x == 0 ? 1.0 : w / (x * (1 + w)); }

/* ---- regularized incomplete gamma: P(a, z), Q(a, z) = 1 - P --------------------- */

static double f_gamma_p(double a, double z)
{
  if (!(a > 0) || !(z >= 0)) return NAN;
  gsl_sf_result r;
  return gsl_value(gsl_sf_gamma_inc_P_e(a, z, &r), &r);
}
static double f_gamma_q(double a, double z)
{
  if (!(a > 0) || !(z >= 0)) return NAN;
  gsl_sf_result r;
  return gsl_value(gsl_sf_gamma_inc_Q_e(a, z, &r), &r);
}
/* dP/dz = z^(a-1) e^-z / Gamma(a) */
static double gamma_density(double a, double z)
{
  return z > 0 ? exp((a - 1) * log(z) - z - lgamma(a)) : (a == 1 ? 1.0 : a < 1 ? INFINITY : 0.0);
}
static void d_gamma_p(double a, double z, double y, double *da, double *dz)
{
  UNUSED(y);
  *dz = gamma_density(a, z);
  *da = central_diff(f_gamma_p, a, z, 0);
}
static void d_gamma_q(double a, double z, double y, double *da, double *dz)
{
  UNUSED(y);
  *dz = -gamma_density(a, z);
  *da = central_diff(f_gamma_q, a, z, 0);
}


AD_BINARY_BUILTIN(bessel_first_kind, f_bessel_j, d_bessel_j)
AD_BINARY_BUILTIN(bessel_second_kind, f_bessel_y, d_bessel_y)
AD_BINARY_BUILTIN(modified_bessel_first_kind, f_bessel_i, d_bessel_i)
AD_BINARY_BUILTIN(modified_bessel_second_kind, f_bessel_k, d_bessel_k)
AD_BINARY_BUILTIN(log_modified_bessel_first_kind, f_log_bessel_i, d_log_bessel_i)
AD_BINARY_BUILTIN(gamma_p, f_gamma_p, d_gamma_p)
AD_BINARY_BUILTIN(gamma_q, f_gamma_q, d_gamma_q)

static ad_val *b_lambert_w0(ad_tape *t, ad_val **a, int n)
{ UNUSED(n); return ad_map1(t, a[0], f_lambert_w0, d_lambert, 0); }
static ad_val *b_lambert_wm1(ad_tape *t, ad_val **a, int n)
{ UNUSED(n); return ad_map1(t, a[0], f_lambert_wm1, d_lambert, 0); }

/* ---- inc_beta(a, b, x): the regularized incomplete beta function (scalars) ---------- */

static double inc_beta(double a, double b, double x)
{
  if (!(a > 0) || !(b > 0) || !(x >= 0) || !(x <= 1)) return NAN;
  gsl_sf_result r;
  return gsl_value(gsl_sf_beta_inc_e(a, b, x, &r), &r);
}

static void inc_beta_backward(ad_tape *t, ad_node *node)
{
  UNUSED(t);
  ad_val *A = node->in[0], *B = node->in[1], *X = node->in[2], *o = node->out;
  for (size_t s = 0; s < o->nd; s++) {
    double g = o->adj[s], a = ad_get(A, 0, s), b = ad_get(B, 0, s), x = ad_get(X, 0, s);
    if (X->adj && x > 0 && x < 1)
      *ad_adjp(X, 0, s) += g * exp((a - 1) * log(x) + (b - 1) * log1p(-x) - gsl_sf_lnbeta(a, b));
    if (A->adj) *ad_adjp(A, 0, s) += g * inc_beta_diff(a, b, x, 0);
    if (B->adj) *ad_adjp(B, 0, s) += g * inc_beta_diff(a, b, x, 1);
  }
}

static ad_val *b_inc_beta(ad_tape *t, ad_val **a, int n)
{
  UNUSED(n);
  size_t nd = ad_nd2(a[0], a[1]);
  if (a[2]->nd > nd) nd = a[2]->nd;
  ad_val *o = ad_new_mat(t, VT_REAL, 0, 0, nd, ad_wants_adj(t, a, 3));
  if (!o) return NULL;
  for (size_t s = 0; s < nd; s++)
    o->x[s] = inc_beta(ad_get(a[0], 0, s), ad_get(a[1], 0, s), ad_get(a[2], 0, s));
  ad_push(t, inc_beta_backward, o, 3, a);
  return o;
}

#define BUILTIN(name, sig, impl) {name, sig, impl},
const builtin_def builtin_kernels_special[] = {
#include "lang/lib/table_special.def"
  {NULL, NULL, NULL}
};
#undef BUILTIN
