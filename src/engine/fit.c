/* fit.c: the fit object of vi/fit.h: a Gaussian q of one family (engine/family.h) driven
 * GSL-style (alloc / iterate / test / free) towards a maximum of the ELBO by one driver
 * (driver_gsl.c on fixed draws, driver_adam.c on fresh ones), from the start start.c
 * chooses.  Every iteration records the decomposition log p(X) = ELBO + KL(q || p).
 *
 * Fixed draws are standardised by default (objective.c): with M = 32 plain draws the
 * optimum of the sample average sits O(1/sqrt(M)) away from the family's optimum, and
 * standardising removes that error for every quadratic part of the log joint.  Adaptive M
 * (opt.draws_max) then removes most of what is left: converge at M, double M (appending
 * draws), converge again from there, and stop when q moved by less than draws_tol sds
 * (and correlations) in every coordinate, the move between nested sizes estimating the
 * error of the larger one, or M reaches the cap.  The measurements behind these choices
 * are in bench/README.md ("Design measurements"). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_linalg.h>
#include <gsl/gsl_randist.h>
#include <vi/status.h>
#include <vi/fit.h>
#include "engine/evidence.h"
#include "engine/fit_internal.h"
#include "engine/options.h"

#define ADAPTIVE_POINTS ((size_t)1 << 20)   /* adaptive M: M * dim at most this */

double fit_seconds(const vi_fit *f)
{
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)(t.tv_sec - f->t0.tv_sec) + 1e-9 * (double)(t.tv_nsec - f->t0.tv_nsec);
}

/* ---- the accepted state ---------------------------------------------------------- */

/* Take o->lp (and the draws o->eps) at x as the state's per-draw values. */
void fit_take_draws(vi_fit *f, const double *lp)
{
  size_t M = f->obj.draws;
  const vi_family_type *t = f->fam.type;
  t->sample(&f->fam, f->x, M, f->obj.eps, f->zx);
  t->log_q(&f->fam, f->x, M, f->obj.eps, f->zx, f->lq);
  memcpy(f->lp, lp, M * sizeof(double));
}

void fit_set_x(vi_fit *f, const double *x)
{
  memcpy(f->x, x, f->np * sizeof(double));
  f->fam.type->marginal_sd(&f->fam, f->x, f->sd);
}

double fit_norm2(const double *v, size_t n)
{
  double s = 0.0;
  for (size_t i = 0; i < n; i++) s += v[i] * v[i];
  return sqrt(s);
}

/* ---- diagnostics ------------------------------------------------------------------- */

static int fit_diag(vi_fit *f)
{
  vi_diag *d = &f->cur;
  size_t M = f->obj.draws;
  d->iter = f->iter;
  d->elbo = f->elbo;
  d->expected_log_joint = f->elj;
  d->entropy = objective_entropy(&f->obj, f->x);
  d->expected_log_lik = NAN;
  d->kl_prior = NAN;
  if (f->model.log_lik) {
    /* one extra value-only call on the same draws; obj.lp is free to use as scratch
     * (fixed draws keep eps, and the state's lp lives in f->lp) */
    int st = f->model.log_lik(f->model.ctx, M, f->zx, f->obj.lp);
    if (st != VI_SUCCESS) return st < 0 ? st : VI_EMODEL;
    double s = 0.0;
    for (size_t i = 0; i < M; i++) s += f->obj.lp[i];
    d->expected_log_lik = s / (double)M;   /* NaN/inf stay visible: a model issue */
    d->kl_prior = d->expected_log_lik - d->elbo;
  }
  if (f->model.has_log_evidence) {
    d->log_evidence = f->model.log_evidence;
    d->log_evidence_se = 0.0;
    d->log_evidence_exact = 1;
  } else {
    d->log_evidence_exact = 0;
    if (f->opt.eval_every > 0 && f->iter % f->opt.eval_every == 0) {
      size_t n = f->opt.eval_draws;
      int st = fit_eval_draws(f, f->rng_eval, n, f->eval_lp, f->eval_lq, NULL);
      if (st != VI_SUCCESS) return st;
      for (size_t i = 0; i < n; i++) f->eval_lp[i] -= f->eval_lq[i];
      evidence_is(f->eval_lp, n, &d->log_evidence, &d->log_evidence_se);
    } else {
      /* free: the optimiser's own draws as importance samples */
      double *lw = f->obj.lp;
      for (size_t i = 0; i < M; i++) lw[i] = f->lp[i] - f->lq[i];
      evidence_is(lw, M, &d->log_evidence, &d->log_evidence_se);
    }
  }
  d->kl = d->log_evidence - d->elbo;
  d->grad_norm = fit_norm2(f->grad, f->np);
  d->step = f->step;
  d->n_fevals = f->obj.n_fevals;
  d->n_gevals = f->obj.n_gevals;
  d->seconds = fit_seconds(f);
  d->draws = M;
  d->n_points = f->obj.n_points;
  d->draws_shift = f->draws_shift;
  return VI_SUCCESS;
}

