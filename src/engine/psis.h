/* psis.h: Pareto-smoothed importance sampling inside libvi and its command (not part of
 * the public API; vi_info_psis_khat in vi/info.h is the public face of the same fit). */
#ifndef VI_ENGINE_PSIS_H
#define VI_ENGINE_PSIS_H

#include <stddef.h>

/* The generalized Pareto tail fitted to the largest weights.  Weights are scaled so that
 * the largest is 1: the tail's weights are cutoff + GPD(k, sigma) draws. */
typedef struct psis_tail {
  size_t n_tail;   /* weights in the tail (0: no tail was fitted) */
  double k;        /* shape, the k-hat diagnostic (shrunk towards 0.5 as PSIS does) */
  double sigma;    /* scale, in units of the largest weight */
  double cutoff;   /* exp(log weight just below the tail - largest log weight) */
  double log_max;  /* the largest log weight */
} psis_tail;

/* Smooth n log-weights: the n_tail largest are replaced, rank for rank, by the expected
 * order statistics of the fitted tail (the GPD quantiles at (i - 1/2) / n_tail), never
 * above the largest raw weight; the others are kept.  smoothed (n values, unnormalised,
 * on the scale of log_w) may be NULL when only the tail is wanted.  Returns 0, or -1 when
 * the weights hold a NaN or +inf or memory ran out; with n < 5 or a flat or NaN fit the
 * weights are copied unsmoothed and tail->k is NaN (too few) or -inf (flat). */
int psis_smooth(const double *log_w, size_t n, double *smoothed, psis_tail *tail);

/* The GPD quantile function at p in [0, 1). */
double psis_gpd_quantile(double p, double k, double sigma);

#endif
