/* builtins_dist.c: the distributions of the model language -- every density's
 * _lpdf/_lpmf (and the _lupdf/_lupmf aliases, same value: vi keeps normalising
 * constants), _rng, and the cdfs used by truncation -- batched over the draws on the
 * AD tape with hand-written reverse-mode gradients.  Parameterisations and supports
 * follow the Stan Functions Reference.  This file holds the elementwise (univariate)
 * densities and cdfs, the generic broadcasting loop they share, and the table;
 * builtins_dist_multi.c holds the vector- and matrix-valued densities,
 * builtins_dist_glm.c the fused GLM densities, builtins_rng.c the _rng functions, and
 * dist_impl.h / dist_common.c the helpers they share.
 *
 * The generic loop: every argument is a scalar or a one-dimensional container of a
 * common length N (a mismatch is an error naming both arguments); the density of
 * element e in draw s reads argument i at x[e * es + s * ds] (es = nd for containers,
 * 0 for scalars; ds = 1 for varying values, 0 for data).  A per-distribution kernel
 * returns the log density of one element and its partials; the loop, forced inline so
 * the kernel inlines into it, sums values per draw and accumulates partials into arena
 * arrays (one per argument with an adjoint: per element for containers, per draw for
 * broadcast scalars).  The reverse step multiplies them by the output's adjoint.  A
 * draw with an invalid parameter or y outside the support gets -inf (its partials are
 * skipped); NaN inputs propagate as NaN. */
#include <string.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_sf_gamma.h>
#include <gsl/gsl_sf_bessel.h>
#include <gsl/gsl_cdf.h>
#include "lang/lib/lib.h"
#include "lang/lib/dist_impl.h"
#include "lang/ad/vmath.h"

#define DMAX 4
#define NEED(i) (need & (1u << (i)))

/* ---- the generic elementwise loop --------------------------------------------- */

/* Kernel: log density of one element given the argument values a[]; writes g[i] =
 * d/da[i] for the bits set in need (it may write others).  Returns -inf for an invalid
 * parameter or y outside the support (g then unused). */
typedef double (*dist_kernel)(const double *a, double *g, unsigned need);

typedef struct {
  const char *name;                 /* for messages: "normal_lpdf" */
  const char *argn[DMAX];           /* argument names: "y", "mu", "sigma" */
  double (*yterm)(double y);        /* optional term of y alone (an int: no gradient),
                                       computed once per element when y is data */
  int cdf;                          /* 1: the result is exp(sum), as Stan's _cdf */
} dist_desc;

typedef struct {
  int na;
  size_t N, ndo;
  const double *x[DMAX];
  size_t es[DMAX], ds[DMAX];
  double *P[DMAX];
  size_t pes[DMAX];
  unsigned need;
  ad_val *out;
} dist_ctx;

/* zero: clear the partials arrays (a kernel that writes every entry passes 0). */
static int dist_setup_z(ad_tape *t, const dist_desc *d, ad_val **args, int na, dist_ctx *c,
                        int zero)
{
  int first = -1;
  c->na = na;
  c->N = 1;
  for (int i = 0; i < na; i++) {
    if (type_rank(args[i]->type) == 0) continue;
    if (first < 0) { first = i; c->N = args[i]->len; }
    else if (args[i]->len != c->N) {
      ad_tape_set_error(t, "%s: size of %s (%zu) and %s (%zu) differ", d->name,
                        d->argn[first], c->N, d->argn[i], args[i]->len);
      return -1;
    }
  }
  c->out = dist_new_result(t, args, na);
  if (!c->out) return -1;
  c->ndo = c->out->nd;
  c->need = 0;
  for (int i = 0; i < na; i++) {
    int cont = type_rank(args[i]->type) > 0;
    c->x[i] = args[i]->x;
    c->es[i] = cont ? args[i]->nd : 0;
    c->ds[i] = args[i]->nd > 1 ? 1 : 0;
    c->P[i] = NULL;
    c->pes[i] = cont ? c->ndo : 0;
    if (c->out->adj && args[i]->adj) {
      size_t np = (cont ? c->N : 1) * c->ndo;
      c->P[i] = zero ? dist_zeros(t, np) : ad_alloc(t, (np ? np : 1) * sizeof *c->P[i]);
      if (!c->P[i]) { ad_tape_set_error(t, "out of memory in %s", d->name); return -1; }
      c->need |= 1u << i;
    }
  }
  return 0;
}

static int dist_setup(ad_tape *t, const dist_desc *d, ad_val **args, int na, dist_ctx *c)
{
  return dist_setup_z(t, d, args, na, c, 1);
}

static ad_val *dist_finish(ad_tape *t, const dist_desc *d, ad_val **args, dist_ctx *c)
{
  ad_val *out = c->out;
  if (d->yterm && c->N > 0) {
    /* sum over y's elements, once per element when y is data */
    const ad_val *y = args[0];
    size_t L = type_rank(y->type) > 0 ? y->len : 1;
    double mult = type_rank(y->type) > 0 ? 1.0 : (double)c->N;
    if (y->nd == 1) {
      double acc = 0;
      for (size_t e = 0; e < L; e++) acc += d->yterm(y->x[e]);
      for (size_t s = 0; s < c->ndo; s++) out->x[s] += mult * acc;
    } else {
      for (size_t e = 0; e < L; e++)
        for (size_t s = 0; s < c->ndo; s++) out->x[s] += mult * d->yterm(y->x[e * y->nd + s]);
    }
  }
  if (d->cdf) {
    for (size_t s = 0; s < c->ndo; s++) out->x[s] = exp(out->x[s]);
    for (int i = 0; i < c->na; i++) {
      if (!c->P[i]) continue;
      size_t L = c->pes[i] ? c->N : 1;
      for (size_t e = 0; e < L; e++)
        for (size_t s = 0; s < c->ndo; s++) c->P[i][e * c->ndo + s] *= out->x[s];
    }
  }
  if (dist_push_partials(t, out, args, c->na, c->P)) return NULL;
  return out;
}

static inline __attribute__((always_inline)) ad_val *
dist_run(ad_tape *t, const dist_desc *d, ad_val **args, int na, dist_kernel k)
{
  dist_ctx c;
  if (dist_setup(t, d, args, na, &c)) return NULL;
  double *acc = c.out->x;
  const unsigned need = c.need;
  for (size_t e = 0; e < c.N; e++) {
    size_t base[DMAX];
    for (int i = 0; i < na; i++) base[i] = e * c.es[i];
    for (size_t s = 0; s < c.ndo; s++) {
      double a[DMAX], g[DMAX] = {0, 0, 0, 0};
      for (int i = 0; i < na; i++) a[i] = c.x[i][base[i] + s * c.ds[i]];
      double v = k(a, g, need);
      acc[s] += v;
      if (need && isfinite(v))
        for (int i = 0; i < na; i++)
          if (NEED(i)) c.P[i][e * c.pes[i] + s] += g[i];
    }
  }
  return dist_finish(t, d, args, &c);
}

