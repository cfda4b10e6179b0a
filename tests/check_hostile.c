/* check_hostile.c: hostile input through the public API (vi/lang.h, vi/fit.h).  Every
 * case must end in a clean error (the right vi status, a message naming the problem and
 * where it is) and never in a crash, a hang or a huge allocation: deep nesting, enormous,
 * negative and overflowing sizes, integer overflow and division by zero, indexes out of
 * range at run time (naming the variable, the index and the size, as Stan does),
 * unterminated comments and strings, NUL and non-UTF-8 bytes, a ~100 MB data file,
 * NaN / Infinity where a constraint forbids them, duplicate keys, API misuse, loops that
 * never end (stopped by the evaluation's memory limit).  Also the
 * regression tests for the crashes the fuzz targets (fuzz/) found.
 *
 * "No huge allocation" is checked with the peak resident set size (getrusage): an
 * enormous declared size must be refused before anything of that size is touched.  The
 * big-data test writes its file into the build directory at run time; its size is
 * VI_HOSTILE_BIG_REALS reals (default 10,000,000, about 100 MB of JSON; 200,000 under
 * valgrind). */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <vi/fit.h>
#include <vi/lang.h>
#include <vi/status.h>

#if defined(__SANITIZE_ADDRESS__)
#define HOSTILE_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HOSTILE_ASAN 1
#endif
#endif

/* ---- helpers --------------------------------------------------------------------------- */

static long peak_rss_mb(void)
{
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss / 1024;
}

/* The peak RSS may grow by at most this much in a test of an enormous size. */
#define RSS_SLACK_MB 200

static int contains(const char *hay, const char *needle)
{
  return strstr(hay, needle) != NULL;
}

/* Compile src (len bytes); expect failure with status want and every one of the
 * NULL-terminated substrings in the message. */
static void compile_fails_n(const char *src, size_t len, int want, const char *const *subs)
{
  vi_error err;
  int st = 12345;
  vi_program *p = vi_program_compile(src, len, "h.stan", &err, &st);
  ck_assert_msg(p == NULL, "compiled, expected status %d (%s)", want, vi_strerror(want));
  ck_assert_msg(st == want, "status %d (%s), want %d (%s); message:\n%s", st, vi_strerror(st),
                want, vi_strerror(want), err.message);
  ck_assert_int_eq(err.status, st);
  ck_assert_msg(memchr(err.message, 0, sizeof err.message) != NULL, "unterminated message");
  for (; subs && *subs; subs++)
    ck_assert_msg(contains(err.message, *subs), "message lacks \"%s\":\n%s", *subs,
                  err.message);
}

#define COMPILE_FAILS(src, want, ...)                                                  \
  do {                                                                                 \
    const char *subs_[] = {__VA_ARGS__, NULL};                                         \
    compile_fails_n((src), strlen(src), (want), subs_);                                \
  } while (0)

/* Memory limit of the programs compile_ok makes (0: the library's default). */
static size_t memory_limit;

static vi_program *compile_ok(const char *src)
{
  vi_error err;
  int st;
  vi_program *p = vi_program_compile(src, strlen(src), "h.stan", &err, &st);
  ck_assert_msg(p != NULL, "compile failed: %s", err.message);
  ck_assert_int_eq(st, VI_SUCCESS);
  vi_program_set_memory_limit(p, memory_limit);
  return p;
}

/* Compile src, load json (NULL: no data); expect the load to fail with status want and
 * every substring in the message. */
static void data_fails_n(const char *src, const char *json, size_t len, int want,
                         const char *const *subs)
{
  vi_program *p = compile_ok(src);
  vi_error err;
  int st = vi_program_load_data(p, json, len, "h.json", &err);
  ck_assert_msg(st == want, "load status %d (%s), want %d (%s); message:\n%s", st,
                vi_strerror(st), want, vi_strerror(want), err.message);
  ck_assert_msg(err.message[0] != 0, "empty message");
  for (; subs && *subs; subs++)
    ck_assert_msg(contains(err.message, *subs), "message lacks \"%s\":\n%s", *subs,
                  err.message);
  /* the program stays usable: a model needs data first */
  vi_model m;
  ck_assert_int_ne(vi_program_model(p, &m), VI_SUCCESS);
  vi_program_free(p);
}

#define DATA_FAILS(src, json, want, ...)                                               \
  do {                                                                                 \
    const char *subs_[] = {__VA_ARGS__, NULL};                                         \
    const char *j_ = (json);                                                           \
    data_fails_n((src), j_, j_ ? strlen(j_) : 0, (want), subs_);                       \
  } while (0)

/* Compile and load (must succeed), evaluate the log joint with gradient at z = 0.1 for
 * n draws; expect status want from log_joint and the substrings in last_error. */
static void runtime_fails_n(const char *src, const char *json, int want,
                            const char *const *subs)
{
  vi_program *p = compile_ok(src);
  vi_error err;
  int st = vi_program_load_data(p, json, json ? strlen(json) : 0, "h.json", &err);
  ck_assert_msg(st == VI_SUCCESS, "load: %s", err.message);
  vi_model m;
  ck_assert_int_eq(vi_program_model(p, &m), VI_SUCCESS);
  enum { N = 3 };
  double *z = calloc(N * m.dim, sizeof *z), *g = calloc(N * m.dim, sizeof *g), lp[N];
  for (size_t i = 0; i < N * m.dim; i++) z[i] = 0.1;
  st = m.log_joint(m.ctx, N, z, lp, g);
  ck_assert_msg(st == want, "log_joint status %d (%s), want %d (%s); last error:\n%s", st,
                vi_strerror(st), want, vi_strerror(want), vi_program_last_error(p));
  for (; subs && *subs; subs++)
    ck_assert_msg(contains(vi_program_last_error(p), *subs), "last error lacks \"%s\":\n%s",
                  *subs, vi_program_last_error(p));
  /* a fit of such a model stops with the same status, q untouched and finite */
  vi_options opt;
  vi_options_default(&opt);
  opt.max_iter = 5;
  opt.eval_draws = 50;
  vi_fit *f = vi_fit_alloc(&m, &opt, &st);
  if (f) {
    for (int i = 0; i < 5 && st >= 0; i++) st = vi_fit_iterate(f);
    for (size_t j = 0; j < m.dim; j++) {
      ck_assert(isfinite(vi_fit_mean(f)[j]));
      ck_assert(isfinite(vi_fit_sd(f)[j]));
    }
    vi_fit_free(f);
  }
  ck_assert_msg(st == want, "fit status %d (%s), want %d", st, vi_strerror(st), want);
  free(z);
  free(g);
  vi_program_free(p);
}