int fit_record(vi_fit *f)
{
  int st = fit_diag(f);
  if (st != VI_SUCCESS) return st;
  if (f->nhist == f->caphist) {
    size_t cap = f->caphist ? 2 * f->caphist : 64;
    vi_diag *h = realloc(f->hist, cap * sizeof *h);
    if (!h) return VI_ENOMEM;
    f->hist = h;
    f->caphist = cap;
  }
  f->hist[f->nhist++] = f->cur;
  return VI_SUCCESS;
}

int fit_eval_draws(vi_fit *f, gsl_rng *rng, size_t n, double *lp, double *lq,
                       double *ll)
{
  return fit_eval_draws_keep(f, rng, n, lp, lq, ll, 0, NULL, NULL);
}

int fit_eval_draws_keep(vi_fit *f, gsl_rng *rng, size_t n, double *lp, double *lq,
                        double *ll, size_t n_keep, double *z_keep, double *lp_keep)
{
  const vi_family_type *t = f->fam.type;
  size_t D = f->dim;
  for (size_t s0 = 0; s0 < n; s0 += VI_FIT_BATCH) {
    size_t b = n - s0 < VI_FIT_BATCH ? n - s0 : VI_FIT_BATCH;
    for (size_t i = 0; i < b * f->fam.n_noise; i++)
      f->eeps[i] = gsl_ran_gaussian_ziggurat(rng, 1.0);
    t->sample(&f->fam, f->x, b, f->eeps, f->ez);
    t->log_q(&f->fam, f->x, b, f->eeps, f->ez, lq + s0);
    int st = f->model.log_joint(f->model.ctx, b, f->ez, lp + s0, NULL);
    if (st != VI_SUCCESS) return st < 0 ? st : VI_EMODEL;
    size_t k = s0 < n_keep ? (n_keep - s0 < b ? n_keep - s0 : b) : 0;   /* kept here */
    if (k && z_keep) memcpy(z_keep + s0 * D, f->ez, k * D * sizeof(double));
    if (k && lp_keep) memcpy(lp_keep + s0, lp + s0, k * sizeof(double));
    for (size_t i = 0; i < b; i++)
      if (!isfinite(lp[s0 + i])) lp[s0 + i] = -INFINITY;
    if (ll && f->model.log_lik) {
      st = f->model.log_lik(f->model.ctx, b, f->ez, ll + s0);
      if (st != VI_SUCCESS) return st < 0 ? st : VI_EMODEL;
    }
  }
  return VI_SUCCESS;
}

/* A new objective (the start, a new M): the window starts at its value here. */
void fit_flat_reset(vi_fit *f)
{
  f->flat_n = 0;
  f->flat_ring[f->flat_n++] = f->elbo;
}


