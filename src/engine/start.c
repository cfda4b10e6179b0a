/* start.c: where q starts (vi_options.init): a mean of zero, uniform in (-2, 2) (Stan's
 * rule) or given, with sd init_sd; when the log joint is not finite at the starting draws,
 * smaller sds and then feasible random means; and the Laplace start (VI_INIT_LAPLACE,
 * laplace.c), which replaces that q by the Gaussian a mode search ends on, when the search
 * converges to a proper mode and the ELBO on the fit's draws says it is the better start.
 *
 * Several starts (vi_options.starts = K, in the spirit of multi-path Pathfinder, Zhang,
 * Carpenter, Gelman & Vehtari, JMLR 2022): the first search from the default mean, K - 1
 * more, alternately from means uniform in (-2, 2) on a stream of their own (so K = 1 is the
 * single search, bit for bit, and a seed always explores the same starts) and, when the
 * model splits off its likelihood, from approximate prior draws (start_prior.c: on the
 * lynx-hare ODE one uniform start in six found the best mode, prior draws 12 of 12);
 * searches that end on
 * the same mode (within 0.1 sd in every coordinate) are merged, each distinct mode is
 * scored by the ELBO of its Gaussian on the fit's draws, and the fit continues from the
 * best.  The searches run in rounds, as coroutines in lockstep whose model points are
 * evaluated in common batched calls (start_round.c, issue 15): a round is as many
 * searches as the stopping rule will ask for whatever they find, and its results are
 * taken in the searches' order, so the rule's statistics and decisions are those of one
 * search at a time.  The modes found are kept for the report (vi_fit_mode).
 * VI_STARTS_AUTO (the default) sets the number of searches by Boender & Rinnooy Kan's
 * stopping rule (start_enough): four fixed searches missed the better mode on 2 of 10
 * seeds of posteriordb's drive HMM and on the lynx-hare Lotka-Volterra ODE, where one
 * random search in three or four reaches it (bench/README.md, "Several starts").
 * Fitting the best few modes instead was not needed: on both the best-scored start
 * Gaussian was the best mode's.
 *
 * Measured when the Laplace start was made the default (zero start vs Laplace, seeds
 * 1..3, the bench suite and the 35 e2e models): never worse by more than 0.016 nats;
 * badly_scaled -616 -> -372 nats, earnings_log +15 to +45 nats, Gaussian posteriors exact
 * at the start; model points median 0.62x, worst 2.6x.  Without the "converged" condition
 * a 2PL IRT model (no proper mode) ended 47 nats worse. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <gsl/gsl_linalg.h>
#include <gsl/gsl_randist.h>
#include <vi/status.h>
#include "engine/fit_internal.h"
#include "engine/laplace.h"
#include "engine/start_round.h"

#define PRE_CORR 0.9     /* Hessian correlation above which GSL is preconditioned */
#define MODE_SAME 0.1    /* two searches ended on one mode: within this many sds */
#define STARTS_CAP 32    /* VI_STARTS_AUTO: at most this many mode searches */
#define STARTS_NONE 4    /* VI_STARTS_AUTO: searches before giving up on finding a mode */
#define STARTS_PARALLEL 16   /* at most this many searches in a round */
#define STARTS_SCRATCH ((size_t)1 << 23)   /* doubles of scratch for a round's searches */

/* A starting q whose draws reach where the log joint is not finite (a constrained support,
 * an overflow far out): halve its sds, up to START_SHRINKS times, before giving up. */
void fit_start_shrink(vi_fit *f)
{
  f->fam.type->scale(&f->fam, f->x, -0.69314718055994530942);   /* halve: log 2 */
  fit_set_x(f, f->x);
}

/* q at mean mu with the starting sd init_sd in every coordinate (the family's own shape
 * around it: independent coordinates). */
