/* check_fit.c: the fit (vi/fit.h) and its ELBO objective.
 *  - ELBO gradient against central finite differences, fixed and fresh draws (same eps);
 *  - linear regression: the fit reaches the closed-form mean-field optimum, and at every
 *    iteration exact ELBO(q) + KL(q || posterior) = log p(X) to 1e-8 (both in closed form);
 *    the estimator's ELBO converges to the exact ELBO as the number of draws grows;
 *  - a diagonal-Gaussian posterior is recovered with KL -> 0;
 *  - a log joint that is -inf outside a region or NaN somewhere: the fit carries on or
 *    stops with a clear status, never NaN in q; a finite log joint with a non-finite
 *    gradient at far trial points does not fail the fit;
 *  - same seed: identical history; different seeds: close optima;
 *  - vi_fit_stop_value: the relative change or gradient norm that stopped the fit;
 *  - draws standardised for any M (whitened for M > D, per coordinate otherwise) and grown
 *    by appending; adaptive M: the history's M and point counts, the stop at a small
 *    move of q or at the cap, and a q closer to the mean-field optimum than M = 32;
 *  - the Laplace start: on a regression with columns scaled 1e-3..1e3, sd = 1/sqrt(P_dd)
 *    and mu = the posterior mean before any iteration, then the closed-form optimum in a
 *    few iterations; its cost counted; the guard keeps the zero start on a funnel without
 *    a mode; a model error in the mode search fails the alloc; same seed, same bits;
 *    an uncentred, badly scaled regression (intercept next to x ~ 66 + 4 N(0,1), a column
 *    scaled 1e3) reaches the optimum to 1e-3 sd (Newton mode search + preconditioning);
 *  - several starts: the searches of a round in lockstep give the modes, counts, decisions
 *    and start of one search at a time bit for bit, the same twice, in fewer than half
 *    the model calls; rounds whose searches fail (no finite point, a model error) end;
 *  - vi_fit_finish: IS log-evidence within a few standard errors of the exact value,
 *    forward KL finite and >= 0;
 *  - vi_fit_finish_shared: with a fixed count, vi_fit_finish's estimates bit for bit; the
 *    kept draws carry their own log p and log q; with a target SE, a stop between floor
 *    and cap with both SEs met, and ELBO, log p(X) and KL within 4 SE of the closed form
 *    and of the fixed-count finish. */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <vi/fit.h>
#include <vi/info.h>
#include <vi/status.h>
#include "engine/fit_internal.h"
#include "engine/objective.h"
#include "engine/start_round.h"
#include "c_models.h"

#define LOG_2PI 1.8378770664093454836

/* ---- fixtures ---------------------------------------------------------------------- */

static cm_linreg *make_linreg(size_t n, size_t d, vi_model *m)
{
  double *X = malloc(n * d * sizeof(double)), *y = malloc(n * sizeof(double));
  cm_linreg_simulate(21, n, d, 0.8, X, y, NULL);
  cm_linreg *c = cm_linreg_alloc(X, y, n, d, 0.8, 1.5);
  free(X);
  free(y);
  ck_assert_ptr_nonnull(c);
  cm_linreg_model(c, m);
  return c;
}

static cm_logreg *make_logreg(size_t n, size_t d, vi_model *m)
{
  double *X = malloc(n * d * sizeof(double));
  int *y = malloc(n * sizeof(int));
  cm_logreg_simulate(42, n, d, X, y, NULL);
  cm_logreg *c = cm_logreg_alloc(X, y, n, d, 1.0);
  free(X);
  free(y);
  ck_assert_ptr_nonnull(c);
  cm_logreg_model(c, m);
  return c;
}

/* log p(z) = c + sum_j log N(z_j; a_j, b_j^2): posterior N(a, diag b^2), evidence e^c */
typedef struct { size_t d; const double *a, *b; double c; } diag_ctx;
static int diag_log_joint(void *ctx, size_t n, const double *z, double *lp, double *grad)
{
  const diag_ctx *g = ctx;
  for (size_t s = 0; s < n; s++) {
    double l = g->c;
    for (size_t j = 0; j < g->d; j++) {
      double e = (z[s * g->d + j] - g->a[j]) / g->b[j];
      l += -0.5 * e * e - log(g->b[j]) - 0.5 * LOG_2PI;
      if (grad) grad[s * g->d + j] = -e / g->b[j];
    }
    lp[s] = l;
  }
  return VI_SUCCESS;
}

/* a standard normal truncated to (-1, 2) in each of 2 coordinates (-inf outside), and a
 * variant returning NaN (a "buggy" model) where z_0 > 1.2 */
static int trunc_log_joint(void *ctx, size_t n, const double *z, double *lp, double *grad)
{
  int nan_mode = *(const int *)ctx;
  for (size_t s = 0; s < n; s++) {
    double l = 0.0;
    for (size_t j = 0; j < 2; j++) {
      double v = z[s * 2 + j];
      l += -0.5 * v * v;
      if (grad) grad[s * 2 + j] = -v;
      if (!nan_mode && (v <= -1.0 || v >= 2.0)) l = -INFINITY;
    }
    if (nan_mode && z[s * 2] > 1.2) {
      l = NAN;
      if (grad) grad[s * 2] = NAN;
    }
    lp[s] = l;
  }
  return VI_SUCCESS;
}

static int failing_log_joint(void *ctx, size_t n, const double *z, double *lp, double *grad)
{
  int *calls = ctx;
  if (++*calls > 3) return VI_ERUNTIME;
  for (size_t s = 0; s < n; s++) {
    lp[s] = -0.5 * z[s] * z[s];
    if (grad) grad[s] = -z[s];
  }
  return VI_SUCCESS;
}

/* ---- objective gradient ------------------------------------------------------------ */

static void check_objective_fd(objective *o, const double *x0, size_t D)
{
  double elbo, elj, g[20], x[20];
  ck_assert_int_eq(objective_eval(o, x0, &elbo, &elj, g), VI_SUCCESS);
  ck_assert(isfinite(elbo));
  ck_assert_double_eq_tol(elbo - elj, objective_entropy(o, x0), 1e-10);
  for (size_t i = 0; i < 2 * D; i++) {
    double h = 1e-5, fp, fm, e2;
    memcpy(x, x0, 2 * D * sizeof(double));
    x[i] += h;
    objective_eval(o, x, &fp, &e2, NULL);
    x[i] -= 2 * h;
    objective_eval(o, x, &fm, &e2, NULL);
    double fd = (fp - fm) / (2 * h);
    ck_assert_double_eq_tol(g[i], fd, 1e-6 * fmax(1.0, fabs(fd)));
  }
}

START_TEST(test_gradient_fd)
{
  vi_model m;
  cm_logreg *c = make_logreg(200, 5, &m);
  objective o;
  family mf;
  ck_assert_int_eq(family_init(&mf, NULL, 5, 0), VI_SUCCESS);
  ck_assert_int_eq(objective_init(&o, &m, &mf, 16), VI_SUCCESS);
  gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
  gsl_rng_set(r, 1);
  double x[10] = {0.3, -0.2, 0.5, 1.0, -0.7, log(0.3), log(0.5), log(0.2), 0.0, log(0.1)};
  /* fixed draws: eps drawn once, the objective is a deterministic function of x */
  objective_draw(&o, r);
  check_objective_fd(&o, x, 5);
  /* fresh draws: new eps each step; the gradient of that step's estimate, same eps */
  for (int k = 0; k < 3; k++) {
    objective_draw(&o, r);
    check_objective_fd(&o, x, 5);
  }
  /* standardised draws: sample mean 0, sample covariance I */
  ck_assert_int_eq(objective_standardize(&o), VI_SUCCESS);
  for (size_t j = 0; j < 5; j++)
    for (size_t k = 0; k < 5; k++) {
      double s = 0.0, mj = 0.0;
      for (size_t i = 0; i < 16; i++) {
        s += o.eps[i * 5 + j] * o.eps[i * 5 + k];
        mj += o.eps[i * 5 + j];
      }
      ck_assert_double_eq_tol(s / 16.0, j == k ? 1.0 : 0.0, 1e-12);
      ck_assert_double_eq_tol(mj, 0.0, 1e-12);
    }
  check_objective_fd(&o, x, 5);
  ck_assert_uint_eq(o.n_fevals, 5 * 21);
  ck_assert_uint_eq(o.n_gevals, 5);
  ck_assert_uint_eq(o.n_points, 5 * 21 * 16);
  objective_clear(&o);

  /* M <= D: per-coordinate standardisation (mean 0, variance 1 in each column) */
  ck_assert_int_eq(objective_init(&o, &m, &mf, 4), VI_SUCCESS);
  objective_draw(&o, r);
  ck_assert_int_eq(objective_standardize(&o), VI_SUCCESS);
  for (size_t j = 0; j < 5; j++) {
    double s1 = 0.0, s2 = 0.0;
    for (size_t i = 0; i < 4; i++) {
      s1 += o.eps[i * 5 + j];
      s2 += o.eps[i * 5 + j] * o.eps[i * 5 + j];
    }
    ck_assert_double_eq_tol(s1, 0.0, 1e-12);
    ck_assert_double_eq_tol(s2 / 4.0, 1.0, 1e-12);
  }
  check_objective_fd(&o, x, 5);
  objective_clear(&o);
  /* M = 1: left as drawn (centring would zero it) */
  ck_assert_int_eq(objective_init(&o, &m, &mf, 1), VI_SUCCESS);
  objective_draw(&o, r);
  double e0[5];
  memcpy(e0, o.eps, sizeof e0);
  ck_assert_int_eq(objective_standardize(&o), VI_SUCCESS);
  ck_assert_int_eq(memcmp(e0, o.eps, sizeof e0), 0);
  objective_clear(&o);

  /* growing: 4 -> 8 -> 16 draws keeps the plain draws and appends new ones; the
   * standardised union is what a sample of 16 plain draws standardises to */
  ck_assert_int_eq(objective_init_cap(&o, &m, &mf, 4, 16), VI_SUCCESS);
  objective_draw(&o, r);
  double raw4[20];
  memcpy(raw4, o.eps, sizeof raw4);
  ck_assert_int_eq(objective_grow(&o, 3, r, 1), VI_EINVAL);    /* not a growth */
  ck_assert_int_eq(objective_grow(&o, 17, r, 1), VI_EINVAL);   /* beyond the cap */
  ck_assert_int_eq(objective_grow(&o, 8, r, 0), VI_SUCCESS);
  ck_assert_uint_eq(o.draws, 8);
  ck_assert_int_eq(memcmp(raw4, o.eps, sizeof raw4), 0);          /* kept, plain */
  ck_assert_int_eq(objective_grow(&o, 16, r, 1), VI_SUCCESS);
  ck_assert_int_eq(memcmp(raw4, o.raw, sizeof raw4), 0);
  for (size_t j = 0; j < 5; j++)
    for (size_t k = 0; k < 5; k++) {
      double sjk = 0.0;
      for (size_t i = 0; i < 16; i++) sjk += o.eps[i * 5 + j] * o.eps[i * 5 + k];
      ck_assert_double_eq_tol(sjk / 16.0, j == k ? 1.0 : 0.0, 1e-12);
    }
  objective o2;
  ck_assert_int_eq(objective_init(&o2, &m, &mf, 16), VI_SUCCESS);
  memcpy(o2.eps, o.raw, 16 * 5 * sizeof(double));
  ck_assert_int_eq(objective_standardize(&o2), VI_SUCCESS);
  for (size_t i = 0; i < 16 * 5; i++) ck_assert_double_eq_tol(o2.eps[i], o.eps[i], 1e-12);
  check_objective_fd(&o, x, 5);
  objective_clear(&o2);
  objective_clear(&o);
  family_clear(&mf);
  gsl_rng_free(r);
  cm_logreg_free(c);
}
END_TEST

