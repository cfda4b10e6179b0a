/* builtins_dist_glm.c: Stan's fused generalised-linear-model densities
 * bernoulli_logit_glm(y | x, alpha, beta), poisson_log_glm(y | x, alpha, beta),
 * normal_id_glm(y | x, alpha, beta, sigma) and neg_binomial_2_log_glm(y | x, alpha,
 * beta, phi), where the linear predictor is
 * eta = x * beta + alpha.  For data x and beta varying over the n draws, eta for all
 * draws is one GEMM (N x D times D x n), and so is the gradient x' r with respect to
 * beta, r = d log p / d eta: the whole regression costs two BLAS calls plus one pass over
 * the N x n predictor.  Values and gradients are those of the unfused densities in
 * builtins_dist.c (Stan Functions Reference, "Generalized linear models"). */
#include <string.h>
#include <gsl/gsl_cblas.h>
#include "lang/lib/lib.h"
#include "lang/lib/dist_impl.h"

enum { GLM_BERNOULLI_LOGIT, GLM_POISSON_LOG, GLM_NORMAL_ID, GLM_NB2_LOG };

static const char *const glm_names[] = {"bernoulli_logit_glm_lpmf", "poisson_log_glm_lpmf",
                                        "normal_id_glm_lpdf", "neg_binomial_2_log_glm_lpmf"};

/* Broadcast accessor: element i (if a container) of draw s (if varying). */
typedef struct { const double *x; size_t es, ds; } bview;
static inline bview view_of(const ad_val *v)
{
  bview b = {v->x, type_rank(v->type) > 0 ? v->nd : 0, v->nd > 1 ? 1 : 0};
  return b;
}
static inline double bget(bview b, size_t i, size_t s) { return b.x[i * b.es + s * b.ds]; }

/* Check that a scalar-or-container argument has N elements. */
static int glm_size(ad_tape *t, const char *name, const char *arg, const ad_val *v, size_t N)
{
  if (type_rank(v->type) > 0 && v->len != N) {
    ad_tape_set_error(t, "%s: size of %s (%zu) and rows of x (%zu) differ", name, arg,
                      v->len, N);
    return -1;
  }
  return 0;
}

