/* vi/fit.h: fitting a Gaussian q(z) to a model by maximising the ELBO, GSL-style (the
 * family is mean-field, q = N(mu, diag(exp(omega))^2), unless vi_options.family names
 * another: vi/family.h):
 *
 *     vi_options opt; vi_options_default(&opt);
 *     int status; vi_fit *f = vi_fit_alloc(&model, &opt, &status);
 *     do { status = vi_fit_iterate(f); if (status < 0) break;
 *          status = vi_fit_test(f); } while (status == VI_CONTINUE);
 *     vi_final fin; vi_fit_finish(f, &fin);   ... vi_fit_mean(f), vi_fit_sd(f) ...
 *     vi_fit_free(f);
 *
 * Estimators: fixed draws (sample-average approximation as in DADVI, Giordano, Ingram &
 * Broderick 2024: a deterministic objective maximised by a GSL quasi-Newton method) or
 * fresh draws each step (ADVI, Kucukelbir et al. 2017, with a stochastic step rule).
 *
 * Ownership and lifetimes.  A vi_fit owns everything it allocates and frees it in
 * vi_fit_free.  vi_fit_alloc copies the model and the options (the caller's structs may
 * go away), but not what they point to: the model's ctx and names, and opt.init_mu (read
 * during vi_fit_alloc only), must stay valid while the fit lives.  Pointers returned by
 * the accessors point into the fit:
 *   vi_fit_mean, vi_fit_sd, vi_fit_diag      change with every vi_fit_iterate (read them
 *                                            again; the pointers stay valid until free)
 *   vi_fit_history(f, i)                     valid until the next vi_fit_iterate (the
 *                                            history grows and may move); copy the
 *                                            vi_diag to keep it
 *   vi_fit_model, vi_fit_options, vi_fit_rng valid until vi_fit_free
 *   vi_fit_fault()->z                        valid until vi_fit_free
 *   vi_fit_finish_fault()->z                 valid until the next vi_fit_finish or free
 * Strings from vi_strerror and vi_stop_reason_string are static.
 *
 * Thread safety.  The library keeps no global state of its own: distinct fits (and
 * distinct programs of vi/lang.h) may be used from different threads at the same time;
 * one fit must not be used by two threads at once (every call, accessors included,
 * reads or writes it), and a model's callbacks are called from the thread that calls
 * the fit.  One exception: GSL's error handler is a process-wide variable.  Every call of
 * libvi that may reach GSL turns it off while it runs (GSL then reports through return
 * values instead of aborting) and restores the caller's handler on return; a program
 * that calls libvi from several threads, or GSL in another thread meanwhile, should call
 * gsl_set_error_handler_off() once before starting them, so that these saves and
 * restores write back the value already there. */
#ifndef VI_FIT_H
#define VI_FIT_H

#include <stddef.h>
#include <vi/model.h>
#include <vi/family.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum { VI_FIXED_DRAWS = 0, VI_FRESH_DRAWS = 1 } vi_estimator;

typedef enum {
  VI_OPT_BFGS2 = 0,    /* gsl_multimin_fdfminimizer_vector_bfgs2 (default, fixed draws) */
  VI_OPT_CG_FR,        /* gsl_multimin_fdfminimizer_conjugate_fr */
  VI_OPT_CG_PR,        /* gsl_multimin_fdfminimizer_conjugate_pr */
  VI_OPT_STEEPEST,     /* gsl_multimin_fdfminimizer_steepest_descent */
  VI_OPT_ADAM          /* stochastic: Adam (default for fresh draws) */
} vi_optimizer;

/* VI_INIT_LAPLACE (added after VI_INIT_RANDOM; the default with fixed draws, here and in
 * `vi fit`): a scale-aware start.  Bounded searches for the mode of log p(x, z) from
 * zero (used only when one ends on a small gradient), then sd_d = 1 / sqrt(H_dd) from the
 * diagonal of the negative Hessian there (the mean-field optimum of a Gaussian posterior);
 * kept only if its ELBO on the fit's draws beats that of the zero start with sd init_sd
 * (vi_fit_init_kind says which).  Its model evaluations count in n_points, n_fevals and
 * n_gevals (the mode searches' mostly one-point calls; several searches run in lockstep,
 * their points batched into common calls, each counted once).  init_mu still overrides
 * init. */
