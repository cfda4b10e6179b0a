/* laplace.c: a scale-aware starting point for q, in the spirit of a Laplace approximation
 * (the mean-field version of the start Stan's ADVI and Pathfinder take from an optimiser's
 * path; Zhang, Carpenter, Gelman & Vehtari, JMLR 2022).  When posterior scales differ by
 * orders of magnitude, q = N(0, I) puts the fixed draws astronomically far from the
 * posterior and the ELBO's optimiser spends hundreds of iterations learning the scales.
 * Here a bounded quasi-Newton search (GSL vector_bfgs2) finds the mode of log p(x, z), and
 * the diagonal of the negative Hessian there, H_dd, gives the sds: for a Gaussian
 * posterior with precision P the mean-field optimum is sd_d = 1 / sqrt(P_dd) exactly
 * (and the mean is the mode), so the start is the answer; otherwise it is at least on the
 * right scale.  H_dd comes from central differences of the gradient, all 2D points in
 * batched calls.  The search runs twice, the second time in coordinates scaled by the sds
 * of the first (a diagonal preconditioner: without it, scales spanning six orders of
 * magnitude leave BFGS far from the mode of the large-sd coordinates).  Models with no proper mode (a hierarchical funnel: log tau -> -inf,
 * lp -> +inf) are why the search is bounded (iterations, a box around the start, a cap on
 * lp) and why the caller compares the ELBO of this start with the default one. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_multimin.h>
#include <vi/status.h>
#include "engine/laplace.h"

#define LP_MAX 1e8           /* a log joint above this: no proper mode, stop */
#define GRAD_TOL 1e-3        /* |grad log p|_2 below this: at the mode */
#define SD_MIN 1e-8
#define SD_MAX 1e3
#define CURV_REL 1e-3        /* difference step: CURV_REL * max(scale_d, |z_d|) */
#define CURV_POINTS ((size_t)1 << 20)   /* doubles of z per batched curvature call */

typedef struct {
  vi_model m;
  size_t D;
  const double *z0;       /* the start: the box is around it */
  const double *o, *sc;   /* the search's coordinates: z = o + sc * u */
  double *z, *g;          /* D: the trial point, its gradient */
  double *best;           /* D: the best finite point seen */
  double best_f;          /* its -log p (+inf: none) */
  int hard;               /* a model error seen inside a callback */
  int converged;          /* the last search stopped on a small gradient */
  vi_laplace_stats *st;
} laplace_ctx;

static double laplace_eval(laplace_ctx *c, const gsl_vector *v, gsl_vector *gv)
{
  size_t D = c->D;
  if (gv) gsl_vector_set_zero(gv);
  if (c->hard) return INFINITY;
  for (size_t j = 0; j < D; j++) {
    c->z[j] = c->o[j] + c->sc[j] * gsl_vector_get(v, j);
    if (!(fabs(c->z[j] - c->z0[j]) <= VI_LAPLACE_BOX)) return INFINITY;   /* NaN too */
  }
  double lp;
  int s = c->m.log_joint(c->m.ctx, 1, c->z, &lp, c->g);
  c->st->n_calls++;
  c->st->n_points++;
  if (s != VI_SUCCESS) {
    c->hard = s < 0 ? s : VI_EMODEL;
    return INFINITY;
  }
  if (!isfinite(lp)) return INFINITY;
  for (size_t j = 0; j < D; j++)
    if (!isfinite(c->g[j])) return INFINITY;
  if (-lp < c->best_f) {
    c->best_f = -lp;
    memcpy(c->best, c->z, D * sizeof(double));
  }
  if (gv)
    for (size_t j = 0; j < D; j++) gsl_vector_set(gv, j, -c->g[j] * c->sc[j]);
  return -lp;
}

static double laplace_f(const gsl_vector *v, void *p) { return laplace_eval(p, v, NULL); }
static void laplace_df(const gsl_vector *v, void *p, gsl_vector *g) { laplace_eval(p, v, g); }
static void laplace_fdf(const gsl_vector *v, void *p, double *f, gsl_vector *g)
{
  *f = laplace_eval(p, v, g);
}

/* The bounded mode search in u, z = o + sc * u, from u = 0: best point into c->best
 * (c->best_f +inf when none). */
static int laplace_mode(laplace_ctx *c)
{
  size_t D = c->D;
  c->converged = 0;
  gsl_vector *v = gsl_vector_alloc(D);
  gsl_multimin_fdfminimizer *s =
      gsl_multimin_fdfminimizer_alloc(gsl_multimin_fdfminimizer_vector_bfgs2, D);
  if (!v || !s) {
    if (v) gsl_vector_free(v);
    if (s) gsl_multimin_fdfminimizer_free(s);
    return VI_ENOMEM;
  }
  gsl_multimin_function_fdf fdf = {laplace_f, laplace_df, laplace_fdf, D, c};
  gsl_vector_set_zero(v);
  int gs = gsl_multimin_fdfminimizer_set(s, &fdf, v, 0.1, 0.1);
  if (gs == GSL_SUCCESS && isfinite(gsl_multimin_fdfminimizer_minimum(s)) && !c->hard) {
    for (size_t it = 0;; it++) {
      if (gsl_multimin_test_gradient(gsl_multimin_fdfminimizer_gradient(s), GRAD_TOL) ==
          GSL_SUCCESS) {
        c->converged = 1;
        break;
      }
      if (it == VI_LAPLACE_MAX_ITER) break;
      gs = gsl_multimin_fdfminimizer_iterate(s);
      if (c->hard || gs != GSL_SUCCESS) break;
      c->st->iters++;
      double fv = gsl_multimin_fdfminimizer_minimum(s);
      if (!isfinite(fv) || -fv > LP_MAX) break;
    }
  }
  gsl_multimin_fdfminimizer_free(s);
  gsl_vector_free(v);
  return c->hard;
}

