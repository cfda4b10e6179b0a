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