int fit_start_at(vi_fit *f, const double *mu)
{
  size_t D = f->dim;
  double *sd = malloc(D * sizeof(double)), *x = malloc(f->np * sizeof(double));
  int st = VI_ENOMEM;
  if (sd && x) {
    for (size_t j = 0; j < D; j++) sd[j] = f->opt.init_sd;
    st = f->fam.type->init(&f->fam, mu, sd, NULL, f->rng, x);
    if (st == VI_SUCCESS) fit_set_x(f, x);
  }
  free(sd);
  free(x);
  return st;
}

/* A start mean where the model has no finite log density (a bound on a transformed
 * parameter, an ODE solution just outside its support) fails whatever the sds: after
 * the halvings, try means uniform in (-2, 2), as Stan initialises, up to START_TRIES
 * times, and start again from the first feasible one with the initial sds.  1 if one
 * was found.  Each try is one model point, counted. */
#define START_TRIES 100
#define LAPLACE_JITTER 0.5
/* The tries through model m into z (D values); counts the points when counts is given
 * (a round's model counts its own). */
static int start_feasible(vi_fit *f, const vi_model *m, double *z, int count)
{
  size_t D = f->dim;
  for (int k = 0; k < START_TRIES; k++) {
    double lp = NAN;
    for (size_t j = 0; j < D; j++) z[j] = gsl_ran_flat(f->rng, -2.0, 2.0);
    int st = m->log_joint(m->ctx, 1, z, &lp, NULL);
    if (count) {
      f->obj.n_fevals++;
      f->obj.n_points++;
    }
    if (st == VI_SUCCESS && isfinite(lp)) {
      f->init_kind = VI_INIT_RANDOM;
      return fit_start_at(f, z) == VI_SUCCESS;
    }
  }
  return 0;
}

int fit_start_feasible_mean(vi_fit *f)
{
  return start_feasible(f, &f->model, f->xtmp, 1);
}

/* Is the D x D negative Hessian h positive definite (a proper mode, not a saddle)? */
static int fit_proper_mode(const double *h, size_t D)
{
  double *a = malloc(D * D * sizeof *a);
  if (!a) return 1;   /* cannot tell: take the search's word */
  memcpy(a, h, D * D * sizeof *a);
  int ok = laplace_cholesky(a, D) == 0;
  free(a);
  return ok;
}

/* The lower Cholesky factor of the inverse of the D x D positive definite h, into c.
 * 0, or -1 (h not positive definite, or no memory). */
static int fit_inverse_chol(const double *h, size_t D, double *c)
{
  memcpy(c, h, D * D * sizeof(double));
  gsl_matrix_view v = gsl_matrix_view_array(c, D, D);
  if (gsl_linalg_cholesky_decomp1(&v.matrix) != GSL_SUCCESS ||
      gsl_linalg_cholesky_invert(&v.matrix) != GSL_SUCCESS)
    return -1;
  return laplace_cholesky(c, D);
}

/* The Laplace start xl = (mode, log sd) as the family's parameters, into cand (its own
 * base scale): a family with a full covariance starts from the mode's covariance H^-1
 * when the search gave the Hessian. */
static int fit_laplace_candidate(vi_fit *f, const double *xl, const double *hess,
                                 family *cand, double *xc)
{
  size_t D = f->dim;
  int st = family_init(cand, f->fam.type, D, f->fam.rank);
  if (st != VI_SUCCESS) return st;
  double *sd = malloc(D * sizeof(double)), *chol = NULL;
  if (!sd) return VI_ENOMEM;
  for (size_t j = 0; j < D; j++) sd[j] = exp(xl[D + j]);
  if (hess && f->fam.type != vi_family_meanfield) {
    if (!(chol = malloc(D * D * sizeof(double)))) { free(sd); return VI_ENOMEM; }
    if (fit_inverse_chol(hess, D, chol) != 0) { free(chol); chol = NULL; }
  }
  st = cand->type->init(cand, xl, sd, chol, f->rng, xc);
  free(sd);
  free(chol);
  return st;
}

/* One mode search of a round (start_round.c): its start, its results, and what it may
 * touch.  The first search alone may move the fit's default start (x, the family, rng:
 * no other search and not the round's thread touch them meanwhile); every other search
 * jitters with an rng of its own, so that the round does not depend on the threads'
 * timing. */