#define RUNTIME_FAILS(src, json, want, ...)                                            \
  do {                                                                                 \
    const char *subs_[] = {__VA_ARGS__, NULL};                                         \
    runtime_fails_n((src), (json), (want), subs_);                                     \
  } while (0)

static char *repeat(const char *head, const char *unit, size_t n, const char *mid,
                    const char *unit2, size_t n2, const char *tail)
{
  size_t len = strlen(head) + n * strlen(unit) + strlen(mid) + n2 * strlen(unit2) +
               strlen(tail) + 1;
  char *s = malloc(len), *o = s;
  o = stpcpy(o, head);
  for (size_t i = 0; i < n; i++) o = stpcpy(o, unit);
  o = stpcpy(o, mid);
  for (size_t i = 0; i < n2; i++) o = stpcpy(o, unit2);
  stpcpy(o, tail);
  return s;
}

/* ---- nesting and size of the source ------------------------------------------------ */

START_TEST(test_deep_parens)
{
  char *s = repeat("transformed data {\n  real x = ", "(", 10000, "1", ")", 10000, ";\n}\n");
  COMPILE_FAILS(s, VI_EPARSE, "h.stan:2:", "nesting too deep");
  free(s);
}
END_TEST

START_TEST(test_deep_unary)
{
  char *s = repeat("transformed data {\n  real x = ", "-", 10000, "1", "", 0, ";\n}\n");
  COMPILE_FAILS(s, VI_EPARSE, "h.stan:2:", "too deep");
  free(s);
  s = repeat("transformed data {\n  real x = ", "!", 10000, "1", "", 0, ";\n}\n");
  COMPILE_FAILS(s, VI_EPARSE, "h.stan:2:", "too deep");
  free(s);
}
END_TEST

START_TEST(test_deep_blocks)
{
  char *s = repeat("model {\n", "{", 10000, "", "}", 10000, "\n}\n");
  COMPILE_FAILS(s, VI_EPARSE, "h.stan:2:", "nesting too deep");
  free(s);
  s = repeat("model {\n", "if (1) ", 10000, ";", "", 0, "\n}\n");
  COMPILE_FAILS(s, VI_EPARSE, "h.stan:2:", "too deep");
  free(s);
  s = repeat("model {\n", "for (i in 1:2) ", 10000, ";", "", 0, "\n}\n");
  COMPILE_FAILS(s, VI_EPARSE, "h.stan:2:", "too deep");
  free(s);
}
END_TEST

START_TEST(test_deep_index_and_calls)
{
  char *s = repeat("data { array[3] int a; }\ntransformed data {\n  int x = ", "a[", 10000, "1",
                   "]", 10000, ";\n}\n");
  COMPILE_FAILS(s, VI_EPARSE, "h.stan:3:", "too deep");
  free(s);
  s = repeat("transformed data {\n  real x = ", "exp(", 10000, "1", ")", 10000, ";\n}\n");
  COMPILE_FAILS(s, VI_EPARSE, "h.stan:2:", "too deep");
  free(s);
  s = repeat("transformed data {\n  vector[1] x = ", "[", 10000, "1", "]'", 10000, ";\n}\n");
  COMPILE_FAILS(s, VI_EPARSE, "h.stan:2:", "too deep");
  free(s);
  s = repeat("transformed data {\n  real x = ", "1 ? 1 : ", 10000, "1", "", 0, ";\n}\n");
  COMPILE_FAILS(s, VI_EPARSE, "h.stan:2:", "too deep");
  free(s);
  s = repeat("transformed data {\n  real x = 1", "^1", 10000, "", "", 0, ";\n}\n");
  COMPILE_FAILS(s, VI_EPARSE, "h.stan:2:", "too");
  free(s);
}
END_TEST

/* A long flat chain is not nesting for the user, but a left-deep tree for the parser, the
 * checker and the evaluator: it must not overflow the stack. */
START_TEST(test_long_chain)
{
  char *s = repeat("transformed data {\n  real x = 1", " + 1", 100000, "", "", 0, ";\n}\n");
  vi_error err;
  int st;
  vi_program *p = vi_program_compile(s, strlen(s), "h.stan", &err, &st);
  if (!p) {
    ck_assert_int_eq(st, VI_EPARSE);
    ck_assert_msg(contains(err.message, "h.stan:2:"), "%s", err.message);
  }
  vi_program_free(p);
  free(s);
}
END_TEST

/* 100,000 statements and a 10,000-character name are fine. */
START_TEST(test_many_statements)
{
  char name[10001];
  memset(name, 'a', 10000);
  name[10000] = 0;
  size_t n = 100000;
  char *s = malloc(n * 40 + 50000), *o = s;
  o += sprintf(o, "transformed data {\n  real %s = 0;\n  real b = 0;\n", name);
  for (size_t i = 0; i < n; i++) o += sprintf(o, "  b += %zu;\n", i % 7);
  o += sprintf(o, "  %s = b / 100000;\n", name);
  o += sprintf(o, "}\nparameters { real mu; }\nmodel { mu ~ normal(%s, 1); }\n", name);
  vi_error err;
  int st;
  vi_program *p = vi_program_compile(s, (size_t)(o - s), "h.stan", &err, &st);
  ck_assert_msg(p != NULL, "%s", err.message);
  ck_assert_int_eq(vi_program_load_data(p, NULL, 0, NULL, &err), VI_SUCCESS);
  vi_model m;
  ck_assert_int_eq(vi_program_model(p, &m), VI_SUCCESS);
  /* b = sum of i % 7 over i < 100000 = 299995, so the prior mean is 2.99995 */
  double z = 2.99995, lp, g;
  ck_assert_int_eq(m.log_joint(m.ctx, 1, &z, &lp, &g), VI_SUCCESS);
  ck_assert_msg(fabs(lp + 0.91893853320467274) < 1e-9 && fabs(g) < 1e-9, "lp %g g %g", lp, g);
  vi_program_free(p);
  free(s);
}
END_TEST

