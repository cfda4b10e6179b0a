/* bench/lrvb_cost.c: what the linear-response covariance (vi_fit_lrvb) costs against the
 * fit it follows, at D = 10, 100, 1000, on two posteriors with a known covariance:
 *
 *   ar1     a stationary AR(1) chain, lag-one correlation 0.9, unit marginal sds
 *           (tridiagonal precision; mean-field sds 0.44);
 *   linreg  a linear regression (n = 2 D) whose predictors share a common factor
 *           (X_ij = f_i + 0.5 e_ij: pairwise correlations 0.8), cm_linreg.
 *
 * Each is fitted with the library's defaults and the Laplace start (as `vi fit` does),
 * then vi_fit_lrvb runs.  Printed: the fit's model points (its Laplace start included)
 * and final M, LRVB's model points (M + 2 D M) and both in seconds, and the largest
 * relative error of the LRVB sds against the exact ones.  Model points are the
 * machine-independent cost; seconds include LRVB's O(D^3) factorisation of the 2D x 2D
 * Hessian, which dominates at D = 1000 when a model point is cheap.
 *
 *   lrvb_cost [--dims 10,100,1000] */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <vi.h>
#include "c_models.h"

#define RHO 0.9

static int ar1_log_joint(void *ctx, size_t n, const double *z, double *lp, double *grad)
{
  size_t D = *(const size_t *)ctx;
  double c = 1.0 / (1.0 - RHO * RHO);
  for (size_t s = 0; s < n; s++) {
    const double *x = z + s * D;
    double q = 0.0;
    for (size_t i = 0; i < D; i++) {
      double pi = (i == 0 || i == D - 1 ? c : c * (1.0 + RHO * RHO)) * x[i];
      if (i > 0) pi -= RHO * c * x[i - 1];
      if (i + 1 < D) pi -= RHO * c * x[i + 1];
      q += x[i] * pi;
      if (grad) grad[s * D + i] = -pi;
    }
    /* log det P = -(D - 1) log(1 - rho^2) */
    lp[s] = -0.5 * q - 0.5 * (double)D * 1.8378770664093454836 +
            0.5 * (double)(D - 1) * log(c);
  }
  return VI_SUCCESS;
}

static void run(const char *name, const vi_model *m, const double *exact_sd)
{
  size_t D = m->dim;
  vi_options opt;
  vi_options_default(&opt);
  opt.init = VI_INIT_LAPLACE;
  int st;
  vi_fit *f = vi_fit_alloc(m, &opt, &st);
  if (!f) {
    printf("| %s | %zu | fit failed: %s |\n", name, D, vi_strerror(st));
    return;
  }
  st = vi_fit_run(f, NULL, NULL);
  const vi_diag *d = vi_fit_diag(f);
  double *cov = malloc(D * D * sizeof *cov);
  vi_lrvb_info li;
  int ls = cov ? vi_fit_lrvb(f, cov, &li) : VI_ENOMEM;
  double err = NAN;
  if (ls == VI_SUCCESS) {
    err = 0.0;
    for (size_t j = 0; j < D; j++)
      err = fmax(err, fabs(sqrt(cov[j * D + j]) / exact_sd[j] - 1.0));
  }
  printf("| %s | %zu | %s | %zu | %zu | %.3f | %zu | %.2f | %.3f | %.2g |\n", name, D,
         vi_stop_reason_string(vi_fit_stop_reason(f)), d->n_points, li.draws, d->seconds,
         li.n_points, (double)li.n_points / (double)d->n_points, li.seconds, err);
  if (ls != VI_SUCCESS) printf("  lrvb: %s\n", vi_strerror(ls));
  free(cov);
  vi_fit_free(f);
}

int main(int argc, char **argv)
{
  const char *dims = "10,100,1000";
  if (argc == 3 && strcmp(argv[1], "--dims") == 0) dims = argv[2];
  else if (argc != 1) {
    fputs("usage: lrvb_cost [--dims 10,100,1000]\n", stderr);
    return 2;
  }
  printf("| model | D | stop | fit points | final M | fit s | LRVB points | LRVB / fit | "
         "LRVB s | max sd error |\n|---|---|---|---|---|---|---|---|---|---|\n");
  for (const char *p = dims; *p;) {
    size_t D = strtoul(p, NULL, 10);
    p = strchr(p, ',') ? strchr(p, ',') + 1 : p + strlen(p);
    if (D < 2) continue;
    double *sd = malloc(D * sizeof *sd);
    for (size_t j = 0; j < D; j++) sd[j] = 1.0;
    vi_model m = {.dim = D, .log_joint = ar1_log_joint, .ctx = &D};
    run("ar1", &m, sd);

    size_t n = 2 * D;
    double *X = malloc(n * D * sizeof *X), *y = malloc(n * sizeof *y);
    double *S = malloc(D * D * sizeof *S);
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, 17);
    for (size_t i = 0; i < n; i++) {
      double fi = gsl_ran_gaussian_ziggurat(r, 1.0), eta = 0.0;
      for (size_t j = 0; j < D; j++) {
        X[i * D + j] = fi + 0.5 * gsl_ran_gaussian_ziggurat(r, 1.0);
        eta += X[i * D + j] * ((double)(j % 5) - 2.0) / 10.0;
      }
      y[i] = eta + gsl_ran_gaussian_ziggurat(r, 1.0);
    }
    gsl_rng_free(r);
    cm_linreg *c = cm_linreg_alloc(X, y, n, D, 1.0, 1.0);
    if (c) {
      cm_linreg_posterior(c, NULL, S);
      for (size_t j = 0; j < D; j++) sd[j] = sqrt(S[j * D + j]);
      cm_linreg_model(c, &m);
      run("linreg", &m, sd);
    }
    cm_linreg_free(c);
    free(X); free(y); free(S); free(sd);
  }
  return 0;
}
