/* check_numeric.c: numerical faults through the public API, with small hand-written
 * vi_model callbacks and through the model language: a log density that is NaN, -inf or
 * +inf at some draws, exp overflowing, a NaN gradient next to a finite value, an improper
 * posterior that drives q towards overflow, a model that fails outright in the middle of
 * a fit.  Whatever happens, the fit never reports NaN as a result (mean, sd, the ELBO of
 * every recorded iteration, the final ELBO, log-evidence and KL); it recovers (the line
 * search backs off, the draw is rejected) or stops with a clear status. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <vi/fit.h>
#include <vi/lang.h>
#include <vi/status.h>

/* ---- hand-written models ------------------------------------------------------------- */

/* log N(z | 3, 1) per coordinate, with a fault where z_0 is in [lo, hi): the value
 * `bad` (NaN, -inf or +inf); or, if grad_nan, a finite value with a NaN gradient. */
typedef struct fault_model {
  double lo, hi, bad;
  int grad_nan;
  long calls, fail_at;   /* fail_at > 0: return VI_EMODEL from that call on */
} fault_model;

static int fault_lj(void *ctx, size_t n, const double *z, double *lp, double *grad)
{
  fault_model *fm = ctx;
  fm->calls++;
  if (fm->fail_at > 0 && fm->calls >= fm->fail_at) return VI_EMODEL;
  for (size_t s = 0; s < n; s++) {
    double x = z[s], in = x >= fm->lo && x < fm->hi;
    lp[s] = -0.5 * (x - 3) * (x - 3) - 0.91893853320467274;
    if (grad) grad[s] = -(x - 3);
    if (in) {
      if (fm->grad_nan) { if (grad) grad[s] = NAN; }
      else lp[s] = fm->bad;
    }
  }
  return VI_SUCCESS;
}

static vi_model fault(fault_model *fm)
{
  vi_model m;
  memset(&m, 0, sizeof m);
  m.dim = 1;
  m.log_joint = fault_lj;
  m.ctx = fm;
  return m;
}

/* Improper: log p = exp(z) - z^2 / 4 grows without bound; q runs off to overflow. */
static int improper_lj(void *ctx, size_t n, const double *z, double *lp, double *grad)
{
  (void)ctx;
  for (size_t s = 0; s < n; s++) {
    lp[s] = exp(z[s]) - 0.25 * z[s] * z[s];
    if (grad) grad[s] = exp(z[s]) - 0.5 * z[s];
  }
  return VI_SUCCESS;
}

/* ---- the invariant -------------------------------------------------------------------- */

static int not_nan(double x) { return !isnan(x); }

/* Run a fit of m with opt to the end (or failure), then finish; check that nothing
 * reported is NaN.  Returns the status of the run; *fit_ok = 1 if alloc succeeded. */
