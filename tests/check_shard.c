/* check_shard.c: vi_program_set_shard, several "ranks" in one process without MPI: the
 * log joints, gradients and log liks of the parts, summed in rank order, are the
 * unsharded model's (a hierarchical logistic regression with group intercepts, and a
 * model written per observation with a term on unsharded data), for 1 to 5 parts, from a
 * string and from a file (the mapped, page-releasing reader); the rows are contiguous and
 * cover the data; errors: a name that is no data int (VI_EINVAL), nothing sized by it and
 * a shard-unsafe model (VI_EUNSUPPORTED naming the statement), more parts than rows and a
 * sharded variable of the wrong length (VI_EDATA). */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <vi/lang.h>
#include <vi/status.h>

#include "shard_testutil.h"
static vi_program *make(const char *src, const char *json, const char *path, const char *by,
                        size_t rank, size_t size, int *status, vi_error *err)
{
  int st;
  vi_program *p = vi_program_compile(src, strlen(src), "m.stan", err, &st);
  ck_assert_msg(p != NULL, "compile: %s", err->message);
  if (by && (*status = vi_program_set_shard(p, by, rank, size, err)) != VI_SUCCESS) return p;
  *status = path ? vi_program_load_data_file(p, path, err)
                 : vi_program_load_data(p, json, strlen(json), "d.json", err);
  return p;
}

/* log joint (3 points, with gradient) and log lik of the parts summed in rank order
 * against the unsharded model's */
static void check_sum(const char *src, const char *json, const char *path, size_t parts,
                      size_t n_rows)
{
  enum { S = 3 };
  vi_error err;
  int st;
  vi_program *whole = make(src, json, NULL, NULL, 0, 1, &st, &err);
  ck_assert_msg(st == VI_SUCCESS, "%s", err.message);
  vi_model mw;
  ck_assert_int_eq(vi_program_model(whole, &mw), VI_SUCCESS);
  size_t D = mw.dim;
  double *z = malloc(S * D * sizeof *z), lp[S], ll[S], lpw[S], llw[S];
  double *g = calloc(S * D, sizeof *g), *gw = malloc(S * D * sizeof *gw);
  double *gr = malloc(S * D * sizeof *gr), lpr[S], llr[S];
  for (size_t i = 0; i < S * D; i++) z[i] = 0.3 * sin(1.7 * (double)i + 0.2);
  ck_assert_int_eq(mw.log_joint(mw.ctx, S, z, lpw, gw), VI_SUCCESS);
  ck_assert(mw.log_lik != NULL);
  ck_assert_int_eq(mw.log_lik(mw.ctx, S, z, llw), VI_SUCCESS);
  for (int s = 0; s < S; s++) lp[s] = ll[s] = 0;
  size_t next = 0;
  for (size_t r = 0; r < parts; r++) {
    vi_program *p = make(src, json, path, "N", r, parts, &st, &err);
    ck_assert_msg(st == VI_SUCCESS, "part %zu of %zu: %s", r, parts, err.message);
    size_t lo, hi, total;
    ck_assert_int_eq(vi_program_shard_rows(p, &lo, &hi, &total), VI_SUCCESS);
    ck_assert_uint_eq(lo, next);   /* contiguous, covering */
    ck_assert_uint_eq(total, n_rows);
    ck_assert_uint_ge(hi - lo, n_rows / parts);
    ck_assert_uint_le(hi - lo, n_rows / parts + 1);
    next = hi;
    vi_model m;
    ck_assert_int_eq(vi_program_model(p, &m), VI_SUCCESS);
    ck_assert_uint_eq(m.dim, D);
    ck_assert_int_eq(m.log_joint(m.ctx, S, z, lpr, gr), VI_SUCCESS);
    ck_assert_int_eq(m.log_lik(m.ctx, S, z, llr), VI_SUCCESS);
    for (int s = 0; s < S; s++) { lp[s] += lpr[s]; ll[s] += llr[s]; }
    for (size_t i = 0; i < S * D; i++) g[i] += gr[i];
    vi_program_free(p);
  }
  ck_assert_uint_eq(next, n_rows);
  for (int s = 0; s < S; s++) {
    ck_assert_msg(fabs(lp[s] - lpw[s]) <= 1e-12 * fabs(lpw[s]), "%zu parts: lp %.17g vs %.17g",
                  parts, lp[s], lpw[s]);
    ck_assert_msg(fabs(ll[s] - llw[s]) <= 1e-12 * fabs(llw[s]), "%zu parts: ll %.17g vs %.17g",
                  parts, ll[s], llw[s]);
  }
  for (size_t i = 0; i < S * D; i++)
    ck_assert_msg(fabs(g[i] - gw[i]) <= 1e-11 * (1 + fabs(gw[i])), "%zu parts: grad[%zu] %.17g vs %.17g",
                  parts, i, g[i], gw[i]);
  free(z); free(g); free(gw); free(gr);
  vi_program_free(whole);
}

