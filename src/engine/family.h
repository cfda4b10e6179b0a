/* engine/family.h: internal: the table behind a Gaussian family (vi/family.h) and a
 * family instance for one dimension, so that the objective, the fit and the diagnostics
 * never branch on the family.
 *
 * A family writes q's parameters into one vector x of n_params values, the mean first
 * (x[0..D-1] = mu for every family: the fit's mean preconditioner acts there), and
 * samples z = mu + S(x) eps from n_noise standard normal values eps per point.  A family
 * may keep a fixed base scale (set at the start, e.g. from the Laplace start's curvature)
 * against which its scale parameters are measured, so that the optimiser sees parameters
 * of order one on badly scaled posteriors. */
#ifndef VI_ENGINE_FAMILY_H
#define VI_ENGINE_FAMILY_H

#include <stddef.h>
#include <gsl/gsl_rng.h>
#include <vi/family.h>

typedef struct family family;

struct vi_family_type {
  const char *name;         /* vi_family_name */
  const char *description;  /* for reports: "mean-field Gaussian", ... */
  int ranked;               /* takes a rank K */
  size_t (*n_params)(size_t D, size_t K);
  size_t (*n_noise)(size_t D, size_t K);
  size_t (*n_base)(size_t D, size_t K);   /* doubles of the base scale */
  size_t (*n_work)(size_t D, size_t K);   /* doubles of scratch */
  /* The base scale and x from a mean, marginal sds and optionally the lower Cholesky
   * factor chol (D x D, row-major) of a covariance guess; rng breaks symmetries where a
   * family needs it (lowrank without chol).  VI_SUCCESS or VI_ENOMEM. */
  int (*init)(family *fam, const double *mu, const double *sd, const double *chol,
              gsl_rng *rng, double *x);
  /* z (n x D) = mu + S(x) eps for n rows of eps (n x n_noise). */
  void (*sample)(family *fam, const double *x, size_t n, const double *eps, double *z);
  /* gx (n_params) = (1/n) sum_s (dz_s/dx)' gz_s: the reparameterisation chain rule. */
  void (*grad)(family *fam, const double *x, size_t n, const double *eps, const double *gz,
               double *gx);
  /* Entropy of q (exact, nats); with gx, its gradient is ADDED to gx. */
  double (*entropy)(family *fam, const double *x, double *gx);
  /* log q at n points z (n x D); eps (their noise, as sampled) may be NULL. */
  void (*log_q)(family *fam, const double *x, size_t n, const double *eps, const double *z,
                double *lq);
  void (*marginal_sd)(family *fam, const double *x, double *sd);
  void (*covariance)(family *fam, const double *x, double *cov);   /* D x D */
  /* Scale q's spread by exp(log_factor), the mean kept. */
  void (*scale)(family *fam, double *x, double log_factor);
};

struct family {
  const vi_family_type *type;
  size_t dim, rank, n_params, n_noise;
  double *base;   /* n_base values */
  double *work;   /* n_work values */
};

/* Allocate the buffers of an instance of type t (NULL: mean-field) for dimension D and
 * rank K.  VI_SUCCESS, VI_EINVAL (K out of range) or VI_ENOMEM. */
int family_init(family *fam, const vi_family_type *t, size_t D, size_t K);
void family_clear(family *fam);
/* Copy src's base scale into dst (same type and sizes). */
void family_copy_base(family *dst, const family *src);

/* Shared pieces of the families. */
#define FAMILY_LOG_2PI 1.8378770664093454836
/* D/2 (1 + log 2 pi): the entropy of N(0, I_D). */
double family_entropy_const(size_t D);

#endif
