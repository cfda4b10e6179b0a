/* check_minibatch.c: minibatches of the sharded data (vi_program_set_minibatch) and the
 * stochastic fit that draws them (vi_options.minibatch).  The scaled log joint, its
 * gradient and the log lik of a minibatch are unbiased for the whole data's: with B = N
 * (in order or shuffled) they are the whole data's; the average over the N one-row
 * minibatches is exactly the whole data's (every row, so the gather of each row of a
 * matrix, an int array and a vector is checked); over random minibatches of B rows the
 * average is within 4 Monte Carlo standard errors; the prior part (log joint - log lik)
 * never changes; over two "ranks" the sums of the ranks' averages are the whole data's.
 * A conjugate normal mean (N = 2000) fitted with minibatches of 100 reaches the closed-form
 * posterior mean within 4 posterior sds, and vi_fit_finish reports the ELBO of q on the
 * whole data (against its closed form).  Errors: no sharding, B > N, a row out of range,
 * minibatches with fixed draws, more rows than the data's. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <vi/fit.h>
#include <vi/lang.h>
#include <vi/status.h>

#include "shard_testutil.h"

static const char *NORMAL =
  "data { int<lower=1> N; vector[N] y; real<lower=0> sigma; }\n"
  "parameters { real mu; }\n"
  "model { mu ~ normal(0, 10); y ~ normal(mu, sigma); }\n";

enum { NROW = 40, S = 3 };
static const double PI = 3.14159265358979323846;

static vi_program *make(const char *src, const char *json, const char *by, size_t rank,
                        size_t size)
{
  vi_error err;
  int st;
  vi_program *p = vi_program_compile(src, strlen(src), "m.stan", &err, &st);
  ck_assert_msg(p != NULL, "compile: %s", err.message);
  if (by) ck_assert_int_eq(vi_program_set_shard(p, by, rank, size, &err), VI_SUCCESS);
  st = vi_program_load_data(p, json, strlen(json), "d.json", &err);
  ck_assert_msg(st == VI_SUCCESS, "data: %s", err.message);
  return p;
}

/* One evaluation: lp, ll (S each) and the gradient (S x D) at z. */
typedef struct eval { double lp[S], ll[S], *g; } eval;

static void run(vi_model *m, const double *z, eval *e)
{
  ck_assert_int_eq(m->log_joint(m->ctx, S, z, e->lp, e->g), VI_SUCCESS);
  ck_assert_int_eq(m->log_lik(m->ctx, S, z, e->ll), VI_SUCCESS);
}

static void close_to(const char *what, double a, double b, double rel)
{
  ck_assert_msg(fabs(a - b) <= rel * (1 + fabs(b)), "%s: %.17g vs %.17g", what, a, b);
}

/* B = N in order and shuffled, every one-row minibatch averaged, the prior part, and the
 * whole data again after b = 0; then the same over two ranks. */