START_TEST(test_sum_hier)
{
  char *json = hier_json(23, 0);
  for (size_t parts = 1; parts <= 5; parts++) check_sum(HIER, json, NULL, parts, 23);
  free(json);
}
END_TEST

START_TEST(test_sum_loop_file)
{
  char *json = loop_json(17);
  char path[] = "/tmp/vi-check-shard-XXXXXX";
  int fd = mkstemp(path);
  ck_assert(fd >= 0);
  ck_assert(write(fd, json, strlen(json)) == (ssize_t)strlen(json));
  close(fd);
  for (size_t parts = 1; parts <= 4; parts++) check_sum(LOOP, json, path, parts, 17);
  unlink(path);
  free(json);
}
END_TEST

START_TEST(test_errors)
{
  vi_error err;
  int st;
  char *json = hier_json(4, 0);
  vi_program *p = make(HIER, json, NULL, "X", 0, 2, &st, &err);
  ck_assert_int_eq(st, VI_EINVAL);
  ck_assert_msg(strstr(err.message, "cannot shard by 'X': it is declared matrix[N, K], not an int"), "%s", err.message);
  vi_program_free(p);
  p = make(HIER, json, NULL, "Q", 0, 2, &st, &err);
  ck_assert_int_eq(st, VI_EINVAL);
  ck_assert_msg(strstr(err.message, "declares no variable 'Q'"), "%s", err.message);
  vi_program_free(p);
  p = make(HIER, json, NULL, "J", 0, 2, &st, &err);   /* J bounds g: each part's J */
  ck_assert_int_eq(st, VI_EUNSUPPORTED);
  ck_assert_msg(strstr(err.message, "m.stan:2:31: error: cannot shard the data by 'J': 'g' in data reads 'J'"),
                "%s", err.message);
  vi_program_free(p);
  static const char *none = "data { int N; int M; vector[N] y; }\nparameters { real mu; }\n"
                            "model { y ~ normal(mu, 1); }\n";
  p = make(none, "{}", NULL, "M", 0, 2, &st, &err);
  ck_assert_int_eq(st, VI_EUNSUPPORTED);
  ck_assert_msg(strstr(err.message, "no data variable has 'M' as its first dimension"), "%s", err.message);
  vi_program_free(p);
  p = make(HIER, json, NULL, "N", 0, 5, &st, &err);   /* 5 parts of 4 rows */
  ck_assert_int_eq(st, VI_EDATA);
  ck_assert_msg(strstr(err.message, "N = 4, fewer observations than ranks"), "%s", err.message);
  vi_program_free(p);
  free(json);
  json = hier_json(6, 1);   /* y one short: on the whole, not the part */
  p = make(HIER, json, NULL, "N", 1, 2, &st, &err);
  ck_assert_int_eq(st, VI_EDATA);
  ck_assert_msg(strstr(err.message, "variable 'y': dimension 1: declared size 6, found 5"), "%s", err.message);
  vi_program_free(p);
  free(json);
  static const char *bad =
    "data { int N; vector[N] y; }\nparameters { real mu; }\n"
    "model { mu ~ normal(0, 1);\n  target += normal_lpdf(y | mu, 1) + log(sum(exp(y))); }\n";
  p = make(bad, "{\"N\": 2, \"y\": [1, 2]}", NULL, "N", 0, 2, &st, &err);
  ck_assert_int_eq(st, VI_EUNSUPPORTED);
  ck_assert_msg(strstr(err.message, "m.stan:4:") && strstr(err.message, "sum() combines the observations of the sharded 'y'"),
                "%s", err.message);
  vi_program_free(p);
  static const char *acc =
    "data { int N; vector[N] y; }\nparameters { real mu; }\n"
    "model { real t = 0;\n  for (n in 1:N) t += y[n];\n  mu ~ normal(t, 1); }\n";
  p = make(acc, "{\"N\": 2, \"y\": [1, 2]}", NULL, "N", 0, 2, &st, &err);
  ck_assert_int_eq(st, VI_EUNSUPPORTED);
  ck_assert_msg(strstr(err.message, "m.stan:4:") && strstr(err.message, "'t' accumulates over the observations"),
                "%s", err.message);
  vi_program_free(p);
}
END_TEST

int main(void)
{
  Suite *s = suite_create("shard");
  TCase *tc = tcase_create("core");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, test_sum_hier);
  tcase_add_test(tc, test_sum_loop_file);
  tcase_add_test(tc, test_errors);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int nf = srunner_ntests_failed(sr);
  srunner_free(sr);
  return nf ? EXIT_FAILURE : EXIT_SUCCESS;
}