static vi_fit *fit_alloc(const vi_model *m, const vi_options *opt, int *status)
{
  int st = VI_EINVAL, dummy;
  if (!status) status = &dummy;
  if (!m || !m->log_joint || m->dim < 1) { *status = VI_EINVAL; return NULL; }
  vi_fit *f = calloc(1, sizeof *f);
  if (!f) { *status = VI_ENOMEM; return NULL; }
  clock_gettime(CLOCK_MONOTONIC, &f->t0);
  f->model = *m;
  f->dim = m->dim;
  if (options_resolve(opt, &f->opt) != 0) goto fail;
  if ((st = family_init(&f->fam, f->opt.family, m->dim, f->opt.family_rank)) != VI_SUCCESS)
    goto fail;
  f->np = f->fam.n_params;
  /* A full-rank q on M <= D fixed draws has an unbounded objective: the draws span at most
   * M directions, and the entropy grows without limit along the others. */
  if (f->fam.type == vi_family_fullrank && f->opt.estimator == VI_FIXED_DRAWS &&
      f->opt.draws <= m->dim)
    f->opt.draws = m->dim + 1;
  size_t D = f->dim, D2 = f->np, M0 = f->opt.draws, E = f->opt.eval_draws;
  size_t M = M0;   /* buffers hold the largest M of the fit: nothing is allocated later */
  if (f->opt.draws_max) {
    size_t cap = f->opt.draws_max, bound = ADAPTIVE_POINTS / D;
    if (cap > bound) cap = bound > M0 ? bound : M0;
    if (cap > M0) { M = cap; f->adaptive = 1; }
  }
  f->draws_cap = M;
  f->draws_shift = NAN;
  f->mode_corr = NAN;
  f->stop_value = f->rel_last = f->stage_value = NAN;
  st = VI_ENOMEM;
  f->x = calloc(D2, sizeof(double));
  f->sd = calloc(D, sizeof(double));
  f->grad = calloc(D2, sizeof(double));
  f->xtmp = calloc(D2, sizeof(double));
  f->gtmp = calloc(D2, sizeof(double));
  f->delta = calloc(D2, sizeof(double));
  f->x_stage = calloc(D2, sizeof(double));
  f->xv = calloc(D2, sizeof(double));
  f->gbad_x = calloc(D2, sizeof(double));
  f->fault_z = calloc(D, sizeof(double));
  f->lp = calloc(M, sizeof(double));
  f->lq = calloc(M, sizeof(double));
  f->zx = calloc(M * D, sizeof(double));
  f->ez = calloc(VI_FIT_BATCH * D, sizeof(double));
  f->eeps = calloc(VI_FIT_BATCH * f->fam.n_noise, sizeof(double));
  f->sd_stage = calloc(D, sizeof(double));
  if (f->fam.type != vi_family_meanfield && f->adaptive &&
      !(f->cov_stage = calloc(2 * D * D, sizeof(double))))
    goto fail;
  f->eval_lp = calloc(E, sizeof(double));
  f->eval_lq = calloc(E, sizeof(double));
  f->eval_ll = calloc(E, sizeof(double));
  f->rng = gsl_rng_alloc(gsl_rng_mt19937);
  f->rng_eval = gsl_rng_alloc(gsl_rng_mt19937);
  if (!f->x || !f->sd || !f->grad || !f->xtmp || !f->gtmp || !f->delta || !f->lp ||
      !f->lq || !f->zx || !f->ez || !f->eval_lp || !f->eval_lq || !f->eval_ll ||
      !f->rng || !f->rng_eval || !f->x_stage || !f->xv || !f->gbad_x || !f->fault_z ||
      !f->eeps || !f->sd_stage)
    goto fail;
  if (objective_init_cap(&f->obj, m, &f->fam, M0, M) != VI_SUCCESS) goto fail;
  gsl_rng_set(f->rng, f->opt.seed);
  /* a different stream for the diagnostics, still a function of the seed only */
  gsl_rng_set(f->rng_eval, f->opt.seed ^ 0x5bd1e995UL);

  /* starting point */
  double *mu0 = f->gtmp;
  for (size_t j = 0; j < D; j++) {
    if (f->opt.init_mu) mu0[j] = f->opt.init_mu[j];
    else if (f->opt.init == VI_INIT_RANDOM) mu0[j] = gsl_ran_flat(f->rng, -2.0, 2.0);
    else mu0[j] = 0.0;
  }
  if ((st = fit_start_at(f, mu0)) != VI_SUCCESS) goto fail;
  st = VI_EINVAL;
  for (size_t i = 0; i < D2; i++)
    if (!isfinite(f->x[i])) goto fail;
  objective_draw(&f->obj, f->rng);
  if (f->opt.standardize_draws && (st = objective_standardize(&f->obj)) != VI_SUCCESS)
    goto fail;
  f->init_kind = f->opt.init == VI_INIT_RANDOM && !f->opt.init_mu ? VI_INIT_RANDOM
                                                                  : VI_INIT_ZERO;
  /* init_mu overrides init, the Laplace start included (its documented meaning) */
  if (f->opt.init == VI_INIT_LAPLACE && !f->opt.init_mu && (st = fit_start_laplace(f)) != VI_SUCCESS)
    goto fail;

  f->driver = f->opt.optimizer == VI_OPT_ADAM ? &fit_driver_adam : &fit_driver_gsl;
  if ((st = fit_minibatch_init(f)) != VI_SUCCESS) goto fail;
  st = f->driver->start(f);   /* with minibatches, the start's values are on one */
  f->elbo_prev = NAN;
  f->step = 0.0;
  if (st == VI_SUCCESS) st = fit_record(f);
  fit_minibatch_end(f);
  if (st != VI_SUCCESS) goto fail;
  *status = VI_SUCCESS;
  return f;
fail:
  vi_fit_free(f);
  *status = st;
  return NULL;
}