typedef enum { VI_INIT_ZERO = 0, VI_INIT_RANDOM = 1, VI_INIT_LAPLACE = 2,
               VI_INIT_AUTO = 3 /* the default: VI_INIT_LAPLACE with fixed draws,
                                   VI_INIT_ZERO with fresh draws */ } vi_init;

/* tol_rel_obj's "unset": the estimator's default. */
#define VI_TOL_DEFAULT (-1.0)
/* draws_max's "unset": adaptive M up to 512 when draws is unset, else M fixed. */
#define VI_DRAWS_MAX_DEFAULT ((size_t)-1)

/* Options of a fit.  Always start from vi_options_default (or _for), then change fields:
 *   - the struct is allocated by the caller and grows by appending fields; its first
 *     field, size, records the caller's sizeof(vi_options) (set by vi_options_default),
 *     so a library newer than the caller's header gives the fields the caller does not
 *     know their defaults, and one older than it refuses the options (VI_EINVAL) rather
 *     than read past them.  A zeroed struct (size 0) is refused the same way.
 *   - fields whose default depends on the estimator or on another field are "unset" after
 *     vi_options_default (0, VI_INIT_AUTO, VI_TOL_DEFAULT) and resolved by vi_fit_alloc;
 *     a value the caller writes is used as written.  vi_fit_options gives the values the
 *     fit uses. */