/* ---- sizes ----------------------------------------------------------------------- */

START_TEST(test_size_literal_too_large)
{
  long before = peak_rss_mb();
  COMPILE_FAILS("parameters { vector[1000000000000] mu; }\nmodel { mu ~ normal(0, 1); }\n",
                VI_EPARSE, "h.stan:1:", "1000000000000", "out of range");
  COMPILE_FAILS("data { vector[1000000000000] y; }\nparameters { real mu; }\nmodel { }\n",
                VI_EPARSE, "h.stan:1:", "out of range");
  ck_assert_int_le(peak_rss_mb() - before, RSS_SLACK_MB);
}
END_TEST

START_TEST(test_size_claimed_by_data)
{
  const char *src = "data { int N; vector[N] y; }\nparameters { real mu; }\n"
                    "model { y ~ normal(mu, 1); }\n";
  long before = peak_rss_mb();
  DATA_FAILS(src, "{\"N\": 1000000000000, \"y\": [1]}", VI_EDATA, "'N'", "1000000000000",
             "out of range");
  DATA_FAILS(src, "{\"N\": 2000000000, \"y\": [1]}", VI_EDATA, "'y'");
  DATA_FAILS(src, "{\"N\": 2147483647}", VI_EDATA, "'y'", "missing");
  DATA_FAILS(src, "{\"N\": 200000000, \"y\": []}", VI_EDATA, "'y'", "200000000", "found 0");
  DATA_FAILS("data { int N; array[N, N] real y; }\nparameters { real mu; }\nmodel { }\n",
             "{\"N\": 2000000000, \"y\": [[]]}", VI_EDATA, "'y'");
  ck_assert_int_le(peak_rss_mb() - before, RSS_SLACK_MB);
}
END_TEST

/* An unconstrained dimension of two billion cannot be fitted: refused before any
 * per-coordinate allocation (names, layout). */
START_TEST(test_size_parameters_from_data)
{
  long before = peak_rss_mb();
  DATA_FAILS("data { int N; }\nparameters { vector[N] mu; }\nmodel { mu ~ normal(0, 1); }\n",
             "{\"N\": 2000000000}", VI_EDATA, "mu", "too");
  DATA_FAILS("data { int N; }\nparameters { real mu; }\nmodel { mu ~ normal(0, 1); }\n"
             "generated quantities { vector[N] big; }\n",
             "{\"N\": 2000000000}", VI_EDATA, "big", "too");
  DATA_FAILS("data { int N; }\nparameters { matrix[N, N] mu; }\nmodel { }\n",
             "{\"N\": 2147483647}", VI_EDATA, "'mu' is too large");
  ck_assert_int_le(peak_rss_mb() - before, RSS_SLACK_MB);
}
END_TEST

START_TEST(test_size_transformed_data)
{
  long before = peak_rss_mb();
  /* more elements than one value may hold: refused before any allocation */
  DATA_FAILS("data { int N; }\ntransformed data { matrix[N, N] x = rep_matrix(0, N, N); }\n"
             "parameters { real mu; }\nmodel { }\n",
             "{\"N\": 50000}", VI_ERUNTIME, "h.stan:2:", "'x' is too large");
  DATA_FAILS("data { int N; }\ntransformed data { vector[N] x = rep_vector(0, N); }\n"
             "parameters { real mu; }\nmodel { }\n",
             "{\"N\": 2000000000}", VI_ERUNTIME, "h.stan:2:", "'x' is too large");
  ck_assert_int_le(peak_rss_mb() - before, RSS_SLACK_MB);
}
END_TEST

START_TEST(test_size_negative)
{
  DATA_FAILS("parameters { vector[-3] mu; }\nmodel { mu ~ normal(0, 1); }\n", NULL, VI_EDATA,
             "h.stan:1:", "'mu'", "-3");
  DATA_FAILS("data { int N; vector[N] y; }\nparameters { real mu; }\nmodel { }\n",
             "{\"N\": -5, \"y\": []}", VI_EDATA, "'y'", "-5");
  DATA_FAILS("data { int N; }\nparameters { matrix[2, N - 10] mu; }\nmodel { }\n",
             "{\"N\": 3}", VI_EDATA, "'mu'", "-7");
  DATA_FAILS("data { int N; }\ntransformed data { array[N] real a; }\n"
             "parameters { real mu; }\nmodel { }\n",
             "{\"N\": -1}", VI_ERUNTIME, "h.stan:2:", "'a'", "-1");
}
END_TEST

/* dims whose product wraps around 2^64 (65536^4 = 2^64) or 2^32 */
START_TEST(test_size_product_overflow)
{
  long before = peak_rss_mb();
  DATA_FAILS("data { int N; array[N, N, N, N] real y; }\nparameters { real mu; }\nmodel { }\n",
             "{\"N\": 65536}", VI_EDATA, "'y'", "too large");
  DATA_FAILS("data { int N; }\nparameters { array[N, N, N, N] real mu; }\nmodel { }\n",
             "{\"N\": 65536}", VI_EDATA, "'mu'", "too large");
  DATA_FAILS("data { int N; }\nparameters { array[N, N] matrix[N, N] mu; }\nmodel { }\n",
             "{\"N\": 65536}", VI_EDATA, "'mu'", "too large");
  DATA_FAILS("data { int N; }\nparameters { real mu; }\nmodel { }\n"
             "generated quantities { array[N, N] vector[N] g; }\n",
             "{\"N\": 2097152}", VI_EDATA, "too large");
  ck_assert_int_le(peak_rss_mb() - before, RSS_SLACK_MB);
}
END_TEST

/* ---- integer arithmetic -------------------------------------------------------------- */