/* GSL reports through return codes during our calls, never aborts; the caller's handler
 * is restored on return (vi/fit.h: thread safety). */
vi_fit *vi_fit_alloc(const vi_model *m, const vi_options *opt, int *status)
{
  gsl_error_handler_t *saved = gsl_set_error_handler_off();
  vi_fit *f = fit_alloc(m, opt, status);
  gsl_set_error_handler(saved);
  return f;
}

void vi_fit_free(vi_fit *f)
{
  if (!f) return;
  if (f->driver) f->driver->free(f);
  fit_minibatch_free(f);
  if (f->rng) gsl_rng_free(f->rng);
  if (f->rng_eval) gsl_rng_free(f->rng_eval);
  objective_clear(&f->obj);
  family_clear(&f->fam);
  free(f->x); free(f->sd); free(f->grad); free(f->xtmp); free(f->gtmp); free(f->delta);
  free(f->lp); free(f->lq); free(f->zx); free(f->ez);
  free(f->eval_lp); free(f->eval_lq); free(f->eval_ll);
  free(f->x_stage);
  free(f->pre_c); free(f->pre_L); free(f->xv); free(f->gbad_x); free(f->fault_z);
  free(f->eeps); free(f->sd_stage); free(f->cov_stage); free(f->modes); free(f->mode_x);
  free(f->mode_has_h);
  free(f->final_z);
  free(f->hist);
  free(f);
}

/* A failing status: keep the objective's last faulty evaluation of this iteration (if
 * any) as the fit's fault, at the iteration being attempted. */
static void fit_take_fault(vi_fit *f)
{
  if (!f->obj.fault_set) return;
  f->obj.fault_set = 0;
  memcpy(f->fault_z, f->obj.fault_z, f->dim * sizeof(double));
  f->fault.iter = f->iter + 1;
  f->fault.draw = f->obj.fault_draw;
  f->fault.lp = f->obj.fault_lp;
  f->fault.status = f->obj.fault_status;
  f->fault.z = f->fault_z;
  f->has_fault = 1;
}

const vi_fault *vi_fit_fault(const vi_fit *f)
{
  return f && f->has_fault ? &f->fault : NULL;
}