static ad_val *glm_common(ad_tape *t, ad_val **args, int nargs, int kind)
{
  const char *name = glm_names[kind];
  ad_val *y = args[0], *x = args[1], *al = args[2], *be = args[3];
  /* the fifth argument: sigma (normal) or phi (negative binomial) */
  ad_val *sg = kind == GLM_NORMAL_ID || kind == GLM_NB2_LOG ? args[4] : NULL;
  if (x->ndims != 2) { ad_tape_set_error(t, "%s: x is not a matrix", name); return NULL; }
  const size_t N = x->dims[0], D = x->dims[1];
  if (be->len != D) {
    ad_tape_set_error(t, "%s: size of beta (%zu) and columns of x (%zu) differ", name,
                      be->len, D);
    return NULL;
  }
  if (glm_size(t, name, "y", y, N) || glm_size(t, name, "alpha", al, N) ||
      (sg && glm_size(t, name, kind == GLM_NB2_LOG ? "phi" : "sigma", sg, N)))
    return NULL;
  ad_val *out = dist_new_result(t, args, nargs);
  if (!out) return NULL;
  const size_t ndo = out->nd;
  const int want = out->adj != NULL;
  const int need_eta = want && (al->adj || be->adj || x->adj);

  /* eta = x beta (N x nb, nb = beta's draws), by GEMM when x is data */
  const size_t nb = x->nd > 1 ? ndo : be->nd;
  double *E = ad_alloc(t, (N * nb > 0 ? N * nb : 1) * sizeof *E);
  double *R = need_eta ? dist_zeros(t, N * ndo) : NULL;
  unsigned char *bad = ad_alloc(t, ndo);
  if (!E || !bad || (need_eta && !R)) { ad_tape_set_error(t, "%s: out of memory", name); return NULL; }
  memset(bad, 0, ndo);
  if (x->nd == 1 && N > 0 && D > 0) {
    /* x column-major N x D is row-major D x N; beta's draws are row-major D x nb:
       E (row-major N x nb) = (D x N)^T (D x nb) */
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)N, (int)nb, (int)D, 1.0,
                x->x, (int)N, be->x, (int)nb, 0.0, E, (int)nb);
  } else {
    bview bv = view_of(be);
    for (size_t i = 0; i < N; i++)
      for (size_t s = 0; s < nb; s++) {
        double v = 0;
        for (size_t d = 0; d < D; d++)
          v += x->x[(d * N + i) * x->nd + (x->nd > 1 ? s : 0)] * bget(bv, d, s);
        E[i * nb + s] = v;
      }
  }

  int fail = 0;
  double *Py = NULL, *Pa = NULL, *Ps = NULL;
  if (want && y->adj) { Py = dist_zeros(t, (type_rank(y->type) ? N : 1) * ndo); fail |= !Py; }
  if (want && al->adj) { Pa = dist_zeros(t, (type_rank(al->type) ? N : 1) * ndo); fail |= !Pa; }
  if (want && sg && sg->adj) { Ps = dist_zeros(t, (type_rank(sg->type) ? N : 1) * ndo); fail |= !Ps; }
  if (fail) return NULL;
  const size_t pya = type_rank(y->type) ? ndo : 0, paa = type_rank(al->type) ? ndo : 0;
  const size_t psa = sg && type_rank(sg->type) ? ndo : 0;

  bview yv = view_of(y), av = view_of(al), sv = sg ? view_of(sg) : yv;
  double *acc = out->x;
  const size_t es = nb > 1 ? 1 : 0;
  for (size_t i = 0; i < N; i++) {
    for (size_t s = 0; s < ndo; s++) {
      double eta = E[i * nb + s * es] + bget(av, i, s), yi = bget(yv, i, s), lp, r;
      switch (kind) {
      case GLM_BERNOULLI_LOGIT: {
        if (yi != 0 && yi != 1) { bad[s] = 1; continue; }
        double sgn = yi == 1 ? 1.0 : -1.0, v = sgn * eta, ex = exp(-fabs(v));
        lp = (v < 0 ? v : 0) - log1p(ex);
        r = sgn * (v > 0 ? ex : 1.0) / (1 + ex);
        break;
      }
      case GLM_POISSON_LOG: {
        if (yi < 0 || eta == INFINITY) { bad[s] = 1; continue; }
        if (eta == -INFINITY) {
          if (yi != 0) { bad[s] = 1; continue; }
          lp = 0; r = 0;
          break;
        }
        double ex = exp(eta);
        lp = yi * eta - ex - lgamma(yi + 1);
        r = yi - ex;
        break;
      }
      case GLM_NB2_LOG: {
        double phi = bget(sv, i, s);
        if (yi < 0 || !(phi > 0) || eta == INFINITY) { bad[s] = 1; continue; }
        /* as neg_binomial_2_log_lpmf: d = eta - log phi, l1 = log1p(exp(d)) */
        double d = eta - log(phi), l1 = dist_log1p_exp(d), w = dist_inv_logit(d);
        lp = dist_lgamma_ratio(phi, yi) - lgamma(yi + 1) + (yi == 0 ? 0 : yi * (d - l1)) - phi * l1;
        r = yi - (yi + phi) * w;
        if (Ps)
          Ps[i * psa + s] += dist_digamma_ratio(phi, yi) - l1 + 1 - (yi + phi) * (1 - w) / phi;
        break;
      }
      default: {
        double sigma = bget(sv, i, s);
        if (sigma <= 0) { bad[s] = 1; continue; }
        double z = (yi - eta) / sigma;
        lp = -0.5 * z * z - log(sigma) - DIST_LOG_SQRT_2PI;
        r = z / sigma;
        if (Py) Py[i * pya + s] -= r;
        if (Ps) Ps[i * psa + s] += (z * z - 1) / sigma;
        break;
      }
      }
      acc[s] += lp;
      if (R) R[i * ndo + s] = r;
      if (Pa) Pa[i * paa + s] += r;
    }
  }
  /* draws with an invalid outcome or parameter: -inf, no gradient */
  for (size_t s = 0; s < ndo; s++) {
    if (!bad[s]) continue;
    acc[s] = -INFINITY;
    for (size_t i = 0; i < N; i++) {
      if (R) R[i * ndo + s] = 0;
      if (Py && (pya || i == 0)) Py[i * pya + s] = 0;
      if (Pa && (paa || i == 0)) Pa[i * paa + s] = 0;
      if (Ps && (psa || i == 0)) Ps[i * psa + s] = 0;
    }
  }
  double *P[5] = {Py, NULL, Pa, NULL, Ps};
  if (want && be->adj) {
    /* d/dbeta (D x ndo) = x^T R */
    P[3] = dist_zeros(t, D * ndo);
    if (!P[3]) return NULL;
    if (x->nd == 1 && N > 0 && D > 0) {
      cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)D, (int)ndo, (int)N, 1.0,
                  x->x, (int)N, R, (int)ndo, 0.0, P[3], (int)ndo);
    } else {
      for (size_t d = 0; d < D; d++)
        for (size_t i = 0; i < N; i++)
          for (size_t s = 0; s < ndo; s++)
            P[3][d * ndo + s] += x->x[(d * N + i) * x->nd + (x->nd > 1 ? s : 0)] * R[i * ndo + s];
    }
  }
  if (want && x->adj) {
    /* d/dx(i, d) = r_i beta_d */
    P[1] = dist_zeros(t, N * D * ndo);
    if (!P[1]) return NULL;
    bview bv = view_of(be);
    for (size_t d = 0; d < D; d++)
      for (size_t i = 0; i < N; i++)
        for (size_t s = 0; s < ndo; s++)
          P[1][(d * N + i) * ndo + s] = R[i * ndo + s] * bget(bv, d, s);
  }
  /* a node has at most 4 inputs: sigma / phi gets its own node on the same output */
  if (dist_push_partials(t, out, args, nargs < 4 ? nargs : 4, P)) return NULL;
  if (sg && dist_push_partials(t, out, args + 4, 1, P + 4)) return NULL;
  return out;
}

ad_val *dist_bernoulli_logit_glm_lpmf(ad_tape *t, ad_val **a, int n)
{
  return glm_common(t, a, n, GLM_BERNOULLI_LOGIT);
}

ad_val *dist_poisson_log_glm_lpmf(ad_tape *t, ad_val **a, int n)
{
  return glm_common(t, a, n, GLM_POISSON_LOG);
}

ad_val *dist_normal_id_glm_lpdf(ad_tape *t, ad_val **a, int n)
{
  return glm_common(t, a, n, GLM_NORMAL_ID);
}

ad_val *dist_neg_binomial_2_log_glm_lpmf(ad_tape *t, ad_val **a, int n)
{
  return glm_common(t, a, n, GLM_NB2_LOG);
}
