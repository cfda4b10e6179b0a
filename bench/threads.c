/* bench/threads.c: the speed of vi_program_set_threads.  One 32-draw log joint with
 * gradient of a logistic regression (bench/models/logistic_throughput.stan, N rows, D = 100
 * predictors, data built in memory) with 1 thread and with 2, best of R repetitions each
 * after a warm-up call, the two counts alternating so that a change of the machine's load
 * hits both; prints the times and the ratio (2 threads / 1), and checks that the results
 * are bit-identical.  A timing, not a test: run it when the machine is idle.
 *
 *   threads [--sizes 100000,1000000] [--reps 5] */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
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
      k += snprintf(j + k, cap - k, "%s%d", c ? "," : "", (int)((r >> 33) % 200) - 100);
    }
    j[k++] = ']';
  }
  k += snprintf(j + k, cap - k, "],\"y\":[");
  for (size_t i = 0; i < n; i++) k += snprintf(j + k, cap - k, "%s%d", i ? "," : "", (int)(i % 3 == 0));
  k += snprintf(j + k, cap - k, "]}");
  *len = k;
  return j;
}

int main(int argc, char **argv)
{
  size_t sizes[8] = {100000, 1000000}, ns = 2, reps = 5, d = 100, m = 32;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!strcmp(argv[i], "--sizes")) {
      ns = 0;
      for (char *t = strtok(argv[i + 1], ","); t && ns < 8; t = strtok(NULL, ","))
        sizes[ns++] = strtoul(t, NULL, 10);
    } else if (!strcmp(argv[i], "--reps")) {
      reps = strtoul(argv[i + 1], NULL, 10);
    }
  }
  const char *top = getenv("top_srcdir");
  char path[4096];
  snprintf(path, sizeof path, "%s/bench/models/logistic_throughput.stan", top ? top : ".");
  printf("# one %zu-draw log joint + gradient, logistic regression, D = %zu; best of %zu\n",
         m, d, reps);
  printf("%10s %12s %12s %8s %s\n", "N", "1 thread s", "2 threads s", "ratio", "identical");
  for (size_t k = 0; k < ns; k++) {
    size_t n = sizes[k], len;
    vi_error err; int st;
    char *json = make_json(n, d, &len);
    vi_program *p = json ? vi_program_compile_file(path, &err, &st) : NULL;
    if (!p || vi_program_load_data(p, json, len, "gen", &err)) {
      fprintf(stderr, "threads: %s\n", p ? err.message : "setup failed");
      return 1;
    }
    free(json);
    vi_model mod;
    vi_program_model(p, &mod);
    double *z = malloc(m * d * sizeof *z), *lp[2], *g[2], best[2] = {INFINITY, INFINITY};
    for (int t = 0; t < 2; t++) {
      lp[t] = malloc(m * sizeof *lp[t]);
      g[t] = malloc(m * d * sizeof *g[t]);
    }
    for (size_t i = 0; i < m * d; i++) z[i] = 0.01 * sin(0.37 * i);
    for (size_t r = 0; r <= reps; r++)
      for (int t = 0; t < 2; t++) {
        vi_program_set_threads(p, (size_t)t + 1);
        double t0 = now();
        mod.log_joint(mod.ctx, m, z, lp[t], g[t]);
        double dt = now() - t0;
        if (r > 0 && dt < best[t]) best[t] = dt;   /* r = 0: warm-up */
      }
    int same = !memcmp(lp[0], lp[1], m * sizeof(double)) &&
               !memcmp(g[0], g[1], m * d * sizeof(double));
    printf("%10zu %12.4f %12.4f %8.3f %s\n", n, best[0], best[1], best[1] / best[0],
           same ? "yes" : "NO");
    vi_program_free(p);
    free(z);
    for (int t = 0; t < 2; t++) { free(lp[t]); free(g[t]); }
  }
  return 0;
}