START_TEST(test_int_overflow)
{
  DATA_FAILS("transformed data { int x = 2147483647; int y = x + 1; }\n"
             "parameters { real mu; }\nmodel { }\n",
             NULL, VI_ERUNTIME, "h.stan:1:", "overflow");
  DATA_FAILS("transformed data { int x = 65536; int y = x * x; }\n"
             "parameters { real mu; }\nmodel { }\n",
             NULL, VI_ERUNTIME, "h.stan:1:", "overflow");
  DATA_FAILS("transformed data { int x = -2147483647 - 1; int y = x - 1; }\n"
             "parameters { real mu; }\nmodel { }\n",
             NULL, VI_ERUNTIME, "h.stan:1:", "overflow");
  DATA_FAILS("transformed data { int x = -2147483647 - 1; int y = x / -1; }\n"
             "parameters { real mu; }\nmodel { }\n",
             NULL, VI_ERUNTIME, "h.stan:1:", "overflow");
  /* a size computed by an overflowing product */
  DATA_FAILS("data { int N; }\nparameters { vector[N * N] mu; }\nmodel { }\n",
             "{\"N\": 65536}", VI_EDATA, "overflow");
  /* the edges themselves are fine */
  vi_program *p = compile_ok("transformed data { int x = 2147483647; int y = x - 1 + 1;\n"
                             "  int z = -2147483647 - 1; }\n"
                             "parameters { real mu; }\nmodel { mu ~ normal(0, 1); }\n");
  vi_error err;
  ck_assert_int_eq(vi_program_load_data(p, NULL, 0, NULL, &err), VI_SUCCESS);
  vi_program_free(p);
}
END_TEST

START_TEST(test_int_division_by_zero)
{
  DATA_FAILS("transformed data { int a = 0; int x = 5 / a; }\n"
             "parameters { real mu; }\nmodel { }\n",
             NULL, VI_ERUNTIME, "h.stan:1:", "division by zero");
  DATA_FAILS("transformed data { int a = 0; int x = 5 %/% a; }\n"
             "parameters { real mu; }\nmodel { }\n",
             NULL, VI_ERUNTIME, "h.stan:1:", "division by zero");
  DATA_FAILS("transformed data { int a = 0; int x = 5 % a; }\n"
             "parameters { real mu; }\nmodel { }\n",
             NULL, VI_ERUNTIME, "h.stan:1:", "division by zero");
  DATA_FAILS("data { int N; }\ntransformed data { array[2] int a = {1, N}; array[2] int b = a;\n"
             "  int x = 7 / a[2]; }\nparameters { real mu; }\nmodel { }\n",
             "{\"N\": 0}", VI_ERUNTIME, "h.stan:3:", "division by zero");
  RUNTIME_FAILS("data { int N; }\nparameters { real mu; }\n"
                "model { mu ~ normal(1 / N, 1); }\n",
                "{\"N\": 0}", VI_ERUNTIME, "h.stan:3:", "division by zero");
  /* real division by zero is IEEE, not an error */
  vi_program *p = compile_ok("transformed data { real x = 1.0 / 0; }\n"
                             "parameters { real mu; }\nmodel { mu ~ normal(0, 1); }\n");
  vi_error err;
  ck_assert_int_eq(vi_program_load_data(p, NULL, 0, NULL, &err), VI_SUCCESS);
  vi_program_free(p);
}
END_TEST

/* ---- indexes out of range at run time ----------------------------------------------- */

START_TEST(test_index_out_of_range)
{
  const char *data = "{\"N\": 4, \"y\": [1, 2, 3, 4]}";
  RUNTIME_FAILS("data { int N; vector[N] y; }\nparameters { real mu; }\n"
                "model { for (n in 1:N) y[n + 1] ~ normal(mu, 1); }\n",
                data, VI_ERUNTIME, "h.stan:3:", "index 5", "y", "size 4");
  RUNTIME_FAILS("data { int N; vector[N] y; }\nparameters { real mu; }\n"
                "model { y[0] ~ normal(mu, 1); }\n",
                data, VI_ERUNTIME, "h.stan:3:", "index 0", "y", "size 4");
  RUNTIME_FAILS("data { int N; vector[N] y; }\nparameters { vector[N] mu; }\n"
                "model { mu[-2147483647 - 1] ~ normal(0, 1); }\n",
                data, VI_ERUNTIME, "h.stan:3:", "-2147483648", "mu", "size 4");
  RUNTIME_FAILS("data { int N; vector[N] y; }\nparameters { real mu; }\n"
                "model { y[2:9] ~ normal(mu, 1); }\n",
                data, VI_ERUNTIME, "h.stan:3:", "y", "size 4");
  RUNTIME_FAILS("data { int N; vector[N] y; }\nparameters { real mu; }\n"
                "model { y[{1, 2, 7}] ~ normal(mu, 1); }\n",
                data, VI_ERUNTIME, "h.stan:3:", "index 7", "y", "size 4");
  RUNTIME_FAILS("data { int N; vector[N] y; }\nparameters { matrix[2, 3] m; }\n"
                "model { to_vector(m) ~ normal(0, 1); target += m[2, 4]; }\n",
                data, VI_ERUNTIME, "h.stan:3:", "index 4", "m", "size 3");
  RUNTIME_FAILS("data { int N; vector[N] y; }\nparameters { real mu; }\n"
                "model { vector[3] v; v[4] = mu; }\n",
                data, VI_ERUNTIME, "h.stan:3:", "index 4", "v", "size 3");
  /* an index that depends on the draw: one draw at a time, same error */
  RUNTIME_FAILS("data { int N; vector[N] y; }\nparameters { real<lower=0, upper=1> u; }\n"
                "model { y[u > 0.5 ? 9 : 1] ~ normal(0, 1); }\n",
                data, VI_ERUNTIME, "h.stan:3:", "index 9", "y", "size 4");
  /* in transformed data: at load */
  DATA_FAILS("data { int N; vector[N] y; }\ntransformed data { real z = y[N + 1]; }\n"
             "parameters { real mu; }\nmodel { }\n",
             data, VI_ERUNTIME, "h.stan:2:", "index 5", "y", "size 4");
}
END_TEST

START_TEST(test_index_out_of_range_gq)
{
  vi_program *p = compile_ok("data { int N; vector[N] y; }\nparameters { real mu; }\n"
                             "model { mu ~ normal(0, 1); }\n"
                             "generated quantities { real w = y[N + 3]; }\n");
  vi_error err;
  const char *j = "{\"N\": 2, \"y\": [1, 2]}";
  ck_assert_int_eq(vi_program_load_data(p, j, strlen(j), "h.json", &err), VI_SUCCESS);
  vi_model m;
  ck_assert_int_eq(vi_program_model(p, &m), VI_SUCCESS);
  double z = 0, lp, g, out[2];
  ck_assert_int_eq(m.log_joint(m.ctx, 1, &z, &lp, &g), VI_SUCCESS);
  ck_assert_int_eq(m.constrain(m.ctx, &z, NULL, out), VI_ERUNTIME);
  const char *e = vi_program_last_error(p);
  ck_assert_msg(contains(e, "h.stan:4:") && contains(e, "index 5") && contains(e, "size 2"),
                "%s", e);
  vi_program_free(p);
}
END_TEST