static void check_exact(const char *src, char *json)
{
  vi_program *p = make(src, json, "N", 0, 1);
  vi_model m;
  ck_assert_int_eq(vi_program_model(p, &m), VI_SUCCESS);
  size_t D = m.dim, rows[NROW];
  double *z = malloc(S * D * sizeof *z);
  for (size_t i = 0; i < S * D; i++) z[i] = 0.3 * sin(1.7 * (double)i + 0.2);
  eval w = {.g = malloc(S * D * sizeof(double))}, e = {.g = malloc(S * D * sizeof(double))};
  eval avg = {.g = calloc(S * D, sizeof(double))};
  run(&m, z, &w);

  for (size_t i = 0; i < NROW; i++) rows[i] = i;
  ck_assert_int_eq(vi_program_set_minibatch(p, NROW, rows), VI_SUCCESS);
  run(&m, z, &e);
  for (int s = 0; s < S; s++) {   /* the same rows in the same order: the same sums */
    ck_assert(e.lp[s] == w.lp[s]);
    ck_assert(e.ll[s] == w.ll[s]);
  }
  for (size_t i = 0; i < S * D; i++) ck_assert(e.g[i] == w.g[i]);
  for (size_t i = 0; i < NROW; i++) rows[i] = (i * 17 + 5) % NROW;   /* a permutation */
  ck_assert_int_eq(vi_program_set_minibatch(p, NROW, rows), VI_SUCCESS);
  run(&m, z, &e);
  for (int s = 0; s < S; s++) {
    close_to("shuffled lp", e.lp[s], w.lp[s], 1e-12);
    close_to("shuffled ll", e.ll[s], w.ll[s], 1e-12);
  }
  for (size_t i = 0; i < S * D; i++) close_to("shuffled grad", e.g[i], w.g[i], 1e-12);

  /* every row alone, scaled by N: the mean over the rows is the whole data's */
  for (size_t r = 0; r < NROW; r++) {
    ck_assert_int_eq(vi_program_set_minibatch(p, 1, &r), VI_SUCCESS);
    run(&m, z, &e);
    for (int s = 0; s < S; s++) {
      avg.lp[s] += e.lp[s] / NROW;
      avg.ll[s] += e.ll[s] / NROW;
      /* the prior part (log joint - log lik) is exact on any minibatch */
      close_to("prior part", e.lp[s] - e.ll[s], w.lp[s] - w.ll[s], 1e-11);
    }
    for (size_t i = 0; i < S * D; i++) avg.g[i] += e.g[i] / NROW;
  }
  for (int s = 0; s < S; s++) {
    close_to("mean of one-row lp", avg.lp[s], w.lp[s], 1e-11);
    close_to("mean of one-row ll", avg.ll[s], w.ll[s], 1e-11);
  }
  for (size_t i = 0; i < S * D; i++) close_to("mean of one-row grad", avg.g[i], w.g[i], 1e-11);

  ck_assert_int_eq(vi_program_set_minibatch(p, 0, NULL), VI_SUCCESS);   /* whole again */
  run(&m, z, &e);
  for (int s = 0; s < S; s++) ck_assert(e.lp[s] == w.lp[s]);

  /* two ranks, each averaging its own rows' one-row minibatches: the sum is the whole */
  memset(avg.lp, 0, sizeof avg.lp);
  memset(avg.ll, 0, sizeof avg.ll);
  memset(avg.g, 0, S * D * sizeof(double));
  for (size_t rk = 0; rk < 2; rk++) {
    vi_program *q = make(src, json, "N", rk, 2);
    vi_model mq;
    ck_assert_int_eq(vi_program_model(q, &mq), VI_SUCCESS);
    size_t lo, hi;
    ck_assert_int_eq(vi_program_shard_rows(q, &lo, &hi, NULL), VI_SUCCESS);
    size_t n = hi - lo;
    for (size_t r = 0; r < n; r++) {
      ck_assert_int_eq(vi_program_set_minibatch(q, 1, &r), VI_SUCCESS);
      run(&mq, z, &e);
      for (int s = 0; s < S; s++) {
        avg.lp[s] += e.lp[s] / (double)n;
        avg.ll[s] += e.ll[s] / (double)n;
      }
      for (size_t i = 0; i < S * D; i++) avg.g[i] += e.g[i] / (double)n;
    }
    vi_program_free(q);
  }
  for (int s = 0; s < S; s++) {
    close_to("two ranks lp", avg.lp[s], w.lp[s], 1e-11);
    close_to("two ranks ll", avg.ll[s], w.ll[s], 1e-11);
  }
  for (size_t i = 0; i < S * D; i++) close_to("two ranks grad", avg.g[i], w.g[i], 1e-11);
  free(z); free(w.g); free(e.g); free(avg.g);
  vi_program_free(p);
  free(json);
}

START_TEST(test_exact_hier) { check_exact(HIER, hier_json(NROW, 0)); }
END_TEST

START_TEST(test_exact_loop) { check_exact(LOOP, loop_json(NROW)); }
END_TEST

/* K random minibatches of B = 7 rows (without replacement): the mean of each value
 * within 4 standard errors of the whole data's, and the spread not zero (the scaling
 * is not a no-op). */
