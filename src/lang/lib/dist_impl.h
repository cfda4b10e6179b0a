/* dist_impl.h: internal helpers shared by the distribution files (builtins_dist.c,
 * builtins_dist_multi.c, builtins_dist_glm.c, builtins_rng.c): numerically stable scalar
 * functions (log1p_exp, log Phi, digamma), the plumbing of dist_common.c, and the
 * kernels table_dist.def refers to across files.
 * The scalar helpers are written here (not taken from gsl_sf) so the density hot loops
 * never reach GSL's error handler. */
#ifndef VI_LANG_DIST_IMPL_H
#define VI_LANG_DIST_IMPL_H

#include <math.h>
#include <stddef.h>
#include "lang/ad/ad.h"

#define DIST_LOG_SQRT_2PI 0.918938533204672741780329736406
#define DIST_LOG_PI 1.14472988584940017414342735135
#define DIST_LOG_2 0.693147180559945309417232121458
#define DIST_SQRT2 1.41421356237309504880168872421

/* log(1 + exp(x)) without overflow or loss of precision. */
static inline double dist_log1p_exp(double x)
{
  return fmax(x, 0) + log1p(exp(-fabs(x)));
}

/* 1 / (1 + exp(-x)), stable at both ends. */
static inline double dist_inv_logit(double x)
{
  if (x >= 0) return 1.0 / (1.0 + exp(-x));
  double e = exp(x);
  return e / (1.0 + e);
}

/* digamma(x) for x > 0: upward recurrence to x >= 10, then the asymptotic series
 * (Abramowitz & Stegun 6.3.18); absolute error below 1e-14. */
static inline double dist_digamma(double x)
{
  double r = 0;
  if (!(x > 0) || isinf(x)) return x > 0 ? INFINITY : NAN;
  while (x < 10) { r -= 1.0 / x; x += 1; }
  double f = 1.0 / (x * x);
  return r + log(x) - 0.5 / x
         - f * (1.0 / 12 - f * (1.0 / 120 - f * (1.0 / 252 - f * (1.0 / 240 - f / 132))));
}

/* lgamma(x + n) - lgamma(x) and digamma(x + n) - digamma(x) for a count n >= 0: as
 * sums for small n, which keeps full precision when x is large (a negative binomial
 * near its Poisson limit), else as differences. */
static inline double dist_lgamma_ratio(double x, double n)
{
  if (n <= 16 && n == floor(n)) {
    double s = 0;
    if (x > 1) { for (int k = 1; k < (int)n; k++) s += log1p(k / x); return n * log(x) + s; }
    for (int k = 0; k < (int)n; k++) s += log(x + k);
    return s;
  }
  return lgamma(x + n) - lgamma(x);
}

static inline double dist_digamma_ratio(double x, double n)
{
  if (n <= 16 && n == floor(n)) {
    double s = 0;
    for (int k = 0; k < (int)n; k++) s += 1 / (x + k);
    return s;
  }
  return dist_digamma(x + n) - dist_digamma(x);
}

static inline double dist_lbeta(double a, double b)
{
  return lgamma(a) + lgamma(b) - lgamma(a + b);
}

static inline double dist_lchoose(double n, double k)
{
  return lgamma(n + 1) - lgamma(k + 1) - lgamma(n - k + 1);
}

/* log Phi(z), the standard normal log cdf, accurate in the far left tail where erfc
 * underflows (asymptotic series of the Mills ratio below z = -20). */
static inline double dist_log_Phi(double z)
{
  if (z > -20) {
    if (z > 5) return log1p(-0.5 * erfc(z / DIST_SQRT2));
    return log(0.5 * erfc(-z / DIST_SQRT2));
  }
  if (isinf(z)) return -INFINITY;
  double f = 1.0 / (z * z), s = 1, term = 1;
  for (int k = 1; k <= 8; k++) { term *= -(2.0 * k - 1) * f; s += term; }
  return -0.5 * z * z - log(-z) - DIST_LOG_SQRT_2PI + log(s);
}

