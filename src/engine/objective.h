/* engine/objective.h: internal: the ELBO of a mean-field Gaussian q over a set of standard
 * normal draws eps (M x D), and its gradient with respect to x = (mu, omega).  The same
 * code serves both estimators: fixed draws keep eps, fresh draws redraw it each step. */
#ifndef VI_ENGINE_OBJECTIVE_H
#define VI_ENGINE_OBJECTIVE_H

#include <stddef.h>
#include <gsl/gsl_rng.h>
#include <vi/model.h>

typedef struct vi_objective {
  vi_model model;
  size_t dim, draws;
  double *eps;      /* draws x dim standard normal draws */
  double *z;        /* draws x dim: mu + sigma * eps at the last evaluated x */
  double *lp;       /* draws: log p(x, z_s) at the last evaluated x */
  double *gz;       /* draws x dim: its gradient in z */
  size_t n_fevals;  /* evaluations (each over all draws) */
  size_t n_gevals;  /* of which with gradient */
} vi_objective;

/* Allocate the buffers for m and M draws (eps zeroed).  VI_SUCCESS or VI_ENOMEM. */
int vi_objective_init(vi_objective *o, const vi_model *m, size_t draws);
/* Free the buffers (NULL-safe, idempotent). */
void vi_objective_clear(vi_objective *o);
/* Fill eps with M x D independent N(0, 1) draws from rng (ziggurat). */
void vi_objective_draw(vi_objective *o, gsl_rng *rng);
/* Shift and rotate eps so that its sample mean is 0 and (1/M) eps' eps = I exactly.
 * VI_EINVAL when M <= D or the draws are degenerate. */
int vi_objective_standardize(vi_objective *o);
/* Exact entropy of q: sum(omega) + D/2 (1 + log 2 pi). */
double vi_objective_entropy(size_t dim, const double *omega);

/* ELBO at x = (mu[0..D-1], omega[0..D-1]) over the current eps, in ONE call to the model's
 * log_joint with all M points:
 *   elbo = (1/M) sum_s log p(x, mu + exp(omega) * eps_s) + entropy,   *elj the first term.
 * With grad (2D values, may be NULL): d elbo / d mu_j = mean_s g_sj and
 * d elbo / d omega_j = mean_s g_sj eps_sj exp(omega_j) + 1 (reparameterisation gradient).
 * A non-finite log joint (or gradient) at any draw gives *elbo = *elj = -inf and a zero
 * grad: the caller treats the point as infeasible.  Returns VI_SUCCESS, or the model's
 * negative status (VI_EMODEL if it returned something else non-zero). */
int vi_objective_eval(vi_objective *o, const double *x, double *elbo, double *elj,
                      double *grad);

#endif
