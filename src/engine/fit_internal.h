/* engine/fit_internal.h: internal: the state of a fit (vi/fit.h), shared by fit.c (the
 * iteration) and finish.c (the final fresh-draw diagnostics). */
#ifndef VI_ENGINE_FIT_INTERNAL_H
#define VI_ENGINE_FIT_INTERNAL_H

#include <time.h>
#include <gsl/gsl_multimin.h>
#include <gsl/gsl_rng.h>
#include <vi/fit.h>
#include "engine/adam.h"
#include "engine/family.h"
#include "engine/objective.h"

#define VI_FIT_CACHE 4      /* last objective evaluations kept (x, lp) for diagnostics */
#define VI_FIT_BATCH 256    /* points per log_joint call for the fresh-draw diagnostics */

#define STAGE_REL_OBJ 1e-7   /* the relative-change tolerance of a stage of the adaptive M
                                before the last: its optimum is itself an M-draw estimate,
                                so polishing it further than this is wasted */
#define START_SHRINKS 10     /* halvings of an infeasible starting sd before giving up */

/* An optimiser of the fit, GSL-style: a const table per kind (driver_gsl.c: GSL's
 * quasi-Newton, conjugate-gradient and steepest-descent minimisers on the fixed draws;
 * driver_adam.c: Adam on fresh or fixed draws).  The fit, the start, adaptive M and the
 * common stopping rules (gradient norm, no progress, iteration cap) do not branch on it. */
typedef struct fit_driver {
  const char *name;
  int (*start)(vi_fit *f);      /* its state, and the first evaluation at q's start */
  int (*iterate)(vi_fit *f);    /* one step: VI_SUCCESS or a negative status */
  void (*test)(vi_fit *f);      /* its own stops: sets f->reason and f->stop_value */
  void (*free)(vi_fit *f);      /* its state (NULL-safe on a failed start) */
} fit_driver;
extern const fit_driver fit_driver_gsl, fit_driver_adam;

struct vi_fit {
  vi_model model;
  vi_options opt;
  size_t dim;
  const fit_driver *driver;   /* the optimiser */
  family fam;         /* q's family and its base scale */
  size_t np;          /* its parameter count: x, grad and GSL's vector have np values */
  /* the accepted state: never non-finite */
  double *x;          /* np: q's parameters (mu first) */
  double *sd;         /* dim: q's marginal sds */
  double *grad;       /* np: gradient of the ELBO at x on the current draws */
  double elbo, elj;   /* ELBO and E_q[log p] at x on those draws */
  double *lp, *lq;    /* draws: log p(x, z_s) and log q(z_s) at x */
  double *zx;         /* draws x dim: the points z_s at x */
  double elbo_prev;   /* ELBO before the last accepted step */
  double step;        /* |dx| of the last step */
  size_t iter;
  vi_stop_reason reason;
  double stop_value;  /* the value that triggered reason (vi_fit_stop_value) */
  double rel_last;    /* relative ELBO change of the last accepted step (or Adam block) */
  int rel_small;      /* consecutive accepted steps with rel_last < tol_rel_obj */
  vi_init init_kind;  /* the start taken (VI_INIT_LAPLACE: the Laplace start won) */
  size_t init_iters;  /* mode-search iterations of a Laplace start */
  size_t n_searches;  /* mode searches run (vi_options.starts, with the Laplace start) */
  vi_mode *modes;     /* the distinct modes they found, best ELBO first */
  size_t n_modes;
  double *mode_x;     /* n_modes x 2 dim: each mode and its log sds */
  double *mode_h;     /* during the searches: n_modes x dim x dim, their negative Hessians */
  int *mode_has_h;    /* which of them have one */
  int last_have_hess, best_have_hess;   /* the last search's / best mode's Hessian */
  double mode_corr;   /* the largest |correlation| of the start mode's Laplace covariance */
  int noprog;         /* the optimiser can make no further progress */
  int error;          /* the status that failed the fit (reason VI_STOP_FAILED) */

  gsl_rng *rng;       /* init, optimiser draws, finish, output draws */
  gsl_rng *rng_eval;  /* eval_every diagnostics: never perturbs the optimiser's draws */
  objective obj;

  /* fixed draws + GSL multimin */
  gsl_multimin_fdfminimizer *gmin;
  gsl_multimin_function_fdf fdf;
  gsl_vector *gx;
  double *xtmp, *gtmp;
  double *cache_x, *cache_lp;  /* VI_FIT_CACHE x (np) and lp (draws) */
  size_t cache_next, cache_used;
  double *best_x;     /* np: the best feasible point GSL evaluated in this iteration */
  double best_f;      /* its -ELBO (+inf: none better than the accepted point) */
  int hard_error;     /* model status seen inside a GSL callback */
  int restarts;       /* consecutive restarts of the GSL minimiser */
  /* preconditioner: GSL's vector is (y, omega) with mu = pre_c + T y, fixed from the
   * start: pre 0: T = I (mu = y); 1: T = L^-T, L L^T = pre_L the negative Hessian of
   * log p at the Laplace mode (lower triangle, D x D) */
  int pre;
  double *pre_c, *pre_L;
  double *xv;         /* np: (mu, omega) of GSL's current vector */
  double *gbad_x;     /* np: the last point of this iteration whose gradient (asked for)
                         was not finite: GSL may hold its finite value-only objective */
  int gbad;           /* gbad_x holds one */