/* ---- linear regression: closed-form optimum and the identity ---------------------- */

START_TEST(test_linreg_identity_and_optimum)
{
  size_t n = 60, d = 4;
  vi_model m;
  cm_linreg *c = make_linreg(n, d, &m);
  double pm[4], pcov[16], mf_mean[4], mf_sd[4];
  cm_linreg_posterior(c, pm, pcov);
  cm_linreg_mean_field(c, mf_mean, mf_sd);
  const vi_optimizer opts[] = {VI_OPT_BFGS2, VI_OPT_CG_FR, VI_OPT_CG_PR, VI_OPT_STEEPEST};
  for (size_t k = 0; k < 4; k++) {
    vi_options opt;
    vi_options_default(&opt);
    opt.optimizer = opts[k];
    opt.draws = 16;
    /* moment-matched draws make the objective of a quadratic log joint exact, so its
     * optimum is the mean-field optimum itself */
    opt.standardize_draws = 1;
    opt.tol_grad = 1e-9;
    opt.tol_rel_obj = 0.0;
    opt.tol_abs_obj = 0.0;     /* on to the gradient tolerance */
    opt.max_iter = 20000;
    opt.init = VI_INIT_ZERO;   /* the identity along a path (Laplace starts at the end) */
    int st;
    vi_fit *f = vi_fit_alloc(&m, &opt, &st);
    ck_assert_int_eq(st, VI_SUCCESS);
    do {
      const double *mu = vi_fit_mean(f), *sd = vi_fit_sd(f);
      double S[16] = {0}, kl;
      for (size_t j = 0; j < d; j++) S[j * d + j] = sd[j] * sd[j];
      ck_assert_int_eq(vi_info_kl_gaussian(d, mu, S, pm, pcov, &kl), VI_SUCCESS);
      double exact = cm_linreg_exact_elbo(c, mu, sd);
      ck_assert_double_eq_tol(exact + kl, m.log_evidence, 1e-8);
      const vi_diag *dg = vi_fit_diag(f);
      ck_assert_double_eq_tol(dg->elbo, exact, 1e-8);          /* objective is exact */
      ck_assert_double_eq_tol(dg->kl, kl, 1e-8);
      ck_assert_int_eq(dg->log_evidence_exact, 1);
      ck_assert_double_eq_tol(dg->expected_log_lik - dg->kl_prior, dg->elbo, 1e-8);
      st = vi_fit_iterate(f);
      ck_assert_int_ge(st, 0);
      st = vi_fit_test(f);
    } while (st == VI_CONTINUE);
    ck_assert_int_eq(st, VI_SUCCESS);
    const double *mu = vi_fit_mean(f), *sd = vi_fit_sd(f);
    for (size_t j = 0; j < d; j++) {
      ck_assert_double_eq_tol(mu[j], mf_mean[j], 1e-6);
      ck_assert_double_eq_tol(sd[j], mf_sd[j], 1e-6);
    }
    ck_assert_uint_eq(vi_fit_history_len(f), vi_fit_diag(f)->iter + 1);
    vi_fit_free(f);
  }
  cm_linreg_free(c);
}
END_TEST

START_TEST(test_elbo_estimator_converges)
{
  vi_model m;
  cm_linreg *c = make_linreg(60, 4, &m);
  double mu[4], sd[4];
  cm_linreg_mean_field(c, mu, sd);
  for (int j = 0; j < 4; j++) { mu[j] += 0.1 * j; sd[j] *= 1.5; }   /* a q off the optimum */
  double exact = cm_linreg_exact_elbo(c, mu, sd);
  /* the sample-average ELBO on M plain draws: unbiased, error shrinking like 1/sqrt(M) */
  const size_t Ms[] = {16, 256, 4096, 65536};
  double se[4];
  gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
  gsl_rng_set(r, 17);
  family mf;
  ck_assert_int_eq(family_init(&mf, NULL, 4, 0), VI_SUCCESS);
  for (int k = 0; k < 4; k++) {
    objective o;
    ck_assert_int_eq(objective_init(&o, &m, &mf, Ms[k]), VI_SUCCESS);
    objective_draw(&o, r);
    double x[8], el, elj, s1 = 0.0, s2 = 0.0;
    for (int j = 0; j < 4; j++) { x[j] = mu[j]; x[4 + j] = log(sd[j]); }
    objective_eval(&o, x, &el, &elj, NULL);
    for (size_t i = 0; i < Ms[k]; i++) { s1 += o.lp[i]; s2 += o.lp[i] * o.lp[i]; }
    double mean = s1 / (double)Ms[k];
    se[k] = sqrt((s2 / (double)Ms[k] - mean * mean) / (double)Ms[k]);
    ck_assert_msg(fabs(el - exact) < 5.0 * se[k], "M=%zu: error %g, se %g", Ms[k],
                  el - exact, se[k]);
    if (k > 0) ck_assert(se[k] / se[k - 1] > 0.1 && se[k] / se[k - 1] < 0.5);   /* 1/4 */
    objective_clear(&o);
  }
  ck_assert(se[3] < 0.05);
  family_clear(&mf);
  gsl_rng_free(r);
  /* and the fresh-draw final ELBO agrees within its standard error */
  vi_options opt;
  vi_options_default(&opt);
  opt.init_mu = mu;
  opt.init_sd = 0.05;
  opt.eval_draws = 50000;
  vi_fit *f = vi_fit_alloc(&m, &opt, NULL);
  vi_final fin;
  ck_assert_int_eq(vi_fit_finish(f, &fin), VI_SUCCESS);
  double sd2[4] = {0.05, 0.05, 0.05, 0.05};
  ck_assert_double_eq_tol(fin.elbo, cm_linreg_exact_elbo(c, mu, sd2), 5.0 * fin.elbo_se);
  vi_fit_free(f);
  cm_linreg_free(c);
}
END_TEST

/* ---- the shared finish (vi_fit_finish_shared) ---------------------------------------- */

/* Two fits of the same model and seed reach the same q (the fit is deterministic). */
static vi_fit *fit_linreg_run(const vi_model *m)
{
  vi_options opt;
  vi_options_default(&opt);
  vi_fit *f = vi_fit_alloc(m, &opt, NULL);
  ck_assert_ptr_nonnull(f);
  ck_assert_int_eq(vi_fit_run(f, NULL, NULL), VI_SUCCESS);
  return f;
}

START_TEST(test_finish_shared)
{
  enum { D = 4, KEEP = 300 };
  vi_model m;
  cm_linreg *c = make_linreg(60, D, &m);
  double exact_lz = m.log_evidence;
  m.has_log_evidence = 0;   /* the IS estimate is what is tested */
  vi_fit *fa = fit_linreg_run(&m), *fb = fit_linreg_run(&m);
  ck_assert_mem_eq(vi_fit_mean(fa), vi_fit_mean(fb), D * sizeof(double));
  const double *mu = vi_fit_mean(fb), *sd = vi_fit_sd(fb);
  double exact_elbo = cm_linreg_exact_elbo(c, mu, sd), exact_kl = exact_lz - exact_elbo;

  /* n_min = n_max, no target: vi_fit_finish's draws exactly, whatever is kept */
  vi_final a, b;
  double *z = malloc(KEEP * D * sizeof *z), lp[KEEP], lq[KEEP];
  ck_assert_int_eq(vi_fit_finish(fa, &a), VI_SUCCESS);   /* eval_draws = 2000 */
  ck_assert_int_eq(vi_fit_finish_shared(fb, 2000, 2000, 0.0, KEEP, z, lp, lq, &b), VI_SUCCESS);
  ck_assert_uint_eq(b.draws, 2000);
  ck_assert(a.elbo == b.elbo && a.log_evidence == b.log_evidence && a.khat == b.khat &&
            a.elbo_se == b.elbo_se && a.kl_forward == b.kl_forward);
  /* the kept draws are draws of q with their own log p and log q */
  for (size_t i = 0; i < KEEP; i++) {
    double lpi;
    ck_assert_int_eq(m.log_joint(m.ctx, 1, z + i * D, &lpi, NULL), VI_SUCCESS);
    ck_assert_double_eq_tol(lp[i], lpi, 1e-9 * fabs(lpi));
    ck_assert_double_eq_tol(lq[i], vi_fit_log_q(fb, z + i * D), 1e-10);
  }
  double zm[D] = {0};   /* their mean is q's within 5 se */
  for (size_t i = 0; i < KEEP; i++)
    for (int j = 0; j < D; j++) zm[j] += z[i * D + j] / KEEP;
  for (int j = 0; j < D; j++)
    ck_assert_double_eq_tol(zm[j], mu[j], 5.0 * sd[j] / sqrt((double)KEEP));

  /* adaptive: a target within reach stops between floor and cap with both SEs below it,
   * and its estimates agree with the closed form and with the fixed-count finish */
  vi_fit_free(fb);
  fb = fit_linreg_run(&m);
  ck_assert_int_eq(vi_fit_finish_shared(fb, 500, 20000, 0.01, KEEP, z, lp, lq, &b), VI_SUCCESS);
  ck_assert(b.draws >= 500 && b.draws <= 20000);
  ck_assert((b.draws - 500) % 256 == 0 || b.draws == 20000);
  if (b.draws < 20000) ck_assert(b.elbo_se <= 0.01 && b.log_evidence_se <= 0.01);
  ck_assert_double_eq_tol(b.elbo, exact_elbo, 4.0 * b.elbo_se + 1e-9);
  ck_assert_double_eq_tol(b.log_evidence, exact_lz, 4.0 * b.log_evidence_se + 1e-9);
  ck_assert_double_eq_tol(b.kl, exact_kl, 4.0 * b.kl_se + 1e-9);
  ck_assert_double_eq_tol(b.elbo, a.elbo, 4.0 * hypot(a.elbo_se, b.elbo_se));
  ck_assert_double_eq_tol(b.kl, a.kl, 4.0 * hypot(a.kl_se, b.kl_se));
  /* a target already met at the floor: the floor; none: the cap */
  ck_assert_int_eq(vi_fit_finish_shared(fb, 700, 5000, 1e6, 0, NULL, NULL, NULL, &b), VI_SUCCESS);
  ck_assert_uint_eq(b.draws, 700);
  ck_assert_int_eq(vi_fit_finish_shared(fb, 700, 900, 0.0, 0, NULL, NULL, NULL, &b), VI_SUCCESS);
  ck_assert_uint_eq(b.draws, 900);
  ck_assert_int_eq(vi_fit_finish_shared(fb, 700, 10, 0.0, 0, NULL, NULL, NULL, &b), VI_SUCCESS);
  ck_assert_uint_eq(b.draws, 700);   /* a cap below the floor counts as the floor */
  /* more kept than the floor, or no fit */
  ck_assert_int_eq(vi_fit_finish_shared(fb, 100, 200, 0.0, KEEP, z, lp, lq, &b), VI_EINVAL);
  ck_assert_int_eq(vi_fit_finish_shared(NULL, 100, 200, 0.0, 0, NULL, NULL, NULL, &b), VI_EINVAL);
  free(z);
  vi_fit_free(fa);
  vi_fit_free(fb);
  cm_linreg_free(c);
}
END_TEST

