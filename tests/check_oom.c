/* check_oom.c: allocation failures.  This program defines malloc, calloc, realloc and
 * free itself (forwarding to glibc's __libc_* functions), so every allocation of the
 * process, vi's and its libraries' (jansson, GSL), passes through here.  While a global
 * `armed` flag is set, allocations are counted and the k-th one fails; for k = 1, 2, ...
 * the whole path runs (compile a model, load its data, fit a few iterations, finish,
 * map draws to outputs, free) until a run sees no failure.  Every failed run must end in
 * a clean error status (VI_ENOMEM, or the error of the layer that saw it, e.g. jansson's
 * "out of memory" as VI_EDATA), never crash, and leave no allocation made while armed
 * alive after the frees; a run whose failure was absorbed must give the same fit as the
 * reference run.  Skipped (exit 77) under ASan, which replaces malloc, and valgrind. */
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <vi/fit.h>
#include <vi/lang.h>
#include <vi/status.h>

#if defined(__SANITIZE_ADDRESS__)
#define OOM_SKIP 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(memory_sanitizer)
#define OOM_SKIP 1
#endif
#endif

#ifndef OOM_SKIP   /* the whole test; under a sanitizer only main() returning 77 */

/* ---- the allocator hook ------------------------------------------------------------ */

extern void *__libc_malloc(size_t n);
extern void *__libc_calloc(size_t k, size_t n);
extern void *__libc_realloc(void *p, size_t n);
extern void __libc_free(void *p);

static volatile int armed;
static long n_armed;        /* allocations attempted while armed */
static long fail_at;        /* fail the fail_at-th one (0: never) */
static int failed_one;      /* the run saw its injected failure */

/* Pointers allocated while armed: an open-addressing set (tombstones on removal). */
#define TAB_BITS 20
#define TAB_SIZE ((size_t)1 << TAB_BITS)
#define TOMB ((void *)1)
static void *tab[TAB_SIZE];
static size_t tab_sizes[TAB_SIZE];
static long live;

static size_t slot_of(const void *p)
{
  uintptr_t h = (uintptr_t)p;
  h ^= h >> 17;
  h *= 0x9E3779B97F4A7C15ull;
  return (size_t)(h >> (64 - TAB_BITS));
}

static void track(void *p, size_t n)
{
  size_t i = slot_of(p);
  for (size_t k = 0; k < TAB_SIZE; k++, i = (i + 1) & (TAB_SIZE - 1))
    if (tab[i] == NULL || tab[i] == TOMB) {
      tab[i] = p;
      tab_sizes[i] = n;
      live++;
      return;
    }
  abort();   /* table full: far more live allocations than any run makes */
}

static int untrack(void *p)
{
  if (live == 0 || !p) return 0;
  size_t i = slot_of(p);
  for (size_t k = 0; k < TAB_SIZE && tab[i] != NULL; k++, i = (i + 1) & (TAB_SIZE - 1))
    if (tab[i] == p) {
      tab[i] = TOMB;
      live--;
      return 1;
    }
  return 0;
}

static int should_fail(void)
{
  if (!armed) return 0;
  n_armed++;
  if (fail_at > 0 && n_armed == fail_at) {
    failed_one = 1;
    return 1;
  }
  return 0;
}

void *malloc(size_t n)
{
  if (should_fail()) return NULL;
  void *p = __libc_malloc(n);
  if (p && armed) track(p, n);
  return p;
}

void *calloc(size_t k, size_t n)
{
  if (should_fail()) return NULL;
  void *p = __libc_calloc(k, n);
  if (p && armed) track(p, k * n);
  return p;
}

void *realloc(void *p, size_t n)
{
  if (p && n == 0) {
    untrack(p);
    return __libc_realloc(p, 0);
  }
  if (should_fail()) return NULL;   /* p stays valid, as realloc promises */
  int was = untrack(p);
  void *q = __libc_realloc(p, n);
  if (!q) {
    if (was) track(p, n);
    return NULL;
  }
  if (was || (!p && armed) || (armed && p == NULL)) track(q, n);
  return q;
}

void free(void *p)
{
  untrack(p);
  __libc_free(p);
}

/* ---- the path under test -------------------------------------------------------------- */