static int run_checked(const vi_model *m, const vi_options *opt, int *alloc_status,
                       vi_final *fin_out, int *finish_status)
{
  int st;
  vi_fit *f = vi_fit_alloc(m, opt, &st);
  *alloc_status = st;
  if (!f) {
    ck_assert_msg(st < 0, "alloc failed with status %d", st);
    return st;
  }
  int run = vi_fit_run(f, NULL, NULL);
  size_t D = vi_fit_dim(f);
  for (size_t j = 0; j < D; j++) {
    ck_assert_msg(isfinite(vi_fit_mean(f)[j]), "mean[%zu] = %g", j, vi_fit_mean(f)[j]);
    ck_assert_msg(isfinite(vi_fit_sd(f)[j]) && vi_fit_sd(f)[j] > 0, "sd[%zu] = %g", j,
                  vi_fit_sd(f)[j]);
  }
  for (size_t i = 0; i < vi_fit_history_len(f); i++) {
    const vi_diag *d = vi_fit_history(f, i);
    ck_assert_msg(isfinite(d->elbo), "iteration %zu: ELBO %g", d->iter, d->elbo);
    /* the norm of a finite gradient may overflow to inf (improper posteriors), not NaN */
    ck_assert_msg(not_nan(d->grad_norm), "iteration %zu: gradient norm %g", d->iter,
                  d->grad_norm);
    ck_assert_msg(not_nan(d->step) && not_nan(d->entropy), "iteration %zu", d->iter);
  }
  ck_assert(isfinite(vi_fit_diag(f)->elbo));
  if (run == VI_EMAXITER)
    ck_assert_int_eq(vi_fit_stop_reason(f), VI_STOP_MAXITER);
  else if (run == VI_ENOPROG)
    ck_assert_int_eq(vi_fit_stop_reason(f), VI_STOP_NOPROGRESS);
  else if (run < 0)
    ck_assert_int_eq(vi_fit_stop_reason(f), VI_STOP_FAILED);
  else
    ck_assert_int_ne(vi_fit_stop_reason(f), VI_STOP_NONE);
  vi_final fin;
  memset(&fin, 0, sizeof fin);
  int fst = vi_fit_finish(f, &fin);
  *finish_status = fst;
  if (fst == VI_SUCCESS) {
    ck_assert_msg(not_nan(fin.elbo), "final ELBO is NaN");
    ck_assert_msg(fin.elbo < INFINITY, "final ELBO is +inf");
    ck_assert_msg(not_nan(fin.log_evidence), "final log p(X) is NaN");
    ck_assert_msg(not_nan(fin.kl), "final KL is NaN (ELBO %g, log p(X) %g)", fin.elbo,
                  fin.log_evidence);
    if (fin_out) *fin_out = fin;
  }
  vi_fit_free(f);
  return run;
}

static void opts(vi_options *o, vi_optimizer which)
{
  if (which == VI_OPT_ADAM) vi_options_default_for(o, VI_FRESH_DRAWS);
  else vi_options_default(o);
  o->optimizer = which;
  o->max_iter = which == VI_OPT_ADAM ? 400 : 200;
  o->eval_draws = 400;
  o->init = VI_INIT_ZERO;   /* the models count their calls from a zero start */
}

static const vi_optimizer all_opt[] = {VI_OPT_BFGS2, VI_OPT_CG_FR, VI_OPT_CG_PR,
                                       VI_OPT_STEEPEST, VI_OPT_ADAM};

/* ---- faults in the density ------------------------------------------------------------ */

static void fault_all_optimizers(double lo, double hi, double bad, int grad_nan)
{
  for (size_t k = 0; k < sizeof all_opt / sizeof *all_opt; k++)
    for (unsigned long seed = 1; seed <= 3; seed++) {
      fault_model fm = {lo, hi, bad, grad_nan, 0, 0};
      vi_model m = fault(&fm);
      vi_options o;
      opts(&o, all_opt[k]);
      o.seed = seed;
      int ast, fst;
      vi_final fin;
      int st = run_checked(&m, &o, &ast, &fin, &fst);
      /* a start in the fault is refused cleanly, anything else runs to a clean end */
      if (ast != VI_SUCCESS) ck_assert_int_eq(ast, VI_ENONFINITE);
      else ck_assert_msg(st >= 0 || st == VI_ENONFINITE || st == VI_EMAXITER,
                         "optimizer %d seed %lu: status %d",
                         (int)all_opt[k], seed, st);
    }
}

/* NaN above 4.5 (the posterior's mass reaches there): q must stay clear of it */
START_TEST(test_nan_region)
{
  fault_all_optimizers(4.5, INFINITY, NAN, 0);
}
END_TEST

/* -inf below 0 (a support boundary the model did not transform away) */
START_TEST(test_neg_inf_region)
{
  fault_all_optimizers(-INFINITY, 0.0, -INFINITY, 0);
}
END_TEST

