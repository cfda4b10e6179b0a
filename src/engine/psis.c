/* psis.c: the Pareto k-hat diagnostic of Pareto-smoothed importance sampling (Vehtari,
 * Simpson, Gelman, Yao & Gabry, "Pareto smoothed importance sampling", JMLR 2024; Yao et
 * al. 2018 for its use on variational approximations).  A generalized Pareto distribution
 * is fitted to the M = ceil(min(n/5, 3 sqrt(n))) largest importance weights (their excess
 * over the largest weight outside the tail) with the empirical-Bayes estimator of Zhang &
 * Stephens ("A new and efficient estimation method for the generalized Pareto
 * distribution", Technometrics 2009), including the weakly informative shrinkage of k
 * towards 0.5 that PSIS applies.  k < 0.5 good, 0.5-0.7 ok, > 0.7 unreliable.
 * Smoothing replaces the tail weights by the fitted distribution's quantiles at
 * (i - 1/2) / M, capped at the largest raw weight (Vehtari et al., sec. 3).  Resampling
 * without replacement with probabilities proportional to the weights (as Pathfinder does,
 * Zhang, Carpenter, Gelman & Vehtari, JMLR 2022) takes the k largest of log w + Gumbel
 * noise: that is the same law as drawing one at a time proportionally to the remaining
 * weights (Efraimidis & Spirakis 2006; the "Gumbel-top-k trick"). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <vi/info.h>
#include <vi/status.h>

static int psis_cmp(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Zhang & Stephens estimate of the GPD shape k (shrunk, as PSIS reports it) and scale
 * sigma from n >= 2 exceedances x sorted ascending (x[n-1] > 0).  Their parametrisation:
 * theta = -k / sigma. */
static double psis_gpd_fit(const double *x, size_t n, double *sigma)
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
  *sigma = -k / th;
  /* weakly informative prior: shrink towards 0.5 as if with 10 extra observations */
  return k * (double)n / ((double)n + 10.0) + 10.0 * 0.5 / ((double)n + 10.0);
}

typedef struct { double v; size_t i; } psis_item;

static int psis_item_cmp(const void *a, const void *b)
{
  double x = ((const psis_item *)a)->v, y = ((const psis_item *)b)->v;
  return (x > y) - (x < y);
}

/* The tail size M = ceil(min(n/5, 3 sqrt(n))), at least 4 and at most n - 1. */
static size_t psis_tail(size_t n)
{
  size_t m = (size_t)ceil(fmin(0.2 * (double)n, 3.0 * sqrt((double)n)));
  if (m < 4) m = 4;
  if (m > n - 1) m = n - 1;
  return m;
}

/* Fit the tail of the log-weights s (sorted ascending, n >= 5): k-hat, and the GPD's
 * scale in units of the largest weight.  The tail's exceedances go to x (m values). */
static double psis_fit_sorted(const double *s, size_t n, size_t m, double *x, double *sigma)
{
  double top = s[n - 1], cut = s[n - m - 1];
  *sigma = NAN;
  if (!isfinite(top)) return NAN;               /* all weights zero */
  if (top - cut <= 0.0) return -INFINITY;       /* a flat tail: no heavy tail at all */
  /* exceedances over the cut-off, scaled by the largest weight (exp(top) = 1) */
  double ec = exp(cut - top);
  for (size_t i = 0; i < m; i++) x[i] = exp(s[n - m + i] - top) - ec;
  return psis_gpd_fit(x, m, sigma);
}

/* n log-weights, each finite or -inf: copied to s (sorted ascending, with their indices
 * when items is not NULL).  0, or -1 on NaN or +inf. */
static int psis_sorted(const double *log_w, size_t n, double *s, psis_item *items)
{
  for (size_t i = 0; i < n; i++) {
    if (isnan(log_w[i]) || log_w[i] == INFINITY) return -1;
    if (items) items[i] = (psis_item){log_w[i], i};
    else s[i] = log_w[i];   /* -inf (zero weight) stays: it sorts first */
  }
  if (items) {
    qsort(items, n, sizeof *items, psis_item_cmp);
    for (size_t i = 0; i < n; i++) s[i] = items[i].v;
  } else {
    qsort(s, n, sizeof(double), psis_cmp);
  }
  return 0;
}

double vi_info_psis_khat(const double *log_w, size_t n)
{
  if (!log_w || n < 5) return NAN;
  double *s = malloc(2 * n * sizeof(double)), sigma, k = NAN;
  if (!s) return NAN;
  if (psis_sorted(log_w, n, s, NULL) == 0) k = psis_fit_sorted(s, n, psis_tail(n), s + n, &sigma);
  free(s);
  return k;
}

double vi_info_psis_smooth(double *log_w, size_t n)
{
  if (!log_w || n < 5) return NAN;
  double *s = malloc(2 * n * sizeof(double)), sigma, k = NAN;
  psis_item *it = malloc(n * sizeof *it);
  if (!s || !it || psis_sorted(log_w, n, s, it) != 0) goto done;
  size_t m = psis_tail(n);
  k = psis_fit_sorted(s, n, m, s + n, &sigma);
  if (!isfinite(k) || !(sigma > 0.0)) goto done;   /* nothing to smooth */
  double top = s[n - 1], ec = exp(s[n - m - 1] - top);
  for (size_t i = 0; i < m; i++) {
    double p = ((double)i + 0.5) / (double)m;
    /* the GPD quantile sigma/k ((1 - p)^-k - 1); -sigma log(1 - p) as k -> 0 */
    double q = fabs(k) < 1e-12 ? -sigma * log1p(-p) : sigma / k * expm1(-k * log1p(-p));
    double w = fmin(q + ec, 1.0);
    log_w[it[n - m + i].i] = top + log(w);
  }
done:
  free(s);
  free(it);
  return k;
}

int vi_info_resample(const double *log_w, size_t n, size_t k, gsl_rng *rng, size_t *idx)
{
  if (!log_w || !rng || !idx || k > n) return VI_EINVAL;
  psis_item *it = malloc((n ? n : 1) * sizeof *it);
  if (!it) return VI_ENOMEM;
  size_t positive = 0;
  for (size_t i = 0; i < n; i++) {
    if (isnan(log_w[i]) || log_w[i] == INFINITY) { free(it); return VI_EINVAL; }
    double u = gsl_rng_uniform_pos(rng);
    /* a zero weight never wins; the others: log w + Gumbel(0, 1) */
    it[i] = (psis_item){log_w[i] == -INFINITY ? -INFINITY : log_w[i] - log(-log(u)), i};
    if (log_w[i] > -INFINITY) positive++;
  }
  if (positive < k) { free(it); return VI_ENONFINITE; }
  qsort(it, n, sizeof *it, psis_item_cmp);
  for (size_t j = 0; j < k; j++) idx[j] = it[n - 1 - j].i;
  free(it);
  /* in the order they were drawn from the proposal */
  for (size_t a = 1; a < k; a++)
    for (size_t b = a; b > 0 && idx[b - 1] > idx[b]; b--) {
      size_t t = idx[b]; idx[b] = idx[b - 1]; idx[b - 1] = t;
    }
  return VI_SUCCESS;
}
