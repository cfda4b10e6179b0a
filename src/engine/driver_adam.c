/* driver_adam.c: the fresh-draw driver (ADVI, Kucukelbir et al., JMLR 2017; Adam, Kingma
 * & Ba 2015): new draws every step, and a convergence test on the relative change of
 * block means of the ELBO (in the spirit of Stan's tol_rel_obj).  A step to an infeasible
 * point is rejected and the learning rate halved.  With minibatches (minibatch_rows.c)
 * each step also evaluates the likelihood on new rows, scaled to the whole data. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <vi/status.h>
#include "engine/fit_internal.h"

#define MAX_REJECTS 60       /* consecutive infeasible Adam steps before giving up */
#define ADAM_BLOCK 100       /* iterations per block mean of the fresh-draw ELBO */


static int fit_iterate_adam(vi_fit *f)
{
  size_t D2 = f->np;
  double *xn = f->xtmp, elbo, elj;
  adam_propose(f->adam, f->grad, f->opt.step_size * f->lr_scale, f->delta);
  for (size_t i = 0; i < D2; i++) xn[i] = f->x[i] + f->delta[i];
  if (f->opt.estimator == VI_FRESH_DRAWS) objective_draw(&f->obj, f->rng);
  int feasible = 1;
  for (size_t i = 0; i < D2; i++)
    if (!isfinite(xn[i])) feasible = 0;
  int mst = fit_minibatch_begin(f);   /* new rows as well as new draws */
  if (mst != VI_SUCCESS) return mst;
  if (feasible) {
    int st = objective_eval(&f->obj, xn, &elbo, &elj, f->gtmp);
    if (st != VI_SUCCESS) return st;
    feasible = isfinite(elbo);
  }
  f->elbo_prev = f->elbo;
  if (!feasible) {
    /* reject: stay at x with its old draws and gradient, try a shorter step next time */
    if (++f->rejects > MAX_REJECTS) return VI_ENONFINITE;
    f->lr_scale *= 0.5;
    f->step = 0.0;
  } else {
    f->rejects = 0;
    if (f->lr_scale < 1.0) f->lr_scale = fmin(1.0, 2.0 * f->lr_scale);
    adam_commit(f->adam);
    f->step = fit_norm2(f->delta, D2);
    fit_set_x(f, xn);
    fit_take_draws(f, f->obj.lp);
    memcpy(f->grad, f->gtmp, D2 * sizeof(double));
    f->elbo = elbo;
    f->elj = elj;
  }
  f->iter++;
  f->block_sum += f->elbo;
  if (++f->block_n == ADAM_BLOCK) {
    double mean = f->block_sum / (double)ADAM_BLOCK;
    if (f->n_blocks > 0) {
      double rel = fabs(mean - f->block_prev) / fmax(fabs(mean), 1.0);
      f->small_blocks = rel < f->opt.tol_rel_obj ? f->small_blocks + 1 : 0;
      f->rel_last = rel;
    }
    f->n_blocks++;
    f->block_prev = mean;
    f->block_sum = 0.0;
    f->block_n = 0;
  }
  return fit_record(f);
}

/* ---- public API ------------------------------------------------------------------- */

/* Two block means in a row that changed by less than tol_rel_obj. */
static void adam_test(vi_fit *f)
{
  if (f->small_blocks >= 2) {
    f->reason = VI_STOP_REL_OBJ;
    f->stop_value = f->rel_last;
  }
}

/* Adam's state and the first evaluation at the start (shrinking an infeasible start, then
 * trying feasible means). */
static int adam_start(vi_fit *f)
{
  size_t D2 = f->np;
  int st;
  st = VI_ENOMEM;
  if (!(f->adam = adam_alloc(D2))) return st;
  f->lr_scale = 1.0;
  if ((st = fit_minibatch_begin(f)) != VI_SUCCESS) return st;   /* ended by fit.c */
  for (int k = 0, tried = 0;; k++) {
    st = objective_eval(&f->obj, f->x, &f->elbo, &f->elj, f->grad);
    if (st != VI_SUCCESS) return st;
    if (isfinite(f->elbo)) break;
    st = VI_ENONFINITE;
    if (k == START_SHRINKS) {
      if (tried++ || f->opt.init_mu || !fit_start_feasible_mean(f)) return st;
      k = -1;
      continue;
    }
    fit_start_shrink(f);
  }
  fit_take_draws(f, f->obj.lp);
  return VI_SUCCESS;
}

static void adam_driver_free(vi_fit *f) { adam_free(f->adam); }

const fit_driver fit_driver_adam = {"adam", adam_start, fit_iterate_adam, adam_test,
                                    adam_driver_free};