/* +inf in a band inside the posterior: an infinite density is not an infinite ELBO */
START_TEST(test_pos_inf_band)
{
  fault_all_optimizers(2.0, 2.3, INFINITY, 0);
}
END_TEST

/* finite log density, NaN gradient above 4 */
START_TEST(test_nan_gradient)
{
  fault_all_optimizers(4.0, INFINITY, 0, 1);
}
END_TEST

/* NaN everywhere: the start is refused with VI_ENONFINITE, nothing else. */
START_TEST(test_nan_everywhere)
{
  fault_model fm = {-INFINITY, INFINITY, NAN, 0, 0, 0};
  vi_model m = fault(&fm);
  for (size_t k = 0; k < sizeof all_opt / sizeof *all_opt; k++) {
    vi_options o;
    opts(&o, all_opt[k]);
    int st;
    vi_fit *f = vi_fit_alloc(&m, &o, &st);
    ck_assert_ptr_null(f);
    ck_assert_int_eq(st, VI_ENONFINITE);
  }
}
END_TEST

/* The model fails in the middle of the fit: the fit stops with its status, q stays at
 * the last accepted point, the iteration it stopped at is known. */
START_TEST(test_model_error_mid_fit)
{
  for (size_t k = 0; k < sizeof all_opt / sizeof *all_opt; k++) {
    fault_model fm = {0, 0, 0, 0, 0, 0};
    vi_model m = fault(&fm);
    vi_options o;
    opts(&o, all_opt[k]);
    o.tol_grad = 0;
    o.tol_rel_obj = 0;
    int st;
    vi_fit *f = vi_fit_alloc(&m, &o, &st);
    ck_assert_msg(f != NULL, "status %d", st);
    fm.fail_at = fm.calls + 3;   /* a few evaluations into the iterations */
    int run = vi_fit_run(f, NULL, NULL);
    ck_assert_int_eq(run, VI_EMODEL);
    ck_assert_int_eq(vi_fit_stop_reason(f), VI_STOP_FAILED);
    ck_assert_int_eq(vi_fit_iterate(f), VI_EMODEL);   /* stays failed */
    ck_assert_int_eq(vi_fit_test(f), VI_EMODEL);
    ck_assert(isfinite(vi_fit_mean(f)[0]) && isfinite(vi_fit_sd(f)[0]));
    const vi_diag *d = vi_fit_diag(f);
    ck_assert(isfinite(d->elbo));
    ck_assert_uint_eq(vi_fit_history_len(f), d->iter + 1);
    ck_assert_str_ne(vi_strerror(run), "");
    vi_fit_free(f);
  }
}
END_TEST

/* An improper posterior: the ELBO grows without bound until exp overflows; the fit must
 * stop (cap or no progress), never accept +inf or NaN. */
START_TEST(test_improper_overflow)
{
  vi_model m;
  memset(&m, 0, sizeof m);
  m.dim = 1;
  m.log_joint = improper_lj;
  for (size_t k = 0; k < sizeof all_opt / sizeof *all_opt; k++) {
    vi_options o;
    opts(&o, all_opt[k]);
    int ast, fst;
    int st = run_checked(&m, &o, &ast, NULL, &fst);
    ck_assert_int_eq(ast, VI_SUCCESS);
    ck_assert_msg(st >= 0 || st == VI_ENONFINITE || st == VI_EMAXITER,
                  "optimizer %d: status %d", (int)all_opt[k], st);
  }
}
END_TEST

/* ---- through the language ------------------------------------------------------------- */

/* Fit src with every optimiser from a start of sd init_sd.  expect_alloc: the start must
 * be feasible (else it may be refused with VI_ENONFINITE). */
