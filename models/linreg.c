/* linreg.c: Bayesian linear regression with known noise, y = X beta + e,
 * e ~ N(0, sigma^2 I), beta ~ N(0, tau^2 I).  Conjugate (Bishop, "Pattern Recognition and
 * Machine Learning", sec. 3.3): the posterior is N(m, S) with S^-1 = P = X'X / sigma^2 +
 * I / tau^2 and m = S X'y / sigma^2, and log p(y) = log N(y; 0, sigma^2 I + tau^2 X X'),
 * computed here through Bayes' rule at beta = m: log p(y, m) + 1/2 log det(2 pi S), which
 * needs only the d x d Cholesky factor of P.  The best mean-field Gaussian has the
 * posterior mean and variances 1 / P_jj (Bishop sec. 10.1.2).
 *
 * Batched evaluation: for a block of b points Z (b x d), the linear predictors of all n
 * observations are one GEMM, Z X' (b x n), and the gradients another, R X (b x d). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <gsl/gsl_cblas.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_linalg.h>
#include <vi/status.h>
#include "c_models.h"

#define LOG_2PI 1.8378770664093454836
#define CHUNK 64   /* points per GEMM block: bounds the n x CHUNK work matrix */

struct cm_linreg {
  size_t n, d;
  double *X, *y, *colsq;   /* colsq_j = sum_i X_ij^2 */
  double sigma, tau;
  double *eta;             /* CHUNK x n work */
  double *post_mean, *post_cov, *prec_diag;
  double log_evidence;
};

/* Log joint (and log likelihood) at b <= CHUNK points z; grad may be NULL. */
static void cm_linreg_block(cm_linreg *c, size_t b, const double *z, double *lp,
                            double *grad, int with_prior)
{
  size_t n = c->n, d = c->d;
  double v = c->sigma * c->sigma, w = c->tau * c->tau;
  cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)b, (int)n, (int)d, 1.0, z,
              (int)d, c->X, (int)d, 0.0, c->eta, (int)n);
  for (size_t s = 0; s < b; s++) {
    double *r = c->eta + s * n, ss = 0.0;
    for (size_t i = 0; i < n; i++) {
      r[i] = c->y[i] - r[i];
      ss += r[i] * r[i];
      r[i] /= v;
    }
    lp[s] = -0.5 * (double)n * (LOG_2PI + log(v)) - 0.5 * ss / v;
    if (with_prior) {
      double zz = 0.0;
      for (size_t j = 0; j < d; j++) zz += z[s * d + j] * z[s * d + j];
      lp[s] += -0.5 * (double)d * (LOG_2PI + log(w)) - 0.5 * zz / w;
    }
  }
  if (grad) {
    /* d lp / d beta = X' (y - X beta) / sigma^2 - beta / tau^2, i.e. rows of R X */
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)b, (int)d, (int)n, 1.0,
                c->eta, (int)n, c->X, (int)d, 0.0, grad, (int)d);
    for (size_t k = 0; k < b * d; k++) grad[k] -= z[k] / w;
  }
}

static int cm_linreg_log_joint(void *ctx, size_t n, const double *z, double *lp, double *grad)
{
  cm_linreg *c = ctx;
  for (size_t s = 0; s < n; s += CHUNK) {
    size_t b = n - s < CHUNK ? n - s : CHUNK;
    cm_linreg_block(c, b, z + s * c->d, lp + s, grad ? grad + s * c->d : NULL, 1);
  }
  return VI_SUCCESS;
}

static int cm_linreg_log_lik(void *ctx, size_t n, const double *z, double *ll)
{
  cm_linreg *c = ctx;
  for (size_t s = 0; s < n; s += CHUNK) {
    size_t b = n - s < CHUNK ? n - s : CHUNK;
    cm_linreg_block(c, b, z + s * c->d, ll + s, NULL, 0);
  }
  return VI_SUCCESS;
}

void cm_linreg_free(cm_linreg *c)
{
  if (!c) return;
  free(c->X); free(c->y); free(c->colsq); free(c->eta);
  free(c->post_mean); free(c->post_cov); free(c->prec_diag);
  free(c);
}