/* ---- diagonal Gaussian posterior ---------------------------------------------------- */

START_TEST(test_diag_gaussian_posterior)
{
  const double a[3] = {1.0, -2.0, 0.5}, b[3] = {0.5, 2.0, 1.0};
  diag_ctx g = {3, a, b, -7.25};
  vi_model m = {0};
  m.dim = 3;
  m.log_joint = diag_log_joint;
  m.ctx = &g;
  m.has_log_evidence = 1;
  m.log_evidence = g.c;
  /* exact recovery with moment-matched fixed draws */
  vi_options opt;
  vi_options_default(&opt);
  opt.standardize_draws = 1;
  opt.tol_grad = 1e-10;
  opt.tol_rel_obj = 0.0;   /* stop on the gradient: the relative test stops at ~1e-5 */
  vi_fit *f = vi_fit_alloc(&m, &opt, NULL);
  ck_assert_ptr_nonnull(f);
  int st = vi_fit_run(f, NULL, NULL);
  ck_assert_int_eq(st, VI_SUCCESS);
  for (int j = 0; j < 3; j++) {
    ck_assert_double_eq_tol(vi_fit_mean(f)[j], a[j], 1e-7);
    ck_assert_double_eq_tol(vi_fit_sd(f)[j], b[j], 1e-7);
  }
  ck_assert_double_eq_tol(vi_fit_diag(f)->kl, 0.0, 1e-10);
  vi_final fin;
  ck_assert_int_eq(vi_fit_finish(f, &fin), VI_SUCCESS);
  ck_assert_double_eq_tol(fin.kl, 0.0, 1e-9);            /* q = p: every weight equal */
  ck_assert_double_eq_tol(fin.kl_forward, 0.0, 1e-9);
  ck_assert(fin.kl_forward_reliable);
  vi_fit_free(f);
  /* plain fixed draws and fresh draws: KL(q || p) small */
  for (int e = 0; e < 2; e++) {
    vi_options_default_for(&opt, e ? VI_FRESH_DRAWS : VI_FIXED_DRAWS);
    opt.draws = e ? 32 : 200;
    opt.standardize_draws = 0;   /* plain DADVI: the sample-average objective as drawn */
    opt.draws_max = 0;
    f = vi_fit_alloc(&m, &opt, NULL);
    st = vi_fit_run(f, NULL, NULL);
    ck_assert(st == VI_SUCCESS || st == VI_EMAXITER);
    double kl = vi_info_kl_diag_gaussian(3, vi_fit_mean(f), vi_fit_sd(f), a, b);
    ck_assert_msg(kl >= 0.0 && kl < 0.05, "estimator %d: KL %g", e, kl);
    ck_assert_int_eq(vi_fit_finish(f, &fin), VI_SUCCESS);
    ck_assert_msg(fin.kl < 0.05 && fin.kl > -3.0 * fin.kl_se, "estimator %d: KL %g +- %g", e,
                  fin.kl, fin.kl_se);
    vi_fit_free(f);
  }
}
END_TEST

/* ---- non-finite log joint ---------------------------------------------------------- */

static void check_nonfinite(int nan_mode, vi_estimator e, vi_optimizer o)
{
  vi_model m = {0};
  m.dim = 2;
  m.log_joint = trunc_log_joint;
  m.ctx = &nan_mode;
  vi_options opt;
  vi_options_default_for(&opt, e);
  opt.optimizer = o;
  opt.init_sd = 0.05;
  opt.max_iter = 2000;
  int st;
  vi_fit *f = vi_fit_alloc(&m, &opt, &st);
  ck_assert_int_eq(st, VI_SUCCESS);
  do {
    st = vi_fit_iterate(f);
    for (int j = 0; j < 2; j++) {
      ck_assert(isfinite(vi_fit_mean(f)[j]));
      ck_assert(isfinite(vi_fit_sd(f)[j]) && vi_fit_sd(f)[j] > 0.0);
    }
    ck_assert(isfinite(vi_fit_diag(f)->elbo));
    if (st < 0) break;
    st = vi_fit_test(f);
  } while (st == VI_CONTINUE);
  /* a clear outcome: converged, no progress, cap, or a named failure */
  vi_stop_reason r = vi_fit_stop_reason(f);
  ck_assert(r != VI_STOP_NONE);
  if (st < 0 && st != VI_EMAXITER && st != VI_ENOPROG) {
    ck_assert_int_eq(r, VI_STOP_FAILED);
    ck_assert_int_eq(st, VI_ENONFINITE);
  }
  /* the fit made progress towards the truncated normal: sd grew from 0.05 */
  ck_assert_msg(vi_fit_sd(f)[1] > 0.2, "nan %d estimator %d optimizer %d: sd %g, %s",
                nan_mode, (int)e, (int)o, vi_fit_sd(f)[1], vi_stop_reason_string(r));
  for (size_t i = 0; i < vi_fit_history_len(f); i++) {
    const vi_diag *d = vi_fit_history(f, i);
    ck_assert(isfinite(d->elbo) && isfinite(d->grad_norm));
  }
  vi_fit_free(f);
}

START_TEST(test_nonfinite)
{
  const vi_optimizer opts[] = {VI_OPT_BFGS2, VI_OPT_CG_FR, VI_OPT_CG_PR, VI_OPT_STEEPEST,
                               VI_OPT_ADAM};
  for (int nan_mode = 0; nan_mode < 2; nan_mode++) {
    for (int k = 0; k < 5; k++) check_nonfinite(nan_mode, VI_FIXED_DRAWS, opts[k]);
    check_nonfinite(nan_mode, VI_FRESH_DRAWS, VI_OPT_ADAM);
  }
}
END_TEST

/* log p = sum_j -0.5 z_j^2 (a standard normal), finite everywhere, but its gradient is
 * NaN (ctx 0) or +inf (ctx 1) where some |z_j| > 5: far from the optimum (as a Cox model's
 * exp overflows at absurd trial points).  Counts the calls that hit the wall. */
typedef struct { int mode; size_t hits; } gwall_ctx;
static int gwall_log_joint(void *ctx, size_t n, const double *z, double *lp, double *grad)
{
  gwall_ctx *c = ctx;
  for (size_t s = 0; s < n; s++) {
    lp[s] = 0.0;
    int wall = 0;
    for (size_t j = 0; j < 2; j++) {
      double x = z[s * 2 + j];
      lp[s] += -0.5 * x * x;
      if (grad) grad[s * 2 + j] = -x;
      if (fabs(x) > 5.0) wall = 1;
    }
    if (wall && grad) {
      grad[s * 2] = c->mode ? INFINITY : NAN;
      c->hits++;
    }
  }
  return VI_SUCCESS;
}

/* a trial point with a finite objective and a non-finite gradient is rejected like an
 * infeasible one: the fit carries on to the optimum instead of failing */
START_TEST(test_gradient_wall)
{
  const vi_optimizer opts[] = {VI_OPT_BFGS2, VI_OPT_CG_FR, VI_OPT_CG_PR, VI_OPT_STEEPEST};
  for (int mode = 0; mode < 2; mode++)
    for (int k = 0; k < 4; k++) {
      gwall_ctx c = {mode, 0};
      vi_model m = {0};
      m.dim = 2;
      m.log_joint = gwall_log_joint;
      m.ctx = &c;
      vi_options opt;
      vi_options_default(&opt);
      opt.optimizer = opts[k];
      opt.init = VI_INIT_ZERO;
      double mu0[2] = {0.5, -0.5};
      opt.init_mu = mu0;
      opt.init_sd = 0.05;
      opt.step_size = 5.0;   /* first trial steps to wide q, whose draws pass the wall */
      int st;
      vi_fit *f = vi_fit_alloc(&m, &opt, &st);
      ck_assert_int_eq(st, VI_SUCCESS);
      st = vi_fit_run(f, NULL, NULL);
      ck_assert_msg(st == VI_SUCCESS || st == VI_EMAXITER, "mode %d optimizer %d: %s", mode,
                    k, vi_strerror(st));
      if (k == 0)   /* bfgs2's line search does reach it (the others may stop short) */
        ck_assert_msg(c.hits > 0, "mode %d: the wall was never reached", mode);
      for (int j = 0; j < 2; j++) {
        ck_assert_msg(fabs(vi_fit_mean(f)[j]) < 0.05, "mode %d optimizer %d: mu %g", mode, k,
                      vi_fit_mean(f)[j]);
        ck_assert(fabs(vi_fit_sd(f)[j] - 1.0) < 0.05);
      }
      vi_fit_free(f);
    }
}
END_TEST

/* vi_fit_stop_value: the value that triggered the stop, below its tolerance; the relative
 * change test needs two small changes in a row */
START_TEST(test_stop_value)
{
  vi_model m;
  cm_linreg *c = make_linreg(50, 4, &m);
  for (int k = 0; k < 4; k++) {
    vi_options opt;
    vi_options_default(&opt);
    if (k == 1) opt.tol_rel_obj = 1e6;     /* stops on the relative change at once */
    if (k == 2) opt.tol_grad = 1e9;        /* stops on the gradient at the start */
    if (k == 3) {                          /* stops on the window once it is full */
      opt.tol_abs_obj = 1e9;
      opt.tol_rel_obj = 0;
    }
    opt.draws_max = 0;
    opt.init = VI_INIT_ZERO;
    int st;
    vi_fit *f = vi_fit_alloc(&m, &opt, &st);
    ck_assert_int_eq(st, VI_SUCCESS);
    ck_assert(isnan(vi_fit_stop_value(f)));
    st = vi_fit_run(f, NULL, NULL);
    ck_assert_int_eq(st, VI_SUCCESS);
    vi_stop_reason r = vi_fit_stop_reason(f);
    double v = vi_fit_stop_value(f);
    if (k == 1) {
      ck_assert_int_eq(r, VI_STOP_REL_OBJ);
      ck_assert_uint_eq(vi_fit_diag(f)->iter, 2);
    }
    if (k == 2) ck_assert_int_eq(r, VI_STOP_GRAD);
    if (k == 3) {
      ck_assert_int_eq(r, VI_STOP_FLAT);
      ck_assert_uint_eq(vi_fit_diag(f)->iter, VI_FLAT_WINDOW);
    }
    if (r == VI_STOP_FLAT) {   /* the rise of the objective over the window */
      size_t n = vi_fit_history_len(f);
      const vi_diag *a = vi_fit_history(f, n - 1 - VI_FLAT_WINDOW), *b = vi_fit_history(f, n - 1);
      ck_assert(v < opt.tol_abs_obj);
      ck_assert_msg(fabs(v - (b->elbo - a->elbo)) <= 1e-9 * fmax(1, fabs(v)),
                    "rise %.17g, history %.17g - %.17g", v, b->elbo, a->elbo);
    } else if (r == VI_STOP_REL_OBJ) {
      size_t n = vi_fit_history_len(f);
      const vi_diag *a = vi_fit_history(f, n - 2), *b = vi_fit_history(f, n - 1);
      ck_assert(v < opt.tol_rel_obj);
      ck_assert(fabs(v - fabs(b->elbo - a->elbo) / fmax(fabs(b->elbo), 1.0)) <= 1e-12 * (v + 1e-300) + 1e-300);
    } else if (r == VI_STOP_GRAD) {
      ck_assert(v < opt.tol_grad);
      ck_assert(v == vi_fit_diag(f)->grad_norm);
    }
    vi_fit_free(f);
  }
  cm_linreg_free(c);
}
END_TEST

