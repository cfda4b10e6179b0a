/* options.c: defaults of the fit options (vi/fit.h) and their resolution for the chosen
 * estimator.  Fixed draws (DADVI, Giordano, Ingram & Broderick 2024) get quasi-Newton
 * settings; fresh draws (ADVI, Kucukelbir et al. 2017) get Adam's learning rate and a
 * running-mean relative tolerance in the spirit of Stan's tol_rel_obj.
 *
 * Fields whose default depends on the estimator, the optimiser or another field are left
 * "unset" by vi_options_default (0, VI_INIT_AUTO, a negative tolerance) and resolved
 * here, so a value the caller wrote is never mistaken for a default and replaced. */
#include <stddef.h>
#include <string.h>
#include <vi/fit.h>
#include "engine/options.h"

#define FIXED_TOL_REL_OBJ 1e-10
#define FIXED_MAX_ITER 1000
#define RICH_MAX_ITER 5000  /* lowrank/fullrank: D(D+1)/2 parameters need more quasi-Newton
                               steps; hierarchical models with D = 18-29 converged at
                               1600-1700 iterations (bench/README.md) */
#define FIXED_STEP 0.1
#define FRESH_TOL_REL_OBJ 1e-3
#define FRESH_MAX_ITER 10000
#define ADAM_STEP 0.05
#define DRAWS 32           /* M, and the start of adaptive M */
#define DRAWS_MAX 512      /* adaptive M: cap (see the measurements in fit.c) */
#define DRAWS_TOL 0.05     /* adaptive M: largest move of q, in sds, that ends the doubling */
#define TOL_ABS_OBJ 1e-4   /* nats of ELBO over VI_FLAT_WINDOW iterations (fit.c) */
#define STARTS VI_STARTS_AUTO /* Laplace mode searches by a stopping rule (start.c): see
                              bench/README.md, "Several starts" */

/* The smallest vi_options a caller may pass: the layout of the first header with the
 * size field (fields appended later take their defaults when a caller's size ends
 * before them). */
#define OPTIONS_MIN_SIZE (offsetof(vi_options, tol_abs_obj) + sizeof(double))

void vi_options_default(vi_options *opt)
{
  vi_options_default_for(opt, VI_FIXED_DRAWS);
}

void vi_options_default_for(vi_options *opt, vi_estimator e)
{
  if (!opt) return;
  memset(opt, 0, sizeof *opt);
  opt->size = sizeof *opt;
  opt->estimator = e;
  opt->draws = 0;                 /* unset: adaptive from DRAWS (fixed draws) */
  opt->seed = 1;
  opt->optimizer = e == VI_FRESH_DRAWS ? VI_OPT_ADAM : VI_OPT_BFGS2;
  opt->tol_grad = 1e-6;
  opt->tol_rel_obj = VI_TOL_DEFAULT;
  opt->max_iter = 0;              /* unset: the estimator's cap */
  opt->step_size = 0.0;           /* unset: the optimiser's first step */
  opt->line_tol = 0.1;
  opt->eval_every = 0;
  opt->eval_draws = 2000;
  opt->init = VI_INIT_AUTO;
  opt->init_sd = 1.0;
  opt->init_mu = NULL;
  opt->standardize_draws = 1;     /* read by fixed draws only */
  opt->draws_max = VI_DRAWS_MAX_DEFAULT;
  opt->draws_tol = DRAWS_TOL;
  opt->tol_abs_obj = TOL_ABS_OBJ; /* read by fixed draws only */
  opt->family = NULL;             /* mean-field */
  opt->family_rank = 0;
  opt->starts = STARTS;
  opt->minibatch = 0;             /* the whole data every step */
}

int options_resolve(const vi_options *in, vi_options *out)
{
  vi_options_default(out);
  if (in) {
    if (in->size < OPTIONS_MIN_SIZE || in->size > sizeof *out) return -1;
    memcpy(out, in, in->size);   /* fields the caller's header lacks keep defaults */
    out->size = sizeof *out;
  }
  int fresh = out->estimator == VI_FRESH_DRAWS;
  if (out->estimator != VI_FIXED_DRAWS && !fresh) return -1;
  if ((unsigned)out->optimizer > (unsigned)VI_OPT_ADAM) return -1;
  if ((unsigned)out->init > (unsigned)VI_INIT_AUTO) return -1;
  /* a noisy objective defeats a line search: fresh draws always step with Adam */
  if (fresh) out->optimizer = VI_OPT_ADAM;
  int adam = out->optimizer == VI_OPT_ADAM;
  if (out->init == VI_INIT_AUTO) out->init = fresh ? VI_INIT_ZERO : VI_INIT_LAPLACE;
  if (out->tol_rel_obj < 0) out->tol_rel_obj = fresh ? FRESH_TOL_REL_OBJ : FIXED_TOL_REL_OBJ;
  int rich = out->family && out->family != vi_family_meanfield;
  if (out->max_iter == 0)
    out->max_iter = fresh ? FRESH_MAX_ITER : rich ? RICH_MAX_ITER : FIXED_MAX_ITER;
  if (out->step_size == 0.0) out->step_size = adam ? ADAM_STEP : FIXED_STEP;
  /* M left unset: adaptive from DRAWS (up to draws_max, DRAWS_MAX when unset too); an
   * explicit M is fixed unless the caller also asked for a larger draws_max */
  if (out->draws_max == VI_DRAWS_MAX_DEFAULT) out->draws_max = out->draws ? 0 : DRAWS_MAX;
  if (out->draws == 0) out->draws = DRAWS;
  if (fresh) {   /* new draws every step: nothing to standardise once or to grow */
    out->standardize_draws = 0;
    out->draws_max = 0;
  }
  if (adam) out->draws_max = 0;   /* no convergence to restart */
  if (out->draws_max <= out->draws) out->draws_max = 0;
  if (out->draws_max && !(out->draws_tol > 0.0)) return -1;
  if (!(out->step_size > 0.0) || !(out->init_sd > 0.0) || !(out->line_tol > 0.0) ||
      out->tol_grad != out->tol_grad || out->tol_rel_obj != out->tol_rel_obj ||
      !(out->tol_abs_obj >= 0.0))
    return -1;
  if (out->eval_draws < 5) out->eval_draws = 5;
  /* minibatches: a fresh-draw objective only (a fixed one would change under the line
   * search's feet) */
  if (out->minibatch &&
      (!fresh || !out->minibatch_fn || out->minibatch > out->minibatch_rows))
    return -1;
  return 0;
}
