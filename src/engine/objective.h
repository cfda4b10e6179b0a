/* engine/objective.h: internal: the ELBO of a Gaussian q of any family (engine/family.h)
 * over a set of standard normal draws eps (M x n_noise), and its gradient with respect to
 * q's parameters x.  The same code serves both estimators: fixed draws keep eps, fresh
 * draws redraw it each step. */
#ifndef VI_ENGINE_OBJECTIVE_H
#define VI_ENGINE_OBJECTIVE_H

#include <stddef.h>
#include <gsl/gsl_rng.h>
#include <vi/model.h>
#include "engine/family.h"

typedef struct objective {
  vi_model model;
  family *fam;      /* q's family (not owned) */
  size_t dim, draws;
  size_t noise;     /* columns of eps: the family's noise values per draw */
  size_t cap;       /* rows allocated: draws may grow up to cap (adaptive M) */
  double *eps;      /* draws x noise standard normal draws (standardised or not) */
  double *raw;      /* cap x noise: the plain draws eps came from (NULL when cap == draws):
                       growing appends rows here and standardises the union again */
  double *z;        /* draws x dim: mu + sigma * eps at the last evaluated x */
  double *lp;       /* draws: log p(x, z_s) at the last evaluated x */
  double *gz;       /* draws x dim: its gradient in z */
  size_t n_fevals;  /* evaluations (each over all draws) */
  size_t n_gevals;  /* of which with gradient */
  size_t n_points;  /* model points evaluated: the sum of draws over the evaluations */
  /* The last faulty evaluation (a model error or a non-finite lp or gradient): set by
   * objective_eval, cleared by the caller; the fit reports it when it fails. */
  int fault_set;
  int fault_status;   /* the model's error status, or VI_ENONFINITE */
  size_t fault_draw;  /* first offending draw of the batch (0 for a model error that
                         leaves every lp finite) */
  double fault_lp;
  double *fault_z;    /* dim values: that draw's z */
} objective;

/* Allocate the buffers for m, q's family fam (kept by pointer) and M draws (eps zeroed).
 * VI_SUCCESS or VI_ENOMEM. */
int objective_init(objective *o, const vi_model *m, family *fam, size_t draws);
/* The same, with room for up to cap >= draws draws (objective_grow). */
int objective_init_cap(objective *o, const vi_model *m, family *fam, size_t draws,
                          size_t cap);
/* Free the buffers (NULL-safe, idempotent). */
void objective_clear(objective *o);
/* Fill eps (and raw, if kept) with M x noise independent N(0, 1) draws from rng (ziggurat). */
void objective_draw(objective *o, gsl_rng *rng);
/* Standardise eps in place, the best the sample size allows:
 *  - M > D: shift and rotate so that the sample mean is 0 and (1/M) eps' eps = I exactly
 *    (centre, then eps <- eps L^-T with L L' the sample second moment);
 *  - 2 <= M <= D (or a singular sample covariance): each column gets sample mean 0 and
 *    sample variance (1/M) sum eps^2 = 1 (a rank <= M-1 sample cannot have covariance I);
 *  - M = 1: unchanged (centring one draw would zero it).
 * VI_SUCCESS, or VI_ENOMEM (eps is then unchanged). */
int objective_standardize(objective *o);
/* Grow to M2 (draws < M2 <= cap) draws: append M2 - M fresh N(0, 1) rows from rng to the
 * plain draws, copy them to eps and standardise the union when standardize is set.
 * Needs raw (cap > draws at init).  VI_SUCCESS, VI_EINVAL or VI_ENOMEM. */
int objective_grow(objective *o, size_t M2, gsl_rng *rng, int standardize);
/* Exact entropy of q at x (the family's). */
double objective_entropy(const objective *o, const double *x);

/* ELBO at q's parameters x over the current eps, in ONE call to the model's log_joint with
 * all M points z_s = mu + S(x) eps_s:
 *   elbo = (1/M) sum_s log p(x, z_s) + entropy,   *elj the first term.
 * With grad (n_params values, may be NULL): the reparameterisation gradient (the family's
 * chain rule) plus the entropy's gradient.
 * A non-finite log joint (or gradient) at any draw gives *elbo = *elj = -inf and a zero
 * grad: the caller treats the point as infeasible.  Returns VI_SUCCESS, or the model's
 * negative status (VI_EMODEL if it returned something else non-zero). */
int objective_eval(objective *o, const double *x, double *elbo, double *elj,
                      double *grad);

#endif