cm_linreg *cm_linreg_alloc(const double *X, const double *y, size_t n, size_t d,
                           double sigma, double tau)
{
  if (!X || !y || n == 0 || d == 0 || !(sigma > 0.0) || !(tau > 0.0)) return NULL;
  cm_linreg *c = calloc(1, sizeof *c);
  if (!c) return NULL;
  c->n = n;
  c->d = d;
  c->sigma = sigma;
  c->tau = tau;
  c->X = malloc(n * d * sizeof(double));
  c->y = malloc(n * sizeof(double));
  c->colsq = calloc(d, sizeof(double));
  c->eta = malloc(CHUNK * n * sizeof(double));
  c->post_mean = calloc(d, sizeof(double));
  c->post_cov = calloc(d * d, sizeof(double));
  c->prec_diag = calloc(d, sizeof(double));
  if (!c->X || !c->y || !c->colsq || !c->eta || !c->post_mean || !c->post_cov ||
      !c->prec_diag) {
    cm_linreg_free(c);
    return NULL;
  }
  memcpy(c->X, X, n * d * sizeof(double));
  memcpy(c->y, y, n * sizeof(double));
  for (size_t i = 0; i < n; i++)
    for (size_t j = 0; j < d; j++) c->colsq[j] += X[i * d + j] * X[i * d + j];

  /* P = X'X / sigma^2 + I / tau^2 into post_cov, then its Cholesky factor and inverse */
  double v = sigma * sigma, w = tau * tau;
  cblas_dsyrk(CblasRowMajor, CblasLower, CblasTrans, (int)d, (int)n, 1.0 / v, X, (int)d,
              0.0, c->post_cov, (int)d);
  for (size_t j = 0; j < d; j++) {
    c->post_cov[j * d + j] += 1.0 / w;
    c->prec_diag[j] = c->post_cov[j * d + j];
    for (size_t k = j + 1; k < d; k++) c->post_cov[j * d + k] = c->post_cov[k * d + j];
  }
  gsl_error_handler_t *old = gsl_set_error_handler_off();
  gsl_matrix_view P = gsl_matrix_view_array(c->post_cov, d, d);
  int ok = gsl_linalg_cholesky_decomp1(&P.matrix) == GSL_SUCCESS;
  double logdet_p = 0.0;
  if (ok) {
    for (size_t j = 0; j < d; j++) logdet_p += 2.0 * log(gsl_matrix_get(&P.matrix, j, j));
    /* mean = P^-1 X'y / sigma^2 */
    cblas_dgemv(CblasRowMajor, CblasTrans, (int)n, (int)d, 1.0 / v, X, (int)d, y, 1, 0.0,
                c->post_mean, 1);
    gsl_vector_view m = gsl_vector_view_array(c->post_mean, d);
    ok = gsl_linalg_cholesky_svx(&P.matrix, &m.vector) == GSL_SUCCESS &&
         gsl_linalg_cholesky_invert(&P.matrix) == GSL_SUCCESS;
  }
  gsl_set_error_handler(old);
  if (!ok) {
    cm_linreg_free(c);
    return NULL;
  }
  double lp;
  cm_linreg_block(c, 1, c->post_mean, &lp, NULL, 1);
  c->log_evidence = lp + 0.5 * ((double)d * LOG_2PI - logdet_p);
  return c;
}

void cm_linreg_model(cm_linreg *c, vi_model *m)
{
  *m = (vi_model){0};
  m->dim = c->d;
  m->log_joint = cm_linreg_log_joint;
  m->ctx = c;
  m->has_log_evidence = 1;
  m->log_evidence = c->log_evidence;
  m->log_lik = cm_linreg_log_lik;
}

void cm_linreg_posterior(const cm_linreg *c, double *mean, double *cov)
{
  if (mean) memcpy(mean, c->post_mean, c->d * sizeof(double));
  if (cov) memcpy(cov, c->post_cov, c->d * c->d * sizeof(double));
}

void cm_linreg_mean_field(const cm_linreg *c, double *mean, double *sd)
{
  for (size_t j = 0; j < c->d; j++) {
    if (mean) mean[j] = c->post_mean[j];
    if (sd) sd[j] = 1.0 / sqrt(c->prec_diag[j]);
  }
}

double cm_linreg_log_evidence(const cm_linreg *c) { return c->log_evidence; }

double cm_linreg_exact_elbo(const cm_linreg *c, const double *mu, const double *sd)
{
  /* E_q (y_i - x_i'beta)^2 = (y_i - x_i'mu)^2 + sum_j x_ij^2 sd_j^2, E_q beta_j^2 =
   * mu_j^2 + sd_j^2, entropy sum log sd_j + d/2 (1 + log 2 pi). */
  size_t n = c->n, d = c->d;
  double v = c->sigma * c->sigma, w = c->tau * c->tau, ss = 0.0, bb = 0.0, h = 0.0;
  for (size_t i = 0; i < n; i++) {
    double r = c->y[i];
    for (size_t j = 0; j < d; j++) r -= c->X[i * d + j] * mu[j];
    ss += r * r;
  }
  for (size_t j = 0; j < d; j++) {
    ss += c->colsq[j] * sd[j] * sd[j];
    bb += mu[j] * mu[j] + sd[j] * sd[j];
    h += log(sd[j]);
  }
  return -0.5 * (double)n * (LOG_2PI + log(v)) - 0.5 * ss / v -
         0.5 * (double)d * (LOG_2PI + log(w)) - 0.5 * bb / w +
         h + 0.5 * (double)d * (1.0 + LOG_2PI);
}