/* d/dz log Phi(z) = phi(z) / Phi(z). */
static inline double dist_dlog_Phi(double z, double logPhi)
{
  if (z < -1e8) return -z;   /* the ratio tends to -z; avoid inf - inf */
  return exp(-0.5 * z * z - DIST_LOG_SQRT_2PI - logPhi);
}

/* Is x a probability vector (nonnegative, summing to 1 within 1e-8, Stan's tolerance)?
 * x[k * stride]. */
static inline int dist_is_simplex(const double *x, size_t K, size_t stride)
{
  double s = 0;
  for (size_t k = 0; k < K; k++) {
    double v = x[k * stride];
    if (!(v >= 0)) return 0;
    s += v;
  }
  return fabs(s - 1) <= 1e-8;
}

/* A scalar real result, varying when any argument varies, with an adjoint when any
 * argument has one (and the tape records). */
ad_val *dist_new_result(ad_tape *t, ad_val **args, int nargs);
/* Record the generic "partials" node: out->adj[s] * P[i][e * ndo + s] flows into
 * element e of args[i] (P[i] NULL: no gradient for that argument).  P arrays must stay
 * valid (arena).  Returns 0, or -1 with the tape's error set. */
int dist_push_partials(ad_tape *t, ad_val *out, ad_val **args, int nargs, double **P);
/* A zeroed arena array of n doubles, NULL with the tape's error set on OOM. */
double *dist_zeros(ad_tape *t, size_t n);

/* Multivariate densities (builtins_dist_multi.c). */
ad_val *dist_categorical_lpmf(ad_tape *t, ad_val **a, int n);
ad_val *dist_categorical_logit_lpmf(ad_tape *t, ad_val **a, int n);
ad_val *dist_multinomial_lpmf(ad_tape *t, ad_val **a, int n);
ad_val *dist_multinomial_logit_lpmf(ad_tape *t, ad_val **a, int n);
ad_val *dist_dirichlet_lpdf(ad_tape *t, ad_val **a, int n);
ad_val *dist_multi_normal_lpdf(ad_tape *t, ad_val **a, int n);
ad_val *dist_multi_normal_cholesky_lpdf(ad_tape *t, ad_val **a, int n);
ad_val *dist_lkj_corr_cholesky_lpdf(ad_tape *t, ad_val **a, int n);
ad_val *dist_ordered_logistic_lpmf(ad_tape *t, ad_val **a, int n);
ad_val *dist_ordered_probit_lpmf(ad_tape *t, ad_val **a, int n);
ad_val *dist_multi_normal_prec_lpdf(ad_tape *t, ad_val **a, int n);
ad_val *dist_multi_student_t_lpdf(ad_tape *t, ad_val **a, int n);
ad_val *dist_lkj_corr_lpdf(ad_tape *t, ad_val **a, int n);
ad_val *dist_wishart_lpdf(ad_tape *t, ad_val **a, int n);
ad_val *dist_inv_wishart_lpdf(ad_tape *t, ad_val **a, int n);

/* Fused GLM densities (builtins_dist_glm.c). */
ad_val *dist_bernoulli_logit_glm_lpmf(ad_tape *t, ad_val **a, int n);
ad_val *dist_poisson_log_glm_lpmf(ad_tape *t, ad_val **a, int n);
ad_val *dist_normal_id_glm_lpdf(ad_tape *t, ad_val **a, int n);
ad_val *dist_neg_binomial_2_log_glm_lpmf(ad_tape *t, ad_val **a, int n);

