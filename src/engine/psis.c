/* psis.c: the Pareto k-hat diagnostic of Pareto-smoothed importance sampling (Vehtari,
 * Simpson, Gelman, Yao & Gabry, "Pareto smoothed importance sampling", JMLR 2024; Yao et
 * al. 2018 for its use on variational approximations).  A generalized Pareto distribution
 * is fitted to the M = ceil(min(n/5, 3 sqrt(n))) largest importance weights (their excess
 * over the largest weight outside the tail) with the empirical-Bayes estimator of Zhang &
 * Stephens ("A new and efficient estimation method for the generalized Pareto
 * distribution", Technometrics 2009), including the weakly informative shrinkage of k
 * towards 0.5 that PSIS applies.  k < 0.5 good, 0.5-0.7 ok, > 0.7 unreliable. */
#include <math.h>
#include <stdlib.h>
#include <vi/info.h>

static int psis_cmp(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Zhang & Stephens estimate of the GPD shape k from n >= 2 exceedances x sorted
 * ascending (x[n-1] > 0).  Their parametrisation: theta = -k / sigma. */
static double psis_gpd_k(const double *x, size_t n)
{
  const double prior = 3.0;
  size_t m = 30 + (size_t)floor(sqrt((double)n));
  size_t iq = (size_t)floor((double)n / 4.0 + 0.5);   /* first quartile, 1-based */
  if (iq < 1) iq = 1;
  double xstar = x[iq - 1];
  if (!(xstar > 0.0)) {   /* many ties at zero: fall back to the smallest positive value */
    for (size_t i = 0; i < n; i++)
      if (x[i] > 0.0) { xstar = x[i]; break; }
  }
  double *theta = malloc(2 * m * sizeof(double));
  if (!theta) return NAN;
  double *lt = theta + m, lmax = -INFINITY;
  for (size_t j = 0; j < m; j++) {
    theta[j] = 1.0 / x[n - 1] + (1.0 - sqrt((double)m / ((double)j + 0.5))) / prior / xstar;
    /* profile log-likelihood: n (log(-theta / k) - k - 1), k = mean log1p(-theta x) */
    double k = 0.0;
    for (size_t i = 0; i < n; i++) k += log1p(-theta[j] * x[i]);
    k /= (double)n;
    double r = -theta[j] / k;
    lt[j] = (r > 0.0 && isfinite(k)) ? (double)n * (log(r) - k - 1.0) : -INFINITY;
    if (lt[j] > lmax) lmax = lt[j];
  }
  double wsum = 0.0, th = 0.0;
  for (size_t j = 0; j < m; j++) {
    double w = exp(lt[j] - lmax);
    wsum += w;
    th += w * theta[j];
  }
  free(theta);
  if (!(wsum > 0.0)) return NAN;
  th /= wsum;
  double k = 0.0;
  for (size_t i = 0; i < n; i++) k += log1p(-th * x[i]);
  k /= (double)n;   /* k = mean log1p(-theta x), the posterior-mean shape */
  /* weakly informative prior: shrink towards 0.5 as if with 10 extra observations */
  return k * (double)n / ((double)n + 10.0) + 10.0 * 0.5 / ((double)n + 10.0);
}

double vi_info_psis_khat(const double *log_w, size_t n)
{
  if (!log_w || n < 5) return NAN;
  double *s = malloc(n * sizeof(double));
  if (!s) return NAN;
  size_t ok = 0;
  for (size_t i = 0; i < n; i++) {
    if (isnan(log_w[i]) || log_w[i] == INFINITY) { free(s); return NAN; }
    s[ok++] = log_w[i];   /* -inf (zero weight) stays: it sorts first */
  }
  qsort(s, n, sizeof(double), psis_cmp);
  double tm = ceil(fmin(0.2 * (double)n, 3.0 * sqrt((double)n)));
  size_t m = (size_t)tm;
  if (m < 4) m = 4;          /* small n: keep enough points to fit a tail at all */
  if (m > n - 1) m = n - 1;
  double top = s[n - 1], cut = s[n - m - 1];
  double k;
  if (!isfinite(top)) {
    k = NAN;                 /* all weights zero */
  } else if (top - cut <= 0.0) {
    k = -INFINITY;           /* a flat tail: no heavy tail at all */
  } else {
    /* exceedances over the cut-off, scaled by the largest weight (exp(top) = 1) */
    double *x = s + (n - m), ec = exp(cut - top);
    for (size_t i = 0; i < m; i++) x[i] = exp(x[i] - top) - ec;
    k = psis_gpd_k(x, m);
  }
  free(s);
  return k;
}