/* A quartic target whose log density carries a ripple of 1e-4 nats that its gradient
 * leaves out (*mode 0, as an ODE solved to a tolerance), the same without the ripple
 * (*mode 1), or a standard normal whose gradient has the wrong sign (*mode 2), so that no
 * step improves it. */
static int rough_log_joint(void *ctx, size_t n, const double *z, double *lp, double *grad)
{
  int mode = *(const int *)ctx;
  for (size_t s = 0; s < n; s++) {
    lp[s] = 0.0;
    for (size_t j = 0; j < 2; j++) {
      double x = z[s * 2 + j];
      if (mode == 2) {
        lp[s] += -0.5 * x * x;
        if (grad) grad[s * 2 + j] = x;
        continue;
      }
      lp[s] += -0.5 * x * x - 0.25 * x * x * x * x + (mode ? 0.0 : 1e-4 * sin(1e4 * x));
      if (grad) grad[s * 2 + j] = -x - x * x * x;
    }
  }
  return VI_SUCCESS;
}

/* A stall where the ELBO cannot improve by more than its Monte Carlo error is convergence
 * (VI_STOP_RESOLUTION, its value the predicted gain, below that error), and q is then
 * within sqrt(2 gain) sds of the smooth objective's optimum on the same draws; a stall far
 * from the optimum stays VI_STOP_NOPROGRESS. */
START_TEST(test_stop_resolution)
{
  double mu[2][2], sd[2][2];
  for (int mode = 0; mode < 3; mode++) {
    vi_model m = {0};
    m.dim = 2;
    m.log_joint = rough_log_joint;
    m.ctx = &mode;
    vi_options opt;
    vi_options_default(&opt);
    opt.init = VI_INIT_ZERO;
    double mu0[2] = {1.0, -1.0};
    opt.init_mu = mu0;
    opt.draws = 64;
    opt.draws_max = 0;
    if (mode == 0) opt.tol_rel_obj = opt.tol_abs_obj = 0;
    int st;
    vi_fit *f = vi_fit_alloc(&m, &opt, &st);
    ck_assert_int_eq(st, VI_SUCCESS);
    ck_assert_int_eq(vi_fit_run(f, NULL, NULL), VI_SUCCESS);
    vi_stop_reason r = vi_fit_stop_reason(f);
    if (mode == 2) {
      ck_assert_int_eq(r, VI_STOP_NOPROGRESS);
      ck_assert(vi_fit_stop_value(f) == vi_fit_diag(f)->grad_norm);
    } else {
      if (mode == 0) {
        ck_assert_msg(r == VI_STOP_RESOLUTION, "stopped: %s", vi_stop_reason_string(r));
        ck_assert(vi_fit_stop_value(f) >= 0 && vi_fit_stop_value(f) < 1e-3);
      }
      for (int j = 0; j < 2; j++) {
        mu[mode][j] = vi_fit_mean(f)[j];
        sd[mode][j] = vi_fit_sd(f)[j];
      }
    }
    vi_fit_free(f);
  }
  for (int j = 0; j < 2; j++) {
    ck_assert_msg(fabs(mu[0][j] - mu[1][j]) < 0.05 * sd[1][j], "mu %g vs %g (sd %g)",
                  mu[0][j], mu[1][j], sd[1][j]);
    ck_assert_msg(fabs(log(sd[0][j] / sd[1][j])) < 0.05, "sd %g vs %g", sd[0][j], sd[1][j]);
  }
}
END_TEST

START_TEST(test_errors)
{
  int st = 0;
  ck_assert_ptr_null(vi_fit_alloc(NULL, NULL, &st));
  ck_assert_int_eq(st, VI_EINVAL);
  vi_model m = {0};
  ck_assert_ptr_null(vi_fit_alloc(&m, NULL, &st));
  ck_assert_int_eq(st, VI_EINVAL);
  /* an infeasible starting mean; a starting sd too wide for the support is shrunk */
  int nan_mode = 0;
  m.dim = 2;
  m.log_joint = trunc_log_joint;
  m.ctx = &nan_mode;
  vi_options opt;
  vi_options_default(&opt);
  const double outside[2] = {5.0, 0.0};
  opt.init_mu = outside;
  ck_assert_ptr_null(vi_fit_alloc(&m, &opt, &st));
  ck_assert_int_eq(st, VI_ENONFINITE);
  opt.init_mu = NULL;
  for (int o = 0; o < 2; o++) {
    opt.init_sd = 5.0;
    opt.optimizer = o ? VI_OPT_ADAM : VI_OPT_BFGS2;
    vi_fit *f = vi_fit_alloc(&m, &opt, &st);
    ck_assert_int_eq(st, VI_SUCCESS);
    ck_assert(vi_fit_sd(f)[0] < 0.5 && isfinite(vi_fit_diag(f)->elbo));
    vi_fit_free(f);
  }
  opt.optimizer = VI_OPT_BFGS2;
  opt.init_sd = 1.0;
  opt.size = 0;                /* not made by vi_options_default */
  ck_assert_ptr_null(vi_fit_alloc(&m, &opt, &st));
  ck_assert_int_eq(st, VI_EINVAL);
  opt.size = sizeof opt + 8;   /* a newer header than the library's */
  ck_assert_ptr_null(vi_fit_alloc(&m, &opt, &st));
  ck_assert_int_eq(st, VI_EINVAL);
  opt.size = sizeof opt;
  opt.draws = 2;
  opt.standardize_draws = 1;   /* M <= D: standardised per coordinate */
  vi_fit *f2 = vi_fit_alloc(&m, &opt, &st);
  ck_assert_int_eq(st, VI_SUCCESS);
  vi_fit_free(f2);
  opt.draws = 0;               /* unset: adaptive from 32 */
  opt.draws_tol = 0.0;         /* adaptive M needs a positive tolerance */
  ck_assert_ptr_null(vi_fit_alloc(&m, &opt, &st));
  ck_assert_int_eq(st, VI_EINVAL);
  opt.draws_max = 0;           /* ... which fixed M does not read */
  f2 = vi_fit_alloc(&m, &opt, &st);
  ck_assert_int_eq(st, VI_SUCCESS);
  vi_fit_free(f2);
  /* fresh draws ignore standardize_draws and draws_max */
  vi_options_default(&opt);
  opt.estimator = VI_FRESH_DRAWS;
  f2 = vi_fit_alloc(&m, &opt, &st);
  ck_assert_int_eq(st, VI_SUCCESS);
  ck_assert_int_eq(vi_fit_options(f2)->standardize_draws, 0);
  ck_assert_uint_eq(vi_fit_options(f2)->draws_max, 0);
  vi_fit_free(f2);
  /* a model error mid-fit: the fit stops with the model's status, q intact */
  for (int o = 0; o < 2; o++) {
    int calls = 0;
    vi_model fm = {0};
    fm.dim = 1;
    fm.log_joint = failing_log_joint;
    fm.ctx = &calls;
    vi_options_default(&opt);
    opt.init = VI_INIT_ZERO;   /* (the Laplace start would spend the three good calls) */
    opt.init_sd = 2.0;   /* not at the optimum (standardised draws would find it at once) */
    if (o) opt.optimizer = VI_OPT_ADAM;
    vi_fit *f = vi_fit_alloc(&fm, &opt, &st);
    ck_assert_ptr_nonnull(f);
    st = vi_fit_run(f, NULL, NULL);
    ck_assert_int_eq(st, VI_ERUNTIME);
    ck_assert_int_eq(vi_fit_stop_reason(f), VI_STOP_FAILED);
    ck_assert(isfinite(vi_fit_mean(f)[0]) && isfinite(vi_fit_sd(f)[0]));
    ck_assert_int_eq(vi_fit_iterate(f), VI_ERUNTIME);
    vi_fit_free(f);
  }
  vi_fit_free(NULL);
}
END_TEST

/* ---- where a fit failed (vi_fit_fault) ------------------------------------------------ */

/* N(0, I) in 2 coordinates that fails after `after` calls, with VI_EMODEL or (nan) a NaN
 * lp at every draw; remembers the first point of its last call */
typedef struct { int calls, after, nan; double z0[2]; } fault_ctx;
static int fault_log_joint(void *ctx, size_t n, const double *z, double *lp, double *grad)
{
  fault_ctx *c = ctx;
  c->z0[0] = z[0];
  c->z0[1] = z[1];
  int bad = ++c->calls > c->after;
  if (bad && !c->nan) return VI_EMODEL;
  for (size_t s = 0; s < n; s++) {
    lp[s] = bad ? NAN : -0.5 * (z[2 * s] * z[2 * s] + z[2 * s + 1] * z[2 * s + 1]);
    if (grad) {
      grad[2 * s] = -z[2 * s];
      grad[2 * s + 1] = -z[2 * s + 1];
    }
  }
  return VI_SUCCESS;
}

START_TEST(test_fault)
{
  for (int k = 0; k < 3; k++) {   /* BFGS model error, Adam model error, Adam NaN */
    fault_ctx c = {0, 6, k == 2, {0, 0}};
    vi_model m = {0};
    m.dim = 2;
    m.log_joint = fault_log_joint;
    m.ctx = &c;
    vi_options opt;
    vi_options_default(&opt);
    opt.init = VI_INIT_ZERO;
    opt.init_sd = 2.0;
    if (k) opt.optimizer = VI_OPT_ADAM;
    int st;
    vi_fit *f = vi_fit_alloc(&m, &opt, &st);
    ck_assert_ptr_nonnull(f);
    ck_assert_ptr_null(vi_fit_fault(f));
    st = vi_fit_run(f, NULL, NULL);
    ck_assert_int_eq(st, k == 2 ? VI_ENONFINITE : VI_EMODEL);
    const vi_fault *ft = vi_fit_fault(f);
    ck_assert_ptr_nonnull(ft);
    ck_assert_int_eq(ft->status, st);
    ck_assert_uint_eq(ft->iter, vi_fit_diag(f)->iter + 1);
    ck_assert_uint_eq(ft->draw, 0);
    ck_assert(isnan(ft->lp));
    ck_assert_ptr_nonnull(ft->z);
    ck_assert(ft->z[0] == c.z0[0] && ft->z[1] == c.z0[1]);
    vi_fit_free(f);
  }
  /* a clean fit: no fault */
  fault_ctx c = {0, 1 << 30, 0, {0, 0}};
  vi_model m = {0};
  m.dim = 2;
  m.log_joint = fault_log_joint;
  m.ctx = &c;
  int st;
  vi_fit *f = vi_fit_alloc(&m, NULL, &st);
  ck_assert_ptr_nonnull(f);
  ck_assert_int_eq(vi_fit_run(f, NULL, NULL), VI_SUCCESS);
  ck_assert_ptr_null(vi_fit_fault(f));
  vi_fit_free(f);
  ck_assert_ptr_null(vi_fit_fault(NULL));
}
END_TEST

/* ---- determinism --------------------------------------------------------------------- */

