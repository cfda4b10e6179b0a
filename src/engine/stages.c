/* stages.c: adaptive M (vi_options.draws_max).  The fit converges on M fixed draws, then
 * doubles M (keeping the draws and appending new ones, standardised again) and converges
 * again from the current q, until q moves by less than draws_tol between two sizes (the
 * move between nested sizes estimates the error of the larger one) or M reaches its cap.
 * A stage before the last stops at a relative change of STAGE_REL_OBJ (its optimum is an
 * M-draw estimate); the last one at the fit's own tolerances.  The measurements behind
 * the defaults are in bench/README.md. */
#include <math.h>
#include <string.h>
#include <vi/status.h>
#include "engine/fit_internal.h"

/* Adaptive M: the stage at the current M has converged (vi_fit_test); double M (up to the
 * cap), keeping the draws and appending new ones, and restart GSL at the current q on the
 * new objective.  If the current q is infeasible at a new draw (a bounded support), go
 * back to the old draws and end the doubling there. */
int fit_stage_grow(vi_fit *f)
{
  size_t M = f->obj.draws, M2 = 2 * M < f->draws_cap ? 2 * M : f->draws_cap;
  f->grow_pending = 0;
  memcpy(f->x_stage, f->x, f->np * sizeof(double));
  memcpy(f->sd_stage, f->sd, f->dim * sizeof(double));
  if (f->cov_stage) f->fam.type->covariance(&f->fam, f->x, f->cov_stage);
  f->have_stage = 1;
  int st = objective_grow(&f->obj, M2, f->rng, f->opt.standardize_draws);
  if (st != VI_SUCCESS) return st;
  f->noprog = 0;
  f->rel_small = 0;   /* a new objective: its changes start afresh */
  f->restarts = 0;
  st = fit_gsl_restart(f);
  if (st == VI_ENONFINITE || st == VI_ENOPROG) {
    f->obj.draws = M;
    memcpy(f->obj.eps, f->obj.raw, M * f->obj.noise * sizeof(double));
    if (f->opt.standardize_draws && (st = objective_standardize(&f->obj)) != VI_SUCCESS)
      return st;
    if ((st = fit_gsl_restart(f)) != VI_SUCCESS) return st;
    f->draws_cap = M;    /* no more doubling: the test ends the fit at this stage */
    f->stage_done = 1;
    /* a stage stopped at STAGE_REL_OBJ is not the fit's own tolerance: iterate on */
    if (f->stage_reason == VI_STOP_REL_OBJ && f->opt.tol_rel_obj < STAGE_REL_OBJ)
      f->polish = 1;
    fit_flat_reset(f);
    return VI_SUCCESS;
  }
  if (st == VI_SUCCESS) fit_flat_reset(f);
  return st;
}

/* How far q moved between the optima of the last two sizes of M: the largest, over the
 * coordinates, of |dmu| / sd and |d log sd| (sd the new one).  Scale-free and per
 * coordinate, so one tolerance serves every model and dimension. */
static double fit_shift(vi_fit *f)
{
  size_t D = f->dim;
  double s = 0.0;
  for (size_t j = 0; j < D; j++) {
    double a = fabs(f->x[j] - f->x_stage[j]) / f->sd[j];
    double b = fabs(log(f->sd[j] / f->sd_stage[j]));
    if (a > s) s = a;
    if (b > s) s = b;
  }
  if (f->cov_stage) {   /* a family with correlations: and how far they moved */
    double *c = f->cov_stage + D * D;
    f->fam.type->covariance(&f->fam, f->x, c);
    for (size_t i = 0; i < D; i++)
      for (size_t j = 0; j < i; j++)
        s = fmax(s, fabs(c[i * D + j] - f->cov_stage[i * D + j]) / (f->sd[i] * f->sd[j]));
  }
  return s;
}

/* After the stopping rules of vi_fit_test: a stage that converged before the last M
 * either ends the doubling (q moved little since the last size, or M is at its cap) or
 * asks for the next doubling, and the reason is then withheld. */
void fit_stage_test(vi_fit *f)
{
  if (f->stage_done && !f->polish && f->reason == VI_STOP_NONE) {
    f->reason = f->stage_reason;
    f->stop_value = f->stage_value;
  }
  if (f->reason != VI_STOP_NONE && f->adaptive && !f->stage_done) {
    /* adaptive M: the fit has converged on the current draws; it is done when q moved
     * little since the last size, or M is at its cap; otherwise double M */
    if (f->grow_pending) {
      f->reason = VI_STOP_NONE;
    } else {
      int done = f->obj.draws >= f->draws_cap;
      if (f->have_stage) {
        double shift = fit_shift(f);
        if (f->draws_shift != shift) {
          f->draws_shift = shift;
          f->cur.draws_shift = shift;
          if (f->nhist) f->hist[f->nhist - 1].draws_shift = shift;
        }
        if (shift < f->opt.draws_tol) done = 1;
      }
      f->stage_reason = f->reason;
      f->stage_value = f->stop_value;
      if (done) {
        f->stage_done = 1;
        if (f->reason == VI_STOP_REL_OBJ && f->opt.tol_rel_obj < STAGE_REL_OBJ) {
          /* the stage stopped at STAGE_REL_OBJ: the final one ends at the fit's own */
          f->polish = 1;
          f->rel_small = 0;
          f->reason = VI_STOP_NONE;
        }
      } else {
        f->grow_pending = 1;
        f->reason = VI_STOP_NONE;
      }
    }
  }
}
