/* engine/laplace.h: internal: a scale-aware starting point for q (vi_options.init =
 * VI_INIT_LAPLACE): a bounded search for the mode of log p(x, z), then sd_d = 1 / sqrt(H_dd)
 * from the diagonal of the negative Hessian there (laplace.c). */
#ifndef VI_ENGINE_LAPLACE_H
#define VI_ENGINE_LAPLACE_H

#include <stddef.h>
#include <vi/model.h>

#define VI_LAPLACE_MAX_ITER 100   /* mode-search iterations */
#define VI_LAPLACE_BOX 1e4        /* the search stays within +-BOX of its start */
#define VI_LAPLACE_NEWTON_DIM 400 /* full-Hessian Newton search up to this dimension */
#define VI_LAPLACE_NEWTON_ITER 50 /* its iterations */
#define VI_LAPLACE_NEWTON_BOX 1e7 /* its box: Newton's damped, curvature-scaled steps do
                                     not run off along flat directions as BFGS's do, and
                                     an uncentred regression's intercept is at -7e4 (eh) */

typedef struct laplace_stats {
  size_t iters;      /* mode-search iterations (both passes) */
  size_t n_calls;    /* log_joint calls (each with gradient) */
  size_t n_points;   /* points evaluated over those calls */
  size_t n_curv;     /* coordinates whose curvature set the sd (H_dd > 0, finite) */
  int found;         /* 1: a finite point was found (x holds the Laplace start) */
  int converged;     /* 1: the last pass stopped on a small gradient (a proper mode) */
  int have_hess;     /* 1: hess holds the full negative Hessian at the returned mode */
} laplace_stats;

/* Search for the mode of the log joint from z0 (dim values) with GSL's vector_bfgs2 (two
 * passes of at most VI_LAPLACE_MAX_ITER iterations, the second in coordinates scaled by the
 * sds the first one gives; a non-finite value, or a point beyond +-BOX of z0 in any
 * coordinate, is +inf to the search; a pass stops on a small gradient, or when the log
 * joint passes 1e8, i.e. an improper mode as in a funnel), keep the best finite point, and
 * fill x (2 dim: mu, then omega) with mu = that point and omega_d = -0.5 log H_dd, H_dd the
 * negative second derivative by central differences of the gradient (all 2 dim points in
 * batched calls), sd clamped to [1e-8, 1e3]; where H_dd is not positive and finite,
 * omega_d = log(default_sd).  The box is wide (1e4): regression coefficients on rescaled
 * predictors are in the thousands (the benchmark's badly_scaled model); funnels are
 * caught by the lp cap, the iteration cap and the caller's ELBO guard.  When no finite point is found, x = (z0, log default_sd) and
 * stats->found = 0.  Returns VI_SUCCESS, VI_ENOMEM, or the model's negative status. */
/* With hess (D x D, or NULL) and D <= VI_LAPLACE_NEWTON_DIM the search is first a damped
 * Newton search with the full Hessian (invariant to linear changes of variables: strongly
 * correlated, badly scaled posteriors in a few steps); the BFGS passes below run only when
 * it does not converge.  On a converged search, hess receives the full negative Hessian at
 * the mode (stats->have_hess). */
int laplace_start(const vi_model *m, const double *z0, double default_sd, double *x,
                     double *hess, laplace_stats *stats);
/* In place Cholesky A = L L^T of a D x D symmetric matrix (row-major, lower triangle used;
 * the upper triangle is zeroed): 0, or -1 when A is not positive definite. */
int laplace_cholesky(double *A, size_t D);

#endif
