/* logreg.c: Bayesian logistic regression, y_i ~ Bernoulli(logit^-1(x_i' beta)),
 * beta ~ N(0, tau^2 I) (Bishop, "Pattern Recognition and Machine Learning", sec. 4.5): the
 * classic posterior with no closed form, so its log-evidence is estimated by the engine.
 * log p(y_i | eta) = y_i eta - log(1 + e^eta), evaluated without overflow; its gradient
 * in beta is X'(y - logit^-1(eta)).  A block of points costs two GEMMs (as in linreg.c). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <gsl/gsl_cblas.h>
#include <vi/status.h>
#include "c_models.h"

#define LOG_2PI 1.8378770664093454836
#define CHUNK 64

struct cm_logreg {
  size_t n, d;
  double *X, *y;
  double tau;
  double *eta;   /* CHUNK x n work */
};

static double log1pexp(double x) { return x > 0.0 ? x + log1p(exp(-x)) : log1p(exp(x)); }
static double inv_logit(double x)
{
  if (x >= 0.0) return 1.0 / (1.0 + exp(-x));
  double e = exp(x);
  return e / (1.0 + e);
}

static void cm_logreg_block(cm_logreg *c, size_t b, const double *z, double *lp,
                            double *grad, int with_prior)
{
  size_t n = c->n, d = c->d;
  double w = c->tau * c->tau;
  cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)b, (int)n, (int)d, 1.0, z,
              (int)d, c->X, (int)d, 0.0, c->eta, (int)n);
  for (size_t s = 0; s < b; s++) {
    double *e = c->eta + s * n, l = 0.0;
    for (size_t i = 0; i < n; i++) {
      l += c->y[i] * e[i] - log1pexp(e[i]);
      e[i] = c->y[i] - inv_logit(e[i]);   /* residual, for the gradient */
    }
    if (with_prior) {
      double zz = 0.0;
      for (size_t j = 0; j < d; j++) zz += z[s * d + j] * z[s * d + j];
      l += -0.5 * (double)d * (LOG_2PI + log(w)) - 0.5 * zz / w;
    }
    lp[s] = l;
  }
  if (grad) {
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)b, (int)d, (int)n, 1.0,
                c->eta, (int)n, c->X, (int)d, 0.0, grad, (int)d);
    for (size_t k = 0; k < b * d; k++) grad[k] -= z[k] / w;
  }
}

static int cm_logreg_log_joint(void *ctx, size_t n, const double *z, double *lp, double *grad)
{
  cm_logreg *c = ctx;
  for (size_t s = 0; s < n; s += CHUNK) {
    size_t b = n - s < CHUNK ? n - s : CHUNK;
    cm_logreg_block(c, b, z + s * c->d, lp + s, grad ? grad + s * c->d : NULL, 1);
  }
  return VI_SUCCESS;
}

static int cm_logreg_log_lik(void *ctx, size_t n, const double *z, double *ll)
{
  cm_logreg *c = ctx;
  for (size_t s = 0; s < n; s += CHUNK) {
    size_t b = n - s < CHUNK ? n - s : CHUNK;
    cm_logreg_block(c, b, z + s * c->d, ll + s, NULL, 0);
  }
  return VI_SUCCESS;
}

void cm_logreg_free(cm_logreg *c)
{
  if (!c) return;
  free(c->X); free(c->y); free(c->eta);
  free(c);
}

cm_logreg *cm_logreg_alloc(const double *X, const int *y, size_t n, size_t d, double tau)
{
  if (!X || !y || n == 0 || d == 0 || !(tau > 0.0)) return NULL;
  cm_logreg *c = calloc(1, sizeof *c);
  if (!c) return NULL;
  c->n = n;
  c->d = d;
  c->tau = tau;
  c->X = malloc(n * d * sizeof(double));
  c->y = malloc(n * sizeof(double));
  c->eta = malloc(CHUNK * n * sizeof(double));
  if (!c->X || !c->y || !c->eta) {
    cm_logreg_free(c);
    return NULL;
  }
  memcpy(c->X, X, n * d * sizeof(double));
  for (size_t i = 0; i < n; i++) {
    if (y[i] != 0 && y[i] != 1) { cm_logreg_free(c); return NULL; }
    c->y[i] = (double)y[i];
  }
  return c;
}

void cm_logreg_model(cm_logreg *c, vi_model *m)
{
  *m = (vi_model){0};
  m->dim = c->d;
  m->log_joint = cm_logreg_log_joint;
  m->ctx = c;
  m->log_lik = cm_logreg_log_lik;
}