static vi_diag *run_history(const vi_model *m, const vi_options *opt, size_t *len,
                            double *mu, double *sd)
{
  vi_fit *f = vi_fit_alloc(m, opt, NULL);
  ck_assert_ptr_nonnull(f);
  vi_fit_run(f, NULL, NULL);
  *len = vi_fit_history_len(f);
  vi_diag *h = malloc(*len * sizeof *h);
  for (size_t i = 0; i < *len; i++) {
    h[i] = *vi_fit_history(f, i);
    h[i].seconds = 0.0;   /* the only non-deterministic value */
  }
  memcpy(mu, vi_fit_mean(f), m->dim * sizeof(double));
  memcpy(sd, vi_fit_sd(f), m->dim * sizeof(double));
  vi_fit_free(f);
  return h;
}

START_TEST(test_determinism)
{
  vi_model m;
  cm_logreg *c = make_logreg(500, 6, &m);
  for (int e = 0; e < 2; e++) {
    vi_options opt;
    vi_options_default_for(&opt, e ? VI_FRESH_DRAWS : VI_FIXED_DRAWS);
    opt.eval_every = 5;
    opt.eval_draws = 300;
    if (e) opt.max_iter = 400;
    size_t n1, n2, n3;
    double mu1[6], sd1[6], mu2[6], sd2[6], mu3[6], sd3[6];
    vi_diag *h1 = run_history(&m, &opt, &n1, mu1, sd1);
    vi_diag *h2 = run_history(&m, &opt, &n2, mu2, sd2);
    ck_assert_uint_eq(n1, n2);
    ck_assert(n1 > 5);
    ck_assert_int_eq(memcmp(h1, h2, n1 * sizeof *h1), 0);
    ck_assert_int_eq(memcmp(mu1, mu2, sizeof mu1), 0);
    ck_assert_int_eq(memcmp(sd1, sd2, sizeof sd1), 0);
    opt.seed = 2;
    vi_diag *h3 = run_history(&m, &opt, &n3, mu3, sd3);
    ck_assert(n3 != n1 || memcmp(h1, h3, n1 * sizeof *h1) != 0);
    /* close optima: the fixed-draw optimum moves with the draws by O(1/sqrt(M)), so
     * compare two seeds at M = 256 (relative sd noise about sqrt(2/M) each); fresh draws
     * at the default M */
    if (e == 0) {   /* (fresh draws average over new draws anyway) */
      free(h1);
      free(h3);
      opt.draws = 256;
      opt.seed = 1;
      h1 = run_history(&m, &opt, &n1, mu1, sd1);
      opt.seed = 2;
      h3 = run_history(&m, &opt, &n3, mu3, sd3);
    }
    for (int j = 0; j < 6; j++) {
      ck_assert_double_eq_tol(mu1[j], mu3[j], 0.05);
      ck_assert_msg(fabs(sd1[j] / sd3[j] - 1.0) < 0.3, "estimator %d: sd %g vs %g", e, sd1[j],
                    sd3[j]);
    }
    free(h1); free(h2); free(h3);
  }
  cm_logreg_free(c);
}
END_TEST

/* ---- finish ---------------------------------------------------------------------------- */

START_TEST(test_finish_linreg)
{
  vi_model m;
  cm_linreg *c = make_linreg(60, 4, &m);
  double exact = m.log_evidence;
  m.has_log_evidence = 0;   /* make the engine estimate it */
  vi_options opt;
  vi_options_default(&opt);
  opt.eval_draws = 4000;
  opt.eval_every = 10;
  vi_fit *f = vi_fit_alloc(&m, &opt, NULL);
  int st = vi_fit_run(f, NULL, NULL);
  ck_assert_int_eq(st, VI_SUCCESS);
  const vi_diag *d = vi_fit_diag(f);
  ck_assert_int_eq(d->log_evidence_exact, 0);
  vi_final fin;
  ck_assert_int_eq(vi_fit_finish(f, &fin), VI_SUCCESS);
  ck_assert_uint_eq(fin.draws, 4000);
  ck_assert(fin.log_evidence_se > 0.0);
  ck_assert_double_eq_tol(fin.log_evidence, exact, 4.0 * fin.log_evidence_se + 1e-3);
  ck_assert(fin.log_evidence >= fin.elbo - 3.0 * fin.kl_se);
  ck_assert(isfinite(fin.kl_forward) && fin.kl_forward >= -1e-12);
  ck_assert(isfinite(fin.khat));
  ck_assert_double_eq_tol(fin.expected_log_lik - fin.kl_prior, fin.elbo, 1e-9);
  ck_assert(fin.kl_prior > 0.0);
  /* the per-iteration estimate from the optimiser's draws is a sane number too */
  const vi_diag *d0 = vi_fit_history(f, 0);
  ck_assert(isfinite(d0->log_evidence) && d0->log_evidence_se >= 0.0);
  /* sample / log q */
  double z[4], z0[4];
  vi_fit_sample(f, vi_fit_rng(f), z);
  memcpy(z0, vi_fit_mean(f), sizeof z0);
  double lq0 = -2.0 * LOG_2PI;
  for (int j = 0; j < 4; j++) lq0 -= log(vi_fit_sd(f)[j]);
  ck_assert_double_eq_tol(vi_fit_log_q(f, z0), lq0, 1e-12);
  ck_assert(vi_fit_log_q(f, z) < lq0);
  vi_fit_free(f);
  cm_linreg_free(c);
}
END_TEST

static int count_obs(void *ctx, const vi_fit *f, const vi_diag *d)
{
  size_t *n = ctx;
  ck_assert_uint_eq(d->iter, *n);
  (*n)++;
  return *n >= 4;   /* stop after iteration 3 */
}

START_TEST(test_observer_and_fresh)
{
  vi_model m;
  cm_linreg *c = make_linreg(60, 4, &m);
  vi_options opt;
  vi_options_default(&opt);
  opt.estimator = VI_FRESH_DRAWS;   /* fixed-draw defaults left in: read as fresh ones */
  vi_fit *f = vi_fit_alloc(&m, &opt, NULL);
  ck_assert_int_eq(vi_fit_options(f)->optimizer, VI_OPT_ADAM);
  ck_assert_double_eq(vi_fit_options(f)->step_size, 0.05);
  size_t n = 0;
  ck_assert_int_eq(vi_fit_run(f, count_obs, &n), VI_EINTERRUPTED);
  ck_assert_uint_eq(n, 4);
  vi_fit_free(f);
  /* fresh draws + Adam reach the mean-field optimum up to Monte Carlo noise */
  f = vi_fit_alloc(&m, &opt, NULL);
  int st = vi_fit_run(f, NULL, NULL);
  ck_assert(st == VI_SUCCESS || st == VI_EMAXITER);
  double mm[4], ms[4];
  cm_linreg_mean_field(c, mm, ms);
  for (int j = 0; j < 4; j++) {
    ck_assert_double_eq_tol(vi_fit_mean(f)[j], mm[j], 0.05);
    ck_assert_double_eq_tol(vi_fit_sd(f)[j] / ms[j], 1.0, 0.3);
  }
  ck_assert(vi_fit_diag(f)->kl > -0.5);
  vi_fit_free(f);
  cm_linreg_free(c);
}
END_TEST


/* Defaults that depend on the estimator resolve by the estimator, whichever way the
 * options were made; values the caller wrote are used as written. */
START_TEST(test_option_defaults)
{
  vi_model m;
  cm_linreg *c = make_linreg(30, 2, &m);
  vi_options a, b;
  vi_options_default(&a);
  a.estimator = VI_FRESH_DRAWS;
  vi_options_default_for(&b, VI_FRESH_DRAWS);
  vi_fit *fa = vi_fit_alloc(&m, &a, NULL), *fb = vi_fit_alloc(&m, &b, NULL);
  ck_assert_ptr_nonnull(fa);
  ck_assert_ptr_nonnull(fb);
  const vi_options *ra = vi_fit_options(fa), *rb = vi_fit_options(fb);
  ck_assert_int_eq(ra->init, VI_INIT_ZERO);
  ck_assert_int_eq(vi_fit_init_kind(fa), VI_INIT_ZERO);
  ck_assert_uint_eq(vi_fit_init_iterations(fa), 0);   /* no mode search ran */
  ck_assert_int_eq(ra->optimizer, VI_OPT_ADAM);
  ck_assert_double_eq(ra->tol_rel_obj, 1e-3);
  ck_assert_uint_eq(ra->max_iter, 10000);
  ck_assert_double_eq(ra->step_size, 0.05);
  ck_assert_uint_eq(ra->draws, 32);
  ck_assert_uint_eq(ra->draws_max, 0);
  ck_assert_int_eq(memcmp(ra, rb, sizeof *ra), 0);
  ck_assert_uint_eq(a.draws_max, VI_DRAWS_MAX_DEFAULT);
  vi_fit_free(fa);
  vi_fit_free(fb);
  /* explicit values are kept, fixed-draw defaults included */
  a.tol_rel_obj = 1e-10;
  a.max_iter = 1000;
  a.step_size = 0.1;
  a.init = VI_INIT_LAPLACE;
  fa = vi_fit_alloc(&m, &a, NULL);
  ra = vi_fit_options(fa);
  ck_assert_double_eq(ra->tol_rel_obj, 1e-10);
  ck_assert_uint_eq(ra->max_iter, 1000);
  ck_assert_double_eq(ra->step_size, 0.1);
  ck_assert_int_eq(ra->init, VI_INIT_LAPLACE);
  vi_fit_free(fa);
  /* fixed draws: M unset is adaptive from 32 up to 512, an explicit M is fixed (as
   * `vi fit --draws M`), an explicit M with a larger draws_max grows from M */
  vi_options_default(&a);
  fa = vi_fit_alloc(&m, &a, NULL);
  ck_assert_uint_eq(vi_fit_options(fa)->draws, 32);
  ck_assert_uint_eq(vi_fit_options(fa)->draws_max, 512);
  ck_assert_int_eq(vi_fit_options(fa)->init, VI_INIT_LAPLACE);
  ck_assert_double_eq(vi_fit_options(fa)->tol_rel_obj, 1e-10);
  vi_fit_free(fa);
  a.draws = 200;
  fa = vi_fit_alloc(&m, &a, NULL);
  ck_assert_uint_eq(vi_fit_options(fa)->draws, 200);
  ck_assert_uint_eq(vi_fit_options(fa)->draws_max, 0);
  vi_fit_free(fa);
  a.draws = 64;
  a.draws_max = 256;
  fa = vi_fit_alloc(&m, &a, NULL);
  ck_assert_uint_eq(vi_fit_options(fa)->draws_max, 256);
  vi_fit_free(fa);
  /* fixed draws with adam: adam's learning rate */
  vi_options_default(&a);
  a.optimizer = VI_OPT_ADAM;
  fa = vi_fit_alloc(&m, &a, NULL);
  ck_assert_double_eq(vi_fit_options(fa)->step_size, 0.05);
  vi_fit_free(fa);
  cm_linreg_free(c);
}
END_TEST

/* ---- adaptive M ---------------------------------------------------------------------- */

/* max over coordinates of |dmu| / sd_ref and |log(sd / sd_ref)| */
static double q_distance(size_t d, const double *mu, const double *sd, const double *rmu,
                         const double *rsd)
{
  double s = 0.0;
  for (size_t j = 0; j < d; j++) {
    s = fmax(s, fabs(mu[j] - rmu[j]) / rsd[j]);
    s = fmax(s, fabs(log(sd[j] / rsd[j])));
  }
  return s;
}