typedef struct vi_options {
  size_t size;              /* sizeof(vi_options) of the caller's header (set by
                               vi_options_default) */
  vi_estimator estimator;   /* default VI_FIXED_DRAWS */
  size_t draws;             /* M, draws per ELBO estimate.  0 (default): 32, adaptive
                               (draws_max) with fixed draws; a number fixes M, unless
                               draws_max is set larger */
  unsigned long seed;       /* RNG seed (default 1); same seed, same options: same bits */
  vi_optimizer optimizer;   /* default VI_OPT_BFGS2 (VI_OPT_ADAM for fresh draws) */
  double tol_grad;          /* stop when |grad ELBO|_2 < tol_grad (default 1e-6) */
  double tol_rel_obj;       /* stop when |dELBO| / max(|ELBO|, 1) < tol_rel_obj over an
                               iteration, two iterations in a row or one with the
                               gradient norm below 1e-3 (fixed draws, default 1e-10;
                               fresh draws: relative change of a running mean, default
                               1e-3); with adaptive M, a stage before the last stops at
                               max(tol_rel_obj, 1e-7): its optimum is only an M-draw
                               estimate (0 turns the test off everywhere; default
                               VI_TOL_DEFAULT: the estimator's) */
  size_t max_iter;          /* iteration cap (0, the default: 1000 fixed; 5000 fixed with a
                               lowrank or fullrank family; 10000 fresh) */
  double step_size;         /* first line-search step (GSL) / Adam learning rate
                               (0, the default: 0.1 / 0.05) */
  double line_tol;          /* GSL line-search tolerance (default 0.1) */
  size_t eval_every;        /* fresh-draw diagnostics every k iterations, 0 = never
                               (default 0: diagnostics from the optimiser's own draws) */
  size_t eval_draws;        /* draws for the fresh-draw and final diagnostics (default 2000) */
  vi_init init;             /* q's start: VI_INIT_LAPLACE (above), zero or a mean
                               uniform in (-2, 2) (Stan's); default VI_INIT_AUTO:
                               Laplace with fixed draws, zero with fresh draws */
  double init_sd;           /* starting sd of q (default 1); halved, up to 10 times, while
                               the log joint is not finite at every starting draw */
  const double *init_mu;    /* optional starting mean (dim values), overrides init */
  int standardize_draws;    /* fixed draws: standardise the M x D draws (default 1; 0 =
                               plain DADVI draws).  M > D: shift and rotate them so that
                               their sample mean is 0 and sample covariance the identity
                               exactly, which makes the objective exact for Gaussian
                               posteriors (E_q of a quadratic); M <= D: each coordinate
                               gets sample mean 0 and variance 1.  Ignored by fresh draws. */
  /* Added after standardize_draws (keep existing fields in place): */
  size_t draws_max;         /* fixed draws with a GSL optimiser: adaptive M.  When
                               draws_max > draws, the fit converges at M = draws, then
                               doubles M (keeping the draws and appending new ones) and
                               converges again from the current q, until q moves by less
                               than draws_tol between two sizes or M reaches draws_max
                               (and M * dim at most 2^20).  <= draws (0 included): M
                               fixed at draws.  Default VI_DRAWS_MAX_DEFAULT: 512 when
                               draws is unset, else M fixed.  Ignored by fresh draws
                               and Adam. */
  double draws_tol;         /* adaptive M: stop doubling when, in every coordinate, the
                               optimum moved by less than draws_tol: |dmu| / sd and
                               |d log sd| (default 0.05) */
  /* Added after draws_tol: */
  double tol_abs_obj;       /* fixed draws with a GSL optimiser, at the final M: stop when
                               the ELBO rose by less than tol_abs_obj nats over the last
                               VI_FLAT_WINDOW iterations (default 1e-4; 0: off).  The
                               rise still to come is then of that order, and it bounds
                               roughly the KL from q to the optimum on these draws, far
                               below the draws' own error; most of a large model's
                               iterations used to go to this last 1e-4 nats. */
  /* Added after tol_abs_obj: */
  const vi_family_type *family; /* q's family (vi/family.h); NULL: vi_family_meanfield */
  size_t family_rank;       /* the rank K of vi_family_lowrank, 1 <= K <= dim (vi_fit_alloc
                               fails with VI_EINVAL otherwise); ignored by the others */
  size_t starts;            /* VI_INIT_LAPLACE: mode searches, the first from the default
                               mean, the others alternately from means uniform in (-2, 2)
                               and (when the model has log_lik) from approximate prior
                               draws, on streams of the seed's own; the fit starts from
                               the best distinct mode (vi_fit_mode).  Default
                               VI_STARTS_AUTO (0): as many as Boender & Rinnooy Kan's
                               stopping rules ask, 11 when they agree on one mode, more
                               when they find several, at most 32; 1 is the single
                               search.  The searches run in rounds (4, then as many
                               as the rules ask next), in lockstep on the calling
                               thread: their model points are evaluated together, and
                               the rules decide as with one search at a time. */
  /* Added after starts: minibatches (stochastic variational inference, Hoffman, Blei,
   * Wang & Paisley, JMLR 2013).  With fresh draws and minibatch = B > 0, each step (the
   * start's evaluation included) first calls minibatch_fn(minibatch_ctx, B, rows), rows
   * B distinct sorted indices into [0, minibatch_rows) drawn uniformly at random afresh,
   * and minibatch_fn(minibatch_ctx, 0, NULL) after it: the model must then evaluate its
   * likelihood on those rows scaled by minibatch_rows / B (vi_program_minibatch of
   * vi/lang.h does), so that the step's ELBO and gradient are unbiased for the whole
   * data's.  Everything else (the Laplace start, vi_fit_finish, the caller's own calls
   * between steps) sees the whole data; the progress values (vi_diag) of such a fit are
   * minibatch estimates.  The rows come from a generator of their own, seeded by seed
   * and minibatch_stream (give each MPI rank its rank: each draws its own rows of its
   * shard, while the draws from q stay the same on every rank and the same as without
   * minibatches).  VI_EINVAL from vi_fit_alloc for B with fixed draws, B >
   * minibatch_rows or no minibatch_fn.  Default 0: the whole data every step. */
  size_t minibatch;
  size_t minibatch_rows;
  int (*minibatch_fn)(void *ctx, size_t b, const size_t *rows);
  void *minibatch_ctx;
  unsigned long minibatch_stream;
} vi_options;

#define VI_FLAT_WINDOW 10
#define VI_STARTS_AUTO 0   /* vi_options.starts: the number of mode searches by a stopping rule */

/* The optimisers' names, as `vi fit --optimizer` takes them: "bfgs2", "cg-fr", "cg-pr",
 * "steepest", "adam" (NULL for a value out of range; the enum's order).  lookup: 0 and *o
 * set when name is one of them, else -1. */
const char *vi_optimizer_name(vi_optimizer o);
int vi_optimizer_lookup(const char *name, vi_optimizer *o);

/* Fill opt with the defaults above (fixed draws), size included. */
void vi_options_default(vi_options *opt);
/* The same with estimator e (and its optimizer: VI_OPT_ADAM for VI_FRESH_DRAWS).  The
 * unset fields resolve by the estimator alone, so setting opt.estimator after
 * vi_options_default gives the same fit.  A fresh-draw fit always steps with Adam (a
 * noisy objective defeats a line search). */
void vi_options_default_for(vi_options *opt, vi_estimator e);