/* Define impl_<fn>(t, args, nargs) running kernel k_<kern> with the given names. */
#define DIST_DEFINE(fn, kern, yt, cdfmode, ...)                                        \
  static const dist_desc desc_##fn = {#fn, {__VA_ARGS__}, yt, cdfmode};               \
  static ad_val *impl_##fn(ad_tape *t, ad_val **args, int nargs)                      \
  {                                                                                    \
    /* the argument count as a constant, so the inlined loop unrolls */             \
    enum { NA = sizeof((const char *[]){__VA_ARGS__}) / sizeof(const char *) };        \
    if (nargs != NA) { ad_tape_set_error(t, "%s: expected %d arguments", #fn, NA); return NULL; } \
    return dist_run(t, &desc_##fn, args, NA, k_##kern);                               \
  }

/* ---- continuous densities ---------------------------------------------------- */

static inline double k_normal(const double *a, double *g, unsigned need)
{
  double y = a[0], mu = a[1], sigma = a[2];
  if (sigma <= 0) return -INFINITY;
  double is = 1.0 / sigma, z = (y - mu) * is;
  g[0] = -z * is; g[1] = z * is; g[2] = (z * z - 1) * is;
  return -0.5 * z * z - log(sigma) - DIST_LOG_SQRT_2PI;
}

static inline double k_std_normal(const double *a, double *g, unsigned need)
{
  g[0] = -a[0];
  return -0.5 * a[0] * a[0] - DIST_LOG_SQRT_2PI;
}

static inline double k_student_t(const double *a, double *g, unsigned need)
{
  double y = a[0], nu = a[1], mu = a[2], sigma = a[3];
  if (nu <= 0 || sigma <= 0) return -INFINITY;
  double z = (y - mu) / sigma, r = z * z / nu, l1 = log1p(r);
  double dy = -(nu + 1) * z / (sigma * nu * (1 + r));
  g[0] = dy; g[2] = -dy;
  g[3] = -1 / sigma + (nu + 1) * r / (sigma * (1 + r));
  if (NEED(1))
    g[1] = 0.5 * (dist_digamma(0.5 * (nu + 1)) - dist_digamma(0.5 * nu)) - 0.5 / nu
           - 0.5 * l1 + 0.5 * (nu + 1) * r / (nu * (1 + r));
  return lgamma(0.5 * (nu + 1)) - lgamma(0.5 * nu) - 0.5 * log(nu) - 0.5 * DIST_LOG_PI
         - log(sigma) - 0.5 * (nu + 1) * l1;
}

static inline double k_cauchy(const double *a, double *g, unsigned need)
{
  double y = a[0], mu = a[1], sigma = a[2];
  if (sigma <= 0) return -INFINITY;
  double z = (y - mu) / sigma, q = 1 + z * z;
  g[0] = -2 * z / (sigma * q); g[1] = -g[0];
  g[2] = -1 / sigma + 2 * z * z / (sigma * q);
  return -DIST_LOG_PI - log(sigma) - log1p(z * z);
}

static inline double k_double_exponential(const double *a, double *g, unsigned need)
{
  double y = a[0], mu = a[1], sigma = a[2];
  if (sigma <= 0) return -INFINITY;
  double d = y - mu, ad = fabs(d);
  g[0] = -(d > 0 ? 1 : d < 0 ? -1 : 0) / sigma; g[1] = -g[0];
  g[2] = -1 / sigma + ad / (sigma * sigma);
  return -DIST_LOG_2 - log(sigma) - ad / sigma;
}

static inline double k_logistic(const double *a, double *g, unsigned need)
{
  double y = a[0], mu = a[1], sigma = a[2];
  if (sigma <= 0) return -INFINITY;
  double z = (y - mu) / sigma;
  double dz = -1 + 2 * dist_inv_logit(-z);
  g[0] = dz / sigma; g[1] = -g[0]; g[2] = -1 / sigma - z * dz / sigma;
  return -z - log(sigma) - 2 * dist_log1p_exp(-z);
}

static inline double k_exponential(const double *a, double *g, unsigned need)
{
  double y = a[0], beta = a[1];
  if (beta <= 0 || y < 0) return -INFINITY;
  g[0] = -beta; g[1] = 1 / beta - y;
  return log(beta) - beta * y;
}

static inline double k_gamma(const double *a, double *g, unsigned need)
{
  double y = a[0], al = a[1], be = a[2];
  if (al <= 0 || be <= 0 || y < 0) return -INFINITY;
  double ly = log(y);
  double t = (al == 1) ? 0 : (al - 1) * ly;
  g[0] = (al - 1) / y - be;
  if (NEED(1)) g[1] = log(be) - dist_digamma(al) + ly;
  g[2] = al / be - y;
  return al * log(be) - lgamma(al) + t - be * y;
}

static inline double k_inv_gamma(const double *a, double *g, unsigned need)
{
  double y = a[0], al = a[1], be = a[2];
  if (al <= 0 || be <= 0 || y <= 0) return -INFINITY;
  double ly = log(y), iy = 1 / y;
  g[0] = -(al + 1) * iy + be * iy * iy;
  if (NEED(1)) g[1] = log(be) - dist_digamma(al) - ly;
  g[2] = al / be - iy;
  return al * log(be) - lgamma(al) - (al + 1) * ly - be * iy;
}

static inline double k_lognormal(const double *a, double *g, unsigned need)
{
  double y = a[0], mu = a[1], sigma = a[2];
  if (sigma <= 0 || y <= 0) return -INFINITY;
  double ly = log(y), z = (ly - mu) / sigma;
  g[0] = -(1 + z / sigma) / y; g[1] = z / sigma; g[2] = (z * z - 1) / sigma;
  return -DIST_LOG_SQRT_2PI - log(sigma) - ly - 0.5 * z * z;
}

static inline double k_chi_square(const double *a, double *g, unsigned need)
{
  double y = a[0], nu = a[1];
  if (nu <= 0 || y < 0) return -INFINITY;
  double h = 0.5 * nu, ly = log(y);
  g[0] = (h - 1) / y - 0.5;
  if (NEED(1)) g[1] = -0.5 * DIST_LOG_2 - 0.5 * dist_digamma(h) + 0.5 * ly;
  return -h * DIST_LOG_2 - lgamma(h) + (h == 1 ? 0 : (h - 1) * ly) - 0.5 * y;
}

static inline double k_inv_chi_square(const double *a, double *g, unsigned need)
{
  double y = a[0], nu = a[1];
  if (nu <= 0 || y <= 0) return -INFINITY;
  double h = 0.5 * nu, ly = log(y);
  g[0] = -(h + 1) / y + 0.5 / (y * y);
  if (NEED(1)) g[1] = -0.5 * DIST_LOG_2 - 0.5 * dist_digamma(h) - 0.5 * ly;
  return -h * DIST_LOG_2 - lgamma(h) - (h + 1) * ly - 0.5 / y;
}

static inline double k_scaled_inv_chi_square(const double *a, double *g, unsigned need)
{
  double y = a[0], nu = a[1], sc = a[2];
  if (nu <= 0 || sc <= 0 || y <= 0) return -INFINITY;
  double h = 0.5 * nu, ly = log(y), ls = log(sc), s2y = sc * sc / y;
  g[0] = -(h + 1) / y + h * s2y / y;
  if (NEED(1))
    g[1] = 0.5 * (log(h) + 1) - 0.5 * dist_digamma(h) + ls - 0.5 * ly - 0.5 * s2y;
  g[2] = nu / sc - nu * sc / y;
  return h * log(h) - lgamma(h) + nu * ls - (h + 1) * ly - h * s2y;
}

static inline double k_weibull(const double *a, double *g, unsigned need)
{
  double y = a[0], al = a[1], sigma = a[2];
  if (al <= 0 || sigma <= 0 || y < 0) return -INFINITY;
  if (y == 0) {
    /* (alpha - 1) log 0: the density at 0 is 0, alpha / sigma, or infinite */
    g[0] = g[1] = g[2] = 0;
    return al > 1 ? -INFINITY : al == 1 ? -log(sigma) : INFINITY;
  }
  double l = log(y / sigma), p = exp(al * l);
  g[0] = (al - 1) / y - al * p / y;
  g[1] = 1 / al + l - p * l;
  g[2] = al * (p - 1) / sigma;
  return log(al) - log(sigma) + (al - 1) * l - p;
}

static inline double k_frechet(const double *a, double *g, unsigned need)
{
  double y = a[0], al = a[1], sigma = a[2];
  if (al <= 0 || sigma <= 0 || y <= 0) return -INFINITY;
  double l = log(y / sigma), p = exp(-al * l);
  g[0] = -(al + 1) / y + al * p / y;
  g[1] = 1 / al - l + p * l;
  g[2] = al / sigma - al * p / sigma;
  return log(al) - log(sigma) - (al + 1) * l - p;
}

static inline double k_pareto(const double *a, double *g, unsigned need)
{
  double y = a[0], ym = a[1], al = a[2];
  if (ym <= 0 || al <= 0 || y < ym) return -INFINITY;
  double ly = log(y), lm = log(ym);
  g[0] = -(al + 1) / y; g[1] = al / ym; g[2] = 1 / al + lm - ly;
  return log(al) + al * lm - (al + 1) * ly;
}

static inline double k_beta(const double *a, double *g, unsigned need)
{
  double th = a[0], al = a[1], be = a[2];
  if (al <= 0 || be <= 0 || th < 0 || th > 1) return -INFINITY;
  double l0 = log(th), l1 = log1p(-th);
  g[0] = (al - 1) / th - (be - 1) / (1 - th);
  if (need & 6u) {
    double dab = dist_digamma(al + be);
    g[1] = l0 - dist_digamma(al) + dab;
    g[2] = l1 - dist_digamma(be) + dab;
  }
  return (al == 1 ? 0 : (al - 1) * l0) + (be == 1 ? 0 : (be - 1) * l1) - dist_lbeta(al, be);
}

static inline double k_beta_proportion(const double *a, double *g, unsigned need)
{
  double th = a[0], mu = a[1], ka = a[2];
  if (mu <= 0 || mu >= 1 || ka <= 0) return -INFINITY;
  double b[3] = {th, mu * ka, (1 - mu) * ka}, gb[3] = {0, 0, 0};
  double v = k_beta(b, gb, need ? 7u : 0u);
  g[0] = gb[0];
  g[1] = ka * (gb[1] - gb[2]);
  g[2] = mu * gb[1] + (1 - mu) * gb[2];
  return v;
}

static inline double k_uniform(const double *a, double *g, unsigned need)
{
  double y = a[0], lo = a[1], hi = a[2];
  if (!(hi > lo) && !isnan(hi) && !isnan(lo)) return -INFINITY;
  if (y < lo || y > hi) return -INFINITY;
  double w = hi - lo;
  g[0] = 0; g[1] = 1 / w; g[2] = -1 / w;
  return isnan(y) ? y : -log(w);
}

/* ---- discrete densities ------------------------------------------------------ */

/* -lgamma(n + 1), the part of the Poisson and negative binomial pmfs that depends on
 * the count alone (0 outside the support, which the kernel rejects). */
static double yterm_neg_lfact(double n) { return n >= 0 ? -lgamma(n + 1) : 0; }

static inline double k_bernoulli(const double *a, double *g, unsigned need)
{
  double n = a[0], th = a[1];
  if (th < 0 || th > 1 || (n != 0 && n != 1)) return -INFINITY;
  if (n == 1) { g[1] = 1 / th; return log(th); }
  g[1] = -1 / (1 - th);
  return log1p(-th);
}

static inline double k_bernoulli_logit(const double *a, double *g, unsigned need)
{
  double n = a[0], al = a[1];
  if (n != 0 && n != 1) return -INFINITY;
  /* log inv_logit(s), s = +-alpha, is min(s, 0) - log1p(exp(-|s|)): stable for either
     sign, and branch-free (the sign of alpha is unpredictable) */
  double sg = n == 1 ? 1.0 : -1.0, s = sg * al;
  double e = exp(-fabs(s));
  double num = s > 0 ? e : 1.0;
  g[1] = sg * num / (1 + e);                 /* sg * inv_logit(-s) */
  return (s < 0 ? s : 0) - log1p(e);
}

static inline double k_binomial(const double *a, double *g, unsigned need)
{
  double n = a[0], N = a[1], th = a[2];
  if (N < 0 || n < 0 || n > N || th < 0 || th > 1) return -INFINITY;
  double v = dist_lchoose(N, n), d = 0;
  if (n > 0) { v += n * log(th); d += n / th; }
  if (N - n > 0) { v += (N - n) * log1p(-th); d -= (N - n) / (1 - th); }
  g[2] = d;
  return v;
}

static inline double k_binomial_logit(const double *a, double *g, unsigned need)
{
  double n = a[0], N = a[1], al = a[2];
  if (N < 0 || n < 0 || n > N) return -INFINITY;
  g[2] = n - N * dist_inv_logit(al);
  return dist_lchoose(N, n) - n * dist_log1p_exp(-al) - (N - n) * dist_log1p_exp(al);
}

static inline double k_beta_binomial(const double *a, double *g, unsigned need)
{
  double n = a[0], N = a[1], al = a[2], be = a[3];
  if (N < 0 || n < 0 || n > N || al <= 0 || be <= 0) return -INFINITY;
  if (need & 12u) {
    double c = dist_digamma(al + be) - dist_digamma(N + al + be);
    g[2] = dist_digamma(n + al) - dist_digamma(al) + c;
    g[3] = dist_digamma(N - n + be) - dist_digamma(be) + c;
  }
  return dist_lchoose(N, n) + dist_lbeta(n + al, N - n + be) - dist_lbeta(al, be);
}

/* poisson without the -lgamma(n + 1) term (yterm_neg_lfact) */
static inline double k_poisson(const double *a, double *g, unsigned need)
{
  double n = a[0], la = a[1];
  if (la < 0 || n < 0 || isinf(la)) return -INFINITY;
  if (la == 0) { g[1] = n == 0 ? -1 : 0; return n == 0 ? 0 : -INFINITY; }
  g[1] = n / la - 1;
  return (n == 0 ? 0 : n * log(la)) - la;
}

static inline double k_poisson_log(const double *a, double *g, unsigned need)
{
  double n = a[0], al = a[1];
  if (n < 0 || al == INFINITY) return -INFINITY;
  if (al == -INFINITY) { g[1] = n; return n == 0 ? 0 : -INFINITY; }
  double e = exp(al);
  g[1] = n - e;
  return n * al - e;
}

static inline double k_neg_binomial(const double *a, double *g, unsigned need)
{
  double n = a[0], al = a[1], be = a[2];
  if (n < 0 || al <= 0 || be <= 0) return -INFINITY;
  double lb = log(be), l1b = log1p(be);
  if (NEED(1)) g[1] = dist_digamma_ratio(al, n) + lb - l1b;
  g[2] = al / (be * (1 + be)) - n / (1 + be);
  return dist_lgamma_ratio(al, n) + al * (lb - l1b) - n * l1b;
}

static inline double k_neg_binomial_2(const double *a, double *g, unsigned need)
{
  double n = a[0], mu = a[1], phi = a[2];
  if (n < 0 || mu <= 0 || phi <= 0) return -INFINITY;
  double lmp = log(mu + phi), l1 = log1p(mu / phi);
  g[1] = n / mu - (n + phi) / (mu + phi);
  if (NEED(2)) g[2] = dist_digamma_ratio(phi, n) - l1 + (mu - n) / (mu + phi);
  return dist_lgamma_ratio(phi, n) + (n == 0 ? 0 : n * (log(mu) - lmp)) - phi * l1;
}

static inline double k_neg_binomial_2_log(const double *a, double *g, unsigned need)
{
  double n = a[0], eta = a[1], phi = a[2];
  if (n < 0 || phi <= 0 || eta == INFINITY) return -INFINITY;
  double lphi = log(phi), d = eta - lphi;
  double l1 = dist_log1p_exp(d);            /* log(exp(eta) + phi) - log(phi) */
  double w = dist_inv_logit(d);             /* mu / (mu + phi) */
  g[1] = n - (n + phi) * w;
  if (NEED(2))
    g[2] = dist_digamma_ratio(phi, n) - l1 + 1 - (n + phi) * (1 - w) / phi;
  return dist_lgamma_ratio(phi, n) + (n == 0 ? 0 : n * (d - l1)) - phi * l1;
}

/* ---- cdfs (for truncation) -------------------------------------------------- */

static inline double k_normal_lcdf(const double *a, double *g, unsigned need)
{
  double y = a[0], mu = a[1], sigma = a[2];
  if (sigma <= 0) return -INFINITY;
  double z = (y - mu) / sigma, v = dist_log_Phi(z), dz = dist_dlog_Phi(z, v);
  g[0] = dz / sigma; g[1] = -g[0]; g[2] = -dz * z / sigma;
  return v;
}

static inline double k_normal_lccdf(const double *a, double *g, unsigned need)
{
  double y = a[0], mu = a[1], sigma = a[2];
  if (sigma <= 0) return -INFINITY;
  double z = (y - mu) / sigma, v = dist_log_Phi(-z), dz = -dist_dlog_Phi(-z, v);
  g[0] = dz / sigma; g[1] = -g[0]; g[2] = -dz * z / sigma;
  return v;
}

static inline double k_std_normal_lcdf(const double *a, double *g, unsigned need)
{
  double v = dist_log_Phi(a[0]);
  g[0] = dist_dlog_Phi(a[0], v);
  return v;
}

static inline double k_std_normal_lccdf(const double *a, double *g, unsigned need)
{
  double v = dist_log_Phi(-a[0]);
  g[0] = -dist_dlog_Phi(-a[0], v);
  return v;
}

static inline double k_exponential_lcdf(const double *a, double *g, unsigned need)
{
  double y = a[0], beta = a[1];
  if (beta <= 0) return -INFINITY;
  if (y <= 0) { g[0] = g[1] = 0; return isnan(y) ? y : -INFINITY; }
  double x = beta * y, r = 1 / expm1(x);
  g[0] = beta * r; g[1] = y * r;
  return log(-expm1(-x));
}

static inline double k_exponential_lccdf(const double *a, double *g, unsigned need)
{
  double y = a[0], beta = a[1];
  if (beta <= 0) return -INFINITY;
  if (y < 0) { g[0] = g[1] = 0; return 0; }
  g[0] = -beta; g[1] = -y;
  return -beta * y;
}

static inline double k_logistic_lcdf(const double *a, double *g, unsigned need)
{
  double y = a[0], mu = a[1], sigma = a[2];
  if (sigma <= 0) return -INFINITY;
  double z = (y - mu) / sigma, dz = dist_inv_logit(-z);
  g[0] = dz / sigma; g[1] = -g[0]; g[2] = -dz * z / sigma;
  return -dist_log1p_exp(-z);
}

static inline double k_logistic_lccdf(const double *a, double *g, unsigned need)
{
  double y = a[0], mu = a[1], sigma = a[2];
  if (sigma <= 0) return -INFINITY;
  double z = (y - mu) / sigma, dz = -dist_inv_logit(z);
  g[0] = dz / sigma; g[1] = -g[0]; g[2] = -dz * z / sigma;
  return -dist_log1p_exp(z);
}

static inline double k_lognormal_lcdf(const double *a, double *g, unsigned need)
{
  double y = a[0], mu = a[1], sigma = a[2];
  if (sigma <= 0) return -INFINITY;
  if (y <= 0) { g[0] = g[1] = g[2] = 0; return -INFINITY; }
  double z = (log(y) - mu) / sigma, v = dist_log_Phi(z), dz = dist_dlog_Phi(z, v);
  g[0] = dz / (sigma * y); g[1] = -dz / sigma; g[2] = -dz * z / sigma;
  return v;
}

static inline double k_lognormal_lccdf(const double *a, double *g, unsigned need)
{
  double y = a[0], mu = a[1], sigma = a[2];
  if (sigma <= 0) return -INFINITY;
  if (y <= 0) { g[0] = g[1] = g[2] = 0; return 0; }
  double z = (log(y) - mu) / sigma, v = dist_log_Phi(-z), dz = -dist_dlog_Phi(-z, v);
  g[0] = dz / (sigma * y); g[1] = -dz / sigma; g[2] = -dz * z / sigma;
  return v;
}

/* Location-scale cdfs share the map from d/dz to (y, mu, sigma). */
static inline void ls_grad(double dz, double z, double sigma, double *g)
{
  g[0] = dz / sigma; g[1] = -g[0]; g[2] = -dz * z / sigma;
}

/* cauchy: F(z) = atan2(1, -z) / pi, accurate in both tails */
static inline double k_cauchy_lcdf(const double *a, double *g, unsigned need)
{
  double y = a[0], mu = a[1], sigma = a[2];
  if (sigma <= 0) return -INFINITY;
  double z = (y - mu) / sigma, F = atan2(1, -z);
  ls_grad(1 / ((1 + z * z) * F), z, sigma, g);
  return log(F) - DIST_LOG_PI;
}

static inline double k_cauchy_lccdf(const double *a, double *g, unsigned need)
{
  double y = a[0], mu = a[1], sigma = a[2];
  if (sigma <= 0) return -INFINITY;
  double z = (y - mu) / sigma, Q = atan2(1, z);
  ls_grad(-1 / ((1 + z * z) * Q), z, sigma, g);
  return log(Q) - DIST_LOG_PI;
}

static inline double k_double_exponential_lcdf(const double *a, double *g, unsigned need)
{
  double y = a[0], mu = a[1], sigma = a[2];
  if (sigma <= 0) return -INFINITY;
  double z = (y - mu) / sigma;
  if (z < 0) { ls_grad(1, z, sigma, g); return z - DIST_LOG_2; }
  double h = 0.5 * exp(-z);
  ls_grad(h / (1 - h), z, sigma, g);
  return log1p(-h);
}

static inline double k_double_exponential_lccdf(const double *a, double *g, unsigned need)
{
  double y = a[0], mu = a[1], sigma = a[2];
  if (sigma <= 0) return -INFINITY;
  double z = (y - mu) / sigma;
  if (z >= 0) { ls_grad(-1, z, sigma, g); return -z - DIST_LOG_2; }
  double h = 0.5 * exp(z);
  ls_grad(-h / (1 - h), z, sigma, g);
  return log1p(-h);
}

static inline double k_uniform_lcdf(const double *a, double *g, unsigned need)
{
  double y = a[0], lo = a[1], hi = a[2];
  if (hi <= lo) return -INFINITY;
  if (y < lo) return isnan(hi) ? hi : -INFINITY;
  if (y >= hi) { g[0] = g[1] = g[2] = 0; return isnan(lo) ? lo : 0; }
  double d = y - lo, w = hi - lo;
  g[0] = 1 / d; g[1] = -1 / d + 1 / w; g[2] = -1 / w;
  return log(d / w);
}

static inline double k_uniform_lccdf(const double *a, double *g, unsigned need)
{
  double y = a[0], lo = a[1], hi = a[2];
  if (hi <= lo) return -INFINITY;
  if (y > hi) return isnan(lo) ? lo : -INFINITY;
  if (y <= lo) { g[0] = g[1] = g[2] = 0; return isnan(hi) ? hi : 0; }
  double d = hi - y, w = hi - lo;
  g[0] = -1 / d; g[1] = 1 / w; g[2] = 1 / d - 1 / w;
  return log(d / w);
}

/* weibull: F = 1 - exp(-p), p = (y / sigma)^alpha */
static inline double k_weibull_lcdf(const double *a, double *g, unsigned need)
{
  double y = a[0], al = a[1], sigma = a[2];
  if (al <= 0 || sigma <= 0) return -INFINITY;
  if (y <= 0) return isnan(y) ? y : -INFINITY;
  double l = log(y / sigma), p = exp(al * l), dp = 1 / expm1(p);
  g[0] = dp * al * p / y; g[1] = dp * p * l; g[2] = -dp * al * p / sigma;
  return log(-expm1(-p));
}

static inline double k_weibull_lccdf(const double *a, double *g, unsigned need)
{
  double y = a[0], al = a[1], sigma = a[2];
  if (al <= 0 || sigma <= 0) return -INFINITY;
  if (y <= 0) { g[0] = g[1] = g[2] = 0; return isnan(y) ? y : 0; }
  double l = log(y / sigma), p = exp(al * l);
  g[0] = -al * p / y; g[1] = -p * l; g[2] = al * p / sigma;
  return -p;
}

/* gamma: the regularised incomplete gamma functions of GSL (P lower, Q upper).  The
 * derivative in the shape has no closed form: a central difference of the log cdf
 * (step 1e-5 relative; GSL's P and Q are accurate to near machine precision, so the
 * derivative is good to about 1e-9).  The impl turns GSL's error handler off. */
static inline double gamma_log_density_x(double al, double x)
{
  return (al - 1) * log(x) - x - lgamma(al);
}

static inline double k_gamma_lcdf(const double *a, double *g, unsigned need)
{
  double y = a[0], al = a[1], be = a[2];
  if (al <= 0 || be <= 0) return -INFINITY;
  if (y <= 0) return isnan(y) ? y : -INFINITY;
  if (isinf(y)) { g[0] = g[1] = g[2] = 0; return 0; }
  double x = be * y, v = log(gsl_sf_gamma_inc_P(al, x));
  double r = exp(gamma_log_density_x(al, x) - v);
  g[0] = be * r; g[2] = y * r;
  if (NEED(1)) {
    double h = 1e-5 * (al > 1 ? al : 1);
    if (h > 0.5 * al) h = 0.5 * al;
    g[1] = (log(gsl_sf_gamma_inc_P(al + h, x)) - log(gsl_sf_gamma_inc_P(al - h, x))) / (2 * h);
  }
  return v;
}

static inline double k_gamma_lccdf(const double *a, double *g, unsigned need)
{
  double y = a[0], al = a[1], be = a[2];
  if (al <= 0 || be <= 0) return -INFINITY;
  if (y <= 0) { g[0] = g[1] = g[2] = 0; return isnan(y) ? y : 0; }
  if (isinf(y)) return -INFINITY;
  double x = be * y, v = log(gsl_sf_gamma_inc_Q(al, x));
  double r = -exp(gamma_log_density_x(al, x) - v);
  g[0] = be * r; g[2] = y * r;
  if (NEED(1)) {
    double h = 1e-5 * (al > 1 ? al : 1);
    if (h > 0.5 * al) h = 0.5 * al;
    g[1] = (log(gsl_sf_gamma_inc_Q(al + h, x)) - log(gsl_sf_gamma_inc_Q(al - h, x))) / (2 * h);
  }
  return v;
}

/* poisson: P(Y <= n) = Q(n + 1, lambda), P(Y > n) = P(n + 1, lambda); d/dlambda is
 * -+ the pmf at n over the (c)cdf. */
static inline double k_poisson_lcdf(const double *a, double *g, unsigned need)
{
  double n = a[0], la = a[1];
  if (la < 0 || isinf(la)) return -INFINITY;
  if (n < 0) return -INFINITY;
  if (la == 0) { g[1] = 0; return 0; }
  double v = log(gsl_sf_gamma_inc_Q(n + 1, la));
  g[1] = -exp(n * log(la) - la - lgamma(n + 1) - v);
  return v;
}

static inline double k_poisson_lccdf(const double *a, double *g, unsigned need)
{
  double n = a[0], la = a[1];
  if (la < 0 || isinf(la)) return -INFINITY;
  if (n < 0) { g[1] = 0; return 0; }
  if (la == 0) return -INFINITY;
  double v = log(gsl_sf_gamma_inc_P(n + 1, la));
  g[1] = exp(n * log(la) - la - lgamma(n + 1) - v);
  return v;
}

/* von_mises: kappa cos(y - mu) - log(2 pi I0(kappa)), with GSL's exponentially scaled
 * Bessel functions (log I0 = log I0_scaled + kappa; I1 / I0 = the scaled ratio).  The
 * density is periodic: y is not range-checked. */
static inline double k_von_mises(const double *a, double *g, unsigned need)
{
  double y = a[0], mu = a[1], ka = a[2];
  if (ka <= 0 || isinf(ka)) return -INFINITY;
  double d = y - mu, c = cos(d), sn = sin(d);
  double i0s = gsl_sf_bessel_I0_scaled(ka);
  g[0] = -ka * sn; g[1] = ka * sn;
  if (NEED(2)) g[2] = c - gsl_sf_bessel_I1_scaled(ka) / i0s;
  return ka * c - 2 * DIST_LOG_SQRT_2PI - log(i0s) - ka;
}

/* student_t cdfs: GSL's t cdf (incomplete beta); d/dnu by a central difference of the
 * log cdf, the rest through the density.  brms writes half-t priors with
 * student_t_lccdf(0 | nu, mu, sigma). */
static inline double t_log_density_z(double z, double nu)
{
  return lgamma(0.5 * (nu + 1)) - lgamma(0.5 * nu) - 0.5 * log(nu) - 0.5 * DIST_LOG_PI
         - 0.5 * (nu + 1) * log1p(z * z / nu);
}

static inline double t_log_cdf(double z, double nu, int upper)
{
  return log(upper ? gsl_cdf_tdist_Q(z, nu) : gsl_cdf_tdist_P(z, nu));
}

static inline double t_lcdf_common(const double *a, double *g, unsigned need, int upper)
{
  double y = a[0], nu = a[1], mu = a[2], sigma = a[3];
  if (nu <= 0 || sigma <= 0) return -INFINITY;
  double z = (y - mu) / sigma, v = t_log_cdf(z, nu, upper);
  if (isinf(z)) { g[0] = g[1] = g[2] = g[3] = 0; return v; }
  double dz = exp(t_log_density_z(z, nu) - v) * (upper ? -1 : 1);
  g[0] = dz / sigma; g[2] = -g[0]; g[3] = -dz * z / sigma;
  if (NEED(1)) {
    double h = 1e-5 * (nu > 1 ? nu : 1);
    if (h > 0.5 * nu) h = 0.5 * nu;
    g[1] = (t_log_cdf(z, nu + h, upper) - t_log_cdf(z, nu - h, upper)) / (2 * h);
  }
  return v;
}

static inline double k_student_t_lcdf(const double *a, double *g, unsigned need)
{
  return t_lcdf_common(a, g, need, 0);
}

static inline double k_student_t_lccdf(const double *a, double *g, unsigned need)
{
  return t_lcdf_common(a, g, need, 1);
}

/* gumbel(y | mu, beta): z = (y - mu) / beta, log p = -log beta - z - exp(-z) */
static inline double k_gumbel(const double *a, double *g, unsigned need)
{
  double y = a[0], mu = a[1], be = a[2];
  if (be <= 0) return -INFINITY;
  double z = (y - mu) / be, ez = exp(-z), dz = -1 + ez;
  g[0] = dz / be; g[1] = -g[0]; g[2] = -1 / be - dz * z / be;
  return -log(be) - z - ez;
}

static inline double k_gumbel_lcdf(const double *a, double *g, unsigned need)
{
  double y = a[0], mu = a[1], be = a[2];
  if (be <= 0) return -INFINITY;
  double z = (y - mu) / be, ez = exp(-z);   /* log F = -exp(-z) */
  g[0] = ez / be; g[1] = -g[0]; g[2] = -ez * z / be;
  return -ez;
}

static inline double k_gumbel_lccdf(const double *a, double *g, unsigned need)
{
  double y = a[0], mu = a[1], be = a[2];
  if (be <= 0) return -INFINITY;
  double z = (y - mu) / be, ez = exp(-z);   /* log(1 - exp(-ez)) */
  double dz = -ez / expm1(ez);
  if (ez == 0) dz = 0;
  g[0] = dz / be; g[1] = -g[0]; g[2] = -dz * z / be;
  return log(-expm1(-ez));
}

/* rayleigh(y | sigma): log p = log y - 2 log sigma - y^2 / (2 sigma^2), y >= 0 */
static inline double k_rayleigh(const double *a, double *g, unsigned need)
{
  double y = a[0], sg = a[1];
  if (sg <= 0 || y < 0) return -INFINITY;
  double q = y / sg;
  g[0] = 1 / y - y / (sg * sg); g[1] = -2 / sg + q * q / sg;
  return log(y) - 2 * log(sg) - 0.5 * q * q;
}

/* skew_normal(y | xi, omega, alpha): log(2) + log phi(z) + log Phi(alpha z) - log omega */
static inline double k_skew_normal(const double *a, double *g, unsigned need)
{
  double y = a[0], xi = a[1], om = a[2], al = a[3];
  if (om <= 0) return -INFINITY;
  double z = (y - xi) / om, w = al * z, lP = dist_log_Phi(w), m = dist_dlog_Phi(w, lP);
  double dz = -z + al * m;
  g[0] = dz / om; g[1] = -g[0]; g[2] = -1 / om - dz * z / om; g[3] = m * z;
  return DIST_LOG_2 - DIST_LOG_SQRT_2PI - 0.5 * z * z + lP - log(om);
}

/* exp_mod_normal(y | mu, sigma, lambda): log lambda + lambda (mu - y) + lambda^2 sigma^2 / 2
 * + log Phi(w), w = (y - mu) / sigma - lambda sigma */
static inline double k_exp_mod_normal(const double *a, double *g, unsigned need)
{
  double y = a[0], mu = a[1], sg = a[2], la = a[3];
  if (sg <= 0 || la <= 0) return -INFINITY;
  double d = y - mu, w = d / sg - la * sg, lP = dist_log_Phi(w), m = dist_dlog_Phi(w, lP);
  g[0] = -la + m / sg; g[1] = -g[0];
  g[2] = la * la * sg + m * (-d / (sg * sg) - la);
  g[3] = 1 / la - d + la * sg * sg - m * sg;
  return log(la) - la * d + 0.5 * la * la * sg * sg + lP;
}

/* skew_double_exponential(y | mu, sigma, tau): log(2 tau (1 - tau) / sigma)
 * - 2 / sigma ((1 - tau)(mu - y) if y < mu, else tau (y - mu)) */
static inline double k_skew_double_exponential(const double *a, double *g, unsigned need)
{
  double y = a[0], mu = a[1], sg = a[2], tau = a[3];
  if (sg <= 0 || tau <= 0 || tau >= 1) return -INFINITY;
  double d = y - mu, w = d < 0 ? 1 - tau : tau;   /* slope on y's side */
  g[0] = -2 * w * (d < 0 ? -1 : 1) / sg; g[1] = -g[0];
  g[2] = -1 / sg + 2 * w * fabs(d) / (sg * sg);
  g[3] = 1 / tau - 1 / (1 - tau) + (d < 0 ? 2 * -d : -2 * d) / sg;
  return DIST_LOG_2 + log(tau) + log1p(-tau) - log(sg) - 2 * w * fabs(d) / sg;
}

/* loglogistic(y | alpha (scale), beta (shape)) */
static inline double k_loglogistic(const double *a, double *g, unsigned need)
{
  double y = a[0], al = a[1], be = a[2];
  if (al <= 0 || be <= 0 || y < 0) return -INFINITY;
  if (y == 0) { g[0] = g[1] = g[2] = 0; return be > 1 ? -INFINITY : be == 1 ? -log(al) : INFINITY; }
  double l = log(y / al), q = dist_inv_logit(be * l);
  g[0] = (be - 1) / y - 2 * be * q / y;
  g[1] = (-be + 2 * be * q) / al;
  g[2] = 1 / be + l - 2 * l * q;
  return log(be) - log(al) + (be - 1) * l - 2 * dist_log1p_exp(be * l);
}

/* pareto_type_2(y | mu, lambda, alpha): alpha / lambda (1 + (y - mu) / lambda)^-(alpha+1) */
static inline double k_pareto_type_2(const double *a, double *g, unsigned need)
{
  double y = a[0], mu = a[1], la = a[2], al = a[3];
  if (la <= 0 || al <= 0 || y < mu) return -INFINITY;
  double d = y - mu, l1 = log1p(d / la);
  g[0] = -(al + 1) / (la + d); g[1] = -g[0];
  g[2] = -1 / la + (al + 1) * d / (la * (la + d));
  g[3] = 1 / al - l1;
  return log(al) - log(la) - (al + 1) * l1;
}

/* discrete_range(y | lower, upper): uniform on the integers lower..upper */
static inline double k_discrete_range(const double *a, double *g, unsigned need)
{
  double y = a[0], lo = a[1], hi = a[2];
  if (hi < lo || y < lo || y > hi) return -INFINITY;
  return -log(hi - lo + 1);
}

/* binomial cdfs (GSL); d/dtheta P(Y <= n) = -N binomial_pmf(n | N - 1, theta) */
static inline double binom_pmf_m1(double n, double N, double th)
{
  return exp(dist_lchoose(N - 1, n) + n * log(th) + (N - 1 - n) * log1p(-th));
}

static inline double k_binomial_lcdf(const double *a, double *g, unsigned need)
{
  double n = a[0], N = a[1], th = a[2];
  if (N < 0 || th < 0 || th > 1) return -INFINITY;
  if (n < 0) return -INFINITY;
  if (n >= N) { g[2] = 0; return 0; }
  double v = log(gsl_cdf_binomial_P((unsigned)n, th, (unsigned)N));
  g[2] = th > 0 && th < 1 ? -N * binom_pmf_m1(n, N, th) / exp(v) : 0;
  return v;
}

static inline double k_binomial_lccdf(const double *a, double *g, unsigned need)
{
  double n = a[0], N = a[1], th = a[2];
  if (N < 0 || th < 0 || th > 1) return -INFINITY;
  if (n < 0) { g[2] = 0; return 0; }
  if (n >= N) return -INFINITY;
  double v = log(gsl_cdf_binomial_Q((unsigned)n, th, (unsigned)N));
  g[2] = th > 0 && th < 1 ? N * binom_pmf_m1(n, N, th) / exp(v) : 0;
  return v;
}

/* neg_binomial_2 cdfs: P(Y <= n) = I_p(phi, n + 1), p = phi / (mu + phi) (GSL's beta
 * cdf); d/dmu through the beta density, d/dphi by a central difference. */
static inline double nb2_log_cdf(double n, double mu, double phi, int upper)
{
  double p = phi / (mu + phi);
  return log(upper ? gsl_cdf_beta_Q(p, phi, n + 1) : gsl_cdf_beta_P(p, phi, n + 1));
}

static inline double nb2_lcdf_common(const double *a, double *g, unsigned need, int upper)
{
  double n = a[0], mu = a[1], phi = a[2];
  if (!(mu > 0) || !(phi > 0)) return isnan(mu) || isnan(phi) ? NAN : -INFINITY;
  if (n < 0) { g[1] = g[2] = 0; return upper ? 0 : -INFINITY; }
  double v = nb2_log_cdf(n, mu, phi, upper), p = phi / (mu + phi);
  /* beta(phi, n + 1) density at p, times dp/dmu = -phi / (mu + phi)^2 */
  double ld = (phi - 1) * log(p) + n * log1p(-p) - dist_lbeta(phi, n + 1);
  double dmu = -exp(ld - v) * phi / ((mu + phi) * (mu + phi));
  g[1] = upper ? -dmu : dmu;
  if (NEED(2)) {
    double h = 1e-5 * (phi > 1 ? phi : 1);
    if (h > 0.5 * phi) h = 0.5 * phi;
    g[2] = (nb2_log_cdf(n, mu, phi + h, upper) - nb2_log_cdf(n, mu, phi - h, upper)) / (2 * h);
  }
  return v;
}

static inline double k_neg_binomial_2_lcdf(const double *a, double *g, unsigned need)
{
  return nb2_lcdf_common(a, g, need, 0);
}

static inline double k_neg_binomial_2_lccdf(const double *a, double *g, unsigned need)
{
  return nb2_lcdf_common(a, g, need, 1);
}

/* ---- the implementations ------------------------------------------------------ */

static const dist_desc desc_normal_lpdf = {"normal_lpdf", {"y", "mu", "sigma"}, NULL, 0};

/* normal_lpdf: the hot case (a vector y against a vector mu with one sigma per draw)
 * takes log(sigma) and 1 / sigma once per draw; otherwise the generic loop. */
static ad_val *impl_normal_lpdf(ad_tape *t, ad_val **args, int nargs)
{
  ad_val *sg = args[2];
  if (type_rank(sg->type) > 0)
    return dist_run(t, &desc_normal_lpdf, args, nargs, k_normal);
  dist_ctx c;
  if (dist_setup(t, &desc_normal_lpdf, args, nargs, &c)) return NULL;
  const size_t ndo = c.ndo, N = c.N;
  if (N == 0) return dist_finish(t, &desc_normal_lpdf, args, &c);   /* empty: 0 */
  double *isg = ad_alloc(t, ndo * sizeof *isg);
  if (!isg) { ad_tape_set_error(t, "out of memory in a density"); return NULL; }
  double *acc = c.out->x, *Py = c.P[0], *Pm = c.P[1], *Ps = c.P[2];
  for (size_t s = 0; s < ndo; s++) {
    double sigma = sg->x[s * c.ds[2]];
    /* an invalid sigma zeroes the draw's partials; its value becomes -inf below */
    isg[s] = sigma > 0 ? 1.0 / sigma : isnan(sigma) ? sigma : 0;
  }
  const double *y = c.x[0], *mu = c.x[1];
  for (size_t e = 0; e < N; e++) {
    const double *ye = y + e * c.es[0], *me = mu + e * c.es[1];
    const size_t dy = c.ds[0], dm = c.ds[1];
    for (size_t s = 0; s < ndo; s++) {
      double z = (ye[s * dy] - me[s * dm]) * isg[s];
      acc[s] -= 0.5 * z * z;
      if (Py) Py[e * c.pes[0] + s] -= z * isg[s];
      if (Pm) Pm[e * c.pes[1] + s] += z * isg[s];
      if (Ps) Ps[s] += z * z * isg[s];
    }
  }
  for (size_t s = 0; s < ndo; s++) {
    double sigma = sg->x[s * c.ds[2]];
    if (sigma <= 0) { acc[s] = -INFINITY; if (Ps) Ps[s] = 0; continue; }
    acc[s] -= (double)N * (log(sigma) + DIST_LOG_SQRT_2PI);
    if (Ps) Ps[s] -= (double)N * isg[s];
  }
  return dist_finish(t, &desc_normal_lpdf, args, &c);
}
DIST_DEFINE(std_normal_lpdf, std_normal, NULL, 0, "y")
static const dist_desc desc_student_t_lpdf = {"student_t_lpdf", {"y", "nu", "mu", "sigma"}, NULL, 0};

/* student_t_lpdf: with one nu and one sigma per draw (robust regression), the lgamma,
 * digamma and log terms are taken once per draw; otherwise the generic loop. */
static ad_val *impl_student_t_lpdf(ad_tape *t, ad_val **args, int nargs)
{
  if (nargs != 4) { ad_tape_set_error(t, "student_t_lpdf: expected 4 arguments"); return NULL; }
  ad_val *nv = args[1], *sg = args[3];
  if (type_rank(nv->type) > 0 || type_rank(sg->type) > 0)
    return dist_run(t, &desc_student_t_lpdf, args, 4, k_student_t);
  dist_ctx c;
  if (dist_setup(t, &desc_student_t_lpdf, args, 4, &c)) return NULL;
  const size_t ndo = c.ndo, N = c.N;
  if (N == 0) return dist_finish(t, &desc_student_t_lpdf, args, &c);
  double *w = ad_alloc(t, 3 * ndo * sizeof *w);
  if (!w) { ad_tape_set_error(t, "out of memory in a density"); return NULL; }
  double *inu = w, *isg = w + ndo, *hnu = w + 2 * ndo;   /* 1/nu, 1/sigma, (nu+1)/2 */
  for (size_t s = 0; s < ndo; s++) {
    double nu = nv->x[s * c.ds[1]], sigma = sg->x[s * c.ds[3]];
    int ok = nu > 0 && sigma > 0;
    /* an invalid draw computes with harmless values; its result is -inf below */
    inu[s] = ok ? 1 / nu : isnan(nu) || isnan(sigma) ? NAN : 1;
    isg[s] = ok ? 1 / sigma : isnan(nu) || isnan(sigma) ? NAN : 1;
    hnu[s] = ok ? 0.5 * (nu + 1) : 1;
  }
  double *acc = c.out->x, *Py = c.P[0], *Pn = c.P[1], *Pm = c.P[2], *Ps = c.P[3];
  const double *y = c.x[0], *mu = c.x[2];
  for (size_t e = 0; e < N; e++) {
    const double *ye = y + e * c.es[0], *me = mu + e * c.es[2];
    const size_t dy = c.ds[0], dm = c.ds[2];
    for (size_t s = 0; s < ndo; s++) {
      double z = (ye[s * dy] - me[s * dm]) * isg[s], r = z * z * inu[s], q = 1 / (1 + r);
      double l1 = log1p(r);
      acc[s] -= hnu[s] * l1;
      double gy = -2 * hnu[s] * z * isg[s] * inu[s] * q;
      if (Py) Py[e * c.pes[0] + s] += gy;
      if (Pm) Pm[e * c.pes[2] + s] -= gy;
      if (Ps) Ps[s] += 2 * hnu[s] * r * isg[s] * q;
      if (Pn) Pn[s] += -0.5 * l1 + hnu[s] * r * inu[s] * q;
    }
  }
  for (size_t s = 0; s < ndo; s++) {
    double nu = nv->x[s * c.ds[1]], sigma = sg->x[s * c.ds[3]];
    if (nu <= 0 || sigma <= 0) {
      acc[s] = -INFINITY;
      if (Ps) Ps[s] = 0;
      if (Pn) Pn[s] = 0;
      if (Py && c.pes[0]) for (size_t e = 0; e < N; e++) Py[e * ndo + s] = 0;
      if (Pm && c.pes[2]) for (size_t e = 0; e < N; e++) Pm[e * ndo + s] = 0;
      if (Py && !c.pes[0]) Py[s] = 0;
      if (Pm && !c.pes[2]) Pm[s] = 0;
      continue;
    }
    double Nd = (double)N;
    acc[s] += Nd * (lgamma(0.5 * (nu + 1)) - lgamma(0.5 * nu) - 0.5 * log(nu)
                    - 0.5 * DIST_LOG_PI - log(sigma));
    if (Ps) Ps[s] -= Nd / sigma;
    if (Pn)
      Pn[s] += Nd * (0.5 * (dist_digamma(0.5 * (nu + 1)) - dist_digamma(0.5 * nu)) - 0.5 / nu);
  }
  return dist_finish(t, &desc_student_t_lpdf, args, &c);
}
DIST_DEFINE(cauchy_lpdf, cauchy, NULL, 0, "y", "mu", "sigma")
DIST_DEFINE(double_exponential_lpdf, double_exponential, NULL, 0, "y", "mu", "sigma")
DIST_DEFINE(logistic_lpdf, logistic, NULL, 0, "y", "mu", "sigma")
DIST_DEFINE(exponential_lpdf, exponential, NULL, 0, "y", "beta")
DIST_DEFINE(gamma_lpdf, gamma, NULL, 0, "y", "alpha", "beta")
DIST_DEFINE(inv_gamma_lpdf, inv_gamma, NULL, 0, "y", "alpha", "beta")
DIST_DEFINE(lognormal_lpdf, lognormal, NULL, 0, "y", "mu", "sigma")
DIST_DEFINE(chi_square_lpdf, chi_square, NULL, 0, "y", "nu")
DIST_DEFINE(inv_chi_square_lpdf, inv_chi_square, NULL, 0, "y", "nu")
DIST_DEFINE(scaled_inv_chi_square_lpdf, scaled_inv_chi_square, NULL, 0, "y", "nu", "s")
DIST_DEFINE(weibull_lpdf, weibull, NULL, 0, "y", "alpha", "sigma")
DIST_DEFINE(frechet_lpdf, frechet, NULL, 0, "y", "alpha", "sigma")
DIST_DEFINE(pareto_lpdf, pareto, NULL, 0, "y", "y_min", "alpha")
DIST_DEFINE(beta_lpdf, beta, NULL, 0, "theta", "alpha", "beta")
DIST_DEFINE(beta_proportion_lpdf, beta_proportion, NULL, 0, "theta", "mu", "kappa")
DIST_DEFINE(uniform_lpdf, uniform, NULL, 0, "y", "alpha", "beta")
DIST_DEFINE(bernoulli_lpmf, bernoulli, NULL, 0, "n", "theta")
static const dist_desc desc_bernoulli_logit_lpmf = {"bernoulli_logit_lpmf", {"n", "alpha"}, NULL, 0};

/* bernoulli_logit_lpmf: the hot case of logistic regression (data outcomes against
 * log odds that vary by draw) in tiles of (element, draw) pairs: the exps and logs of a
 * tile go through vmath's vector routines (the transcendentals were most of this pass),
 * then the sums per draw are taken in element order, as a plain loop would. */
#define BL_TILE 512
static ad_val *impl_bernoulli_logit_lpmf(ad_tape *t, ad_val **args, int nargs)
{
  if (nargs != 2) { ad_tape_set_error(t, "bernoulli_logit_lpmf: expected 2 arguments"); return NULL; }
  if (args[0]->nd != 1)
    return dist_run(t, &desc_bernoulli_logit_lpmf, args, 2, k_bernoulli_logit);
  dist_ctx c;
  /* the partials per element are written, not added to: no need to clear them first */
  if (dist_setup_z(t, &desc_bernoulli_logit_lpmf, args, 2, &c, 0)) return NULL;
  const size_t ndo = c.ndo, ds = c.ds[1], N = c.N, pes = c.pes[1];
  double *acc = c.out->x, *P = c.P[1];
  if (P && !pes) memset(P, 0, ndo * sizeof *P);   /* one row, summed over elements */
  for (size_t e = 0; e < N; e++) {
    double n = c.x[0][e * c.es[0]];
    if (n != 0 && n != 1) {
      /* an outcome outside {0, 1}: every draw is -inf */
      for (size_t s = 0; s < ndo; s++) acc[s] = -INFINITY;
      if (P) memset(P, 0, (pes ? N : 1) * ndo * sizeof *P);
      return dist_finish(t, &desc_bernoulli_logit_lpmf, args, &c);
    }
  }
  double v[BL_TILE], ex[BL_TILE], lg[BL_TILE], r[BL_TILE];
  size_t e = 0, s = 0;
  while (e < N) {
    /* fill a tile from (e, s) on: v = sg * alpha, ex = exp(-|v|), lg = log(1 + ex)
       (log(1 + ex), not log1p(ex): ex is in (0, 1], so the two differ by less than
       1.2e-16 absolute, nothing in a sum of log densities) */
    size_t e0 = e, s0 = s, m = 0;
    while (m < BL_TILE && e < N) {
      const double sg = c.x[0][e * c.es[0]] == 1 ? 1.0 : -1.0;
      const double *x = c.x[1] + e * c.es[1];
      size_t k = ndo - s < BL_TILE - m ? ndo - s : BL_TILE - m;
      double *vt = v + m, *et = ex + m;
      if (ds == 1) {
        VI_SIMD
        for (size_t j = 0; j < k; j++) { vt[j] = sg * x[s + j]; et[j] = -fabs(vt[j]); }
      } else {
        for (size_t j = 0; j < k; j++) { vt[j] = sg * x[0]; et[j] = -fabs(vt[j]); }
      }
      m += k;
      s += k;
      if (s == ndo) { s = 0; e++; }
    }
    vmath_exp(ex, ex, m);
    VI_SIMD
    for (size_t j = 0; j < m; j++) lg[j] = 1 + ex[j];
    vmath_log(lg, lg, m);
    /* whole-tile passes (separate loops: a select feeding a division does not
       vectorise under -ftrapping-math): lg = log density, r = d/dv = inv_logit(-v) */
    VI_SIMD
    for (size_t j = 0; j < m; j++) lg[j] = (v[j] < 0 ? v[j] : 0) - lg[j];
    if (P) {
      VI_SIMD
      for (size_t j = 0; j < m; j++) { double xe = ex[j]; v[j] = v[j] > 0 ? xe : 1.0; }
      VI_SIMD
      for (size_t j = 0; j < m; j++) r[j] = v[j] / (1 + ex[j]);
    }
    /* the tile's sums and partials, walking (e, s) again */
    size_t j = 0;
    e = e0;
    s = s0;
    while (j < m) {
      const double sg = c.x[0][e * c.es[0]] == 1 ? 1.0 : -1.0;
      size_t k = ndo - s < m - j ? ndo - s : m - j;
      const double *lt = lg + j, *rt = r + j;
      double *at = acc + s;
      VI_SIMD
      for (size_t q = 0; q < k; q++) at[q] += lt[q];
      if (P && pes) {
        double *pt = P + e * pes + s;
        VI_SIMD
        for (size_t q = 0; q < k; q++) pt[q] = sg * rt[q];
      } else if (P) {
        for (size_t q = 0; q < k; q++) P[s + q] += sg * rt[q];
      }
      j += k;
      s += k;
      if (s == ndo) { s = 0; e++; }
    }
  }
  return dist_finish(t, &desc_bernoulli_logit_lpmf, args, &c);
}
DIST_DEFINE(binomial_lpmf, binomial, NULL, 0, "n", "N", "theta")
DIST_DEFINE(binomial_logit_lpmf, binomial_logit, NULL, 0, "n", "N", "alpha")
DIST_DEFINE(beta_binomial_lpmf, beta_binomial, NULL, 0, "n", "N", "alpha", "beta")
DIST_DEFINE(poisson_lpmf, poisson, yterm_neg_lfact, 0, "n", "lambda")
static const dist_desc desc_poisson_log_lpmf = {"poisson_log_lpmf", {"n", "alpha"},
                                                 yterm_neg_lfact, 0};

/* poisson_log_lpmf: the hot case of Poisson regression (data counts against log rates
 * that vary by draw): per element, the exps of its draws through vmath's vector exp
 * (most of this pass), then k_poisson_log's arithmetic; a log rate that is not finite
 * takes k_poisson_log itself. */
static ad_val *impl_poisson_log_lpmf(ad_tape *t, ad_val **args, int nargs)
{
  if (nargs != 2) { ad_tape_set_error(t, "poisson_log_lpmf: expected 2 arguments"); return NULL; }
  const ad_val *n = args[0];
  int plain = n->nd != 1 || args[1]->nd == 1;
  for (size_t e = 0; e < n->len && !plain; e++) plain = n->x[e] < 0;
  if (plain) return dist_run(t, &desc_poisson_log_lpmf, args, 2, k_poisson_log);
  dist_ctx c;
  /* the partials per element are written, not added to: no need to clear them first */
  if (dist_setup_z(t, &desc_poisson_log_lpmf, args, 2, &c, 0)) return NULL;
  const size_t ndo = c.ndo, pes = c.pes[1];
  double *acc = c.out->x, *P = c.P[1], *ex = ad_alloc(t, (ndo ? ndo : 1) * sizeof *ex);
  if (!ex) { ad_tape_set_error(t, "out of memory in poisson_log_lpmf"); return NULL; }
  if (P && !pes) memset(P, 0, ndo * sizeof *P);   /* one row, summed over elements */
  for (size_t e = 0; e < c.N; e++) {
    const double k = c.x[0][e * c.es[0]], *al = c.x[1] + e * c.es[1];
    double *pe = P ? P + e * pes : NULL;
    vmath_exp(ex, al, ndo);
    for (size_t s = 0; s < ndo; s++) {
      double v, g;
      if (isfinite(al[s])) {
        v = k * al[s] - ex[s];
        g = k - ex[s];
      } else {
        double a[2] = {k, al[s]}, gk[2] = {0, 0};
        v = k_poisson_log(a, gk, 2);
        g = gk[1];
      }
      acc[s] += v;
      if (!pe) continue;
      if (pes) pe[s] = isfinite(v) ? g : 0;
      else if (isfinite(v)) pe[s] += g;
    }
  }
  return dist_finish(t, &desc_poisson_log_lpmf, args, &c);
}
DIST_DEFINE(neg_binomial_lpmf, neg_binomial, yterm_neg_lfact, 0, "n", "alpha", "beta")
DIST_DEFINE(neg_binomial_2_lpmf, neg_binomial_2, yterm_neg_lfact, 0, "n", "mu", "phi")
DIST_DEFINE(neg_binomial_2_log_lpmf, neg_binomial_2_log, yterm_neg_lfact, 0, "n", "eta", "phi")
DIST_DEFINE(normal_lcdf, normal_lcdf, NULL, 0, "y", "mu", "sigma")
DIST_DEFINE(normal_lccdf, normal_lccdf, NULL, 0, "y", "mu", "sigma")
DIST_DEFINE(normal_cdf, normal_lcdf, NULL, 1, "y", "mu", "sigma")
DIST_DEFINE(std_normal_lcdf, std_normal_lcdf, NULL, 0, "y")
DIST_DEFINE(std_normal_lccdf, std_normal_lccdf, NULL, 0, "y")
DIST_DEFINE(std_normal_cdf, std_normal_lcdf, NULL, 1, "y")
DIST_DEFINE(exponential_lcdf, exponential_lcdf, NULL, 0, "y", "beta")
DIST_DEFINE(exponential_lccdf, exponential_lccdf, NULL, 0, "y", "beta")
DIST_DEFINE(exponential_cdf, exponential_lcdf, NULL, 1, "y", "beta")
DIST_DEFINE(logistic_lcdf, logistic_lcdf, NULL, 0, "y", "mu", "sigma")
DIST_DEFINE(logistic_lccdf, logistic_lccdf, NULL, 0, "y", "mu", "sigma")
DIST_DEFINE(logistic_cdf, logistic_lcdf, NULL, 1, "y", "mu", "sigma")
DIST_DEFINE(lognormal_lcdf, lognormal_lcdf, NULL, 0, "y", "mu", "sigma")
DIST_DEFINE(lognormal_lccdf, lognormal_lccdf, NULL, 0, "y", "mu", "sigma")
DIST_DEFINE(lognormal_cdf, lognormal_lcdf, NULL, 1, "y", "mu", "sigma")

/* Variants of the above whose kernels call GSL special functions: GSL's error handler is
 * off for the duration (a domain or underflow report must not abort the process). */
#define DIST_DEFINE_GSL(fn, kern, yt, cdfmode, ...)                                    \
  static const dist_desc desc_##fn = {#fn, {__VA_ARGS__}, yt, cdfmode};               \
  static ad_val *impl_##fn(ad_tape *t, ad_val **args, int nargs)                      \
  {                                                                                    \
    enum { NA = sizeof((const char *[]){__VA_ARGS__}) / sizeof(const char *) };        \
    if (nargs != NA) { ad_tape_set_error(t, "%s: expected %d arguments", #fn, NA); return NULL; } \
    gsl_error_handler_t *old = gsl_set_error_handler_off();                           \
    ad_val *r = dist_run(t, &desc_##fn, args, NA, k_##kern);                          \
    gsl_set_error_handler(old);                                                        \
    return r;                                                                          \
  }

DIST_DEFINE_GSL(von_mises_lpdf, von_mises, NULL, 0, "y", "mu", "kappa")
DIST_DEFINE_GSL(student_t_lcdf, student_t_lcdf, NULL, 0, "y", "nu", "mu", "sigma")
DIST_DEFINE_GSL(student_t_lccdf, student_t_lccdf, NULL, 0, "y", "nu", "mu", "sigma")
DIST_DEFINE_GSL(student_t_cdf, student_t_lcdf, NULL, 1, "y", "nu", "mu", "sigma")
DIST_DEFINE(gumbel_lpdf, gumbel, NULL, 0, "y", "mu", "beta")
DIST_DEFINE(gumbel_lcdf, gumbel_lcdf, NULL, 0, "y", "mu", "beta")
DIST_DEFINE(gumbel_lccdf, gumbel_lccdf, NULL, 0, "y", "mu", "beta")
DIST_DEFINE(gumbel_cdf, gumbel_lcdf, NULL, 1, "y", "mu", "beta")
DIST_DEFINE(rayleigh_lpdf, rayleigh, NULL, 0, "y", "sigma")
DIST_DEFINE(skew_normal_lpdf, skew_normal, NULL, 0, "y", "xi", "omega", "alpha")
DIST_DEFINE(exp_mod_normal_lpdf, exp_mod_normal, NULL, 0, "y", "mu", "sigma", "lambda")
DIST_DEFINE(skew_double_exponential_lpdf, skew_double_exponential, NULL, 0, "y", "mu", "sigma", "tau")
DIST_DEFINE(loglogistic_lpdf, loglogistic, NULL, 0, "y", "alpha", "beta")
DIST_DEFINE(pareto_type_2_lpdf, pareto_type_2, NULL, 0, "y", "mu", "lambda", "alpha")
DIST_DEFINE(discrete_range_lpmf, discrete_range, NULL, 0, "y", "lower", "upper")
DIST_DEFINE(cauchy_lcdf, cauchy_lcdf, NULL, 0, "y", "mu", "sigma")
DIST_DEFINE(cauchy_lccdf, cauchy_lccdf, NULL, 0, "y", "mu", "sigma")
DIST_DEFINE(cauchy_cdf, cauchy_lcdf, NULL, 1, "y", "mu", "sigma")
DIST_DEFINE(double_exponential_lcdf, double_exponential_lcdf, NULL, 0, "y", "mu", "sigma")
DIST_DEFINE(double_exponential_lccdf, double_exponential_lccdf, NULL, 0, "y", "mu", "sigma")
DIST_DEFINE(double_exponential_cdf, double_exponential_lcdf, NULL, 1, "y", "mu", "sigma")
DIST_DEFINE(uniform_lcdf, uniform_lcdf, NULL, 0, "y", "alpha", "beta")
DIST_DEFINE(uniform_lccdf, uniform_lccdf, NULL, 0, "y", "alpha", "beta")
DIST_DEFINE(uniform_cdf, uniform_lcdf, NULL, 1, "y", "alpha", "beta")
DIST_DEFINE(weibull_lcdf, weibull_lcdf, NULL, 0, "y", "alpha", "sigma")
DIST_DEFINE(weibull_lccdf, weibull_lccdf, NULL, 0, "y", "alpha", "sigma")
DIST_DEFINE(weibull_cdf, weibull_lcdf, NULL, 1, "y", "alpha", "sigma")
DIST_DEFINE_GSL(gamma_lcdf, gamma_lcdf, NULL, 0, "y", "alpha", "beta")
DIST_DEFINE_GSL(gamma_lccdf, gamma_lccdf, NULL, 0, "y", "alpha", "beta")
DIST_DEFINE_GSL(gamma_cdf, gamma_lcdf, NULL, 1, "y", "alpha", "beta")
DIST_DEFINE_GSL(binomial_lcdf, binomial_lcdf, NULL, 0, "n", "N", "theta")
DIST_DEFINE_GSL(binomial_lccdf, binomial_lccdf, NULL, 0, "n", "N", "theta")
DIST_DEFINE_GSL(binomial_cdf, binomial_lcdf, NULL, 1, "n", "N", "theta")
DIST_DEFINE_GSL(neg_binomial_2_lcdf, neg_binomial_2_lcdf, NULL, 0, "n", "mu", "phi")
DIST_DEFINE_GSL(neg_binomial_2_lccdf, neg_binomial_2_lccdf, NULL, 0, "n", "mu", "phi")
DIST_DEFINE_GSL(neg_binomial_2_cdf, neg_binomial_2_lcdf, NULL, 1, "n", "mu", "phi")
DIST_DEFINE_GSL(poisson_lcdf, poisson_lcdf, NULL, 0, "n", "lambda")
DIST_DEFINE_GSL(poisson_lccdf, poisson_lccdf, NULL, 0, "n", "lambda")
DIST_DEFINE_GSL(poisson_cdf, poisson_lcdf, NULL, 1, "n", "lambda")

/* ---- the table ---------------------------------------------------------------- */

#define BUILTIN(name, sig, impl) {name, sig, impl},
const builtin_def builtin_kernels_dist[] = {
#include "lang/lib/table_dist.def"
  {NULL, NULL, NULL}
};
#undef BUILTIN
