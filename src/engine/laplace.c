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
 * lp) and why the caller compares the ELBO of this start with the default one.
 * Up to D = 400 the search is first a damped Newton search with the full Hessian by
 * differences of the gradient (Levenberg-Marquardt damping, Armijo backtracking; Nocedal &
 * Wright, Numerical Optimization, ch. 3 and 10): unlike BFGS from a unit start it is
 * invariant to linear changes of variables, so a strongly correlated, badly scaled
 * posterior (an uncentred regression) takes a handful of steps; the BFGS passes remain the
 * fallback when it does not converge. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_linalg.h>
#include <gsl/gsl_multimin.h>
#include <vi/status.h>
#include "engine/laplace.h"

#define LP_MAX 1e8           /* a log joint above this: no proper mode, stop */
#define GRAD_TOL 1e-3        /* |grad log p|_2 below this: at the mode */
#define SD_MIN 1e-8
#define SD_MAX 1e3
#define CURV_REL 1e-3        /* difference step: CURV_REL * max(scale_d, |z_d|) */
#define CURV_POINTS ((size_t)1 << 20)   /* doubles of z per batched curvature call */
#define PASS_CALLS (10 * VI_LAPLACE_MAX_ITER)   /* log_joint calls per BFGS pass: GSL's line
                                 search can spend thousands where the log joint is
                                 non-finite or noisy (an ODE solved to a tolerance) */
#define NEWTON_DECREMENT 1e-4 /* at the mode when the Newton step would gain < 5e-5 nats:
                                 scale-free, unlike GRAD_TOL, and met where the log joint
                                 is only as smooth as an ODE solver's tolerance (lynx-hare:
                                 |grad| stalls near 1e-2 at the mode) */
#define NEWTON_BACKTRACKS 10 /* step halvings per damping: below t = 2^-9 the step is no use
                                 and a larger damping (a shorter, steeper step) is tried */

typedef struct {
  vi_model m;
  size_t D;
  const double *z0;       /* the start: the box is around it */
  const double *o, *sc;   /* the search's coordinates: z = o + sc * u */
  double *z, *g;          /* D: the trial point, its gradient */
  double *best;           /* D: the best finite point seen */
  double best_f;          /* its -log p (+inf: none) */
  int hard;               /* a model error seen inside a callback */
  size_t calls_left;      /* of this BFGS pass's PASS_CALLS: at 0 every point is +inf */
  int converged;          /* the last search stopped on a small gradient */
  laplace_stats *st;
} laplace_ctx;