/* ---- loops that never end: the evaluation's memory limit stops them ------------------ */

START_TEST(test_loop_never_ends)
{
  memory_limit = (size_t)32 << 20;
  const char *why = "a loop that never ends?";
  RUNTIME_FAILS("parameters { real mu; }\n"
                "model { while (1) { } mu ~ normal(0, 1); }\n",
                NULL, VI_ENOMEM, "h.stan:2:", why, "32 MB");
  RUNTIME_FAILS("parameters { real mu; }\n"
                "model { int k = 0;\n  while (k >= 0) { k = k % 7 + 1; } mu ~ normal(0, 1); }\n",
                NULL, VI_ENOMEM, "h.stan:3:", why);
  RUNTIME_FAILS("parameters { real mu; }\n"
                "model { real s = mu; for (i in 1:2000000000) s += mu; target += -s^2; }\n",
                NULL, VI_ENOMEM, "h.stan:2:", why);
  /* a loop whose end depends on the draw: the per-draw path stops the same way */
  RUNTIME_FAILS("parameters { real<lower=0, upper=1> u; }\n"
                "model { real s = 0;\n  while (s < 2) { s += u > 2 ? 1 : 0; } }\n",
                NULL, VI_ENOMEM, "h.stan:3:", why);
  DATA_FAILS("transformed data { int k = 1; while (k > 0) { k = 1; } }\n"
             "parameters { real mu; }\nmodel { }\n",
             NULL, VI_ENOMEM, "h.stan:1:", why);
  /* in generated quantities: constrain fails, the log joint does not */
  vi_program *p = compile_ok("parameters { real mu; }\nmodel { mu ~ normal(0, 1); }\n"
                             "generated quantities { real w = 0; while (1) w += 1; }\n");
  vi_error err;
  ck_assert_int_eq(vi_program_load_data(p, NULL, 0, NULL, &err), VI_SUCCESS);
  vi_model m;
  ck_assert_int_eq(vi_program_model(p, &m), VI_SUCCESS);
  double z = 0, lp, g, out[2];
  ck_assert_int_eq(m.log_joint(m.ctx, 1, &z, &lp, &g), VI_SUCCESS);
  ck_assert_int_eq(m.constrain(m.ctx, &z, NULL, out), VI_ENOMEM);
  ck_assert_msg(contains(vi_program_last_error(p), "h.stan:3:"), "%s",
                vi_program_last_error(p));
  vi_program_free(p);
  /* a model that fits in the limit runs */
  p = compile_ok("parameters { real mu; }\n"
                 "model { real s = 0; for (i in 1:1000) s += 1; mu ~ normal(s, 1); }\n");
  ck_assert_int_eq(vi_program_load_data(p, NULL, 0, NULL, &err), VI_SUCCESS);
  ck_assert_int_eq(vi_program_model(p, &m), VI_SUCCESS);
  ck_assert_int_eq(m.log_joint(m.ctx, 1, &z, &lp, &g), VI_SUCCESS);
  ck_assert_double_eq_tol(g, 1000, 1e-9);
  vi_program_free(p);
  memory_limit = 0;
}
END_TEST

/* ---- lexical hostility ---------------------------------------------------------------- */

START_TEST(test_unterminated)
{
  COMPILE_FAILS("parameters { real mu; }\n/* never closed\nmodel { }\n", VI_EPARSE, "h.stan:2:1",
                "unterminated comment");
  COMPILE_FAILS("parameters { real mu; }\nmodel { mu ~ normal(0, 1); } /*", VI_EPARSE,
                "h.stan:2:", "unterminated comment");
  COMPILE_FAILS("parameters { real mu; }\nmodel { print(\"abc); }\n", VI_EPARSE, "h.stan:2:15",
                "unterminated string");
  COMPILE_FAILS("model { print(\"", VI_EPARSE, "h.stan:1:", "unterminated string");
  COMPILE_FAILS("model { reject(\"a\\", VI_EPARSE, "h.stan:1:");
  COMPILE_FAILS("parameters { real mu; }\nmodel {", VI_EPARSE, "h.stan:2:");
  COMPILE_FAILS("parameters { real mu", VI_EPARSE, "h.stan:1:");
  COMPILE_FAILS("parameters { real mu; }\nmodel { mu ~ normal(0, 1", VI_EPARSE, "h.stan:2:");
}
END_TEST

START_TEST(test_bad_bytes)
{
  static const char nul[] = "parameters { real mu; }\nmodel { mu ~\0 normal(0, 1); }\n";
  const char *s1[] = {"h.stan:2:", "NUL", NULL};
  compile_fails_n(nul, sizeof nul - 1, VI_EPARSE, s1);
  /* a NUL inside a comment is still a NUL in a text file */
  static const char nulc[] = "parameters { real mu; } // a\0b\nmodel { }\n";
  compile_fails_n(nulc, sizeof nulc - 1, VI_EPARSE, s1 + 1);
  static const char nulend[] = "parameters { real mu; }\nmodel { }\n\0";
  compile_fails_n(nulend, sizeof nulend - 1, VI_EPARSE, s1 + 1);
  COMPILE_FAILS("parameters { real m\xff; }\nmodel { }\n", VI_EPARSE, "h.stan:1:", "0xFF");
  COMPILE_FAILS("parameters { real mu; }\nmodel { mu ~ normal(0, 1); \xc3 }\n", VI_EPARSE,
                "h.stan:2:", "UTF-8");
  /* overlong encoding, surrogate, truncated sequence at the end */
  COMPILE_FAILS("parameters { real \xc0\xaf; }\nmodel { }\n", VI_EPARSE, "h.stan:1:");
  COMPILE_FAILS("parameters { real \xed\xa0\x80; }\nmodel { }\n", VI_EPARSE, "h.stan:1:");
  COMPILE_FAILS("parameters { real mu; }\nmodel { }\n\xe2\x82", VI_EPARSE, "h.stan:3:");
  COMPILE_FAILS("\x1b[31mparameters { real mu; }\nmodel { }\n", VI_EPARSE, "h.stan:1:1");
  /* bytes that are fine: UTF-8 in comments and strings */
  vi_program *p = compile_ok("// caf\xc3\xa9 \xe2\x82\xac\nparameters { real mu; }\n"
                             "model { print(\"\xce\xbc = \", mu); mu ~ normal(0, 1); }\n");
  vi_program_free(p);
  /* invalid UTF-8 in a comment: an error or accepted, never a crash */
  vi_error err;
  int st;
  static const char badc[] = "// \xff\xfe\nparameters { real mu; }\nmodel { }\n";
  p = vi_program_compile(badc, sizeof badc - 1, "h.stan", &err, &st);
  if (!p) ck_assert_int_eq(st, VI_EPARSE);
  vi_program_free(p);
}
END_TEST