typedef struct {
  vi_fit *f;           /* read only, but for the first search's default start */
  size_t k;            /* which search */
  double *z0;          /* D: the start (overwritten) */
  double *xl;          /* 2D: (mode, log sd) */
  double *hess;        /* D x D or NULL: the negative Hessian there */
  int ok;              /* ended on a converged, finite, proper mode */
  int have_hess;       /* hess holds its Hessian */
  size_t iters;
} start_job;

/* One laplace_start through the round's model m. */
static int start_laplace_run(start_job *j, const vi_model *m, laplace_stats *ls)
{
  int st = laplace_start(m, j->z0, j->f->opt.init_sd, j->xl, j->hess, ls);
  j->iters += ls->iters;
  return st;
}

/* One mode search from z0 (overwritten), retried near a saddle; ok when it ends on a
 * converged, finite mode (xl = (mode, log sd), hess its negative Hessian when given). */
static int start_search(void *arg, const vi_model *m)
{
  start_job *j = arg;
  vi_fit *f = j->f;
  size_t D = f->dim;
  double *z0 = j->z0, *xl = j->xl, *hess = j->hess;
  laplace_stats ls;
  j->ok = j->have_hess = 0;
  j->iters = 0;
  int st = start_laplace_run(j, m, &ls);
  if (j->k == 0 && st == VI_SUCCESS && !ls.found && start_feasible(f, m, z0, 0)) {
    /* no finite point near zero: search again from a feasible random mean */
    memcpy(z0, f->x, D * sizeof(double));
    st = start_laplace_run(j, m, &ls);
  }
  if (st == VI_SUCCESS && ls.found && ls.converged && ls.have_hess && !fit_proper_mode(hess, D)) {
    /* A stationary point that is no mode: from exactly zero an exchangeable model (a
     * mixture's components) has a gradient symmetric in the exchangeable coordinates and
     * the search ends on the symmetric saddle, where the ELBO's optimiser may stay
     * (low_dim_gauss_mix_collapse: 9 nats lower on 2 seeds of 8).  Search again from a
     * point near it, off the symmetry: the first search on the fit's rng (one search
     * alone is what it was), the others on a stream of their own each. */
    gsl_rng *r = f->rng;
    if (j->k > 0) {
      if (!(r = gsl_rng_alloc(gsl_rng_mt19937))) return VI_ENOMEM;
      gsl_rng_set(r, (f->opt.seed ^ 0x6a09e667UL) + 0x9e3779b9UL * (unsigned long)j->k);
    }
    for (size_t i = 0; i < D; i++)
      z0[i] = xl[i] + gsl_ran_flat(r, -LAPLACE_JITTER, LAPLACE_JITTER);
    if (r != f->rng) gsl_rng_free(r);
    st = start_laplace_run(j, m, &ls);
  }
  /* A search that ran out of iterations (or into the lp cap, or a failing line search)
   * found no proper mode: typically a hierarchical model heading down a funnel, where the
   * start it leaves, though often better than zero's, leads the ELBO's optimiser into a
   * worse local optimum (a 2PL IRT model in tests/lang/e2e: 47 nats).  No mode then. */
  if (st != VI_SUCCESS || !ls.found || !ls.converged) return st;
  for (size_t i = 0; i < 2 * D; i++)
    if (!isfinite(xl[i])) return VI_SUCCESS;
  j->ok = 1;
  j->have_hess = hess && ls.have_hess;
  return VI_SUCCESS;
}

/* Did the search that ended at xl (Hessian hess or NULL) find mode k?  With Hessians, when
 * each point lies within the other's Laplace Gaussian, (z - z_k)' H (z - z_k) < 1 for
 * both: a ridge of near-equal density (a non-identified sum of effects) is one mode, and
 * the searches that end along it are not counted as modes of their own.  Without, within
 * MODE_SAME conditional sds in every coordinate. */
