/* bench/fixed_optimizers.c: how many iterations and gradient evaluations each optimiser
 * needs on the logistic-regression C model (models/c_models.h; N = 1000, D = 10, data
 * seed 42), fixed draws with every GSL type and fresh draws with Adam, same fit seed.
 * Prints one row per optimiser: stop reason, iterations, gradient evaluations (each over
 * M draws), the final fresh-draw ELBO with its standard error, and wall-clock seconds
 * (the only column that varies between runs).  Usage: fixed_optimizers [M] [seed]. */
#include <stdio.h>
#include <stdlib.h>
#include <vi/fit.h>
#include <vi/status.h>
#include "c_models.h"

#define N 1000
#define D 10

int main(int argc, char **argv)
{
  size_t M = argc > 1 ? (size_t)strtoul(argv[1], NULL, 10) : 32;
  unsigned long seed = argc > 2 ? strtoul(argv[2], NULL, 10) : 1;
  static double X[N * D];
  static int y[N];
  cm_logreg_simulate(42, N, D, X, y, NULL);
  cm_logreg *c = cm_logreg_alloc(X, y, N, D, 1.0);
  if (!c) return 1;
  vi_model m;
  cm_logreg_model(c, &m);
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