/* All 256 single bytes, and every byte in the middle of a valid model. */
START_TEST(test_every_byte)
{
  char src[128];
  for (int b = 0; b < 256; b++) {
    vi_error err;
    int st;
    char c = (char)b;
    vi_program *p = vi_program_compile(&c, 1, "h.stan", &err, &st);
    if (!p) ck_assert_msg(st < 0 && err.message[0], "byte %d: status %d", b, st);
    vi_program_free(p);
    int n = snprintf(src, sizeof src, "parameters { real mu; }\nmodel { mu ~ normal(0, 1)%c; }\n", c);
    p = vi_program_compile(src, (size_t)n, "h.stan", &err, &st);
    if (!p) ck_assert_msg(st < 0 && err.message[0], "byte %d: status %d", b, st);
    vi_program_free(p);
  }
}
END_TEST

START_TEST(test_empty_and_null_source)
{
  vi_error err;
  int st = 12345;
  vi_program *p = vi_program_compile("", 0, "h.stan", &err, &st);
  if (p) {
    ck_assert_int_eq(st, VI_SUCCESS);
    ck_assert_int_eq(vi_program_load_data(p, NULL, 0, NULL, &err), VI_SUCCESS);
    vi_model m;
    ck_assert_int_eq(vi_program_model(p, &m), VI_EINVAL);   /* nothing to fit */
    ck_assert(contains(vi_program_last_error(p), "no parameters"));
    vi_program_free(p);
  }
  p = vi_program_compile(NULL, 0, "h.stan", &err, &st);
  vi_program_free(p);
  p = vi_program_compile(NULL, 10, NULL, &err, &st);   /* EINVAL, or read as empty */
  if (!p) ck_assert_int_lt(st, 0);
  vi_program_free(p);
  p = vi_program_compile("parameters { real mu; }", 23, NULL, NULL, NULL);
  vi_program_free(p);
  p = vi_program_compile_file("/nonexistent/dir/m.stan", &err, &st);
  ck_assert_ptr_null(p);
  ck_assert_int_eq(st, VI_EIO);
  ck_assert(contains(err.message, "/nonexistent/dir/m.stan"));
  p = vi_program_compile_file("/", &err, &st);   /* a directory */
  ck_assert_ptr_null(p);
  ck_assert_int_lt(st, 0);
}
END_TEST

START_TEST(test_api_misuse)
{
  vi_program *p = compile_ok("data { int N; }\nparameters { real mu; }\nmodel { mu ~ normal(N, 1); }\n");
  vi_model m;
  vi_error err;
  ck_assert_int_eq(vi_program_model(p, &m), VI_EINVAL);   /* data not loaded */
  ck_assert_int_eq(vi_program_model(p, NULL), VI_EINVAL);
  ck_assert_int_eq(vi_program_load_data(NULL, "{}", 2, NULL, &err), VI_EINVAL);
  ck_assert_int_eq(vi_program_load_data(p, NULL, 5, NULL, &err), VI_EDATA);
  vi_param_info info;
  ck_assert_int_eq(vi_program_param_info(p, 1, &info), VI_EINVAL);
  ck_assert_int_eq(vi_program_param_info(p, 0, NULL), VI_EINVAL);
  ck_assert_int_eq(vi_program_param_info(NULL, 0, &info), VI_EINVAL);
  /* a failed load, then a good one, then another good one */
  ck_assert_int_eq(vi_program_load_data(p, "{\"N\": 1.5}", 10, "h.json", &err), VI_EDATA);
  ck_assert_int_eq(vi_program_load_data(p, "{\"N\": 1}", 8, "h.json", &err), VI_SUCCESS);
  ck_assert_int_eq(vi_program_load_data(p, "{\"N\": 2}", 8, "h.json", &err), VI_SUCCESS);
  ck_assert_int_eq(vi_program_model(p, &m), VI_SUCCESS);
  ck_assert_int_eq(vi_program_load_data_file(p, "/nonexistent.json", &err), VI_EIO);
  ck_assert(contains(err.message, "/nonexistent.json"));
  vi_program_free(p);
  vi_program_free(NULL);
  ck_assert_str_eq(vi_program_last_error(NULL), "");
  ck_assert_uint_eq(vi_program_n_params(NULL), 0);
  vi_program_set_print(NULL, NULL, NULL);
  /* a fit of a broken model: clean statuses */
  int st;
  vi_model bad;
  memset(&bad, 0, sizeof bad);
  ck_assert_ptr_null(vi_fit_alloc(&bad, NULL, &st));
  ck_assert_int_eq(st, VI_EINVAL);
  ck_assert_ptr_null(vi_fit_alloc(NULL, NULL, &st));
  ck_assert_int_eq(st, VI_EINVAL);
  vi_fit_free(NULL);
}
END_TEST

/* ---- data hostility ------------------------------------------------------------------ */