static int start_same_mode(const vi_fit *f, size_t k, const double *xl, const double *hess)
{
  size_t D = f->dim;
  const double *z = f->mode_x + k * 2 * D, *hk = f->mode_h ? f->mode_h + k * D * D : NULL;
  if (hess && hk && f->mode_has_h[k]) {
    double qa = 0.0, qb = 0.0;
    for (size_t i = 0; i < D; i++)
      for (size_t j = 0; j < D; j++) {
        double dd = (xl[i] - z[i]) * (xl[j] - z[j]);
        qa += hk[i * D + j] * dd;
        qb += hess[i * D + j] * dd;
      }
    return qa < 1.0 && qb < 1.0;
  }
  double far = 0.0;
  for (size_t j = 0; j < D; j++) far = fmax(far, fabs(xl[j] - z[j]) / exp(xl[D + j]));
  return far < MODE_SAME;
}

/* The best mode's Gaussian so far, as the family's parameters with their own base. */
typedef struct {
  family cand;
  double *xc;   /* np values */
  double elbo;
  int have;
} start_best;

/* Record the search's mode: merged with a mode found before, or a new one, scored by the
 * ELBO on the fit's draws of the Gaussian it starts (kept in best when it is the best). */
static int start_add_mode(vi_fit *f, const double *xl, const double *hess, double *best_hess,
                          start_best *best)
{
  size_t D = f->dim;
  for (size_t k = 0; k < f->n_modes; k++) {
    if (start_same_mode(f, k, xl, hess)) {
      f->modes[k].starts++;
      return VI_SUCCESS;
    }
  }
  family cand;
  double el, elj, *xc = malloc(f->np * sizeof(double));
  if (!xc) return VI_ENOMEM;
  int st = fit_laplace_candidate(f, xl, hess, &cand, xc);
  if (st == VI_SUCCESS) {
    f->obj.fam = &cand;
    st = objective_eval(&f->obj, xc, &el, &elj, NULL);
    f->obj.fam = &f->fam;
  }
  if (st == VI_SUCCESS && isfinite(el) && hess && f->mode_h) {
    /* the Hessians grow with the modes found, not with the searches' cap */
    double *mh = realloc(f->mode_h, (f->n_modes + 1) * D * D * sizeof(double));
    if (!mh) st = VI_ENOMEM;
    else f->mode_h = mh;
  }
  if (st == VI_SUCCESS && isfinite(el)) {
    size_t k = f->n_modes++;
    memcpy(f->mode_x + k * 2 * D, xl, 2 * D * sizeof(double));
    f->mode_has_h[k] = hess != NULL;
    if (hess && f->mode_h) memcpy(f->mode_h + k * D * D, hess, D * D * sizeof(double));
    f->modes[k].elbo = el;
    f->modes[k].starts = 1;
    if (!best->have || el > best->elbo) {
      if (best->have) { family_clear(&best->cand); free(best->xc); }
      best->cand = cand;
      best->xc = xc;
      best->elbo = el;
      best->have = 1;
      if (hess && best_hess != hess) memcpy(best_hess, hess, D * D * sizeof(double));
      f->best_have_hess = hess != NULL;
      return VI_SUCCESS;
    }
  }
  family_clear(&cand);
  free(xc);
  return st;
}

/* Sort the modes by ELBO, best first, and point their means into mode_x. */
static void start_sort_modes(vi_fit *f)
{
  size_t D = f->dim;
  for (size_t a = 1; a < f->n_modes; a++)
    for (size_t b = a; b > 0 && f->modes[b].elbo > f->modes[b - 1].elbo; b--) {
      vi_mode t = f->modes[b];
      f->modes[b] = f->modes[b - 1];
      f->modes[b - 1] = t;
      for (size_t j = 0; j < 2 * D; j++) {
        double u = f->mode_x[b * 2 * D + j];
        f->mode_x[b * 2 * D + j] = f->mode_x[(b - 1) * 2 * D + j];
        f->mode_x[(b - 1) * 2 * D + j] = u;
      }
    }
  for (size_t k = 0; k < f->n_modes; k++) f->modes[k].mean = f->mode_x + k * 2 * D;
}

