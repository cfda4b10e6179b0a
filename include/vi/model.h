/* vi/model.h: what the engine fits.  A model is a log joint density log p(x, z) over an
 * unconstrained vector z in R^dim, evaluated at n points at once.  The language front end
 * (vi/lang.h) produces one; a C user writes one by hand.  The engine never knows which. */
#ifndef VI_MODEL_H
#define VI_MODEL_H

#include <stddef.h>
#include <gsl/gsl_rng.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The callbacks are called from the thread that calls the fit, one at a time per fit;
 * the pointers they receive are valid only during the call (copy what you keep).
 *
 * Evaluate log p(x, z) at n points.
 *   z    n * dim doubles, point s at z[s * dim .. s * dim + dim - 1]
 *   lp   n doubles out: log p(x, z_s).  -inf, +inf or NaN are legal answers (outside the
 *        support, overflow): the engine rejects such points, it never propagates them.
 *   grad n * dim doubles out, laid out like z, or NULL when only values are wanted.
 * Returns VI_SUCCESS, or a negative status for a hard error that must stop the fit. */
typedef int (*vi_log_joint_fn)(void *ctx, size_t n, const double *z, double *lp,
                               double *grad);

/* Optional: log p(x | z), the likelihood part of the joint, values only (n points, as
 * above).  With it, diagnostics split the ELBO into E_q[log p(x|z)] - KL(q || prior). */
typedef int (*vi_log_lik_fn)(void *ctx, size_t n, const double *z, double *ll);

/* Optional: map one unconstrained point z to the n_out named output values (constrained
 * parameters, transformed parameters, generated quantities, which may draw from rng). */
typedef int (*vi_constrain_fn)(void *ctx, const double *z, gsl_rng *rng, double *out);
/* Optional, added later: the same for n points at once (z n x dim, out n x n_out, both
 * row-major); NULL: callers use constrain one point at a time. */
typedef int (*vi_constrain_n_fn)(void *ctx, size_t n, const double *z, gsl_rng *rng,
                                 double *out);

typedef struct vi_model {
  size_t dim;                    /* D, the unconstrained dimension (>= 1) */
  const char *const *names;      /* dim names of the coordinates of z, or NULL */
  vi_log_joint_fn log_joint;     /* required */
  void *ctx;                     /* passed to every callback */
  int has_log_evidence;          /* 1 if log_evidence below is exact */
  double log_evidence;           /* log p(x), when known in closed form */
  vi_log_lik_fn log_lik;         /* optional, NULL if not available */
  size_t n_out;                  /* number of output values (0: outputs are z itself) */
  const char *const *out_names;  /* n_out names ("theta.1", ...), or NULL */
  vi_constrain_fn constrain;     /* optional, NULL: outputs are z itself */
  vi_constrain_n_fn constrain_n; /* optional batched constrain (needs constrain too) */
} vi_model;

#ifdef __cplusplus
}
#endif
#endif