  /* adaptive M (fixed draws + GSL): stages at M = draws, 2 draws, ... up to draws_cap */
  int adaptive;       /* draws_cap > opt.draws */
  size_t draws_cap;   /* the largest M; the buffers are sized for it */
  int grow_pending;   /* the stage converged: the next iterate doubles M */
  int stage_done;     /* the doubling has ended: the stage's convergence is final */
  int polish;         /* ... but it stopped at the stage tolerance: iterate on to the
                         fit's own tol_rel_obj */
  /* the flat-ELBO stop (tol_abs_obj): the objective after each of the last iterations on
   * the current draws, a ring of VI_FLAT_WINDOW + 1, and how many it holds */
  double flat_ring[VI_FLAT_WINDOW + 1];
  size_t flat_n;
  double flat_rise;   /* the rise over the window when the test fired */
  vi_stop_reason stage_reason;  /* the reason that ended the final stage */
  double stage_value; /* and its stop value */
  double *x_stage;    /* np: q at the end of the previous stage */
  double *sd_stage;   /* dim: its marginal sds */
  double *cov_stage;  /* families with correlations: dim x dim, its covariance, then as
                         much scratch (NULL for mean-field) */
  int have_stage;     /* x_stage holds one */
  double draws_shift; /* fit_shift at the last comparison (NaN before) */

  /* Adam */
  adam_state *adam;
  double *delta;
  double lr_scale;
  size_t rejects;     /* consecutive rejected steps */
  double block_sum, block_prev;
  size_t block_n, n_blocks, small_blocks;

  /* minibatches (minibatch_rows.c): the rows' generator, a permutation of the rows kept
   * between steps, this step's rows (sorted), and whether the model holds them now */
  gsl_rng *rng_mb;
  size_t *mb_perm, *mb_rows;
  int mb_on;

  /* diagnostics */
  vi_diag cur;
  vi_diag *hist;
  size_t nhist, caphist;
  struct timespec t0;
  double *ez, *elp, *ell;  /* VI_FIT_BATCH x dim and two of VI_FIT_BATCH: eval buffers */
  double *eeps;            /* VI_FIT_BATCH x n_noise: their standard normal draws */
  double *eval_lp, *eval_lq, *eval_ll;  /* eval_draws each */
  vi_fault fault;          /* the last hard failure (vi_fit_fault) */
  int has_fault;
  double *fault_z;         /* dim values, fault.z */
  /* the last vi_fit_finish: its draws with a non-finite log density, and the first */
  size_t final_bad;
  vi_fault final_fault;
  double *final_z;         /* dim values, final_fault.z (allocated by the first finish) */
};

double fit_seconds(const vi_fit *f);
/* The state's per-draw values from the objective's last evaluation at x (lp). */
void fit_take_draws(vi_fit *f, const double *lp);
/* The diagnostics of the current iteration, appended to the history. */
int fit_record(vi_fit *f);
double fit_norm2(const double *v, size_t n);
/* The flat-ELBO window starts afresh at the current ELBO (a new objective). */
void fit_flat_reset(vi_fit *f);
/* stages.c: adaptive M.  Double M and restart the optimiser (fit_stage_grow, run by
 * vi_fit_iterate when a stage asked for it); the stage's part of vi_fit_test. */
int fit_stage_grow(vi_fit *f);
void fit_stage_test(vi_fit *f);
/* driver_gsl.c: restart the GSL minimiser at the state on a new objective (new draws). */
int fit_gsl_restart(vi_fit *f);
/* q's parameters become x (np values); the marginal sds follow. */
void fit_set_x(vi_fit *f, const double *x);

/* start.c: where q starts */
/* q at mean mu with sd init_sd in every coordinate. */
int fit_start_at(vi_fit *f, const double *mu);
/* Halve q's spread (a start whose draws reach outside the support). */
void fit_start_shrink(vi_fit *f);
/* Try means uniform in (-2, 2) until the log joint is finite at one: 1 found (q starts
 * there), 0 none. */
int fit_start_feasible_mean(vi_fit *f);
/* start_prior.c: n approximate draws from the prior (log_joint - log_lik) into z (n x D),
 * as starting points; VI_EINVAL when the model has no log_lik. */
int fit_start_prior_draws(vi_fit *f, gsl_rng *rng, size_t n, double *z);
/* The Laplace start (with vi_options.starts mode searches); VI_SUCCESS or an error. */
int fit_start_laplace(vi_fit *f);
/* Evaluate n fresh draws from q (from rng) in batches: log p into lp, log q into lq, and,
 * when ll is not NULL and the model has log_lik, log p(x|z) into ll (n values each).
 * Non-finite log p values become -inf. */
int fit_eval_draws(vi_fit *f, gsl_rng *rng, size_t n, double *lp, double *lq,
                       double *ll);
/* The same, copying the first n_keep draws out: z into z_keep (n_keep x dim) and log p
 * as the model gave it (before -inf replaces a non-finite value) into lp_keep (either may
 * be NULL).  The draws and their order are those of fit_eval_draws. */
int fit_eval_draws_keep(vi_fit *f, gsl_rng *rng, size_t n, double *lp, double *lq,
                        double *ll, size_t n_keep, double *z_keep, double *lp_keep);

/* minibatch_rows.c: vi_options.minibatch.  init: the generator and the permutation
 * (nothing without a minibatch); begin: draw this step's rows and hand them to the model
 * (its status); end: the whole data back to the model (a no-op when it has it). */
int fit_minibatch_init(vi_fit *f);
void fit_minibatch_free(vi_fit *f);
int fit_minibatch_begin(vi_fit *f);
void fit_minibatch_end(vi_fit *f);

#endif