/* The largest |correlation| of the Laplace covariance H^-1 (NaN when H is not positive
 * definite or memory is short). */
static double start_max_correlation(const double *h, size_t D)
{
  double *c = malloc(D * D * sizeof(double)), r = NAN;
  if (!c) return r;
  memcpy(c, h, D * D * sizeof(double));
  gsl_matrix_view v = gsl_matrix_view_array(c, D, D);
  if (gsl_linalg_cholesky_decomp1(&v.matrix) == GSL_SUCCESS &&
      gsl_linalg_cholesky_invert(&v.matrix) == GSL_SUCCESS) {
    r = 0.0;
    for (size_t i = 0; i < D; i++)
      for (size_t j = 0; j < i; j++)
        r = fmax(r, fabs(c[i * D + j]) / sqrt(c[i * D + i] * c[j * D + j]));
  }
  free(c);
  return r;
}

/* VI_STARTS_AUTO: after n searches, n_ok of them ending on one of w distinct modes, is
 * it time to stop?  Boender & Rinnooy Kan's Bayesian stopping rule for multistart
 * (Math. Programming 37, 1987): with a uniform prior on the number of modes and on the
 * sizes of their basins, the posterior expected number of modes is
 * w (n_ok - 1) / (n_ok - w - 2); stop when it exceeds w by less than one half, that is
 * n_ok > 2 w (w + 1) + w + 2; and, their second rule, when the posterior expected share
 * of the starts' space in basins not yet seen, w (w + 1) / (n_ok (n_ok - 1)), is below
 * STARTS_UNSEEN: 11 searches that agree on one mode, 18 for two, 30 for three (the first
 * rule alone stopped at 8 with one mode: a basin of 30% is missed then 1 time in 12).
 * No mode after STARTS_NONE searches: the model has no proper mode (a funnel, where
 * every search runs to its cap) and more searches only cost. */
#define STARTS_UNSEEN 0.02
static int start_enough(size_t n, size_t n_ok, size_t w)
{
  if (n >= STARTS_NONE && w == 0) return 1;
  return w > 0 && n_ok > 2 * w * (w + 1) + w + 2 &&
         (double)(w * (w + 1)) < STARTS_UNSEEN * (double)n_ok * (double)(n_ok - 1);
}

/* VI_STARTS_AUTO: how many more searches the rule asks for before it can stop, whatever
 * they find: the fewest j such that after j more searches start_enough may hold (all of
 * them failing while no mode is known, or all ending on modes known).  A round of that
 * many searches then decides exactly as one search at a time did. */
static size_t start_round_size(size_t n, size_t n_ok, size_t w, size_t left)
{
  size_t j = 1;
  for (; j < left; j++)
    if ((w == 0 && n + j >= STARTS_NONE) || start_enough(n + j, n_ok + j, w > 0 ? w : 1))
      break;
  return j;
}

/* The prior-draw start for search k (even, >= 2): prior draws (start_prior.c) are made in
 * batches of STARTS_PRIOR_BATCH chains as the searches need them (a few hundred model
 * points each), on a stream of their own so that the uniform starts stay the seed's. */
#define STARTS_PRIOR_BATCH 5
typedef struct {
  gsl_rng *rng;
  double *z;       /* cap x D draws */
  size_t n, cap;   /* made, and the most ever needed */
} start_priors;

static int start_prior_point(vi_fit *f, start_priors *p, size_t i, double *z0)
{
  size_t D = f->dim;
  if (!p->rng) {
    if (!(p->rng = gsl_rng_alloc(gsl_rng_mt19937)) ||
        !(p->z = malloc(p->cap * D * sizeof(double))))
      return VI_ENOMEM;
    gsl_rng_set(p->rng, f->opt.seed ^ 0x9e3779b9UL);
  }
  if (i >= p->n) {
    size_t b = p->cap - p->n < STARTS_PRIOR_BATCH ? p->cap - p->n : STARTS_PRIOR_BATCH;
    int st = fit_start_prior_draws(f, p->rng, b, p->z + p->n * D);
    if (st != VI_SUCCESS) return st;
    p->n += b;
  }
  memcpy(z0, p->z + i * D, D * sizeof(double));
  return VI_SUCCESS;
}