/* Diagnostics of one iteration.  Values that are not available are NaN. */
typedef struct vi_diag {
  size_t iter;               /* 0 = the starting point */
  double elbo;               /* on the optimiser's draws */
  double expected_log_joint; /* E_q[log p(x, z)] on the same draws */
  double entropy;            /* exact: 1/2 log det(2 pi e Sigma_q) */
  double expected_log_lik;   /* E_q[log p(x | z)] when the model gives log_lik */
  double kl_prior;           /* KL(q || prior) = expected_log_lik - elbo, idem */
  double log_evidence;       /* log p(X): exact, or importance-sampling estimate */
  double log_evidence_se;    /* its standard error (0 when exact) */
  int log_evidence_exact;    /* 1 exact, 0 estimated */
  double kl;                 /* KL(q || p) = log_evidence - elbo */
  double grad_norm;          /* |grad of the ELBO w.r.t. q's parameters|_2 */
  double step;               /* size of the last step in q's parameters */
  size_t n_fevals;           /* objective evaluations so far (each over the M draws of
                                the moment: with adaptive M they differ in cost) */
  size_t n_gevals;           /* of which with gradient */
  double seconds;            /* wall-clock seconds since alloc */
  /* Added after seconds (keep existing fields in place): */
  size_t draws;              /* M, the draws of the objective at this iteration (changes
                                with adaptive M; fresh draws: per step) */
  size_t n_points;           /* model points evaluated by the optimiser so far: the sum of
                                M over its objective evaluations, with or without gradient:
                                the honest cost measure across M and methods (fresh-draw
                                diagnostics and log_lik calls are not counted) */
  double draws_shift;        /* adaptive M: how far the optimum moved at the last doubling,
                                max over coordinates of |dmu| / sd and |d log sd| (NaN
                                before the first comparison) */
} vi_diag;

/* Why a fit stopped (or VI_STOP_NONE while it runs). */
typedef enum {
  VI_STOP_NONE = 0,
  VI_STOP_GRAD,        /* gradient norm below tol_grad */
  VI_STOP_REL_OBJ,     /* relative ELBO change below tol_rel_obj */
  VI_STOP_MAXITER,     /* iteration cap */
  VI_STOP_NOPROGRESS,  /* the line search could not improve the objective (not
                          convergence: vi_fit_test) */
  VI_STOP_FAILED,      /* an error status from the model or the optimiser */
  VI_STOP_FLAT,        /* (added later) the ELBO rose by less than tol_abs_obj nats over
                          the last VI_FLAT_WINDOW iterations */
  VI_STOP_RESOLUTION   /* (added later) the line search could not improve the objective,
                          and the gain a Newton step predicts (q's covariance as the
                          inverse curvature) is below the ELBO's Monte Carlo standard
                          error on the fit's draws: converged as far as the objective
                          resolves (an ODE solved to a tolerance makes it rough) */
} vi_stop_reason;

const char *vi_stop_reason_string(vi_stop_reason r);

/* Final diagnostics from many fresh draws (vi_fit_finish).  Filled whole by the library;
 * like vi_diag, it only grows by appending fields, and new final diagnostics that a
 * caller's struct could not hold come as accessors (vi_fit_finish_fault), so a caller
 * built against an older header is never written past its struct. */
typedef struct vi_final {
  size_t draws;              /* number of fresh draws used */
  double elbo, elbo_se;      /* fresh-draw ELBO and its Monte Carlo standard error */
  double log_evidence, log_evidence_se; int log_evidence_exact;
  double kl, kl_se;          /* KL(q || p) = log p(X) - ELBO */
  double khat;               /* PSIS Pareto k-hat of the importance weights p/q */
  double kl_forward;         /* KL(p || q) by self-normalised importance sampling */
  int kl_forward_reliable;   /* 0 when khat > 0.7 */
  double expected_log_lik, kl_prior; /* NaN without log_lik */
} vi_final;

typedef struct vi_fit vi_fit;

/* Allocate a fit of model m (copied by value; its ctx must outlive the fit) with options
 * opt (NULL: defaults; copied, resolved values in vi_fit_options).  Evaluates the starting
 * point.  On failure returns NULL and sets *status (if status is not NULL): VI_EINVAL for
 * invalid options, a vi_options not made by vi_options_default, or one from a newer
 * header than the library (its size field). */