START_TEST(test_unbiased)
{
  enum { K = 400, B = 7 };
  char *json = hier_json(NROW, 0);
  vi_program *p = make(HIER, json, "N", 0, 1);
  vi_model m;
  ck_assert_int_eq(vi_program_model(p, &m), VI_SUCCESS);
  size_t D = m.dim, V = 2 * S + S * D, all[NROW], rows[B];
  double *z = malloc(S * D * sizeof *z), *sum = calloc(V, sizeof(double));
  double *sq = calloc(V, sizeof(double)), *whole = malloc(V * sizeof(double));
  for (size_t i = 0; i < S * D; i++) z[i] = 0.3 * sin(1.7 * (double)i + 0.2);
  eval e = {.g = malloc(S * D * sizeof(double))};
  run(&m, z, &e);
  memcpy(whole, e.lp, S * sizeof(double));
  memcpy(whole + S, e.ll, S * sizeof(double));
  memcpy(whole + 2 * S, e.g, S * D * sizeof(double));
  gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
  gsl_rng_set(rng, 7);
  for (size_t i = 0; i < NROW; i++) all[i] = i;
  for (int k = 0; k < K; k++) {
    gsl_ran_choose(rng, rows, B, all, NROW, sizeof(size_t));
    ck_assert_int_eq(vi_program_set_minibatch(p, B, rows), VI_SUCCESS);
    run(&m, z, &e);
    for (size_t v = 0; v < V; v++) {
      double x = v < S ? e.lp[v] : v < 2 * S ? e.ll[v - S] : e.g[v - 2 * S];
      sum[v] += x;
      sq[v] += x * x;
    }
  }
  for (size_t v = 0; v < V; v++) {
    double mean = sum[v] / K, var = (sq[v] / K - mean * mean) * K / (K - 1);
    double se = sqrt(var > 0 ? var / K : 0);
    ck_assert_msg(fabs(mean - whole[v]) <= 4 * se + 1e-9 * (1 + fabs(whole[v])),
                  "value %zu: mean %.10g over %d minibatches, whole %.10g, se %.3g", v, mean,
                  K, whole[v], se);
    if (v < 2 * S) ck_assert_msg(se > 1e-3, "value %zu: no spread (se %.3g)", v, se);
  }
  gsl_rng_free(rng);
  free(z); free(sum); free(sq); free(whole); free(e.g);
  vi_program_free(p);
  free(json);
}
END_TEST

/* y_i ~ N(1.5, 2), N of them, from a fixed seed */
static char *normal_json(int n, double *sum_y, double *sum_y2)
{
  size_t cap = 64 + (size_t)n * 24, k = 0;
  char *j = malloc(cap);
  gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
  gsl_rng_set(r, 11);
  *sum_y = *sum_y2 = 0;
  k += (size_t)snprintf(j + k, cap - k, "{\"N\": %d, \"sigma\": 2, \"y\": [", n);
  for (int i = 0; i < n; i++) {
    double y = 1.5 + gsl_ran_gaussian(r, 2.0);
    char buf[32];
    snprintf(buf, sizeof buf, "%.6f", y);
    y = strtod(buf, NULL);   /* the value the program reads */
    *sum_y += y;
    *sum_y2 += y * y;
    k += (size_t)snprintf(j + k, cap - k, "%s%s", i ? "," : "", buf);
  }
  snprintf(j + k, cap - k, "]}");
  gsl_rng_free(r);
  return j;
}

/* A conjugate normal mean fitted with minibatches: the mean near the closed-form
 * posterior's, the final ELBO the whole data's (its closed form at q), the program left
 * on the whole data. */
