/* family_fullrank.c: q = N(mu, L L'), L = C0 T lower triangular: the full-rank family of
 * Stan's ADVI (Kucukelbir et al., JMLR 2017, sec. 2.6).  x = (mu, T packed by rows,
 * i >= j, with log T_ii in place of T_ii), so the diagonal stays positive and the entropy
 * sum_i log C0_ii + sum_i log T_ii + D/2 (1 + log 2 pi) is exact.  C0, the base scale, is
 * fixed at the start: the Cholesky factor of the Laplace start's covariance when there is
 * one (T = I is then that Gaussian), else diag(sd); the optimiser so sees a factor T near
 * the identity on any scale.  Reparameterisation gradient: dz/dT_ij = C0[:, i] eps_j, so
 * the gradient in T is the lower triangle of (1/n) (gz C0)' eps. */
#include <math.h>
#include <string.h>
#include <gsl/gsl_cblas.h>
#include <vi/status.h>
#include "engine/family.h"

#define TRI(i, j) ((i) * ((i) + 1) / 2 + (j))   /* packed index of T_ij, i >= j */

static size_t fr_n_params(size_t D, size_t K) { return D + D * (D + 1) / 2; }
static size_t fr_n_noise(size_t D, size_t K) { return D; }
static size_t fr_n_base(size_t D, size_t K) { return D * D; }
static size_t fr_n_work(size_t D, size_t K) { return 2 * D * D; }

/* work[0 .. D^2) = L = C0 T (lower triangular, row-major) */
static const double *fr_factor(family *fam, const double *x)
{
  size_t D = fam->dim;
  const double *C = fam->base, *t = x + D;
  double *L = fam->work;
  for (size_t i = 0; i < D; i++)
    for (size_t j = 0; j < D; j++) {
      double s = 0.0;
      for (size_t k = j; k <= i && j <= i; k++) {
        double tkj = k == j ? exp(t[TRI(k, j)]) : t[TRI(k, j)];
        s += C[i * D + k] * tkj;
      }
      L[i * D + j] = s;
    }
  return L;
}

static int fr_init(family *fam, const double *mu, const double *sd, const double *chol,
                   gsl_rng *rng, double *x)
{
  size_t D = fam->dim;
  if (chol) {
    for (size_t i = 0; i < D; i++)
      for (size_t j = 0; j < D; j++) fam->base[i * D + j] = j <= i ? chol[i * D + j] : 0.0;
  } else {
    memset(fam->base, 0, D * D * sizeof(double));
    for (size_t j = 0; j < D; j++) fam->base[j * D + j] = sd[j];
  }
  memcpy(x, mu, D * sizeof(double));
  memset(x + D, 0, D * (D + 1) / 2 * sizeof(double));   /* T = I */
  return VI_SUCCESS;
}

static void fr_sample(family *fam, const double *x, size_t n, const double *eps, double *z)
{
  size_t D = fam->dim;
  const double *L = fr_factor(fam, x);
  /* z = eps L' + mu, row by row */
  cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)n, (int)D, (int)D, 1.0, eps,
              (int)D, L, (int)D, 0.0, z, (int)D);
  for (size_t i = 0; i < n; i++)
    for (size_t j = 0; j < D; j++) z[i * D + j] += x[j];
}

static void fr_grad(family *fam, const double *x, size_t n, const double *eps,
                    const double *gz, double *gx)
{
  size_t D = fam->dim;
  double *W = fam->work + D * D;   /* D x D: (gz C0)' eps / n, built a block of rows at a time */
  memset(gx, 0, fr_n_params(D, 0) * sizeof(double));
  for (size_t i = 0; i < n; i++)
    for (size_t j = 0; j < D; j++) gx[j] += gz[i * D + j];
  for (size_t j = 0; j < D; j++) gx[j] /= (double)n;
  /* G = gz C0 (n x D) would take n D doubles; instead W = C0' (gz' eps) with gz' eps D x D */
  double *P = fam->work;   /* scratch: gz' eps */
  cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)D, (int)D, (int)n,
              1.0 / (double)n, gz, (int)D, eps, (int)D, 0.0, P, (int)D);
  cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)D, (int)D, (int)D, 1.0,
              fam->base, (int)D, P, (int)D, 0.0, W, (int)D);
  const double *t = x + D;
  double *gt = gx + D;
  for (size_t i = 0; i < D; i++)
    for (size_t j = 0; j <= i; j++)
      gt[TRI(i, j)] = i == j ? W[i * D + j] * exp(t[TRI(i, i)]) : W[i * D + j];
}

static double fr_log_det(family *fam, const double *x)
{
  size_t D = fam->dim;
  double s = 0.0;
  for (size_t i = 0; i < D; i++) s += log(fam->base[i * D + i]) + x[D + TRI(i, i)];
  return s;
}

static double fr_entropy(family *fam, const double *x, double *gx)
{
  size_t D = fam->dim;
  if (gx)
    for (size_t i = 0; i < D; i++) gx[D + TRI(i, i)] += 1.0;
  return fr_log_det(fam, x) + family_entropy_const(D);
}

static void fr_log_q(family *fam, const double *x, size_t n, const double *eps,
                     const double *z, double *lq)
{
  size_t D = fam->dim;
  double c = -fr_log_det(fam, x) - 0.5 * (double)D * FAMILY_LOG_2PI;
  const double *L = eps ? NULL : fr_factor(fam, x);
  double *e = fam->work + D * D;
  for (size_t i = 0; i < n; i++) {
    double q = 0.0;
    if (eps) {
      for (size_t j = 0; j < D; j++) q += eps[i * D + j] * eps[i * D + j];
    } else {   /* L e = z - mu by forward substitution */
      for (size_t r = 0; r < D; r++) {
        double s = z[i * D + r] - x[r];
        for (size_t k = 0; k < r; k++) s -= L[r * D + k] * e[k];
        e[r] = s / L[r * D + r];
        q += e[r] * e[r];
      }
    }
    lq[i] = -0.5 * q + c;
  }
}

static void fr_covariance(family *fam, const double *x, double *cov)
{
  size_t D = fam->dim;
  const double *L = fr_factor(fam, x);
  cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)D, (int)D, (int)D, 1.0, L,
              (int)D, L, (int)D, 0.0, cov, (int)D);
}

static void fr_marginal_sd(family *fam, const double *x, double *sd)
{
  size_t D = fam->dim;
  const double *L = fr_factor(fam, x);
  for (size_t i = 0; i < D; i++) {
    double s = 0.0;
    for (size_t k = 0; k <= i; k++) s += L[i * D + k] * L[i * D + k];
    sd[i] = sqrt(s);
  }
}

static void fr_scale(family *fam, double *x, double log_factor)
{
  size_t D = fam->dim;
  double k = exp(log_factor);
  for (size_t i = 0; i < D; i++)
    for (size_t j = 0; j <= i; j++) {
      if (i == j) x[D + TRI(i, i)] += log_factor;
      else x[D + TRI(i, j)] *= k;
    }
}

const vi_family_type family_fullrank_type = {
  "fullrank", "full-rank Gaussian", 0,
  fr_n_params, fr_n_noise, fr_n_base, fr_n_work,
  fr_init, fr_sample, fr_grad, fr_entropy, fr_log_q, fr_marginal_sd, fr_covariance, fr_scale
};
