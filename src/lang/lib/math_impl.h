/* math_impl.h: what the math builtin files (builtins_elementwise.c, _reduce.c,
 * _containers.c, _linalg.c) share: the scalar functions and their derivatives (inline),
 * small helpers, and a few kernels that other kernels compose.  Internal to lib/. */
#ifndef VI_LANG_LIB_MATH_IMPL_H
#define VI_LANG_LIB_MATH_IMPL_H

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

static inline double inv_logit(double x)
{
  if (x >= 0) return 1.0 / (1.0 + exp(-x));
  double e = exp(x);
  return e / (1.0 + e);
}
static inline double log1p_exp(double x) { return x > 0 ? x + log1p(exp(-x)) : log1p(exp(x)); }
static inline double log1m_exp(double x)
{
  if (x > 0) return NAN;
  return x > -M_LN2 ? log(-expm1(x)) : log1p(-exp(x));
}

static inline double d_exp(double x, double y) { UNUSED(x); return y; }
static inline double d_log(double x, double y) { UNUSED(y); return 1.0 / x; }
static inline double f_log1m(double x) { return log1p(-x); }
static inline double d_log1m(double x, double y) { UNUSED(y); return -1.0 / (1.0 - x); }
static inline double d_log1p(double x, double y) { UNUSED(y); return 1.0 / (1.0 + x); }
static inline double d_expm1(double x, double y) { UNUSED(x); return y + 1.0; }
static inline double d_log2(double x, double y) { UNUSED(y); return 1.0 / (x * M_LN2); }
static inline double d_log10(double x, double y) { UNUSED(y); return 1.0 / (x * M_LN10); }
static inline double d_exp2(double x, double y) { UNUSED(x); return y * M_LN2; }
static inline double d_sqrt(double x, double y) { UNUSED(x); return 0.5 / y; }
static inline double d_cbrt(double x, double y) { UNUSED(x); return 1.0 / (3.0 * y * y); }
static inline double f_square(double x) { return x * x; }
static inline double d_square(double x, double y) { UNUSED(y); return 2.0 * x; }
static inline double d_fabs(double x, double y) { UNUSED(y); return x > 0 ? 1.0 : x < 0 ? -1.0 : 0.0; }
static inline double f_inv(double x) { return 1.0 / x; }
static inline double d_inv(double x, double y) { UNUSED(x); return -y * y; }
static inline double f_inv_sqrt(double x) { return 1.0 / sqrt(x); }
static inline double d_inv_sqrt(double x, double y) { return -0.5 * y / x; }
static inline double f_inv_square(double x) { return 1.0 / (x * x); }
static inline double d_inv_square(double x, double y) { return -2.0 * y / x; }
static inline double d_inv_logit(double x, double y) { UNUSED(x); return y * (1.0 - y); }
static inline double f_logit(double x) { return log(x / (1.0 - x)); }
static inline double d_logit(double x, double y) { UNUSED(y); return 1.0 / (x * (1.0 - x)); }
static inline double f_log_inv_logit(double x) { return -log1p_exp(-x); }
static inline double d_log_inv_logit(double x, double y) { UNUSED(y); return inv_logit(-x); }
static inline double f_log1m_inv_logit(double x) { return -log1p_exp(x); }
static inline double d_log1m_inv_logit(double x, double y) { UNUSED(y); return -inv_logit(x); }
static inline double d_log1p_exp(double x, double y) { UNUSED(y); return inv_logit(x); }
static inline double d_log1m_exp(double x, double y) { UNUSED(y); return -1.0 / expm1(-x); }
static inline double f_lgamma(double x)
{
  if (x <= 0 && x == floor(x)) return INFINITY;   /* poles, as C's lgamma */
  return gsl_sf_lngamma(x);
}
static inline double d_lgamma(double x, double y) { UNUSED(y); return gsl_sf_psi(x); }
static inline double f_tgamma(double x) { return gsl_sf_gamma(x); }
static inline double d_tgamma(double x, double y) { return y * gsl_sf_psi(x); }
static inline double f_digamma(double x) { return gsl_sf_psi(x); }
static inline double d_digamma(double x, double y) { UNUSED(y); return gsl_sf_psi_1(x); }
static inline double f_trigamma(double x) { return gsl_sf_psi_1(x); }
static inline double d_trigamma(double x, double y) { UNUSED(y); return gsl_sf_psi_n(2, x); }
static inline double f_erf(double x) { return gsl_sf_erf(x); }
static inline double d_erf(double x, double y) { UNUSED(y); return M_2_SQRTPI * exp(-x * x); }
static inline double f_erfc(double x) { return gsl_sf_erfc(x); }
static inline double d_erfc(double x, double y) { UNUSED(y); return -M_2_SQRTPI * exp(-x * x); }
static inline double f_Phi(double x) { return gsl_cdf_ugaussian_P(x); }
static inline double d_Phi(double x, double y)
{
  UNUSED(y);
  return exp(-0.5 * x * x) / sqrt(2.0 * M_PI);
}
static inline double f_inv_Phi(double x)
{
  if (!(x >= 0 && x <= 1)) return NAN;
  return gsl_cdf_ugaussian_Pinv(x);
}
static inline double d_inv_Phi(double x, double y) { UNUSED(x); return sqrt(2.0 * M_PI) * exp(0.5 * y * y); }
static inline double f_Phi_approx(double x) { return inv_logit(0.07056 * x * x * x + 1.5976 * x); }
static inline double d_Phi_approx(double x, double y)
{
  return y * (1.0 - y) * (3.0 * 0.07056 * x * x + 1.5976);
}
static inline double d_sin(double x, double y) { UNUSED(y); return cos(x); }
static inline double d_cos(double x, double y) { UNUSED(y); return -sin(x); }
static inline double d_tan(double x, double y) { UNUSED(x); return 1.0 + y * y; }
static inline double d_asin(double x, double y) { UNUSED(y); return 1.0 / sqrt(1.0 - x * x); }
static inline double d_acos(double x, double y) { UNUSED(y); return -1.0 / sqrt(1.0 - x * x); }
static inline double d_atan(double x, double y) { UNUSED(y); return 1.0 / (1.0 + x * x); }
static inline double d_sinh(double x, double y) { UNUSED(y); return cosh(x); }
static inline double d_cosh(double x, double y) { UNUSED(y); return sinh(x); }
static inline double d_tanh(double x, double y) { UNUSED(x); return 1.0 - y * y; }
static inline double d_asinh(double x, double y) { UNUSED(y); return 1.0 / sqrt(x * x + 1.0); }
static inline double d_acosh(double x, double y) { UNUSED(y); return 1.0 / sqrt(x * x - 1.0); }
static inline double d_atanh(double x, double y) { UNUSED(y); return 1.0 / (1.0 - x * x); }
static inline double f_step(double x) { return x < 0 ? 0.0 : 1.0; }
static inline double f_int_step(double x) { return x > 0 ? 1.0 : 0.0; }
static inline double f_is_inf(double x) { return isinf(x) ? 1.0 : 0.0; }
static inline double f_is_nan(double x) { return isnan(x) ? 1.0 : 0.0; }
static inline double f_inv_cloglog(double x) { return -expm1(-exp(x)); }
static inline double d_inv_cloglog(double x, double y) { UNUSED(y); return exp(x - exp(x)); }
static inline double f_logical_negation(double x) { return x == 0; }
static inline double f_add(double a, double b) { return a + b; }
static inline void d_add(double a, double b, double y, double *da, double *db)
{
  UNUSED(a); UNUSED(b); UNUSED(y);
  *da = 1.0; *db = 1.0;
}
static inline double f_sub(double a, double b) { return a - b; }
static inline void d_sub(double a, double b, double y, double *da, double *db)
{
  UNUSED(a); UNUSED(b); UNUSED(y);
  *da = 1.0; *db = -1.0;
}

