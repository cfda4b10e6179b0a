/* vi/info.h: information-theoretic utilities.  Natural logarithms (nats) throughout. */
#ifndef VI_INFO_H
#define VI_INFO_H

#include <stddef.h>
#include <gsl/gsl_rng.h>

#ifdef __cplusplus
extern "C" {
#endif

/* H(P) = -sum p log p (0 log 0 = 0).  p: n probabilities. */
double vi_info_entropy(const double *p, size_t n);
/* H(P, Q) = -sum p log q; +inf where q(x) = 0 < p(x). */
double vi_info_cross_entropy(const double *p, const double *q, size_t n);
/* KL(P || Q) = H(P, Q) - H(P) >= 0; +inf where q(x) = 0 < p(x). */
double vi_info_kl_discrete(const double *p, const double *q, size_t n);
/* KL(N(mu1, diag sd1^2) || N(mu2, diag sd2^2)) in d dimensions. */
double vi_info_kl_diag_gaussian(size_t d, const double *mu1, const double *sd1,
                                const double *mu2, const double *sd2);
/* KL(N(mu1, S1) || N(mu2, S2)), S row-major d x d symmetric positive definite.
 * Returns VI_SUCCESS and *kl, or VI_EINVAL if a covariance is not positive definite. */
int vi_info_kl_gaussian(size_t d, const double *mu1, const double *S1,
                        const double *mu2, const double *S2, double *kl);
/* Log-sum-exp of n values, stable; -inf for n = 0. */
double vi_info_log_sum_exp(const double *x, size_t n);
/* PSIS (Vehtari et al. 2024): Pareto k-hat of the upper tail of n log-weights.
 * Returns NaN when n is too small (< 5) to fit a tail. */
double vi_info_psis_khat(const double *log_w, size_t n);
/* The generalized Pareto tail fitted to the largest weights.  Weights are scaled so that
 * the largest is 1: the tail's weights are cutoff + GPD(k, sigma) draws. */
typedef struct vi_psis_tail {
  size_t n_tail;   /* weights in the tail (0: no tail was fitted) */
  double k;        /* shape, the k-hat diagnostic (shrunk towards 0.5 as PSIS does) */
  double sigma;    /* scale, in units of the largest weight */
  double cutoff;   /* exp(log weight just below the tail - largest log weight) */
  double log_max;  /* the largest log weight */
} vi_psis_tail;

/* PSIS in full: the tail fitted to n log-weights, and (when smoothed is not NULL) the
 * smoothed log-weights: the n_tail largest are replaced, rank for rank, by the expected
 * order statistics of the fitted tail (the GPD quantiles at (i - 1/2) / n_tail), never
 * above the largest raw weight; the others are kept.  smoothed (n values, unnormalised,
 * on the scale of log_w) may be NULL when only the tail is wanted.  Returns 0, or -1 when
 * the weights hold a NaN or +inf or memory ran out; with n < 5 or a flat or NaN fit the
 * weights are copied unsmoothed and tail->k is NaN (too few) or -inf (flat). */
int vi_info_psis(const double *log_w, size_t n, double *smoothed, vi_psis_tail *tail);

/* The GPD quantile function at p in [0, 1). */
double vi_info_gpd_quantile(double p, double k, double sigma);

/* PSIS smoothing in place: the largest M = min(n/5, 3 sqrt(n)) log-weights are replaced by
 * the quantiles of the generalized Pareto distribution fitted to them, capped at the
 * largest raw weight.  Returns k-hat (as vi_info_psis_khat); log_w is left unchanged when
 * no tail can be fitted (n < 5, a flat tail, NaN or +inf among the weights).  Weights
 * may be -inf (zero). */
double vi_info_psis_smooth(double *log_w, size_t n);
/* Resampling without replacement: k distinct indices of 0..n-1 into idx, drawn one after
 * another with probabilities proportional to exp(log_w) among those left (the
 * Gumbel-top-k construction), returned in ascending order.  A -inf weight is never drawn.
 * VI_SUCCESS; VI_EINVAL (NULL, k > n, NaN or +inf weights); VI_ENONFINITE (fewer than k
 * positive weights); VI_ENOMEM. */
int vi_info_resample(const double *log_w, size_t n, size_t k, gsl_rng *rng, size_t *idx);

#ifdef __cplusplus
}
#endif
#endif