START_TEST(test_nonfinite_where_forbidden)
{
  const char *src = "data { real<lower=0> s; vector<upper=1>[2] v; simplex[2] t;\n"
                    "  cov_matrix[2] S; real free; }\n"
                    "parameters { real mu; }\nmodel { }\n";
  const char *ok = "\"v\": [0, 0], \"t\": [0.5, 0.5], \"S\": [[1, 0], [0, 1]], \"free\": 0";
  char json[512];
  snprintf(json, sizeof json, "{\"s\": \"NaN\", %s}", ok);
  DATA_FAILS(src, json, VI_EDATA, "'s'", "nan", ">= 0");
  snprintf(json, sizeof json, "{\"s\": \"-Infinity\", %s}", ok);
  DATA_FAILS(src, json, VI_EDATA, "'s'", "inf");
  snprintf(json, sizeof json, "{\"s\": 1, \"v\": [0, \"Infinity\"], \"t\": [0.5, 0.5],"
           " \"S\": [[1, 0], [0, 1]], \"free\": 0}");
  DATA_FAILS(src, json, VI_EDATA, "'v'", "v[2]", "inf");
  snprintf(json, sizeof json, "{\"s\": 1, \"v\": [0, \"NaN\"], \"t\": [0.5, 0.5],"
           " \"S\": [[1, 0], [0, 1]], \"free\": 0}");
  DATA_FAILS(src, json, VI_EDATA, "'v'", "v[2]", "nan");
  snprintf(json, sizeof json, "{\"s\": 1, \"v\": [0, 0], \"t\": [\"NaN\", 0.5],"
           " \"S\": [[1, 0], [0, 1]], \"free\": 0}");
  DATA_FAILS(src, json, VI_EDATA, "'t'");
  snprintf(json, sizeof json, "{\"s\": 1, \"v\": [0, 0], \"t\": [0.5, 0.5],"
           " \"S\": [[1, \"NaN\"], [\"NaN\", 1]], \"free\": 0}");
  DATA_FAILS(src, json, VI_EDATA, "'S'");
  snprintf(json, sizeof json, "{\"s\": 1, \"v\": [0, 0], \"t\": [0.5, 0.5],"
           " \"S\": [[1, 0], [0, \"NaN\"]], \"free\": 0}");
  DATA_FAILS(src, json, VI_EDATA, "'S'");
  /* Infinity would pass a Cholesky test: refused as not finite */
  snprintf(json, sizeof json, "{\"s\": 1, \"v\": [0, 0], \"t\": [0.5, 0.5],"
           " \"S\": [[1, \"Infinity\"], [\"Infinity\", 1]], \"free\": 0}");
  DATA_FAILS(src, json, VI_EDATA, "'S'", "S[2, 1]", "must be finite");
  snprintf(json, sizeof json, "{\"s\": 1, \"v\": [0, 0], \"t\": [0.5, 0.5],"
           " \"S\": [[\"Infinity\", 0], [0, 1]], \"free\": 0}");
  DATA_FAILS(src, json, VI_EDATA, "'S'", "S[1, 1]", "must be finite");
  DATA_FAILS("data { cholesky_factor_cov[2] L; }\nparameters { real mu; }\nmodel { }\n",
             "{\"L\": [[\"Infinity\", 0], [0, 1]]}", VI_EDATA, "'L'", "L[1, 1]", "finite");
  /* a JSON number too large for a double is not Infinity in disguise */
  DATA_FAILS(src, "{\"s\": 1e400}", VI_EDATA, "h.json");
  /* unconstrained reals may be NaN / inf, as in Stan */
  vi_program *p = compile_ok(src);
  vi_error err;
  snprintf(json, sizeof json, "{\"s\": \"Infinity\", \"v\": [\"-inf\", 0], \"t\": [0.5, 0.5],"
           " \"S\": [[1, 0], [0, 1]], \"free\": \"NaN\"}");
  ck_assert_msg(vi_program_load_data(p, json, strlen(json), "h.json", &err) == VI_SUCCESS,
                "%s", err.message);
  vi_program_free(p);
  /* ints: NaN, inf, reals and out-of-range values are refused */
  DATA_FAILS("data { int n; }\nparameters { real mu; }\nmodel { }\n", "{\"n\": \"NaN\"}",
             VI_EDATA, "'n'", "int");
  DATA_FAILS("data { int n; }\nparameters { real mu; }\nmodel { }\n", "{\"n\": \"Infinity\"}",
             VI_EDATA, "'n'", "int");
  DATA_FAILS("data { int n; }\nparameters { real mu; }\nmodel { }\n", "{\"n\": 2147483648}",
             VI_EDATA, "'n'", "out of range");
  DATA_FAILS("data { int n; }\nparameters { real mu; }\nmodel { }\n",
             "{\"n\": 99999999999999999999999}", VI_EDATA, "h.json");
  DATA_FAILS("data { int n; }\nparameters { real mu; }\nmodel { }\n", "{\"n\": 3.0}",
             VI_EDATA, "'n'", "int");
}
END_TEST

START_TEST(test_duplicate_keys)
{
  const char *src = "data { int N; vector[N] y; }\nparameters { real mu; }\nmodel { }\n";
  DATA_FAILS(src, "{\"N\": 1, \"y\": [1], \"N\": 1}", VI_EDATA, "h.json:1:", "duplicate", "N");
  DATA_FAILS(src, "{\"N\": 1, \"y\": [1], \"extra\": {\"a\": 1, \"a\": 2}}", VI_EDATA,
             "duplicate");
  /* keys differing only in case are different keys */
  vi_program *p = compile_ok(src);
  vi_error err;
  const char *j = "{\"N\": 1, \"y\": [1], \"n\": 3, \"Y\": 1}";
  ck_assert_msg(vi_program_load_data(p, j, strlen(j), "h.json", &err) == VI_SUCCESS, "%s",
                err.message);
  vi_program_free(p);
}
END_TEST