static double laplace_eval(laplace_ctx *c, const gsl_vector *v, gsl_vector *gv)
{
  size_t D = c->D;
  if (gv) gsl_vector_set_zero(gv);
  if (c->hard || c->calls_left == 0) return INFINITY;
  c->calls_left--;
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
  c->calls_left = PASS_CALLS;
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
      if (c->hard || gs != GSL_SUCCESS || c->calls_left == 0) break;
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
/* One batched call at the k difference pairs (z + h_d e_d, z - h_d e_d), d = d0..d0+k-1,
 * h_d = CURV_REL * max(sc_d, |z_d|): points in zc, values in lc, gradients in gc. */
static int laplace_diff_pairs(const vi_model *m, const double *z, const double *sc,
                              size_t d0, size_t k, double *zc, double *gc, double *lc,
                              laplace_stats *stats)
{
  size_t D = m->dim;
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
  return st == VI_SUCCESS ? VI_SUCCESS : st < 0 ? st : VI_EMODEL;
}

static int laplace_curvature(const vi_model *m, const double *z, const double *sc,
                             size_t pairs, double *zc, double *gc, double *lc, double *sd,
                             laplace_stats *stats)
{
  size_t D = m->dim;
  for (size_t d0 = 0; d0 < D; d0 += pairs) {
    size_t k = D - d0 < pairs ? D - d0 : pairs;
    int st = laplace_diff_pairs(m, z, sc, d0, k, zc, gc, lc, stats);
    if (st != VI_SUCCESS) return st;
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

/* Cholesky of the D x D symmetric A (lower triangle used) in place into its lower
 * triangle, upper triangle zeroed (GSL); 0 on success, -1 when A is not (numerically)
 * positive definite. */
int laplace_cholesky(double *A, size_t D)
{
  gsl_matrix_view v = gsl_matrix_view_array(A, D, D);
  if (gsl_linalg_cholesky_decomp1(&v.matrix) != GSL_SUCCESS) return -1;
  for (size_t j = 0; j < D; j++) {
    if (!isfinite(A[j * D + j])) return -1;
    for (size_t i = 0; i < j; i++) A[i * D + j] = 0.0;   /* keep it lower triangular */
  }
  return 0;
}

/* The full negative Hessian H of log p at z (D x D, symmetrised) by central differences
 * of the gradient: column d = -(g(z + h e_d) - g(z - h e_d)) / 2h, pairs in batched calls.
 * Returns VI_SUCCESS, a model status, or 1 when some difference point is not finite. */
static int laplace_hessian(const vi_model *m, const double *z, const double *sc,
                           size_t pairs, double *zc, double *gc, double *lc, double *H,
                           laplace_stats *stats)
{
  size_t D = m->dim;
  for (size_t d0 = 0; d0 < D; d0 += pairs) {
    size_t k = D - d0 < pairs ? D - d0 : pairs;
    int st = laplace_diff_pairs(m, z, sc, d0, k, zc, gc, lc, stats);
    if (st != VI_SUCCESS) return st;
    for (size_t i = 0; i < k; i++) {
      size_t d = d0 + i;
      double hp = zc[(2 * i) * D + d] - z[d], hm = z[d] - zc[(2 * i + 1) * D + d];
      if (!isfinite(lc[2 * i]) || !isfinite(lc[2 * i + 1])) return 1;
      for (size_t r = 0; r < D; r++) {
        double v = -(gc[(2 * i) * D + r] - gc[(2 * i + 1) * D + r]) / (hp + hm);
        if (!isfinite(v)) return 1;
        H[r * D + d] = v;
      }
    }
  }
  for (size_t i = 0; i < D; i++)
    for (size_t j = 0; j < i; j++) {
      double a = 0.5 * (H[i * D + j] + H[j * D + i]);
      H[i * D + j] = H[j * D + i] = a;
    }
  return VI_SUCCESS;
}

/* One log_joint evaluation at z (lp, g): 0 when finite, 1 when not (or outside the box),
 * or a model status. */
static int laplace_point(laplace_ctx *c, const double *z, double *lp, double *g)
{
  for (size_t j = 0; j < c->D; j++)
    if (!(fabs(z[j] - c->z0[j]) <= VI_LAPLACE_NEWTON_BOX)) return 1;
  int s = c->m.log_joint(c->m.ctx, 1, z, lp, g);
  c->st->n_calls++;
  c->st->n_points++;
  if (s != VI_SUCCESS) return s < 0 ? s : VI_EMODEL;
  if (!isfinite(*lp)) return 1;
  for (size_t j = 0; j < c->D; j++)
    if (!isfinite(g[j])) return 1;
  return 0;
}

/* The Newton decrement g' H^-1 g at a point with gradient g and negative Hessian H (D x D):
 * twice the log density the exact Newton step would gain; +inf when H is not positive
 * definite.  A and p are scratch (D x D, D). */
static double laplace_decrement(const double *H, const double *g, double *A, double *p,
                                size_t D)
{
  memcpy(A, H, D * D * sizeof(double));
  if (laplace_cholesky(A, D) != 0) return INFINITY;
  double d = 0.0;
  for (size_t i = 0; i < D; i++) {   /* p = L^-1 g: g' H^-1 g = |p|^2 */
    double t = g[i];
    for (size_t k = 0; k < i; k++) t -= A[i * D + k] * p[k];
    p[i] = t / A[i * D + i];
    d += p[i] * p[i];
  }
  return d;
}

/* Damped Newton search for the mode from z0 (D <= VI_LAPLACE_NEWTON_DIM): the full
 * negative Hessian H by differences of the gradient, the step A^-1 g with
 * A = H + lambda diag(max(|H_dd|, tiny)) (Levenberg-Marquardt damping: lambda grows while
 * A is not positive definite or the step fails, and shrinks after a good step), and a
 * backtracking (Armijo) line search.  Unlike BFGS it is invariant to linear changes of
 * variables: an uncentred regression (correlation 0.999, scales 1e4 apart) takes a few
 * steps.  On success (small gradient) c->best holds the mode, H (D x D) the negative
 * Hessian there, and c->converged = 1.  Returns VI_SUCCESS or a model status. */
static int laplace_newton(laplace_ctx *c, size_t pairs, double *zc, double *gc, double *lc,
                          double *H, double *A, double *p, double *zt, double *gt,
                          double *sc)
{
  size_t D = c->D;
  double *z = c->z, *g = c->g, lp, lpt;
  c->converged = 0;
  memcpy(z, c->z0, D * sizeof(double));
  for (size_t j = 0; j < D; j++) sc[j] = 1.0;
  int s = laplace_point(c, z, &lp, g);
  if (s != 0) return s == 1 ? VI_SUCCESS : s;
  double lambda = 0.0;
  for (size_t it = 0; it < VI_LAPLACE_NEWTON_ITER; it++) {
    double gn = 0.0;
    for (size_t j = 0; j < D; j++) gn += g[j] * g[j];
    s = laplace_hessian(&c->m, z, sc, pairs, zc, gc, lc, H, c->st);
    if (s != VI_SUCCESS) return s == 1 ? VI_SUCCESS : s;
    for (size_t j = 0; j < D; j++) {
      double h = H[j * D + j];
      sc[j] = h > 0.0 && isfinite(h) ? fmin(fmax(1.0 / sqrt(h), SD_MIN), SD_MAX) : 1.0;
    }
    if (sqrt(gn) < GRAD_TOL || laplace_decrement(H, g, A, p, D) < NEWTON_DECREMENT) {
      c->converged = 1;
      break;
    }
    c->st->iters++;
    int moved = 0;
    for (int tries = 0; tries < 12 && !moved; tries++) {
      for (size_t i = 0; i < D; i++)
        for (size_t j = 0; j < D; j++)
          A[i * D + j] = H[i * D + j] +
                         (i == j ? lambda * fmax(fabs(H[i * D + i]), 1e-8) : 0.0);
      if (laplace_cholesky(A, D) != 0) {
        lambda = lambda > 0.0 ? 10.0 * lambda : 1e-4;
        continue;
      }
      /* p = A^-1 g: forward then backward substitution */
      for (size_t i = 0; i < D; i++) {
        double t = g[i];
        for (size_t k = 0; k < i; k++) t -= A[i * D + k] * p[k];
        p[i] = t / A[i * D + i];
      }
      for (size_t i = D; i-- > 0;) {
        double t = p[i];
        for (size_t k = i + 1; k < D; k++) t -= A[k * D + i] * p[k];
        p[i] = t / A[i * D + i];
      }
      double slope = 0.0;
      for (size_t j = 0; j < D; j++) slope += g[j] * p[j];
      double t = 1.0;
      for (int bt = 0; bt < NEWTON_BACKTRACKS; bt++, t *= 0.5) {
        for (size_t j = 0; j < D; j++) zt[j] = z[j] + t * p[j];
        s = laplace_point(c, zt, &lpt, gt);
        if (s < 0 || s > 1) return s;
        if (s == 0 && lpt >= lp + 1e-4 * t * slope) {
          moved = 1;
          break;
        }
      }
      if (moved) {
        memcpy(z, zt, D * sizeof(double));
        memcpy(g, gt, D * sizeof(double));
        lp = lpt;
        if (t == 1.0) lambda = lambda > 1e-6 ? 0.1 * lambda : 0.0;
      } else {
        lambda = lambda > 0.0 ? 10.0 * lambda : 1e-4;
      }
    }
    if (!moved || lp > LP_MAX) break;   /* stuck, or no proper mode (a funnel) */
  }
  if (-lp < c->best_f) {
    c->best_f = -lp;
    memcpy(c->best, z, D * sizeof(double));
  }
  if (!c->converged) c->best_f = INFINITY;   /* the BFGS passes start afresh */
  return VI_SUCCESS;
}

int laplace_start(const vi_model *m, const double *z0, double default_sd, double *x,
                     double *hess, laplace_stats *stats)
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
  int newton = hess != NULL && D <= VI_LAPLACE_NEWTON_DIM;
  double *A = NULL, *p = NULL, *zt = NULL, *gt = NULL;
  if (newton) {
    A = malloc(D * D * sizeof(double));
    p = malloc(D * sizeof(double));
    zt = malloc(D * sizeof(double));
    gt = malloc(D * sizeof(double));
  }
  int st = VI_ENOMEM;
  if (!c.z || !c.g || !c.best || !sc || !o || !sd || !zc || !gc || !lc) goto done;
  if (newton && (!A || !p || !zt || !gt)) goto done;
  if (newton) {
    if ((st = laplace_newton(&c, pairs, zc, gc, lc, hess, A, p, zt, gt, sc)) != VI_SUCCESS)
      goto done;
    if (c.converged) {
      stats->found = 1;
      stats->converged = 1;
      stats->have_hess = 1;
      memcpy(x, c.best, D * sizeof(double));
      for (size_t j = 0; j < D; j++) {
        double h = hess[j * D + j];
        if (h > 0.0 && isfinite(h)) {
          x[D + j] = log(fmin(fmax(1.0 / sqrt(h), SD_MIN), SD_MAX));
          stats->n_curv++;
        }
      }
      st = VI_SUCCESS;
      goto done;
    }
  }
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
  if (newton && stats->converged) {
    int h = laplace_hessian(m, c.best, sc, pairs, zc, gc, lc, hess, stats);
    if (h < 0) st = h;
    stats->have_hess = h == VI_SUCCESS;
  }
done:
  free(A); free(p); free(zt); free(gt);
  free(c.z); free(c.g); free(c.best); free(sc); free(o); free(sd); free(zc); free(gc);
  free(lc);
  return st;
}