static int fit_iterate(vi_fit *f)
{
  if (!f) return VI_EINVAL;
  if (f->reason == VI_STOP_FAILED) return f->error;
  int st = VI_SUCCESS;
  if (f->grow_pending) {
    f->obj.fault_set = 0;
    st = fit_stage_grow(f);
    if (st < 0) {
      f->reason = VI_STOP_FAILED;
      f->error = st;
      fit_take_fault(f);
      return st;
    }
    if (f->stage_done) return VI_SUCCESS;   /* the doubling failed: the fit stands */
  }
  if (f->noprog) return VI_SUCCESS;
  f->obj.fault_set = 0;   /* faults of earlier iterations were backed off from */
  st = f->driver->iterate(f);
  fit_minibatch_end(f);   /* between steps the model has the whole data */
  if (st < 0) {
    f->reason = VI_STOP_FAILED;
    f->error = st;
    fit_take_fault(f);
  }
  return st;
}

int vi_fit_iterate(vi_fit *f)
{
  gsl_error_handler_t *saved = gsl_set_error_handler_off();
  int st = fit_iterate(f);
  gsl_set_error_handler(saved);
  return st;
}

/* The ELBO (nats) a Newton step from x could still gain, by a quadratic model: in mu,
 * q's own covariance as the inverse curvature (at the optimum of a Gaussian family the
 * ELBO's curvature in mu is E_q[-Hess log p], about Sigma_q^-1: the diagonal exactly for
 * the mean field), and in the family's scale parameters unit curvature (they are log sds,
 * or a factor T near I on the base scale, where the curvature is 1 to 2).  So g' Sigma g / 2
 * + |g_scale|^2 / 2: scale-free in mu, where the raw gradient norm is not. */
static double fit_predicted_gain(vi_fit *f)
{
  size_t D = f->dim;
  const double *g = f->grad;
  double gain = 0.0;
  if (f->cov_stage) {
    double *c = f->cov_stage + D * D;
    f->fam.type->covariance(&f->fam, f->x, c);
    for (size_t i = 0; i < D; i++)
      for (size_t j = 0; j < D; j++) gain += g[i] * c[i * D + j] * g[j];
  } else {
    for (size_t j = 0; j < D; j++) gain += (f->sd[j] * g[j]) * (f->sd[j] * g[j]);
  }
  for (size_t k = D; k < f->np; k++) gain += g[k] * g[k];
  return 0.5 * gain;
}

/* The Monte Carlo standard error of the ELBO on the fit's M draws at x: how much another
 * set of M draws would move it.  A gain below it changes nothing a user can see. */
static double fit_elbo_se(const vi_fit *f)
{
  size_t M = f->obj.draws;
  double m = 0.0, ss = 0.0;
  if (M < 2) return 0.0;
  for (size_t i = 0; i < M; i++) m += f->lp[i] - f->lq[i];
  m /= (double)M;
  for (size_t i = 0; i < M; i++) ss += (f->lp[i] - f->lq[i] - m) * (f->lp[i] - f->lq[i] - m);
  return sqrt(ss / (double)(M - 1) / (double)M);
}

int vi_fit_test(vi_fit *f)
{
  if (!f) return VI_EINVAL;
  if (f->reason == VI_STOP_FAILED) return f->error;
  f->reason = VI_STOP_NONE;
  f->stop_value = NAN;
  int fresh = f->opt.estimator == VI_FRESH_DRAWS;
  if (f->noprog) {
    double gain = fit_predicted_gain(f);
    if (gain < fit_elbo_se(f)) {   /* stuck within the objective's own error */
      f->reason = VI_STOP_RESOLUTION;
      f->stop_value = gain;
    } else {
      f->reason = VI_STOP_NOPROGRESS;
      f->stop_value = f->cur.grad_norm;
    }
  } else if (!fresh && f->cur.grad_norm < f->opt.tol_grad) {
    f->reason = VI_STOP_GRAD;
    f->stop_value = f->cur.grad_norm;
  } else {
    f->driver->test(f);   /* the optimiser's own convergence rules */
  }
  fit_stage_test(f);   /* adaptive M: a converged stage may double M instead */
  if (f->reason != VI_STOP_NONE) return VI_SUCCESS;
  if (f->iter >= f->opt.max_iter) {
    f->reason = VI_STOP_MAXITER;
    f->stop_value = NAN;
    return VI_EMAXITER;
  }
  return VI_CONTINUE;
}