static char *slurp(const char *rel, size_t *len)
{
  const char *top = getenv("top_srcdir");
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", top ? top : ".", rel);
  FILE *f = fopen(path, "rb");
  ck_assert_msg(f != NULL, "cannot open %s", path);
  char *buf = NULL;
  size_t cap = 0, n = 0, k;
  do {
    if (n == cap) buf = realloc(buf, cap = cap ? 2 * cap : 65536);
    k = fread(buf + n, 1, cap - n, f);
    n += k;
  } while (k > 0);
  fclose(f);
  *len = n;
  return buf;
}

typedef struct outcome {
  int stage;            /* where it stopped: 0 compile, 1 data, 2 model, 3 alloc, 4 iterate,
                           5 finish, 6 constrain, 7 done */
  int status;           /* the failing status (or VI_SUCCESS at stage 7) */
  double mean[64], sd[64], elbo;
  char message[2048];
} outcome;

static const char *stage_name[] = {"compile", "load data", "model", "fit alloc", "iterate",
                                   "finish", "constrain", "done"};

/* The whole path.  No Check calls in here: they allocate. */
static void run_path(const char *src, size_t slen, const char *json, size_t jlen,
                     const vi_options *opt, outcome *o)
{
  memset(o, 0, sizeof *o);
  vi_error err;
  int st;
  vi_fit *f = NULL;
  vi_program *p = vi_program_compile(src, slen, "m.stan", &err, &st);
  if (!p) { o->stage = 0; o->status = st; snprintf(o->message, sizeof o->message, "%s", err.message); return; }
  st = vi_program_load_data(p, json, jlen, "d.json", &err);
  if (st) { o->stage = 1; o->status = st; snprintf(o->message, sizeof o->message, "%s", err.message); goto out; }
  vi_model m;
  st = vi_program_model(p, &m);
  if (st) { o->stage = 2; o->status = st; goto out; }
  f = vi_fit_alloc(&m, opt, &st);
  if (!f) { o->stage = 3; o->status = st; goto out; }
  for (int i = 0; i < 3; i++) {
    st = vi_fit_iterate(f);
    if (st < 0) { o->stage = 4; o->status = st; goto out; }
  }
  vi_final fin;
  st = vi_fit_finish(f, &fin);
  if (st) { o->stage = 5; o->status = st; goto out; }
  double z[64], out[256];
  if (m.dim <= 64 && m.n_out <= 256)
    for (int s = 0; s < 3; s++) {
      vi_fit_sample(f, vi_fit_rng(f), z);
      st = m.constrain(m.ctx, z, vi_fit_rng(f), out);
      if (st) { o->stage = 6; o->status = st; snprintf(o->message, sizeof o->message, "%s", vi_program_last_error(p)); goto out; }
    }
  o->stage = 7;
  o->status = VI_SUCCESS;
  for (size_t j = 0; j < m.dim && j < 64; j++) {
    o->mean[j] = vi_fit_mean(f)[j];
    o->sd[j] = vi_fit_sd(f)[j];
  }
  o->elbo = fin.elbo;
out:
  if (o->stage < 7 && st == 0) o->status = VI_EINVAL;
  if (o->stage >= 2 && o->stage < 7 && p)
    snprintf(o->message, sizeof o->message, "%s", vi_program_last_error(p));
  vi_fit_free(f);
  vi_program_free(p);
}

/* Statuses a failed allocation may surface as: out of memory, or the layer's own error
 * class when the message says it was memory (jansson: "out of memory"; the evaluator's
 * arena: "out of memory"). */
static int clean_failure(const outcome *o)
{
  if (o->status == VI_ENOMEM) return 1;
  if ((o->status == VI_EDATA || o->status == VI_ERUNTIME || o->status == VI_EPARSE ||
       o->status == VI_ECHECK) && strstr(o->message, "memory"))
    return 1;
  /* jansson reports a failed allocation inside its lexer as a syntax error ("string or
   * '}' expected"); the same bytes parsed in the reference run, so it is this failure */
  if (o->stage == 1 && o->status == VI_EDATA && strstr(o->message, "invalid JSON"))
    return 1;
  return 0;
}

