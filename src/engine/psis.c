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

/* Zhang & Stephens estimate of the GPD shape k (returned) and scale *sigma from n >= 2
 * exceedances x sorted ascending (x[n-1] > 0).  Their parametrisation: theta = -k /
 * sigma; sigma comes from k before the shrinkage, as in the paper's reference code. */
static double psis_gpd_k(const double *x, size_t n, double *sigma)
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

double vi_info_gpd_quantile(double p, double k, double sigma)
{
  if (fabs(k) < 1e-12)
    return -sigma * log1p(-p);
  return sigma * expm1(-k * log1p(-p)) / k;
}

typedef struct psis_ranked {
  double lw;
  size_t at;
} psis_ranked;

static int psis_ranked_cmp(const void *a, const void *b)
{
  return psis_cmp(&((const psis_ranked *)a)->lw, &((const psis_ranked *)b)->lw);
}

int vi_info_psis(const double *log_w, size_t n, double *smoothed, vi_psis_tail *tail)
{
  tail->n_tail = 0;
  tail->k = tail->sigma = tail->cutoff = tail->log_max = NAN;
  for (size_t i = 0; i < n; i++)
    if (isnan(log_w[i]) || log_w[i] == INFINITY) return -1;
  if (smoothed)
    for (size_t i = 0; i < n; i++) smoothed[i] = log_w[i];
  if (n < 5) return 0;
  psis_ranked *r = malloc(n * sizeof *r);
  double *x = malloc(n * sizeof *x);
  if (!r || !x) { free(r); free(x); return -1; }
  for (size_t i = 0; i < n; i++) r[i] = (psis_ranked){log_w[i], i};
  /* -inf (zero weight) sorts first */
  qsort(r, n, sizeof *r, psis_ranked_cmp);
  double tm = ceil(fmin(0.2 * (double)n, 3.0 * sqrt((double)n)));
  size_t m = (size_t)tm;
  if (m < 4) m = 4;          /* small n: keep enough points to fit a tail at all */
  if (m > n - 1) m = n - 1;
  double top = r[n - 1].lw, cut = r[n - m - 1].lw;
  tail->log_max = top;
  if (!isfinite(top)) {
    tail->k = NAN;           /* all weights zero */
  } else if (top - cut <= 0.0) {
    tail->k = -INFINITY;     /* a flat tail: no heavy tail at all */
  } else {
    /* exceedances over the cut-off, scaled by the largest weight (exp(top) = 1) */
    double ec = exp(cut - top), sigma = NAN;
    for (size_t i = 0; i < m; i++) x[i] = exp(r[n - m + i].lw - top) - ec;
    double k = psis_gpd_k(x, m, &sigma);
    tail->k = k;
    if (isfinite(k) && sigma > 0.0) {
      tail->n_tail = m;
      tail->sigma = sigma;
      tail->cutoff = ec;
      for (size_t i = 0; smoothed && i < m; i++) {
        double w = ec + vi_info_gpd_quantile(((double)i + 0.5) / (double)m, k, sigma);
        smoothed[r[n - m + i].at] = top + log(fmin(w, 1.0));
      }
    }
  }
  free(r);
  free(x);
  return 0;
}

double vi_info_psis_khat(const double *log_w, size_t n)
{
  vi_psis_tail t;
  if (!log_w || n < 5 || vi_info_psis(log_w, n, NULL, &t) != 0)
    return NAN;
  return t.k;
}

double vi_info_psis_smooth(double *log_w, size_t n)
{
  vi_psis_tail t;
  if (!log_w || n < 5 || vi_info_psis(log_w, n, log_w, &t) != 0)
    return NAN;
  return t.k;
}

int vi_info_resample(const double *log_w, size_t n, size_t k, gsl_rng *rng, size_t *idx)
{
  if (!log_w || !rng || !idx || k > n) return VI_EINVAL;
  psis_ranked *it = malloc((n ? n : 1) * sizeof *it);
  if (!it) return VI_ENOMEM;
  size_t positive = 0;
  for (size_t i = 0; i < n; i++) {
    if (isnan(log_w[i]) || log_w[i] == INFINITY) { free(it); return VI_EINVAL; }
    double u = gsl_rng_uniform_pos(rng);
    /* a zero weight never wins; the others: log w + Gumbel(0, 1) */
    it[i] = (psis_ranked){log_w[i] == -INFINITY ? -INFINITY : log_w[i] - log(-log(u)), i};
    if (log_w[i] > -INFINITY) positive++;
  }
  if (positive < k) { free(it); return VI_ENONFINITE; }
  qsort(it, n, sizeof *it, psis_ranked_cmp);
  for (size_t j = 0; j < k; j++) idx[j] = it[n - 1 - j].at;
  free(it);
  /* in the order they were drawn from the proposal */
  for (size_t a = 1; a < k; a++)
    for (size_t b = a; b > 0 && idx[b - 1] > idx[b]; b--) {
      size_t t = idx[b]; idx[b] = idx[b - 1]; idx[b - 1] = t;
    }
  return VI_SUCCESS;
}
