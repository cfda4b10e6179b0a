/* bench/fixed_optimizers.c: how many iterations and gradient evaluations each optimiser
 * needs on the logistic-regression C model (models/c_models.h; N = 1000, D = 10, data
 * seed 42), fixed draws with every GSL type and fresh draws with Adam, same fit seed.
 * Prints one row per optimiser: stop reason, iterations, gradient evaluations (each over
 * M draws), the final fresh-draw ELBO with its standard error, and wall-clock seconds
 * (the only column that varies between runs).  Usage: fixed_optimizers [M] [seed].
 *
 * `fixed_optimizers sweep` instead justifies the default M: bfgs2 on fixed draws for
 * M = 8 .. 256 over five seeds, reporting the mean gradient evaluations, the mean number
 * of model points evaluated (gevals x M), and how far the fitted q's true ELBO (2000
 * fresh draws) falls short of the best one found with fresh-draw Adam at M = 256. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <vi/fit.h>
#include <vi/status.h>
#include "c_models.h"

#define N 1000
#define D 10

/* final fresh-draw ELBO of one fit, and its gradient evaluations */
static int fit_once(const vi_model *m, vi_estimator e, size_t M, unsigned long seed,
                    double *elbo, double *gevals)
{
  vi_options opt;
  vi_options_default_for(&opt, e);
  opt.draws = M;
  opt.seed = seed;
  int st;
  vi_fit *f = vi_fit_alloc(m, &opt, &st);
  if (!f) return st;
  st = vi_fit_run(f, NULL, NULL);
  vi_final fin;
  if (st >= 0 || st == VI_EMAXITER) st = vi_fit_finish(f, &fin);
  *elbo = fin.elbo;
  *gevals = (double)vi_fit_diag(f)->n_gevals;
  vi_fit_free(f);
  return st;
}

static int sweep(const vi_model *m)
{
  double best = -INFINITY, e, g;
  for (unsigned long seed = 1; seed <= 5; seed++) {
    if (fit_once(m, VI_FRESH_DRAWS, 256, seed, &e, &g) != VI_SUCCESS) return 1;
    if (e > best) best = e;
  }
  printf("# bfgs2 on fixed draws, logistic regression N=%d D=%d, 5 seeds; gap = best "
         "ELBO (fresh-draw Adam, M=256) - ELBO of the fitted q\n", N, D);
  printf("%6s %10s %14s %10s %10s\n", "M", "gevals", "points", "gap", "max gap");
  for (size_t M = 8; M <= 256; M *= 2) {
    double sg = 0.0, sgap = 0.0, mgap = 0.0;
    for (unsigned long seed = 1; seed <= 5; seed++) {
      if (fit_once(m, VI_FIXED_DRAWS, M, seed, &e, &g) != VI_SUCCESS) return 1;
      sg += g / 5.0;
      sgap += (best - e) / 5.0;
      if (best - e > mgap) mgap = best - e;
    }
    printf("%6zu %10.1f %14.0f %10.3f %10.3f\n", M, sg, sg * (double)M, sgap, mgap);
  }
  return 0;
}

int main(int argc, char **argv)
{
  int do_sweep = argc > 1 && strcmp(argv[1], "sweep") == 0;
  size_t M = argc > 1 && !do_sweep ? (size_t)strtoul(argv[1], NULL, 10) : 32;
  unsigned long seed = argc > 2 ? strtoul(argv[2], NULL, 10) : 1;
  static double X[N * D];
  static int y[N];
  cm_logreg_simulate(42, N, D, X, y, NULL);
  cm_logreg *c = cm_logreg_alloc(X, y, N, D, 1.0);
  if (!c) return 1;
  vi_model m;
  cm_logreg_model(c, &m);
  if (do_sweep) {
    int r = sweep(&m);
    cm_logreg_free(c);
    return r;
  }
  static const struct { const char *name; vi_estimator e; vi_optimizer o; } runs[] = {
    {"bfgs2", VI_FIXED_DRAWS, VI_OPT_BFGS2},
    {"cg-fr", VI_FIXED_DRAWS, VI_OPT_CG_FR},
    {"cg-pr", VI_FIXED_DRAWS, VI_OPT_CG_PR},
    {"steepest", VI_FIXED_DRAWS, VI_OPT_STEEPEST},
    {"adam(fresh)", VI_FRESH_DRAWS, VI_OPT_ADAM},
  };
  printf("# logistic regression N=%d D=%d, M=%zu draws, seed %lu; final ELBO from 2000 "
         "fresh draws\n", N, D, M, seed);
  printf("%-12s %-40s %6s %7s %7s %12s %8s %8s\n", "optimiser", "stop", "iters", "fevals",
         "gevals", "ELBO", "+-se", "seconds");
  int rc = 0;
  for (size_t k = 0; k < sizeof runs / sizeof runs[0]; k++) {
    vi_options opt;
    vi_options_default_for(&opt, runs[k].e);
    opt.optimizer = runs[k].o;
    opt.draws = M;
    opt.seed = seed;
    int st;
    vi_fit *f = vi_fit_alloc(&m, &opt, &st);
    if (!f) {
      printf("%-12s alloc failed: %s\n", runs[k].name, vi_strerror(st));
      rc = 1;
      continue;
    }
    st = vi_fit_run(f, NULL, NULL);
    vi_final fin;
    int st2 = vi_fit_finish(f, &fin);
    const vi_diag *d = vi_fit_diag(f);
    printf("%-12s %-40s %6zu %7zu %7zu %12.4f %8.4f %8.3f\n", runs[k].name,
           st < 0 && st != VI_EMAXITER ? vi_strerror(st)
                                       : vi_stop_reason_string(vi_fit_stop_reason(f)),
           d->iter, d->n_fevals, d->n_gevals, st2 == VI_SUCCESS ? fin.elbo : 0.0,
           st2 == VI_SUCCESS ? fin.elbo_se : 0.0, d->seconds);
    vi_fit_free(f);
  }
  cm_logreg_free(c);
  return rc;
}