vi_fit *vi_fit_alloc(const vi_model *m, const vi_options *opt, int *status);
/* One optimiser step.  VI_SUCCESS, or a negative status (the state is left unchanged at
 * the last good point; never NaN in q). */
int vi_fit_iterate(vi_fit *f);
/* Stopping test, separate from the step: VI_CONTINUE (iterate again), VI_EMAXITER (the
 * iteration cap), or VI_SUCCESS: the fit stopped by a test, which is not always
 * convergence.  vi_fit_stop_reason says which: VI_STOP_GRAD, VI_STOP_REL_OBJ,
 * VI_STOP_FLAT and VI_STOP_RESOLUTION are convergence; VI_STOP_NOPROGRESS (the optimiser
 * can improve the objective no further, with more to gain than the ELBO's Monte Carlo
 * error) is not, and `vi fit` reports it as
 * "not converged" (exit 1).  A fit is reliable only if vi_fit_finish also finds every
 * fresh draw finite (vi_fit_finish_fault). */
int vi_fit_test(vi_fit *f);
/* Run iterate/test to the end, calling observer (if not NULL) for the starting point
 * (iteration 0, when the fit has not iterated yet) and after every iteration;
 * a non-zero return from the observer stops the fit with VI_EINTERRUPTED.  Returns
 * what vi_fit_test returned last (VI_SUCCESS: see vi_fit_stop_reason for whether that
 * is convergence, VI_EMAXITER), or the negative status that stopped the fit.  The observer gets the fit as const: it may read it
 * (d is vi_fit_diag(f)), not iterate or free it. */
typedef int (*vi_observer_fn)(void *ctx, const vi_fit *f, const vi_diag *d);
int vi_fit_run(vi_fit *f, vi_observer_fn observer, void *ctx);
/* Final fresh-draw diagnostics (uses opt.eval_draws draws from the fit's RNG). */
int vi_fit_finish(vi_fit *f, vi_final *out);
/* (Added with the shared finish.)  vi_fit_finish with a number of draws that the
 * estimates' precision decides, and the draws handed back for reuse: draws z_s ~ q from
 * the fit's RNG (the same stream and order as vi_fit_finish), evaluating log p(x, z_s) and
 * log q(z_s) once each; first n_min of them, then batches of 256 until the standard
 * errors of the ELBO and of the importance-sampling log p(X) (the estimate's, even when
 * the model knows log p(X) exactly) are both at most target_se, or n_max draws (n_max <
 * n_min counts as n_min; target_se <= 0: n_max draws, always).  The first n_keep draws
 * (n_keep <= n_min, else VI_EINVAL) are copied out: z_keep gets their z (n_keep x dim,
 * row-major, unconstrained), lp_keep log p(x, z) as the model gave it (a non-finite value
 * included), lq_keep log q(z); each may be NULL.  out is filled as by vi_fit_finish,
 * out->draws the number drawn, and vi_fit_finish_fault reports on all of them. */
int vi_fit_finish_shared(vi_fit *f, size_t n_min, size_t n_max, double target_se,
                         size_t n_keep, double *z_keep, double *lp_keep, double *lq_keep,
                         vi_final *out);
void vi_fit_free(vi_fit *f);

size_t vi_fit_dim(const vi_fit *f);
const double *vi_fit_mean(const vi_fit *f);      /* mu, dim values */
const double *vi_fit_sd(const vi_fit *f);        /* q's marginal sds, dim values (mean-field:
                                                    exp(omega)) */
const vi_model *vi_fit_model(const vi_fit *f);
const vi_options *vi_fit_options(const vi_fit *f);
const vi_diag *vi_fit_diag(const vi_fit *f);     /* current iteration */
size_t vi_fit_history_len(const vi_fit *f);      /* iterations recorded, incl. iter 0 */
/* Iteration i of the history, NULL past its end; valid until the next vi_fit_iterate. */
const vi_diag *vi_fit_history(const vi_fit *f, size_t i);
vi_stop_reason vi_fit_stop_reason(const vi_fit *f);
/* The fit's RNG (for drawing output draws from q after the fit). */
gsl_rng *vi_fit_rng(vi_fit *f);
/* Draw one z ~ q into z (dim values) using rng.  These two calls use the fit's scratch:
 * never call them on one fit from two threads at once. */