START_TEST(test_malformed_json)
{
  const char *src = "data { int N; }\nparameters { real mu; }\nmodel { }\n";
  DATA_FAILS(src, "{\"N\": 1,", VI_EDATA, "h.json:1:", "invalid JSON");
  DATA_FAILS(src, "{\"N\": 1}}", VI_EDATA, "h.json:1:");
  DATA_FAILS(src, "", VI_EDATA, "h.json");
  DATA_FAILS(src, "[1]", VI_EDATA, "object");
  DATA_FAILS(src, "\"N\"", VI_EDATA, "h.json");
  DATA_FAILS(src, "{\"N\": \"\\u0000\"}", VI_EDATA, "h.json:1:");
  DATA_FAILS(src, "{\"N\": \"1\"}", VI_EDATA, "'N'", "string");
  DATA_FAILS(src, "{\"N\xff\": 1}", VI_EDATA, "h.json");
  static const char nul[] = "{\"N\": 1}\0 trailing";
  const char *subs[] = {"h.json", NULL};
  data_fails_n(src, nul, sizeof nul - 1, VI_EDATA, subs);
  /* nesting deeper than the parser allows, and deeper than any declaration */
  char *deep = repeat("{\"N\": ", "[", 100000, "1", "]", 100000, "}");
  DATA_FAILS(src, deep, VI_EDATA, "h.json");
  free(deep);
  deep = repeat("{\"N\": 1, \"x\": ", "[", 1000, "1", "]", 1000, "}");
  vi_program *p = compile_ok(src);   /* unused keys may be deep */
  vi_error err;
  int st = vi_program_load_data(p, deep, strlen(deep), "h.json", &err);
  ck_assert_msg(st == VI_SUCCESS || st == VI_EDATA, "%d %s", st, err.message);
  vi_program_free(p);
  free(deep);
  DATA_FAILS("data { array[2] vector[3] a; }\nparameters { real mu; }\nmodel { }\n",
             "{\"a\": [[[1], [2], [3]], [1, 2, 3]]}", VI_EDATA, "'a'");
  DATA_FAILS("data { matrix[2, 2] a; }\nparameters { real mu; }\nmodel { }\n",
             "{\"a\": [[1, 2], [3]]}", VI_EDATA, "'a'", "a[2]");
}
END_TEST

/* ~100 MB of data: one vector of VI_HOSTILE_BIG_REALS reals, written to the build
 * directory, loaded from the file, its mean checked. */
START_TEST(test_big_data_file)
{
  size_t n = 10000000;
  const char *e = getenv("VI_HOSTILE_BIG_REALS");
  if (e) n = strtoul(e, NULL, 10);
  else if (getenv("VALGRIND")) n = 200000;
  const char *top = getenv("top_builddir");
  char path[4096];
  snprintf(path, sizeof path, "%s/tests/hostile_big.data.json", top ? top : ".");
  FILE *f = fopen(path, "wb");
  ck_assert_msg(f != NULL, "cannot write %s", path);
  fprintf(f, "{\"N\": %zu, \"y\": [", n);
  double sum = 0;
  for (size_t i = 0; i < n; i++) {
    double x = (double)(i % 1000) / 8.0 - 62.4375 + 1e-6 * (double)(i % 7);
    sum += x;
    fprintf(f, "%s%.9g", i ? "," : "", x);
  }
  fputs("]}\n", f);
  long bytes = ftell(f);
  fclose(f);
  vi_program *p = compile_ok("data { int N; vector[N] y; }\n"
                             "transformed data { real m = mean(y); }\n"
                             "parameters { real mu; }\nmodel { y ~ normal(mu, 100); }\n"
                             "generated quantities { real ym = m; }\n");
  vi_error err;
  ck_assert_msg(vi_program_load_data_file(p, path, &err) == VI_SUCCESS, "%s", err.message);
  vi_model m;
  ck_assert_int_eq(vi_program_model(p, &m), VI_SUCCESS);
  double z = 0, out[2], lp, g;
  ck_assert_int_eq(m.constrain(m.ctx, &z, NULL, out), VI_SUCCESS);
  ck_assert_uint_eq(m.n_out, 2);
  ck_assert_msg(fabs(out[1] - sum / (double)n) < 1e-7, "mean %.12g, want %.12g", out[1],
                sum / (double)n);
  ck_assert_int_eq(m.log_joint(m.ctx, 1, &z, &lp, &g), VI_SUCCESS);
  ck_assert(isfinite(lp) && isfinite(g));
  vi_program_free(p);
  remove(path);
  fprintf(stderr, "check_hostile: big data: %zu reals, %ld bytes, peak RSS %ld MB\n", n, bytes,
          peak_rss_mb());
}
END_TEST

/* ---- regressions from fuzzing (fuzz/) ---------------------------------------------- */

/* ---- suite ------------------------------------------------------------------------------ */

static Suite *hostile_suite(void)
{
  Suite *s = suite_create("hostile");
  TCase *tc = tcase_create("source");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, test_deep_parens);
  tcase_add_test(tc, test_deep_unary);
  tcase_add_test(tc, test_deep_blocks);
  tcase_add_test(tc, test_deep_index_and_calls);
  tcase_add_test(tc, test_long_chain);
  tcase_add_test(tc, test_many_statements);
  tcase_add_test(tc, test_unterminated);
  tcase_add_test(tc, test_bad_bytes);
  tcase_add_test(tc, test_every_byte);
  tcase_add_test(tc, test_empty_and_null_source);
  tcase_add_test(tc, test_api_misuse);
  suite_add_tcase(s, tc);
  tc = tcase_create("sizes");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, test_size_literal_too_large);
  tcase_add_test(tc, test_size_claimed_by_data);
  tcase_add_test(tc, test_size_parameters_from_data);
  tcase_add_test(tc, test_size_transformed_data);
  tcase_add_test(tc, test_size_negative);
  tcase_add_test(tc, test_size_product_overflow);
  suite_add_tcase(s, tc);
  tc = tcase_create("runtime");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, test_int_overflow);
  tcase_add_test(tc, test_int_division_by_zero);
  tcase_add_test(tc, test_index_out_of_range);
  tcase_add_test(tc, test_index_out_of_range_gq);
  tcase_add_test(tc, test_loop_never_ends);
  suite_add_tcase(s, tc);
  tc = tcase_create("data");
  tcase_set_timeout(tc, 600);
  tcase_add_test(tc, test_nonfinite_where_forbidden);
  tcase_add_test(tc, test_duplicate_keys);
  tcase_add_test(tc, test_malformed_json);
  tcase_add_test(tc, test_big_data_file);
  suite_add_tcase(s, tc);
  return s;
}

/* Without sanitizers or valgrind, cap the address space so that a regression towards a
 * huge allocation fails here (cleanly, as VI_ENOMEM) instead of exhausting the machine. */

int main(void)
{
#ifndef HOSTILE_ASAN
  if (!getenv("VALGRIND")) {
    struct rlimit rl = {(rlim_t)6 << 30, (rlim_t)6 << 30};
    setrlimit(RLIMIT_AS, &rl);
  }
#endif
  SRunner *sr = srunner_create(hostile_suite());
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