static void oom_sweep(const char *model_rel, const char *data_rel, vi_estimator est)
{
  size_t slen, jlen = 0;
  char *src = slurp(model_rel, &slen), *json = data_rel ? slurp(data_rel, &jlen) : NULL;
  vi_options opt;
  vi_options_default_for(&opt, est);
  opt.eval_draws = 300;
  opt.max_iter = 3;
  outcome ref, o;
  /* warm-up (one-time library initialisation), then the reference run, armed but never
   * failing: it must complete and leave nothing behind */
  run_path(src, slen, json, jlen, &opt, &ref);
  ck_assert_msg(ref.stage == 7, "warm-up stopped at %s: %d %s", stage_name[ref.stage],
                ref.status, ref.message);
  n_armed = 0; fail_at = 0; failed_one = 0;
  armed = 1;
  run_path(src, slen, json, jlen, &opt, &ref);
  armed = 0;
  long total = n_armed;
  ck_assert_msg(ref.stage == 7, "reference stopped at %s: %d", stage_name[ref.stage], ref.status);
  ck_assert_msg(live == 0, "reference run leaks %ld allocations", live);
  ck_assert_int_gt(total, 10);
  long failures = 0, absorbed = 0;
  for (long k = 1;; k++) {
    n_armed = 0; fail_at = k; failed_one = 0;
    armed = 1;
    run_path(src, slen, json, jlen, &opt, &o);
    armed = 0;
    if (!failed_one) {
      ck_assert_msg(o.stage == 7, "k = %ld: no failure injected, stopped at %s", k,
                    stage_name[o.stage]);
      break;
    }
    ck_assert_msg(live == 0, "k = %ld (of %ld, failing in %s): %ld allocations leaked", k,
                  total, stage_name[o.stage], live);
    if (o.stage == 7) {
      /* the failure was absorbed (a fallback path): the fit must be the same */
      absorbed++;
      ck_assert_msg(o.elbo == ref.elbo || (isnan(o.elbo) && isnan(ref.elbo)),
                    "k = %ld: failure absorbed but the ELBO differs: %.17g, reference %.17g", k,
                    o.elbo, ref.elbo);
      for (int j = 0; j < 64; j++)
        ck_assert_msg(o.mean[j] == ref.mean[j] && o.sd[j] == ref.sd[j],
                      "k = %ld: failure absorbed but q differs", k);
    } else {
      failures++;
      ck_assert_msg(clean_failure(&o), "k = %ld (of %ld): %s failed with status %d (%s): %s",
                    k, total, stage_name[o.stage], o.status, vi_strerror(o.status), o.message);
    }
    ck_assert_msg(k <= total + 10, "k = %ld: more allocations than the reference run", k);
  }
  fprintf(stderr, "check_oom: %s: %ld allocations, %ld failures reported, %ld absorbed\n",
          model_rel, total, failures, absorbed);
  free(src);
  free(json);
}

START_TEST(test_oom_eight_schools)
{
  oom_sweep("models/eight_schools.stan", "models/eight_schools.data.json", VI_FIXED_DRAWS);
}
END_TEST

START_TEST(test_oom_eight_schools_fresh)
{
  oom_sweep("models/eight_schools.stan", "models/eight_schools.data.json", VI_FRESH_DRAWS);
}
END_TEST

START_TEST(test_oom_linreg)
{
  oom_sweep("models/linreg.stan", "models/linreg.data.json", VI_FIXED_DRAWS);
}
END_TEST

START_TEST(test_oom_features)
{
  /* a model with most of the language: transformed data, constraints, loops, matrix
   * algebra, transformed parameters, generated quantities with _rng */
  oom_sweep("tests/hostile/oom_features.stan", "tests/hostile/oom_features.data.json",
            VI_FIXED_DRAWS);
}
END_TEST

#endif /* !OOM_SKIP */

int main(void)
{
#ifdef OOM_SKIP
  fputs("check_oom: skipped under a sanitizer (it replaces malloc)\n", stderr);
  return 77;
#else
  if (getenv("VALGRIND")) {
    fputs("check_oom: skipped under valgrind (it replaces malloc)\n", stderr);
    return 77;
  }
  Suite *s = suite_create("oom");
  TCase *tc = tcase_create("sweep");
  tcase_set_timeout(tc, 600);
  tcase_add_test(tc, test_oom_eight_schools);
  tcase_add_test(tc, test_oom_eight_schools_fresh);
  tcase_add_test(tc, test_oom_linreg);
  tcase_add_test(tc, test_oom_features);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
#endif
}