void vi_fit_sample(const vi_fit *f, gsl_rng *rng, double *z);
/* log q(z) for one point. */
double vi_fit_log_q(const vi_fit *f, const double *z);
/* (Added with the families.)  q's family and rank (0 unless lowrank); q's parameters as
 * the optimiser sees them (vi_fit_n_params values, the mean first; valid until the next
 * vi_fit_iterate or vi_fit_free); q's covariance into cov (dim x dim, row-major; the same
 * scratch rule as vi_fit_sample). */
/* (Added with vi_options.starts.)  The Laplace start's mode searches: how many ran, and the
 * distinct proper modes they ended on, best first (i < vi_fit_modes; NULL past the end;
 * pointers valid until vi_fit_free).  elbo is that of the Gaussian the mode starts (its
 * Laplace approximation in q's family) on the fit's first draws; starts, the searches that
 * ended there; mean, the mode (dim values).  Modes within a few nats of the best mean a
 * multimodal posterior that one Gaussian cannot represent. */
typedef struct vi_mode {
  double elbo;
  size_t starts;
  const double *mean;
} vi_mode;
size_t vi_fit_start_searches(const vi_fit *f);
/* The largest |correlation| between two coordinates in the Laplace approximation at the
 * mode the fit started from (NaN without a Laplace start or its Hessian: D > 400).  Near
 * 1, mean-field sds understate the posterior's (vi/family.h, vi/lrvb.h). */
double vi_fit_mode_correlation(const vi_fit *f);
size_t vi_fit_modes(const vi_fit *f);
const vi_mode *vi_fit_mode(const vi_fit *f, size_t i);
const vi_family_type *vi_fit_family(const vi_fit *f);
size_t vi_fit_family_rank(const vi_fit *f);
size_t vi_fit_n_params(const vi_fit *f);
const double *vi_fit_params(const vi_fit *f);
void vi_fit_covariance(const vi_fit *f, double *cov);
/* (Added with VI_INIT_LAPLACE.)  The start the fit took: VI_INIT_LAPLACE when the Laplace
 * start was asked for and kept, otherwise the mean's rule (VI_INIT_ZERO for a Laplace start
 * that lost to the zero start, or when init_mu was given); and the mode search's
 * iterations (0 without one). */
vi_init vi_fit_init_kind(const vi_fit *f);
size_t vi_fit_init_iterations(const vi_fit *f);
/* (Added later.)  The value that triggered the stop of vi_fit_stop_reason, as the test saw
 * it: VI_STOP_FLAT the ELBO's rise over the window, VI_STOP_REL_OBJ the relative ELBO
 * change (fixed draws: that of the last of the
 * consecutive small changes the test requires; fresh draws: the relative change of the
 * running mean; with adaptive M, that of the stage that ended the fit, not a change across
 * a switch of M), VI_STOP_GRAD and VI_STOP_NOPROGRESS the gradient norm,
 * VI_STOP_RESOLUTION the predicted gain in nats; NaN otherwise. */
double vi_fit_stop_value(const vi_fit *f);
/* (Added later.)  Where a failed fit failed: NULL when nothing went wrong, else the last
 * hard failure of vi_fit_iterate, the model error (status from log_joint) or the
 * non-finite evaluation that made it fail (not the trial points a line search backed
 * off from): the iteration being attempted (diag iter + 1), the index of the first
 * offending draw in the evaluation's batch (a model error: the first draw that fails
 * when evaluated alone, 0 when none does), its lp (NaN after a model error), the status,
 * and a copy of that draw's z, unconstrained (dim values, owned by the fit, valid until
 * vi_fit_free). */
typedef struct vi_fault {
  size_t iter;
  size_t draw;
  double lp;
  int status;
  const double *z;
} vi_fault;
const vi_fault *vi_fit_fault(const vi_fit *f);
/* After vi_fit_finish: the fresh draws of q at which the log density was not finite
 * (-inf, +inf or NaN: q puts mass where the model has none, or the model breaks there).
 * *count (if not NULL) is their number, out of vi_final.draws; the result is the first of
 * them (iter: the fit's last iteration; draw: its index among the fresh draws; lp: the
 * model's value there; status VI_ENONFINITE; z: owned by the fit, valid until the next
 * vi_fit_finish or vi_fit_free), or NULL when every draw was finite.  A fit with such
 * draws has an ELBO of -inf (or NaN) and estimates that cannot be trusted, whatever the
 * stop reason and k-hat say. */
const vi_fault *vi_fit_finish_fault(const vi_fit *f, size_t *count);

#ifdef __cplusplus
}
#endif
#endif