static void lang_fit(const char *src, const char *json, double init_sd, int expect_alloc)
{
  vi_error err;
  int st;
  vi_program *p = vi_program_compile(src, strlen(src), "n.stan", &err, &st);
  ck_assert_msg(p != NULL, "%s", err.message);
  ck_assert_msg(vi_program_load_data(p, json, json ? strlen(json) : 0, "n.json", &err) ==
                    VI_SUCCESS, "%s", err.message);
  vi_model m;
  ck_assert_int_eq(vi_program_model(p, &m), VI_SUCCESS);
  for (size_t k = 0; k < sizeof all_opt / sizeof *all_opt; k++) {
    vi_options o;
    opts(&o, all_opt[k]);
    o.init_sd = init_sd;
    int ast, fst;
    int rst = run_checked(&m, &o, &ast, NULL, &fst);
    if (expect_alloc) ck_assert_msg(ast == VI_SUCCESS, "optimizer %d: alloc %d", (int)all_opt[k], ast);
    else if (ast != VI_SUCCESS) ck_assert_int_eq(ast, VI_ENONFINITE);
    ck_assert_msg(rst >= 0 || rst == VI_ENONFINITE || rst == VI_EMAXITER,
                  "optimizer %d: status %d (%s)",
                  (int)all_opt[k], rst, vi_program_last_error(p));
  }
  vi_program_free(p);
}

/* exp(800 mu) overflows for mu > 0.89: the log density is -inf there */
START_TEST(test_lang_exp_overflow)
{
  lang_fit("parameters { real mu; }\n"
           "model { mu ~ normal(0, 1); target += -exp(800 * mu); }\n", NULL, 0.1, 1);
  /* from sd 1 some of the starting draws overflow: refused (VI_ENONFINITE), cleanly */
  lang_fit("parameters { real mu; }\n"
           "model { mu ~ normal(0, 1); target += -exp(800 * mu); }\n", NULL, 1, 0);
  lang_fit("parameters { real mu; }\n"
           "model { mu ~ normal(0, 1); target += exp(mu) - exp(mu); }\n", NULL, 0.1, 1);
}
END_TEST

/* log and sqrt of a parameter that may be negative: NaN / -inf at some draws */
START_TEST(test_lang_nan_density)
{
  lang_fit("parameters { real mu; }\n"
           "model { mu ~ normal(3, 1); target += sqrt(mu + 1); }\n", NULL, 0.1, 1);
  lang_fit("parameters { real mu; }\n"
           "model { mu ~ normal(3, 1); target += log(mu + 2); }\n", NULL, 0.1, 1);
  lang_fit("parameters { real mu; }\n"
           "model { mu ~ normal(0, 1); target += 0 * log(mu); }\n", NULL, 1, 0);
  /* a scale that is not positive at some draws */
  lang_fit("data { vector[3] y; }\nparameters { real mu; real s; }\n"
           "model { mu ~ normal(0, 1); s ~ normal(2, 0.5); y ~ normal(mu, s); }\n",
           "{\"y\": [0.1, -0.3, 0.5]}", 1, 0);
}
END_TEST

/* an improper posterior in the language: exp(mu) without bound */
START_TEST(test_lang_improper)
{
  lang_fit("parameters { real mu; }\nmodel { target += exp(mu); }\n", NULL, 1, 1);
}
END_TEST

/* ---- suite ------------------------------------------------------------------------------ */

int main(void)
{
  Suite *s = suite_create("numeric");
  TCase *tc = tcase_create("faults");
  tcase_set_timeout(tc, 300);
  tcase_add_test(tc, test_nan_region);
  tcase_add_test(tc, test_neg_inf_region);
  tcase_add_test(tc, test_pos_inf_band);
  tcase_add_test(tc, test_nan_gradient);
  tcase_add_test(tc, test_nan_everywhere);
  tcase_add_test(tc, test_model_error_mid_fit);
  tcase_add_test(tc, test_improper_overflow);
  suite_add_tcase(s, tc);
  tc = tcase_create("language");
  tcase_set_timeout(tc, 300);
  tcase_add_test(tc, test_lang_exp_overflow);
  tcase_add_test(tc, test_lang_nan_density);
  tcase_add_test(tc, test_lang_improper);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
