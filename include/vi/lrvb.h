/* vi/lrvb.h: the linear-response covariance of a mean-field fit (Giordano, Broderick &
 * Jordan, "Covariances, robustness, and variational Bayes", JMLR 2018; as in DADVI,
 * Giordano, Ingram & Broderick, JMLR 2024).
 *
 * A mean-field q reports sds that are too small wherever the posterior is correlated.
 * With the fixed-draw objective L(eta), eta = (mu, omega), maximised by the fit, the
 * linear-response covariance of the parameters is the mu-mu block of (-d2L/d eta2)^-1 at
 * the optimum.  It is exact for a Gaussian posterior (with centred draws, the default
 * standardized ones) and corrects the sds without changing the fit:
 *
 *     double *cov = malloc(D * D * sizeof *cov);
 *     vi_lrvb_info info;
 *     int st = vi_fit_lrvb(fit, cov, &info);   after vi_fit_run, before vi_fit_free
 *
 * The Hessian comes from differences of the model's gradient, batched over the fit's
 * draws; it costs about 2 D M model points (M the fit's final number of draws). */
#ifndef VI_LRVB_H
#define VI_LRVB_H

#include <stddef.h>
#include <vi/fit.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The largest unconstrained dimension vi_fit_lrvb accepts: the Hessian is 2D x 2D
 * (4 D^2 doubles, 128 MB at this D), and its Cholesky factor O(8 D^3) flops. */
#define VI_LRVB_MAX_DIM 2000

typedef struct vi_lrvb_info {
  size_t draws;       /* M: the fit's fixed draws the Hessian averages over */
  size_t n_points;    /* model points evaluated (gradient included): the cost */
  size_t n_calls;     /* log_joint calls they took */
  size_t n_negative;  /* VI_ENOTPD: eigenvalues of -d2L/d eta2 that are <= 0 (else 0) */
  double min_eig;     /* VI_ENOTPD: its smallest eigenvalue (else NaN) */
  double seconds;     /* wall-clock seconds */
} vi_lrvb_info;

/* The linear-response covariance of the fit's parameters at its current q, on the
 * unconstrained scale, into cov (D x D row-major, D = vi_fit_dim(f), owned by the caller).
 * info (may be NULL) receives the cost and, on VI_ENOTPD, the eigenvalue count.
 * Returns:
 *   VI_SUCCESS      cov holds Sigma_LR;
 *   VI_ENOTPD       -d2L/d eta2 is not positive definite at q (q is not at a maximum of
 *                   the objective, or the objective is not locally concave there): nothing
 *                   is patched; cov is left unchanged;
 *   VI_EINVAL       f or cov NULL, or a fit with fresh draws (--method stochastic: its
 *                   objective changes every step and has no Hessian to take), or a family
 *                   other than mean-field;
 *   VI_EUNSUPPORTED D > VI_LRVB_MAX_DIM;
 *   VI_ENONFINITE   the log joint or its gradient is not finite at a difference point;
 *   VI_ENOMEM, or the model's negative status.
 * Uses the fit's draws and model; it neither moves q nor uses the fit's RNG, so it may be
 * called at any point between iterations.  Not thread-safe on the same fit (the model's
 * callback is called); distinct fits may run in parallel if their models allow it. */
int vi_fit_lrvb(vi_fit *f, double *cov, vi_lrvb_info *info);

#ifdef __cplusplus
}
#endif
#endif