/* A builtin b_NAME(x, y) that is F elementwise on ints, with an int result. */
#define BINARY_INT(NAME, F)                                          \
  static ad_val *b_##NAME(ad_tape *t, ad_val **a, int n)             \
  { UNUSED(n); return ad_map2(t, a[0], a[1], F, NULL, 1); }

/* ---- helpers --------------------------------------------------------------------- */

static inline size_t nz1(size_t n) { return n ? n : 1; }

static inline vi_type ty_of(vi_basetype b, int ndims) { vi_type t = {b, ndims, NULL}; return t; }

static inline long int_arg(const ad_val *v) { return (long)v->x[0]; }

ad_val *math_gather_new(ad_tape *t, vi_type ty, int ndims, const size_t *dims, ad_val *src, const size_t *ii);
size_t *math_idx_alloc(ad_tape *t, size_t n);
ad_val *math_retype(ad_tape *t, ad_val *x, vi_type ty, int ndims, const size_t *dims);
ad_val *math_group_scale(ad_tape *t, ad_val *v, ad_val *M, int by_row, const char *fn);
ad_val *math_grouped_dot(ad_tape *t, ad_val *a, ad_val *b, vi_basetype rt, size_t ng, size_t div, size_t mod, const char *fn);
int math_square_check(ad_tape *t, const ad_val *M, const char *fn, size_t *K);
ad_val *math_log_sum_exp(ad_tape *t, ad_val **a, int n);
ad_val *math_diagonal(ad_tape *t, ad_val **a, int n);
ad_val *math_identity_matrix(ad_tape *t, ad_val **a, int n);
ad_val *math_quad_form(ad_tape *t, ad_val **a, int n);
ad_val *math_trace(ad_tape *t, ad_val **a, int n);

#endif