/* The _rng functions (builtins_rng.c). */
ad_val *rng_normal(ad_tape *t, ad_val **a, int n);
ad_val *rng_std_normal(ad_tape *t, ad_val **a, int n);
ad_val *rng_student_t(ad_tape *t, ad_val **a, int n);
ad_val *rng_cauchy(ad_tape *t, ad_val **a, int n);
ad_val *rng_double_exponential(ad_tape *t, ad_val **a, int n);
ad_val *rng_logistic(ad_tape *t, ad_val **a, int n);
ad_val *rng_exponential(ad_tape *t, ad_val **a, int n);
ad_val *rng_gamma(ad_tape *t, ad_val **a, int n);
ad_val *rng_inv_gamma(ad_tape *t, ad_val **a, int n);
ad_val *rng_lognormal(ad_tape *t, ad_val **a, int n);
ad_val *rng_chi_square(ad_tape *t, ad_val **a, int n);
ad_val *rng_inv_chi_square(ad_tape *t, ad_val **a, int n);
ad_val *rng_scaled_inv_chi_square(ad_tape *t, ad_val **a, int n);
ad_val *rng_weibull(ad_tape *t, ad_val **a, int n);
ad_val *rng_frechet(ad_tape *t, ad_val **a, int n);
ad_val *rng_pareto(ad_tape *t, ad_val **a, int n);
ad_val *rng_beta(ad_tape *t, ad_val **a, int n);
ad_val *rng_beta_proportion(ad_tape *t, ad_val **a, int n);
ad_val *rng_uniform(ad_tape *t, ad_val **a, int n);
ad_val *rng_bernoulli(ad_tape *t, ad_val **a, int n);
ad_val *rng_bernoulli_logit(ad_tape *t, ad_val **a, int n);
ad_val *rng_binomial(ad_tape *t, ad_val **a, int n);
ad_val *rng_binomial_logit(ad_tape *t, ad_val **a, int n);
ad_val *rng_beta_binomial(ad_tape *t, ad_val **a, int n);
ad_val *rng_poisson(ad_tape *t, ad_val **a, int n);
ad_val *rng_poisson_log(ad_tape *t, ad_val **a, int n);
ad_val *rng_neg_binomial(ad_tape *t, ad_val **a, int n);
ad_val *rng_neg_binomial_2(ad_tape *t, ad_val **a, int n);
ad_val *rng_neg_binomial_2_log(ad_tape *t, ad_val **a, int n);
ad_val *rng_categorical(ad_tape *t, ad_val **a, int n);
ad_val *rng_categorical_logit(ad_tape *t, ad_val **a, int n);
ad_val *rng_multinomial(ad_tape *t, ad_val **a, int n);
ad_val *rng_dirichlet(ad_tape *t, ad_val **a, int n);
ad_val *rng_multi_normal(ad_tape *t, ad_val **a, int n);
ad_val *rng_multi_normal_cholesky(ad_tape *t, ad_val **a, int n);
ad_val *rng_lkj_corr_cholesky(ad_tape *t, ad_val **a, int n);
ad_val *rng_ordered_logistic(ad_tape *t, ad_val **a, int n);
ad_val *rng_von_mises(ad_tape *t, ad_val **a, int n);
ad_val *rng_gumbel(ad_tape *t, ad_val **a, int n);
ad_val *rng_rayleigh(ad_tape *t, ad_val **a, int n);
ad_val *rng_skew_normal(ad_tape *t, ad_val **a, int n);
ad_val *rng_lkj_corr(ad_tape *t, ad_val **a, int n);
ad_val *rng_wishart(ad_tape *t, ad_val **a, int n);
ad_val *rng_inv_wishart(ad_tape *t, ad_val **a, int n);
ad_val *rng_ordered_probit(ad_tape *t, ad_val **a, int n);
ad_val *rng_multi_student_t(ad_tape *t, ad_val **a, int n);
ad_val *rng_exp_mod_normal(ad_tape *t, ad_val **a, int n);
ad_val *rng_skew_double_exponential(ad_tape *t, ad_val **a, int n);
ad_val *rng_loglogistic(ad_tape *t, ad_val **a, int n);
ad_val *rng_pareto_type_2(ad_tape *t, ad_val **a, int n);
ad_val *rng_discrete_range(ad_tape *t, ad_val **a, int n);
ad_val *rng_multinomial_logit(ad_tape *t, ad_val **a, int n);

#endif