START_TEST(test_adaptive_draws)
{
  vi_model m;
  cm_logreg *c = make_logreg(500, 6, &m);
  /* the reference: the mean-field optimum, approximated with many standardised draws */
  vi_options opt;
  vi_options_default(&opt);
  ck_assert_uint_eq(opt.draws, 0);       /* unset: adaptive from 32 */
  ck_assert_int_eq(opt.standardize_draws, 1);
  opt.draws = 4096;
  opt.draws_max = 0;
  double rmu[6], rsd[6], mu[6], sd[6];
  size_t n;
  free(run_history(&m, &opt, &n, rmu, rsd));
  for (int std = 1; std >= 0; std--) {
    vi_options_default(&opt);
    opt.init = VI_INIT_ZERO;   /* every evaluation at M (no one-point mode search) */
    opt.standardize_draws = std;
    vi_fit *f = vi_fit_alloc(&m, &opt, NULL);
    ck_assert_int_eq(vi_fit_run(f, NULL, NULL), VI_SUCCESS);
    vi_stop_reason r = vi_fit_stop_reason(f);
    ck_assert(r == VI_STOP_GRAD || r == VI_STOP_REL_OBJ);
    ck_assert_int_eq(vi_fit_test(f), VI_SUCCESS);   /* testing again changes nothing */
    ck_assert_int_eq(vi_fit_stop_reason(f), r);
    /* the history: consecutive iterations, M doubling from 32, and n_points the sum of M
     * over the evaluations (every evaluation of an iteration is at that iteration's M) */
    size_t len = vi_fit_history_len(f), grew = 0;
    for (size_t i = 0; i < len; i++) {
      const vi_diag *d = vi_fit_history(f, i);
      ck_assert_uint_eq(d->iter, i);
      if (i == 0) {
        ck_assert_uint_eq(d->draws, 32);
        ck_assert_uint_eq(d->n_points, 32 * d->n_fevals);
        continue;
      }
      const vi_diag *p = vi_fit_history(f, i - 1);
      ck_assert(d->draws == p->draws || d->draws == 2 * p->draws);
      grew += d->draws != p->draws;
      ck_assert_uint_eq(d->n_points - p->n_points, (d->n_fevals - p->n_fevals) * d->draws);
    }
    const vi_diag *d = vi_fit_diag(f);
    ck_assert_uint_ge(grew, 1);   /* q is compared between two sizes at least once */
    size_t draws_max = vi_fit_options(f)->draws_max;
    ck_assert(d->draws <= draws_max);
    ck_assert(isfinite(d->draws_shift));
    ck_assert(d->draws_shift < opt.draws_tol || d->draws == draws_max);
    /* close to the optimum: fixed plain draws at M = 32 are ~0.5 sd away */
    double dist = q_distance(6, vi_fit_mean(f), vi_fit_sd(f), rmu, rsd);
    ck_assert_msg(dist < (std ? 0.02 : 0.15), "std %d: distance %g at M %zu", std, dist,
                  d->draws);
    vi_fit_free(f);
    /* and closer than the fixed-M fit it starts with */
    opt.draws_max = 0;
    free(run_history(&m, &opt, &n, mu, sd));
    double dist32 = q_distance(6, mu, sd, rmu, rsd);
    ck_assert_msg(dist < dist32 || dist < 0.005, "std %d: adaptive %g, M = 32 %g", std, dist,
                  dist32);
  }
  cm_logreg_free(c);

  /* A Gaussian posterior: standardised draws make every objective exact, so q does not
   * move when M doubles: one doubling, and the closed-form mean-field optimum. */
  cm_linreg *lr = make_linreg(60, 4, &m);
  double mf_mean[4], mf_sd[4];
  cm_linreg_mean_field(lr, mf_mean, mf_sd);
  vi_options_default(&opt);
  opt.init = VI_INIT_ZERO;   /* (the Laplace start is the optimum already: no doubling) */
  opt.tol_grad = 1e-9;
  opt.tol_rel_obj = 0.0;
  vi_fit *f = vi_fit_alloc(&m, &opt, NULL);
  ck_assert_int_eq(vi_fit_run(f, NULL, NULL), VI_SUCCESS);
  ck_assert_uint_eq(vi_fit_diag(f)->draws, 64);
  ck_assert(vi_fit_diag(f)->draws_shift < 1e-6);
  for (size_t j = 0; j < 4; j++) {
    ck_assert_double_eq_tol(vi_fit_mean(f)[j], mf_mean[j], 1e-6);
    ck_assert_double_eq_tol(vi_fit_sd(f)[j], mf_sd[j], 1e-6);
  }
  vi_fit_free(f);
  /* the cap: a tolerance no fit meets stops at draws_max (M * dim bounded as well) */
  opt.draws_tol = 1e-300;
  opt.draws_max = 100;
  f = vi_fit_alloc(&m, &opt, NULL);
  ck_assert_int_eq(vi_fit_run(f, NULL, NULL), VI_SUCCESS);
  ck_assert_uint_eq(vi_fit_diag(f)->draws, 100);   /* 32, 64, then the cap */
  vi_fit_free(f);
  cm_linreg_free(lr);
}
END_TEST


/* ---- the Laplace start ---------------------------------------------------------------- */

/* a linear regression whose columns are scaled by 1e-3, 1e-1.5, ..., 1e3: posterior sds
 * from about 1e-4 to 1e2 (a vague prior, tau = 1e3) */
static cm_linreg *make_scaled_linreg(size_t n, size_t d, vi_model *m)
{
  double *X = malloc(n * d * sizeof(double)), *y = malloc(n * sizeof(double));
  cm_linreg_simulate(33, n, d, 0.8, X, y, NULL);
  for (size_t i = 0; i < n; i++)
    for (size_t j = 0; j < d; j++) X[i * d + j] *= pow(10.0, -3.0 + 6.0 * (double)j / (double)(d - 1));
  cm_linreg *c = cm_linreg_alloc(X, y, n, d, 0.8, 1e3);
  free(X);
  free(y);
  ck_assert_ptr_nonnull(c);
  cm_linreg_model(c, m);
  return c;
}

/* log p = sum_j [-theta_j^2 / (2 tau^2) - log tau - log sqrt(2 pi)], z = (theta_1..4,
 * log tau), flat on log tau: no mode (lp -> +inf as log tau -> -inf at theta = 0) */
static int funnel_log_joint(void *ctx, size_t n, const double *z, double *lp, double *grad)
{
  for (size_t s = 0; s < n; s++) {
    const double *x = z + s * 5;
    double lt = x[4], it2 = exp(-2.0 * lt), l = 0.0, gl = 0.0;
    for (int j = 0; j < 4; j++) {
      l += -0.5 * x[j] * x[j] * it2 - lt - 0.5 * LOG_2PI;
      if (grad) grad[s * 5 + j] = -x[j] * it2;
      gl += x[j] * x[j] * it2 - 1.0;
    }
    lp[s] = l;
    if (grad) grad[s * 5 + 4] = gl;
  }
  return VI_SUCCESS;
}

START_TEST(test_laplace_start)
{
  size_t n = 80, d = 5;
  vi_model m;
  cm_linreg *c = make_scaled_linreg(n, d, &m);
  double mf_mean[5], mf_sd[5];
  cm_linreg_mean_field(c, mf_mean, mf_sd);
  ck_assert(mf_sd[d - 1] < 1e-3 && mf_sd[0] > 10.0);   /* the scales do differ */
  vi_options opt;
  vi_options_default(&opt);
  ck_assert_int_eq(opt.init, VI_INIT_AUTO);   /* Laplace with fixed draws, zero fresh */
  opt.draws = 16;
  opt.tol_grad = 1e-9;
  opt.tol_rel_obj = 0.0;
  size_t iters[2];
  for (int k = 0; k < 2; k++) {
    opt.init = k ? VI_INIT_ZERO : VI_INIT_LAPLACE;
    int st;
    vi_fit *f = vi_fit_alloc(&m, &opt, &st);
    ck_assert_int_eq(st, VI_SUCCESS);
    const double *mu = vi_fit_mean(f), *sd = vi_fit_sd(f);
    const vi_diag *d0 = vi_fit_diag(f);
    if (k == 0) {
      /* before any iteration: sd_j = 1 / sqrt(P_jj) (central differences of the gradient
       * are exact for a quadratic) and the mean at the mode (= the posterior mean) */
      ck_assert_int_eq(vi_fit_init_kind(f), VI_INIT_LAPLACE);
      ck_assert(vi_fit_init_iterations(f) > 0);
      ck_assert(vi_fit_init_iterations(f) <= 200);   /* two passes of at most 100 */
      for (size_t j = 0; j < d; j++) {
        ck_assert_msg(fabs(sd[j] / mf_sd[j] - 1.0) < 1e-6, "sd %zu: %g vs %g", j, sd[j],
                      mf_sd[j]);
        ck_assert_msg(fabs(mu[j] - mf_mean[j]) / mf_sd[j] < 0.1, "mu %zu: %g vs %g", j,
                      mu[j], mf_mean[j]);
      }
      /* the mode searches are paid for: mostly one point per search and iteration, each
       * with a gradient (the searches' points batched together in rounds) */
      ck_assert(d0->n_gevals > 0);
      ck_assert(d0->n_points > vi_fit_init_iterations(f));
      ck_assert(d0->n_points > 16 * 2);
      ck_assert(d0->n_points < 16 * d0->n_fevals);
    } else {
      ck_assert_int_eq(vi_fit_init_kind(f), VI_INIT_ZERO);
      ck_assert_uint_eq(vi_fit_init_iterations(f), 0);
      ck_assert_uint_eq(d0->n_points, 16 * d0->n_fevals);
    }
    opt.max_iter = 5000;
    st = vi_fit_run(f, NULL, NULL);
    iters[k] = vi_fit_diag(f)->iter;
    if (k == 0) {
      ck_assert(st == VI_SUCCESS || st == VI_ENOPROG);
      /* within 2e-3 sd (an ELBO gap of about 1e-6 nats): the ELBO's optimiser still works
       * in raw coordinates, and its line search stalls there on these scales */
      for (size_t j = 0; j < d; j++) {
        ck_assert_msg(fabs(mu[j] - mf_mean[j]) / mf_sd[j] < 2e-3, "mu %zu: %.10g vs %.10g",
                      j, mu[j], mf_mean[j]);
        ck_assert_msg(fabs(sd[j] / mf_sd[j] - 1.0) < 1e-3, "sd %zu: %g vs %g", j, sd[j],
                      mf_sd[j]);
      }
      ck_assert_msg(iters[0] <= 20, "%zu iterations from the Laplace start", iters[0]);
    }
    vi_fit_free(f);
  }
  ck_assert_msg(iters[0] < iters[1], "Laplace %zu, zero %zu iterations", iters[0], iters[1]);
  /* same seed, same bits */
  opt.init = VI_INIT_LAPLACE;
  size_t n1, n2;
  double mu1[5], sd1[5], mu2[5], sd2[5];
  vi_diag *h1 = run_history(&m, &opt, &n1, mu1, sd1);
  vi_diag *h2 = run_history(&m, &opt, &n2, mu2, sd2);
  ck_assert_uint_eq(n1, n2);
  ck_assert_int_eq(memcmp(h1, h2, n1 * sizeof *h1), 0);
  ck_assert_int_eq(memcmp(mu1, mu2, sizeof mu1), 0);
  ck_assert_int_eq(memcmp(sd1, sd2, sizeof sd1), 0);
  free(h1);
  free(h2);
  cm_linreg_free(c);
}
END_TEST