int vi_fit_run(vi_fit *f, vi_observer_fn observer, void *ctx)
{
  if (!f) return VI_EINVAL;
  if (observer && f->iter == 0 && observer(ctx, f, &f->cur)) return VI_EINTERRUPTED;
  int st;
  while ((st = vi_fit_test(f)) == VI_CONTINUE) {
    size_t before = f->nhist;
    st = vi_fit_iterate(f);
    if (st < 0) return st;
    if (observer && f->nhist > before && observer(ctx, f, &f->cur)) return VI_EINTERRUPTED;
  }
  return st;
}

/* vi_optimizer order; the driver for each: driver_adam for adam, driver_gsl otherwise */
static const char *const optimizer_names[] = {"bfgs2", "cg-fr", "cg-pr", "steepest", "adam"};

const char *vi_optimizer_name(vi_optimizer o)
{
  return (unsigned)o < sizeof optimizer_names / sizeof optimizer_names[0] ? optimizer_names[o]
                                                                          : NULL;
}

int vi_optimizer_lookup(const char *name, vi_optimizer *o)
{
  for (size_t i = 0; name && i < sizeof optimizer_names / sizeof optimizer_names[0]; i++)
    if (strcmp(name, optimizer_names[i]) == 0) {
      *o = (vi_optimizer)i;
      return 0;
    }
  return -1;
}

size_t vi_fit_dim(const vi_fit *f) { return f->dim; }
const double *vi_fit_mean(const vi_fit *f) { return f->x; }
const double *vi_fit_sd(const vi_fit *f) { return f->sd; }
const vi_model *vi_fit_model(const vi_fit *f) { return &f->model; }
const vi_options *vi_fit_options(const vi_fit *f) { return &f->opt; }
const vi_diag *vi_fit_diag(const vi_fit *f) { return &f->cur; }
size_t vi_fit_history_len(const vi_fit *f) { return f->nhist; }
const vi_diag *vi_fit_history(const vi_fit *f, size_t i)
{
  return i < f->nhist ? &f->hist[i] : NULL;
}
vi_stop_reason vi_fit_stop_reason(const vi_fit *f) { return f->reason; }
double vi_fit_stop_value(const vi_fit *f) { return f->stop_value; }
vi_init vi_fit_init_kind(const vi_fit *f) { return f->init_kind; }
size_t vi_fit_init_iterations(const vi_fit *f) { return f->init_iters; }
gsl_rng *vi_fit_rng(vi_fit *f) { return f->rng; }

/* The family's scratch is the fit's: these calls write it (vi/fit.h says so). */
void vi_fit_sample(const vi_fit *f, gsl_rng *rng, double *z)
{
  vi_fit *w = (vi_fit *)f;
  for (size_t i = 0; i < f->fam.n_noise; i++) w->eeps[i] = gsl_ran_gaussian_ziggurat(rng, 1.0);
  f->fam.type->sample(&w->fam, f->x, 1, w->eeps, z);
}

double vi_fit_log_q(const vi_fit *f, const double *z)
{
  double lq;
  vi_fit *w = (vi_fit *)f;
  f->fam.type->log_q(&w->fam, f->x, 1, NULL, z, &lq);
  return lq;
}

size_t vi_fit_start_searches(const vi_fit *f) { return f->n_searches; }
size_t vi_fit_modes(const vi_fit *f) { return f->n_modes; }
double vi_fit_mode_correlation(const vi_fit *f) { return f->mode_corr; }
const vi_mode *vi_fit_mode(const vi_fit *f, size_t i)
{
  return i < f->n_modes ? &f->modes[i] : NULL;
}

const vi_family_type *vi_fit_family(const vi_fit *f) { return f->fam.type; }
size_t vi_fit_family_rank(const vi_fit *f) { return f->fam.rank; }
size_t vi_fit_n_params(const vi_fit *f) { return f->np; }
const double *vi_fit_params(const vi_fit *f) { return f->x; }

void vi_fit_covariance(const vi_fit *f, double *cov)
{
  f->fam.type->covariance(&((vi_fit *)f)->fam, f->x, cov);
}
