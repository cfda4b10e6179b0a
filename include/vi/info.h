/* vi/info.h: information-theoretic utilities.  Natural logarithms (nats) throughout. */
#ifndef VI_INFO_H
#define VI_INFO_H

#include <stddef.h>

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

#ifdef __cplusplus
}
#endif
#endif