START_TEST(test_fit_conjugate)
{
  enum { N = 2000, B = 100 };
  const double sigma = 2.0, prior_sd = 10.0;
  double sy, sy2;
  char *json = normal_json(N, &sy, &sy2);
  vi_program *p = make(NORMAL, json, "N", 0, 1);
  vi_model m;
  ck_assert_int_eq(vi_program_model(p, &m), VI_SUCCESS);
  double z0 = 0.7, lp_before, lp_after;
  ck_assert_int_eq(m.log_joint(m.ctx, 1, &z0, &lp_before, NULL), VI_SUCCESS);
  vi_options opt;
  vi_options_default_for(&opt, VI_FRESH_DRAWS);
  opt.minibatch = B;
  opt.minibatch_rows = N;
  opt.minibatch_fn = vi_program_minibatch;
  opt.minibatch_ctx = p;
  int st;
  vi_fit *f = vi_fit_alloc(&m, &opt, &st);
  ck_assert_msg(f != NULL, "alloc: %s", vi_strerror(st));
  st = vi_fit_run(f, NULL, NULL);
  ck_assert_msg(st == VI_SUCCESS || st == VI_EMAXITER, "run: %s", vi_strerror(st));
  double prec = N / (sigma * sigma) + 1 / (prior_sd * prior_sd);
  double post_mean = sy / (sigma * sigma) / prec, post_sd = 1 / sqrt(prec);
  double mq = vi_fit_mean(f)[0], sq = vi_fit_sd(f)[0];
  ck_assert_msg(fabs(mq - post_mean) < 4 * post_sd, "mean %.6g, posterior %.6g (sd %.3g)", mq,
                post_mean, post_sd);
  ck_assert_msg(sq > 0.5 * post_sd && sq < 2 * post_sd, "sd %.4g, posterior %.4g", sq, post_sd);
  vi_final fin;
  ck_assert_int_eq(vi_fit_finish(f, &fin), VI_SUCCESS);
  /* ELBO(q) in closed form on the whole data */
  double ell = -0.5 * N * log(2 * PI * sigma * sigma) -
               (sy2 - 2 * mq * sy + N * (mq * mq + sq * sq)) / (2 * sigma * sigma);
  double elp = -0.5 * log(2 * PI * prior_sd * prior_sd) -
               (mq * mq + sq * sq) / (2 * prior_sd * prior_sd);
  double elbo = ell + elp + 0.5 * log(2 * PI * exp(1.0) * sq * sq);
  ck_assert_msg(fabs(fin.elbo - elbo) < 4 * fin.elbo_se + 1e-6, "final ELBO %.8g +/- %.3g, "
                "closed form %.8g", fin.elbo, fin.elbo_se, elbo);
  ck_assert(fin.elbo_se < 0.1);   /* a minibatch estimate would scatter by tens of nats */
  ck_assert_int_eq(m.log_joint(m.ctx, 1, &z0, &lp_after, NULL), VI_SUCCESS);
  ck_assert(lp_after == lp_before);   /* the whole data between steps and after */
  vi_fit_free(f);
  vi_program_free(p);
  free(json);
}
END_TEST

START_TEST(test_errors)
{
  char *json = hier_json(NROW, 0);
  size_t rows[3] = {0, 5, NROW};
  vi_program *p = make(HIER, json, NULL, 0, 1);   /* not sharded */
  ck_assert_int_eq(vi_program_set_minibatch(p, 2, rows), VI_EINVAL);
  ck_assert_ptr_nonnull(strstr(vi_program_last_error(p), "sharded"));
  ck_assert_int_eq(vi_program_set_minibatch(p, 0, NULL), VI_SUCCESS);   /* a no-op */
  vi_program_free(p);
  p = make(HIER, json, "N", 0, 1);
  ck_assert_int_eq(vi_program_set_minibatch(p, NROW + 1, rows), VI_EINVAL);
  ck_assert_ptr_nonnull(strstr(vi_program_last_error(p), "more than the 40 rows of 'N'"));
  ck_assert_int_eq(vi_program_set_minibatch(p, 3, rows), VI_EINVAL);   /* row 40 */
  ck_assert_ptr_nonnull(strstr(vi_program_last_error(p), "row 40"));
  ck_assert_int_eq(vi_program_set_minibatch(p, 2, NULL), VI_EINVAL);
  vi_model m;
  ck_assert_int_eq(vi_program_model(p, &m), VI_SUCCESS);
  vi_options opt;
  int st;
  vi_options_default(&opt);   /* fixed draws: no minibatches */
  opt.minibatch = 5; opt.minibatch_rows = NROW;
  opt.minibatch_fn = vi_program_minibatch; opt.minibatch_ctx = p;
  ck_assert_ptr_null(vi_fit_alloc(&m, &opt, &st));
  ck_assert_int_eq(st, VI_EINVAL);
  vi_options_default_for(&opt, VI_FRESH_DRAWS);
  opt.minibatch = NROW + 1; opt.minibatch_rows = NROW;
  opt.minibatch_fn = vi_program_minibatch; opt.minibatch_ctx = p;
  ck_assert_ptr_null(vi_fit_alloc(&m, &opt, &st));
  ck_assert_int_eq(st, VI_EINVAL);
  opt.minibatch = 5; opt.minibatch_fn = NULL;
  ck_assert_ptr_null(vi_fit_alloc(&m, &opt, &st));
  ck_assert_int_eq(st, VI_EINVAL);
  vi_program_free(p);
  free(json);
}
END_TEST

int main(void)
{
  Suite *s = suite_create("minibatch");
  TCase *tc = tcase_create("core");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, test_exact_hier);
  tcase_add_test(tc, test_exact_loop);
  tcase_add_test(tc, test_unbiased);
  tcase_add_test(tc, test_fit_conjugate);
  tcase_add_test(tc, test_errors);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
