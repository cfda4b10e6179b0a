/* bench/vmath.c: throughput of the array transcendentals (src/lang/ad/vmath.c) by
 * backend and vector width, the measurement that chooses vmath's default.
 *
 * For each function (exp, log, log1p, expm1 and the composite log1p_exp) it times
 * vmath over an array of n doubles (default 4096: in the L1/L2 caches, as the
 * evaluator's rows of draws and the composites' tiles are) with libm one call per
 * number ("scalar"), then glibc's libmvec and SLEEF at 2, 4 and 8 lanes where built in
 * and the CPU has them.  Arguments lie where the kernels put them: exp on [-20, 0] (the
 * stable logistic forms take exp(-|x|)), log on [1, 2] (log(1 + e)), log1p on [0, 1],
 * expm1 on [-2, 2], log1p_exp on [-20, 20].  Each figure is the median over 15
 * repetitions of ns per element; the speed-up is scalar / backend, measured in the same
 * run.  The last column is the largest difference from libm in units in the last place
 * of libm's result over the timed inputs.
 *
 *   vmath [--n 4096] [--reps 15] */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lang/ad/vmath.h"

static double now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

typedef void (*arr_fn)(double *, const double *, size_t);

static double ref_log1p_exp(double x) { return fmax(x, 0) + log1p(exp(-fabs(x))); }

static const struct {
  const char *name;
  arr_fn f;
  double (*ref)(double);
  double lo, hi;
} fns[] = {
  {"exp", vmath_exp, exp, -20, 0},
  {"log", vmath_log, log, 1, 2},
  {"log1p", vmath_log1p, log1p, 0, 1},
  {"expm1", vmath_expm1, expm1, -2, 2},
  {"log1p_exp", vmath_log1p_exp, ref_log1p_exp, -20, 20},
};
#define NFN (sizeof fns / sizeof fns[0])

/* ns per element, median of reps timings of inner calls each. */
static double time_fn(arr_fn f, double *y, const double *x, size_t n, int reps)
{
  double t[64];
  size_t inner = n >= 1u << 20 ? 1 : (1u << 22) / n;   /* about 4M elements a timing */
  f(y, x, n);
  for (int r = 0; r < reps; r++) {
    double t0 = now();
    for (size_t k = 0; k < inner; k++) f(y, x, n);
    t[r] = (now() - t0) / (double)(inner * n) * 1e9;
  }
  qsort(t, (size_t)reps, sizeof t[0], cmp_double);
  return t[reps / 2];
}

static double ulps(double got, double want)
{
  if (isnan(got) && isnan(want)) return 0;
  if (got == want) return 0;
  if (!isfinite(got) || !isfinite(want)) return INFINITY;
  double u = nextafter(fabs(want), INFINITY) - fabs(want);
  return fabs(got - want) / u;
}

int main(int argc, char **argv)
{
  size_t n = 4096;
  int reps = 15;
  static const char *const backends[] = {"libmvec", "sleef"};
  static const int widths[] = {2, 4, 8};
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!strcmp(argv[i], "--n")) n = strtoul(argv[i + 1], NULL, 10);
    else if (!strcmp(argv[i], "--reps")) reps = atoi(argv[i + 1]);
    else {
      fprintf(stderr, "usage: vmath [--n N] [--reps R]\n");
      return 2;
    }
  }
  if (n == 0 || reps < 1 || reps > 64) {
    fprintf(stderr, "vmath: --n must be positive, --reps 1..64\n");
    return 2;
  }
  double *x = malloc(NFN * n * sizeof *x), *y = malloc(n * sizeof *y);
  if (!x || !y) return 1;
  srand(20261203);
  for (size_t k = 0; k < NFN; k++)
    for (size_t i = 0; i < n; i++)
      x[k * n + i] = fns[k].lo + (fns[k].hi - fns[k].lo) * ((double)rand() / RAND_MAX);

  double base[NFN];
  printf("# vmath: ns per element over arrays of %zu doubles (median of %d), speed-up "
         "against libm\n", n, reps);
  printf("# default backend: %s\n", vmath_describe());
  printf("# %-28s %-10s %9s %8s %9s\n", "backend", "function", "ns/elem", "speedup",
         "max_ulp");
  vmath_select("scalar", 0);
  for (size_t k = 0; k < NFN; k++) {
    base[k] = time_fn(fns[k].f, y, x + k * n, n, reps);
    printf("  %-28s %-10s %9.3f %8.2f %9.2f\n", "scalar (libm)", fns[k].name, base[k], 1.0,
           0.0);
  }
  for (size_t b = 0; b < sizeof backends / sizeof backends[0]; b++)
    for (size_t w = 0; w < sizeof widths / sizeof widths[0]; w++) {
      if (vmath_select(backends[b], widths[w])) continue;
      for (size_t k = 0; k < NFN; k++) {
        double t = time_fn(fns[k].f, y, x + k * n, n, reps), worst = 0;
        fns[k].f(y, x + k * n, n);
        for (size_t i = 0; i < n; i++)
          worst = fmax(worst, ulps(y[i], fns[k].ref(x[k * n + i])));
        printf("  %-28s %-10s %9.3f %8.2f %9.2f\n", vmath_describe(), fns[k].name, t,
               base[k] / t, worst);
      }
    }
  fflush(stdout);
  free(x);
  free(y);
  return 0;
}