/* log p = -sum_j sqrt(z_j^2 + 1e-6) (unnormalised): a proper mode at 0 whose curvature
 * (1000) says sd 0.03 where q's optimum is much wider */
static int cusp_log_joint(void *ctx, size_t n, const double *z, double *lp, double *grad)
{
  for (size_t s = 0; s < n; s++) {
    double l = 0.0;
    for (size_t j = 0; j < 2; j++) {
      double v = z[s * 2 + j], r = sqrt(v * v + 1e-6);
      l -= r;
      if (grad) grad[s * 2 + j] = -v / r;
    }
    lp[s] = l;
  }
  return VI_SUCCESS;
}

START_TEST(test_laplace_guard)
{
  /* the search ends at a proper mode, but the start its curvature gives has a lower ELBO
   * than zero's: the guard keeps zero */
  vi_model cm = {0};
  cm.dim = 2;
  cm.log_joint = cusp_log_joint;
  vi_options copt;
  vi_options_default(&copt);
  copt.init = VI_INIT_LAPLACE;
  int cst;
  vi_fit *cf = vi_fit_alloc(&cm, &copt, &cst);
  ck_assert_int_eq(cst, VI_SUCCESS);
  ck_assert_int_eq(vi_fit_init_kind(cf), VI_INIT_ZERO);
  ck_assert_double_eq(vi_fit_sd(cf)[0], 1.0);
  vi_fit_free(cf);

  /* a funnel without a mode: the search runs down log tau and ends on no small gradient
   * (the iteration cap): the zero start is kept */
  vi_model m = {0};
  m.dim = 5;
  m.log_joint = funnel_log_joint;
  vi_options opt;
  vi_options_default(&opt);
  opt.init = VI_INIT_LAPLACE;
  opt.init_sd = 0.5;
  int st;
  vi_fit *f = vi_fit_alloc(&m, &opt, &st);
  ck_assert_int_eq(st, VI_SUCCESS);
  ck_assert_int_eq(vi_fit_init_kind(f), VI_INIT_ZERO);
  ck_assert(vi_fit_init_iterations(f) > 0);
  for (size_t j = 0; j < 5; j++) {
    ck_assert_double_eq(vi_fit_mean(f)[j], 0.0);
    ck_assert_double_eq_tol(vi_fit_sd(f)[j], 0.5, 1e-15);
  }
  const vi_diag *d0 = vi_fit_diag(f);
  ck_assert(d0->n_points > 32 * 3);   /* the search, the guard and the start, all counted */
  ck_assert(isfinite(d0->elbo));
  vi_fit_free(f);
  /* a model error inside the mode search fails the alloc with the model's status */
  int calls = 0;
  vi_model fm = {0};
  fm.dim = 1;
  fm.log_joint = failing_log_joint;
  fm.ctx = &calls;
  vi_options_default(&opt);
  opt.init = VI_INIT_LAPLACE;
  ck_assert_ptr_null(vi_fit_alloc(&fm, &opt, &st));
  ck_assert_int_eq(st, VI_ERUNTIME);
  /* an out-of-range init is rejected */
  opt.init = (vi_init)7;
  ck_assert_ptr_null(vi_fit_alloc(&m, &opt, &st));
  ck_assert_int_eq(st, VI_EINVAL);
}
END_TEST

/* Prior draws for the mode searches' starts (start_prior.c): prior N((1, -2),
 * diag(0.5, 1)^2), a likelihood 100 (z_1 - 3)^2 / 2 that pulls the posterior far from it.
 * The chains' draws follow the prior, not the posterior, within the accuracy of 50
 * adaptive Metropolis steps. */
static int prior_lik(void *ctx, size_t n, const double *z, double *ll)
{
  for (size_t s = 0; s < n; s++) ll[s] = -50.0 * (z[2 * s] - 3.0) * (z[2 * s] - 3.0);
  return VI_SUCCESS;
}
static int prior_joint(void *ctx, size_t n, const double *z, double *lp, double *grad)
{
  prior_lik(ctx, n, z, lp);
  for (size_t s = 0; s < n; s++) {
    double a = (z[2 * s] - 1.0) / 0.5, b = z[2 * s + 1] + 2.0;
    lp[s] += -0.5 * (a * a + b * b);
    if (grad) {
      grad[2 * s] = -100.0 * (z[2 * s] - 3.0) - a / 0.5;
      grad[2 * s + 1] = -b;
    }
  }
  return VI_SUCCESS;
}

START_TEST(test_prior_draws)
{
  vi_model m = {0};
  m.dim = 2;
  m.log_joint = prior_joint;
  m.log_lik = prior_lik;
  vi_options opt;
  vi_options_default(&opt);
  opt.init = VI_INIT_ZERO;
  int st;
  vi_fit *f = vi_fit_alloc(&m, &opt, &st);
  ck_assert_int_eq(st, VI_SUCCESS);
  size_t n = 2000;
  double *z = malloc(n * 2 * sizeof(double)), mean[2] = {0, 0}, sq[2] = {0, 0};
  gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
  ck_assert_int_eq(fit_start_prior_draws(f, r, n, z), VI_SUCCESS);
  for (size_t s = 0; s < n; s++)
    for (int j = 0; j < 2; j++) {
      mean[j] += z[2 * s + j] / n;
      sq[j] += z[2 * s + j] * z[2 * s + j] / n;
    }
  double sd0 = sqrt(sq[0] - mean[0] * mean[0]), sd1 = sqrt(sq[1] - mean[1] * mean[1]);
  ck_assert_msg(fabs(mean[0] - 1.0) < 0.1 && fabs(mean[1] + 2.0) < 0.15,
                "prior draws' mean (%g, %g), prior's (1, -2)", mean[0], mean[1]);
  ck_assert_msg(fabs(sd0 / 0.5 - 1.0) < 0.25 && fabs(sd1 - 1.0) < 0.25,
                "prior draws' sds (%g, %g), prior's (0.5, 1)", sd0, sd1);
  /* without log_lik there is no prior to draw from */
  m.log_lik = NULL;
  vi_fit *g = vi_fit_alloc(&m, &opt, &st);
  ck_assert_int_eq(fit_start_prior_draws(g, r, 1, z), VI_EINVAL);
  vi_fit_free(g);
  gsl_rng_free(r);
  free(z);
  vi_fit_free(f);
}
END_TEST

/* an uncentred, badly scaled regression: columns 1 (intercept), x ~ 66 + 4 N(0,1)
 * (correlation with the intercept about -0.998), and N(0,1) * 1e3, coefficients and noise
 * as in earnings ($) on height (in): an intercept near -7e4 (beyond the BFGS search's box)
 * and an ELBO surface in (mu, omega) with a condition number of ~1e7 */
START_TEST(test_ill_conditioned)
{
  size_t n = 200, d = 3;
  double *X = malloc(n * d * sizeof(double)), *y = malloc(n * sizeof(double));
  gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
  gsl_rng_set(r, 77);
  for (size_t i = 0; i < n; i++) {
    double x = 66.0 + 4.0 * gsl_ran_gaussian(r, 1.0), w = 1e3 * gsl_ran_gaussian(r, 1.0);
    X[i * d + 0] = 1.0;
    X[i * d + 1] = x;
    X[i * d + 2] = w;
    y[i] = -7.2e4 + 1380.0 * x + 2.0 * w + 2e4 * gsl_ran_gaussian(r, 1.0);
  }
  gsl_rng_free(r);
  cm_linreg *c = cm_linreg_alloc(X, y, n, d, 2e4, 1e6);
  free(X);
  free(y);
  ck_assert_ptr_nonnull(c);
  vi_model m;
  cm_linreg_model(c, &m);
  double mf_mean[3], mf_sd[3];
  cm_linreg_mean_field(c, mf_mean, mf_sd);
  vi_options opt;
  vi_options_default(&opt);
  opt.init = VI_INIT_LAPLACE;
  opt.starts = 1;   /* the iterations of one search, not of the several starts' sum */
  int st;
  vi_fit *f = vi_fit_alloc(&m, &opt, &st);
  ck_assert_int_eq(st, VI_SUCCESS);
  ck_assert_int_eq(vi_fit_init_kind(f), VI_INIT_LAPLACE);
  ck_assert_msg(vi_fit_init_iterations(f) <= 10, "%zu Newton iterations",
                vi_fit_init_iterations(f));
  st = vi_fit_run(f, NULL, NULL);
  ck_assert_int_eq(st, VI_SUCCESS);
  const double *mu = vi_fit_mean(f), *sd = vi_fit_sd(f);
  for (size_t j = 0; j < d; j++) {
    ck_assert_msg(fabs(mu[j] - mf_mean[j]) / mf_sd[j] < 1e-3, "mu %zu: %.10g vs %.10g", j,
                  mu[j], mf_mean[j]);
    ck_assert_msg(fabs(sd[j] / mf_sd[j] - 1.0) < 1e-3, "sd %zu: %g vs %g", j, sd[j],
                  mf_sd[j]);
  }
  ck_assert_msg(vi_fit_diag(f)->iter <= 50, "%zu iterations", vi_fit_diag(f)->iter);
  vi_fit_free(f);
  cm_linreg_free(c);
}
END_TEST

/* ---- several starts: the rounds of mode searches (start_round.c) -------------------- */

/* Two Gaussian wells, 0.7 N((-1.5, 0), 0.3^2 I) + 0.3 N((1.5, 0.5), 0.3^2 I): two proper
 * modes, the searches from (-2, 2)^2 end on one or the other.  *ctx counts the calls. */
static int wells_log_joint(void *ctx, size_t n, const double *z, double *lp, double *grad)
{
  static const double c[2][2] = {{-1.5, 0.0}, {1.5, 0.5}}, w[2] = {0.7, 0.3};
  const double s2 = 0.09;
  if (ctx) ++*(size_t *)ctx;
  for (size_t i = 0; i < n; i++) {
    double l[2];
    for (int k = 0; k < 2; k++) {
      double a = z[2 * i] - c[k][0], b = z[2 * i + 1] - c[k][1];
      l[k] = log(w[k]) - 0.5 * (a * a + b * b) / s2 - log(2.0 * M_PI * s2);
    }
    double m = fmax(l[0], l[1]), e0 = exp(l[0] - m), e1 = exp(l[1] - m);
    lp[i] = m + log(e0 + e1);
    if (grad)
      for (int j = 0; j < 2; j++)
        grad[2 * i + j] = -(e0 * (z[2 * i + j] - c[0][j]) + e1 * (z[2 * i + j] - c[1][j])) /
                          (s2 * (e0 + e1));
  }
  return VI_SUCCESS;
}

/* What a fit's start gives, to compare two ways of running the searches. */
typedef struct {
  int status;
  size_t searches, n_modes, n_points, n_fevals, calls;
  double elbo[8], mode[8][2], mean[2], sd[2];
  size_t starts[8];
} starts_run;

