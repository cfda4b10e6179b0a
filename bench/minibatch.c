/* bench/minibatch.c: the speed of vi_options.minibatch.  Seconds per step of a stochastic
 * fit (fresh draws, Adam, M = 32) of a logistic regression (bench/models/
 * logistic_throughput.stan, N rows, K predictors, data built in memory, sharded by N on
 * one process) on the whole data and on minibatches of B rows, each the mean over its
 * steps after the fit's start, the two measured one after the other in one run; prints
 * both and the ratio (whole / minibatch).  A step is all of vi_fit_iterate: the rows'
 * draw and gather, the log joint and gradient over the M draws, and the diagnostics' log
 * lik on the same rows.  A timing, not a test: run it when the machine is idle.
 *
 *   minibatch [--n 100000] [--k 100] [--b 1000] [--steps 20] */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <vi/fit.h>
#include <vi/lang.h>
#include <vi/status.h>

static double now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

static char *make_json(size_t n, size_t d, size_t *len)
{
  size_t cap = 64 + n * d * 8 + n * 3, k = 0;
  char *j = malloc(cap);
  if (!j) return NULL;
  unsigned long r = 1;
  k += snprintf(j + k, cap - k, "{\"N\":%zu,\"K\":%zu,\"tau\":1,\"X\":[", n, d);
  for (size_t i = 0; i < n; i++) {
    j[k++] = i ? ',' : ' ';
    j[k++] = '[';
    for (size_t c = 0; c < d; c++) {
      r = r * 6364136223846793005UL + 1442695040888963407UL;
      k += snprintf(j + k, cap - k, "%s%.2f", c ? "," : "", ((int)((r >> 33) % 200) - 100) / 100.0);
    }
    j[k++] = ']';
  }
  k += snprintf(j + k, cap - k, "],\"y\":[");
  for (size_t i = 0; i < n; i++) k += snprintf(j + k, cap - k, "%s%d", i ? "," : "", (int)(i % 3 == 0));
  k += snprintf(j + k, cap - k, "]}");
  *len = k;
  return j;
}

/* Mean seconds per step over `steps` steps, with minibatches of b rows (0: whole data). */
static double per_step(vi_program *p, const vi_model *m, size_t n, size_t b, size_t steps)
{
  vi_options opt;
  vi_options_default_for(&opt, VI_FRESH_DRAWS);
  opt.max_iter = steps + 1;
  opt.minibatch = b;
  opt.minibatch_rows = n;
  opt.minibatch_fn = vi_program_minibatch;
  opt.minibatch_ctx = p;
  int st;
  vi_fit *f = vi_fit_alloc(m, &opt, &st);
  if (!f) { fprintf(stderr, "minibatch: vi_fit_alloc: %s\n", vi_strerror(st)); exit(1); }
  vi_fit_iterate(f);   /* warm-up: buffers grown, caches filled */
  double t0 = now();
  for (size_t i = 0; i < steps; i++)
    if ((st = vi_fit_iterate(f)) != VI_SUCCESS) {
      fprintf(stderr, "minibatch: step %zu: %s\n", i, vi_strerror(st));
      exit(1);
    }
  double dt = (now() - t0) / (double)steps;
  vi_fit_free(f);
  return dt;
}

int main(int argc, char **argv)
{
  size_t n = 100000, d = 100, b = 1000, steps = 20, len;
  for (int i = 1; i + 1 < argc; i += 2) {
    size_t v = strtoul(argv[i + 1], NULL, 10);
    if (!strcmp(argv[i], "--n")) n = v;
    else if (!strcmp(argv[i], "--k")) d = v;
    else if (!strcmp(argv[i], "--b")) b = v;
    else if (!strcmp(argv[i], "--steps")) steps = v;
  }
  const char *top = getenv("top_srcdir");
  char path[4096];
  snprintf(path, sizeof path, "%s/bench/models/logistic_throughput.stan", top ? top : ".");
  vi_error err;
  int st;
  char *json = make_json(n, d, &len);
  vi_program *p = json ? vi_program_compile_file(path, &err, &st) : NULL;
  if (!p || vi_program_set_shard(p, "N", 0, 1, &err) ||
      vi_program_load_data(p, json, len, "gen", &err)) {
    fprintf(stderr, "minibatch: %s\n", p ? err.message : "setup failed");
    return 1;
  }
  free(json);
  vi_model m;
  vi_program_model(p, &m);
  /* the minibatch steps are cheap: ten times as many of them for a steadier mean */
  double whole = per_step(p, &m, n, 0, steps), mb = per_step(p, &m, n, b, 10 * steps);
  printf("# seconds per stochastic step (M = 32, Adam), logistic regression, N = %zu, "
         "K = %zu; mean of %zu (whole) and %zu (minibatch) steps\n", n, d, steps, 10 * steps);
  printf("%12s %14s %18s %8s\n", "N", "whole data s", "minibatch B s", "ratio");
  printf("%12zu %14.5f %12.5f (%zu) %8.1f\n", n, whole, mb, b, whole / mb);
  vi_program_free(p);
  return 0;
}