/* VI_INIT_LAPLACE: the mode searches (one per start), and the best mode's Gaussian as the
 * start when its ELBO on the fit's draws beats the default start's (a non-finite ELBO
 * loses).  The guard is what makes the start safe on models without a proper mode
 * (funnels), where the mode search runs off and the curvature there describes no
 * posterior.  The searches run in rounds (start_round.c): with VI_STARTS_AUTO as many as
 * the stopping rule will ask for whatever they find (start_round_size: 4, then 7 when
 * the first four found one mode), otherwise as many as the scratch allows; their results
 * are taken in the searches' order, so the modes, the counts and the rule's decisions are
 * those of one search at a time.  Every model evaluation counts in the fit's totals. */
int fit_start_laplace(vi_fit *f)
{
  int autok = f->opt.starts == VI_STARTS_AUTO;
  size_t D = f->dim, K = autok ? STARTS_CAP : f->opt.starts;
  double e0, elj;
  start_best best;
  memset(&best, 0, sizeof best);
  double *best_hess = NULL;
  start_priors prior = {NULL, NULL, 0, (K - 1) / 2};
  gsl_rng *rs = NULL;
  int full = f->fam.type != vi_family_meanfield;   /* a family that takes H^-1 */
  int newton = (f->opt.optimizer != VI_OPT_ADAM || full) && D <= VI_LAPLACE_NEWTON_DIM;
  /* a round's searches: each with its start, mode and Hessian, and laplace.c's scratch
   * (difference points and gradients, 4 D min(D, 2^19 / D) doubles) */
  size_t pairs = ((size_t)1 << 19) / D, P = K < STARTS_PARALLEL ? K : STARTS_PARALLEL;
  if (pairs < 1) pairs = 1;
  if (pairs > D) pairs = D;
  size_t each = 4 * pairs * D + 3 * D + (newton ? 2 * D * D : 0);
  if (P * each > STARTS_SCRATCH) P = STARTS_SCRATCH / each;
  if (P < 1) P = 1;
  start_job *job = calloc(P, sizeof *job);
  void **arg = malloc(P * sizeof *arg);
  int *res = malloc(P * sizeof *res);
  double *zs = malloc(P * D * sizeof(double)), *xs = malloc(P * 2 * D * sizeof(double));
  double *hs = NULL;
  if (!job || !arg || !res || !zs || !xs) goto nomem;
  if (newton) {
    if (!(f->pre_L = malloc(D * D * sizeof(double)))) goto nomem;
    best_hess = f->pre_L;
    /* one search alone works in best_hess itself, as it always did */
    if (K > 1 && !(hs = malloc(P * D * D * sizeof(double)))) goto nomem;
  }
  for (size_t i = 0; i < P; i++) {
    job[i].f = f;
    job[i].z0 = zs + i * D;
    job[i].xl = xs + i * 2 * D;
    job[i].hess = newton ? (hs ? hs + i * D * D : best_hess) : NULL;
    arg[i] = &job[i];
  }
  int st = VI_ENOMEM;
  f->modes = calloc(K, sizeof *f->modes);
  f->mode_x = calloc(K * 2 * D, sizeof(double));
  f->mode_has_h = calloc(K, sizeof(int));
  if (!f->modes || !f->mode_x || !f->mode_has_h ||
      (K > 1 && !(rs = gsl_rng_alloc(gsl_rng_mt19937))) ||
      (K > 1 && newton && !(f->mode_h = malloc(D * D * sizeof(double)))))
    goto done;
  if (rs) gsl_rng_set(rs, f->opt.seed ^ 0x2545f491UL);
  f->init_iters = 0;
  size_t n_ok = 0;   /* searches that ended on a proper mode */
  for (size_t k = 0; k < K;) {
    size_t r = autok ? start_round_size(k, n_ok, f->n_modes, K - k) : K - k;
    if (r > P) r = P;
    for (size_t i = 0; i < r; i++) {   /* the starts, drawn in the searches' order */
      double *z0 = job[i].z0;
      job[i].k = k + i;
      if (k + i == 0) memcpy(z0, f->x, D * sizeof(double));
      else if ((k + i) % 2 == 0 && f->model.log_lik) {
        if ((st = start_prior_point(f, &prior, (k + i) / 2 - 1, z0)) != VI_SUCCESS)
          goto done;
      } else
        for (size_t j = 0; j < D; j++) z0[j] = gsl_ran_flat(rs, -2.0, 2.0);
    }
    start_round_counts rc = {0, 0, 0};
    st = start_round_run(&f->model, r, start_search, arg, res, &rc);
    f->obj.n_fevals += rc.n_calls;
    f->obj.n_gevals += rc.n_gcalls;
    f->obj.n_points += rc.n_points;
    if (st != VI_SUCCESS) goto done;
    int stop = 0;
    for (size_t i = 0; i < r && !stop; i++) {
      start_job *j = &job[i];
      f->init_iters += j->iters;
      f->n_searches++;
      if ((st = res[i]) != VI_SUCCESS) goto done;
      if (j->ok && (st = start_add_mode(f, j->xl, j->have_hess ? j->hess : NULL, best_hess,
                                        &best)) != VI_SUCCESS)
        goto done;
      n_ok += j->ok;
      stop = autok && start_enough(k + i + 1, n_ok, f->n_modes);
    }
    k += r;
    if (stop) break;
  }
  st = VI_SUCCESS;
  if (!best.have) goto done;
  start_sort_modes(f);
  const double *h = f->best_have_hess ? best_hess : NULL;
  if ((st = objective_eval(&f->obj, f->x, &e0, &elj, NULL)) != VI_SUCCESS) goto done;
  int take = !(best.elbo <= e0);   /* e0 may be -inf */
  if (take) {
    family_copy_base(&f->fam, &best.cand);
    fit_set_x(f, best.xc);
  }
  if (st != VI_SUCCESS || !take) goto done;
  f->init_kind = VI_INIT_LAPLACE;
  if (h) f->mode_corr = start_max_correlation(h, D);
  /* The preconditioner of the GSL optimiser: the Cholesky factor of the Hessian at the
   * mode, when the Hessian couples coordinates strongly (some |H_ij| / sqrt(H_ii H_jj)
   * above PRE_CORR: there raw coordinates are what stalls BFGS).  Otherwise none: on
   * weakly coupled models the mode's curvature can describe q's optimum worse than the
   * raw coordinates do (a horseshoe logistic regression, max correlation 0.58: 739
   * iterations with the full preconditioner, 320 with the diagonal one (the start's
   * sds), 221 without), and BFGS from the Laplace start is already well scaled. */
  if (f->opt.optimizer != VI_OPT_ADAM && h) {
    double r = 0.0;
    for (size_t i = 0; i < D; i++)
      for (size_t j = 0; j < i; j++)
        r = fmax(r, fabs(h[i * D + j]) / sqrt(h[i * D + i] * h[j * D + j]));
    if (r > PRE_CORR) {
      if (!(f->pre_c = malloc(D * sizeof(double)))) { st = VI_ENOMEM; goto done; }
      memcpy(f->pre_c, f->x, D * sizeof(double));
      if (laplace_cholesky(best_hess, D) == 0) f->pre = 1;
    }
  }
done:
  free(f->mode_h);   /* only the searches compare Hessians */
  f->mode_h = NULL;
  if (best.have) { family_clear(&best.cand); free(best.xc); }
  free(job); free(arg); free(res); free(zs); free(xs); free(hs);
  if (rs) gsl_rng_free(rs);
  if (prior.rng) gsl_rng_free(prior.rng);
  free(prior.z);
  return st;
nomem:
  free(job); free(arg); free(res); free(zs); free(xs); free(hs);
  return VI_ENOMEM;
}
