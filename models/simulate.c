/* simulate.c: deterministic synthetic data sets for the C example models (tests and the
 * benchmark): everything is drawn from a Mersenne Twister seeded with the caller's seed,
 * in a fixed order, so a seed names a data set. */
#include <math.h>
#include <stdlib.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include "c_models.h"

static gsl_rng *sim_rng(unsigned long seed)
{
  gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
  if (r) gsl_rng_set(r, seed);
  return r;
}

void cm_normal_simulate(unsigned long seed, size_t n, double theta, double sigma, double *y)
{
  gsl_rng *r = sim_rng(seed);
  if (!r) return;
  for (size_t i = 0; i < n; i++) y[i] = theta + sigma * gsl_ran_gaussian_ziggurat(r, 1.0);
  gsl_rng_free(r);
}

/* beta, then X row by row; returns the rng for the responses */
static gsl_rng *sim_design(unsigned long seed, size_t n, size_t d, double *X, double *b)
{
  gsl_rng *r = sim_rng(seed);
  if (!r) return NULL;
  for (size_t j = 0; j < d; j++) b[j] = gsl_ran_gaussian_ziggurat(r, 1.0);
  for (size_t k = 0; k < n * d; k++) X[k] = gsl_ran_gaussian_ziggurat(r, 1.0);
  return r;
}

void cm_linreg_simulate(unsigned long seed, size_t n, size_t d, double sigma, double *X,
                        double *y, double *beta)
{
  double *b = beta ? beta : malloc(d * sizeof(double));
  gsl_rng *r = b ? sim_design(seed, n, d, X, b) : NULL;
  if (!r) {
    if (!beta) free(b);
    return;
  }
  for (size_t i = 0; i < n; i++) {
    double eta = 0.0;
    for (size_t j = 0; j < d; j++) eta += X[i * d + j] * b[j];
    y[i] = eta + sigma * gsl_ran_gaussian_ziggurat(r, 1.0);
  }
  gsl_rng_free(r);
  if (!beta) free(b);
}

void cm_logreg_simulate(unsigned long seed, size_t n, size_t d, double *X, int *y,
                        double *beta)
{
  double *b = beta ? beta : malloc(d * sizeof(double));
  gsl_rng *r = b ? sim_design(seed, n, d, X, b) : NULL;
  if (!r) {
    if (!beta) free(b);
    return;
  }
  for (size_t i = 0; i < n; i++) {
    double eta = 0.0;
    for (size_t j = 0; j < d; j++) eta += X[i * d + j] * b[j];
    y[i] = gsl_rng_uniform(r) < 1.0 / (1.0 + exp(-eta));
  }
  gsl_rng_free(r);
  if (!beta) free(b);
}