/* sd[d] = 1 / sqrt(H_dd) at z (clamped), or NAN where H_dd is not positive and finite:
 * central differences of the gradient, pairs (z + h e_d, z - h e_d) in batched calls of up
 * to `pairs` pairs, h_d = CURV_REL * max(sc_d, |z_d|) (sc: the scale known so far). */
static int laplace_curvature(const vi_model *m, const double *z, const double *sc,
                             size_t pairs, double *zc, double *gc, double *lc, double *sd,
                             vi_laplace_stats *stats)
{
  size_t D = m->dim;
  for (size_t d0 = 0; d0 < D; d0 += pairs) {
    size_t k = D - d0 < pairs ? D - d0 : pairs;
    for (size_t i = 0; i < k; i++) {
      size_t d = d0 + i;
      double h = CURV_REL * fmax(sc[d], fabs(z[d]));
      memcpy(zc + (2 * i) * D, z, D * sizeof(double));
      memcpy(zc + (2 * i + 1) * D, z, D * sizeof(double));
      zc[(2 * i) * D + d] += h;
      zc[(2 * i + 1) * D + d] -= h;
    }
    int st = m->log_joint(m->ctx, 2 * k, zc, lc, gc);
    stats->n_calls++;
    stats->n_points += 2 * k;
    if (st != VI_SUCCESS) return st < 0 ? st : VI_EMODEL;
    for (size_t i = 0; i < k; i++) {
      size_t d = d0 + i;
      /* the step actually taken (z +- h rounded) */
      double hp = zc[(2 * i) * D + d] - z[d], hm = z[d] - zc[(2 * i + 1) * D + d];
      double H = -(gc[(2 * i) * D + d] - gc[(2 * i + 1) * D + d]) / (hp + hm);
      sd[d] = NAN;
      if (!isfinite(lc[2 * i]) || !isfinite(lc[2 * i + 1]) || !isfinite(H) || !(H > 0.0))
        continue;
      sd[d] = fmin(fmax(1.0 / sqrt(H), SD_MIN), SD_MAX);
    }
  }
  return VI_SUCCESS;
}

int vi_laplace_start(const vi_model *m, const double *z0, double default_sd, double *x,
                     vi_laplace_stats *stats)
{
  size_t D = m->dim;
  memset(stats, 0, sizeof *stats);
  for (size_t j = 0; j < D; j++) {
    x[j] = z0[j];
    x[D + j] = log(default_sd);
  }
  laplace_ctx c = {0};
  c.m = *m;
  c.D = D;
  c.z0 = z0;
  c.best_f = INFINITY;
  c.st = stats;
  c.z = malloc(D * sizeof(double));
  c.g = malloc(D * sizeof(double));
  c.best = malloc(D * sizeof(double));
  double *sc = malloc(D * sizeof(double)), *o = malloc(D * sizeof(double));
  double *sd = malloc(D * sizeof(double));
  size_t pairs = CURV_POINTS / (2 * D);
  if (pairs < 1) pairs = 1;
  if (pairs > D) pairs = D;
  double *zc = malloc(2 * pairs * D * sizeof(double));
  double *gc = malloc(2 * pairs * D * sizeof(double));
  double *lc = malloc(2 * pairs * sizeof(double));
  int st = VI_ENOMEM;
  if (!c.z || !c.g || !c.best || !sc || !o || !sd || !zc || !gc || !lc) goto done;
  /* Two passes: the search in z itself, then, from its best point, again in coordinates
   * scaled by the sds its curvature gives.  With scales spanning orders of magnitude the
   * first pass is ill-conditioned (it gets the small-sd coordinates right and leaves the
   * large-sd ones far off); the second is well-conditioned and finishes the job. */
  for (size_t j = 0; j < D; j++) { sc[j] = 1.0; o[j] = z0[j]; }
  c.o = o;
  c.sc = sc;
  for (int pass = 0; pass < 2; pass++) {
    if ((st = laplace_mode(&c)) != VI_SUCCESS) goto done;
    if (!isfinite(c.best_f)) goto done;   /* nothing finite: the default start stands */
    stats->found = 1;
    memcpy(o, c.best, D * sizeof(double));
    st = laplace_curvature(m, o, sc, pairs, zc, gc, lc, sd, stats);
    if (st != VI_SUCCESS) goto done;
    for (size_t j = 0; j < D; j++) sc[j] = isfinite(sd[j]) ? sd[j] : 1.0;
  }
  stats->converged = c.converged;
  memcpy(x, c.best, D * sizeof(double));
  for (size_t j = 0; j < D; j++)
    if (isfinite(sd[j])) {
      x[D + j] = log(sd[j]);
      stats->n_curv++;
    }
  st = VI_SUCCESS;
done:
  free(c.z); free(c.g); free(c.best); free(sc); free(o); free(sd); free(zc); free(gc);
  free(lc);
  return st;
}