static void starts_take(vi_model *m, const vi_options *opt, int sequential, starts_run *r)
{
  memset(r, 0, sizeof *r);
  start_round_sequential = sequential;
  vi_fit *f = vi_fit_alloc(m, opt, &r->status);
  start_round_sequential = 0;
  if (m->ctx) r->calls = *(size_t *)m->ctx;
  if (!f) return;
  r->searches = vi_fit_start_searches(f);
  r->n_modes = vi_fit_modes(f);
  for (size_t k = 0; k < r->n_modes && k < 8; k++) {
    const vi_mode *md = vi_fit_mode(f, k);
    r->elbo[k] = md->elbo;
    r->starts[k] = md->starts;
    memcpy(r->mode[k], md->mean, sizeof r->mode[k]);
  }
  memcpy(r->mean, vi_fit_mean(f), sizeof r->mean);
  memcpy(r->sd, vi_fit_sd(f), sizeof r->sd);
  r->n_points = vi_fit_diag(f)->n_points;
  r->n_fevals = vi_fit_diag(f)->n_fevals;
  vi_fit_free(f);
}

/* The same modes, counts, decisions and start bit for bit, one at a time or in rounds:
 * only the number of model calls differs. */
static void starts_same(const starts_run *a, const starts_run *b)
{
  ck_assert_int_eq(a->status, b->status);
  ck_assert_uint_eq(a->searches, b->searches);
  ck_assert_uint_eq(a->n_modes, b->n_modes);
  ck_assert_uint_eq(a->n_points, b->n_points);
  ck_assert_int_eq(memcmp(a->elbo, b->elbo, sizeof a->elbo), 0);
  ck_assert_int_eq(memcmp(a->starts, b->starts, sizeof a->starts), 0);
  ck_assert_int_eq(memcmp(a->mode, b->mode, sizeof a->mode), 0);
  ck_assert_int_eq(memcmp(a->mean, b->mean, sizeof a->mean), 0);
  ck_assert_int_eq(memcmp(a->sd, b->sd, sizeof a->sd), 0);
}

START_TEST(test_starts_rounds)
{
  size_t calls = 0;
  vi_model m = {0};
  m.dim = 2;
  m.log_joint = wells_log_joint;
  m.ctx = &calls;
  vi_options opt;
  vi_options_default(&opt);
  opt.init = VI_INIT_LAPLACE;
  size_t Ks[2] = {8, VI_STARTS_AUTO};
  for (int t = 0; t < 2; t++) {
    opt.starts = Ks[t];
    starts_run seq, lock, again;
    calls = 0;
    starts_take(&m, &opt, 1, &seq);
    calls = 0;
    starts_take(&m, &opt, 0, &lock);
    calls = 0;
    starts_take(&m, &opt, 0, &again);
    ck_assert_int_eq(seq.status, VI_SUCCESS);
    starts_same(&seq, &lock);
    starts_same(&lock, &again);
    ck_assert_uint_eq(lock.n_fevals, again.n_fevals);
    ck_assert_uint_eq(lock.calls, lock.n_fevals);   /* every call counted, once */
    ck_assert_uint_eq(seq.calls, seq.n_fevals);
    /* the rounds' calls: about those of the longest search of each round */
    if (start_round_lockstep)   /* (not in an ASan build) */
      ck_assert_msg(2 * lock.n_fevals < seq.n_fevals, "%zu calls in rounds, %zu one by one",
                    lock.n_fevals, seq.n_fevals);
    /* both wells found, the deeper first, at its centre (a Gaussian well's mode) */
    ck_assert_uint_eq(seq.n_modes, 2);
    ck_assert(seq.elbo[0] > seq.elbo[1]);
    ck_assert_double_eq_tol(seq.mode[0][0], -1.5, 1e-3);
    ck_assert_double_eq_tol(seq.mode[0][1], 0.0, 1e-3);
    ck_assert_double_eq_tol(seq.mean[0], -1.5, 1e-3);
    ck_assert_uint_eq(seq.starts[0] + seq.starts[1], seq.searches);
    /* 8, or what the stopping rule asked for: two modes, 18 searches agreeing */
    ck_assert_uint_eq(seq.searches, t == 0 ? 8 : 18);
  }
}
END_TEST

/* Finite only where z_1 > 0.3: N((1, 0.5), 0.1^2 I) there (7 sds from the edge, so that
 * the mode's Gaussian has a finite ELBO on the fit's draws). */
static int half_log_joint(void *ctx, size_t n, const double *z, double *lp, double *grad)
{
  for (size_t i = 0; i < n; i++) {
    double a = z[2 * i] - 1.0, b = z[2 * i + 1] - 0.5;
    lp[i] = z[2 * i] > 0.3 ? -50.0 * (a * a + b * b) : -INFINITY;
    if (grad) {
      grad[2 * i] = -100.0 * a;
      grad[2 * i + 1] = -100.0 * b;
    }
  }
  return VI_SUCCESS;
}

static int nowhere_log_joint(void *ctx, size_t n, const double *z, double *lp, double *grad)
{
  for (size_t i = 0; i < n; i++) {
    lp[i] = (i % 2) ? NAN : -INFINITY;
    if (grad) grad[2 * i] = grad[2 * i + 1] = NAN;
  }
  return VI_SUCCESS;
}

/* An error status where z_1 < 0 (a reject statement, say). */
static int refusing_log_joint(void *ctx, size_t n, const double *z, double *lp, double *grad)
{
  for (size_t i = 0; i < n; i++)
    if (z[2 * i] < 0.0) return VI_ERUNTIME;
  return half_log_joint(ctx, n, z, lp, grad);
}

/* Rounds whose searches fail (no finite point from their start, or a model error) end,
 * and end as one search at a time did. */
START_TEST(test_starts_failing)
{
  vi_model m = {0};
  m.dim = 2;
  vi_options opt;
  vi_options_default(&opt);
  opt.init = VI_INIT_LAPLACE;
  size_t Ks[2] = {8, VI_STARTS_AUTO};
  for (int t = 0; t < 2; t++) {
    opt.starts = Ks[t];
    starts_run seq, lock;
    /* half the starts in the region: those searches end at once, the others at the mode */
    m.log_joint = half_log_joint;
    starts_take(&m, &opt, 1, &seq);
    starts_take(&m, &opt, 0, &lock);
    ck_assert_int_eq(seq.status, VI_SUCCESS);
    starts_same(&seq, &lock);
    ck_assert_uint_eq(seq.n_modes, 1);
    ck_assert_msg(seq.starts[0] < seq.searches && seq.starts[0] >= 2,
                  "%zu of %zu searches at the mode", seq.starts[0], seq.searches);
    ck_assert_double_eq_tol(seq.mode[0][0], 1.0, 1e-4);
    ck_assert_double_eq_tol(seq.mode[0][1], 0.5, 1e-4);
    ck_assert_double_eq_tol(seq.sd[0], 0.1, 1e-5);   /* the exact start */
    /* nothing finite anywhere: every search fails, the rule gives up after 4 */
    m.log_joint = nowhere_log_joint;
    starts_take(&m, &opt, 1, &seq);
    starts_take(&m, &opt, 0, &lock);
    starts_same(&seq, &lock);
    ck_assert_int_ne(seq.status, VI_SUCCESS);
    /* a model error in some searches fails the fit with the model's status */
    m.log_joint = refusing_log_joint;
    starts_take(&m, &opt, 1, &seq);
    starts_take(&m, &opt, 0, &lock);
    ck_assert_int_eq(seq.status, VI_ERUNTIME);
    ck_assert_int_eq(lock.status, VI_ERUNTIME);
  }
}
END_TEST

int main(void)
{
  Suite *s = suite_create("fit");
  TCase *tc_gradient_fd = tcase_create("gradient_fd");
  tcase_set_timeout(tc_gradient_fd, 600);
  tcase_add_test(tc_gradient_fd, test_gradient_fd);
  suite_add_tcase(s, tc_gradient_fd);
  TCase *tc_linreg_identity_and_optimum = tcase_create("linreg_identity_and_optimum");
  tcase_set_timeout(tc_linreg_identity_and_optimum, 600);
  tcase_add_test(tc_linreg_identity_and_optimum, test_linreg_identity_and_optimum);
  suite_add_tcase(s, tc_linreg_identity_and_optimum);
  TCase *tc_elbo_estimator_converges = tcase_create("elbo_estimator_converges");
  tcase_set_timeout(tc_elbo_estimator_converges, 600);
  tcase_add_test(tc_elbo_estimator_converges, test_elbo_estimator_converges);
  suite_add_tcase(s, tc_elbo_estimator_converges);
  TCase *tc_diag_gaussian_posterior = tcase_create("diag_gaussian_posterior");
  tcase_set_timeout(tc_diag_gaussian_posterior, 600);
  tcase_add_test(tc_diag_gaussian_posterior, test_diag_gaussian_posterior);
  suite_add_tcase(s, tc_diag_gaussian_posterior);
  TCase *tc_nonfinite = tcase_create("nonfinite");
  tcase_set_timeout(tc_nonfinite, 600);
  tcase_add_test(tc_nonfinite, test_nonfinite);
  tcase_add_test(tc_nonfinite, test_gradient_wall);
  suite_add_tcase(s, tc_nonfinite);
  TCase *tc_errors = tcase_create("errors");
  tcase_set_timeout(tc_errors, 600);
  tcase_add_test(tc_errors, test_errors);
  tcase_add_test(tc_errors, test_stop_value);
  tcase_add_test(tc_errors, test_stop_resolution);
  tcase_add_test(tc_errors, test_fault);
  suite_add_tcase(s, tc_errors);
  TCase *tc_determinism = tcase_create("determinism");
  tcase_set_timeout(tc_determinism, 600);
  tcase_add_test(tc_determinism, test_determinism);
  suite_add_tcase(s, tc_determinism);
  TCase *tc_finish_linreg = tcase_create("finish_linreg");
  tcase_set_timeout(tc_finish_linreg, 600);
  tcase_add_test(tc_finish_linreg, test_finish_linreg);
  tcase_add_test(tc_finish_linreg, test_finish_shared);
  suite_add_tcase(s, tc_finish_linreg);
  TCase *tc_observer_and_fresh = tcase_create("observer_and_fresh");
  tcase_set_timeout(tc_observer_and_fresh, 600);
  tcase_add_test(tc_observer_and_fresh, test_observer_and_fresh);
  tcase_add_test(tc_observer_and_fresh, test_option_defaults);
  suite_add_tcase(s, tc_observer_and_fresh);
  TCase *tc_adaptive_draws = tcase_create("adaptive_draws");
  tcase_set_timeout(tc_adaptive_draws, 600);
  tcase_add_test(tc_adaptive_draws, test_adaptive_draws);
  suite_add_tcase(s, tc_adaptive_draws);
  TCase *tc_laplace = tcase_create("laplace");
  tcase_set_timeout(tc_laplace, 600);
  tcase_add_test(tc_laplace, test_laplace_start);
  tcase_add_test(tc_laplace, test_laplace_guard);
  tcase_add_test(tc_laplace, test_ill_conditioned);
  tcase_add_test(tc_laplace, test_prior_draws);
  suite_add_tcase(s, tc_laplace);
  TCase *tc_starts = tcase_create("starts");
  tcase_set_timeout(tc_starts, 120);   /* a round that hangs fails here */
  tcase_add_test(tc_starts, test_starts_rounds);
  tcase_add_test(tc_starts, test_starts_failing);
  suite_add_tcase(s, tc_starts);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int nf = srunner_ntests_failed(sr);
  srunner_free(sr);
  return nf == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
