/* family_meanfield.c: q = N(mu, diag(exp(omega))^2), x = (mu, omega): the mean-field
 * family of ADVI (Kucukelbir et al., JMLR 2017) and DADVI.  Entropy sum(omega) +
 * D/2 (1 + log 2 pi).  omega is a log scale already, so no base scale is needed. */
#include <math.h>
#include <string.h>
#include <vi/status.h>
#include "engine/family.h"

static size_t mf_n_params(size_t D, size_t K) { return 2 * D; }
static size_t mf_n_noise(size_t D, size_t K) { return D; }
static size_t mf_n_zero(size_t D, size_t K) { return 0; }

static int mf_init(family *fam, const double *mu, const double *sd, const double *chol,
                   gsl_rng *rng, double *x)
{
  size_t D = fam->dim;
  for (size_t j = 0; j < D; j++) {
    x[j] = mu[j];
    x[D + j] = log(sd[j]);
  }
  return VI_SUCCESS;
}

static void mf_sample(family *fam, const double *x, size_t n, const double *eps, double *z)
{
  size_t D = fam->dim;
  const double *mu = x, *omega = x + D;
  for (size_t i = 0; i < n; i++)
    for (size_t j = 0; j < D; j++)
      z[i * D + j] = mu[j] + exp(omega[j]) * eps[i * D + j];
}

static void mf_grad(family *fam, const double *x, size_t n, const double *eps,
                    const double *gz, double *gx)
{
  size_t D = fam->dim;
  memset(gx, 0, 2 * D * sizeof(double));
  for (size_t i = 0; i < n; i++)
    for (size_t j = 0; j < D; j++) {
      double g = gz[i * D + j];
      gx[j] += g;
      gx[D + j] += g * eps[i * D + j];
    }
  for (size_t j = 0; j < D; j++) {
    gx[j] /= (double)n;
    gx[D + j] = gx[D + j] / (double)n * exp(x[D + j]);
  }
}

static double mf_entropy(family *fam, const double *x, double *gx)
{
  size_t D = fam->dim;
  double h = 0.0;
  for (size_t j = 0; j < D; j++) h += x[D + j];
  if (gx)
    for (size_t j = 0; j < D; j++) gx[D + j] += 1.0;
  return h + family_entropy_const(D);
}

static void mf_log_q(family *fam, const double *x, size_t n, const double *eps,
                     const double *z, double *lq)
{
  size_t D = fam->dim;
  double so = 0.0;
  for (size_t j = 0; j < D; j++) so += x[D + j];
  for (size_t i = 0; i < n; i++) {
    double q = 0.0;
    if (eps) {
      for (size_t j = 0; j < D; j++) q += eps[i * D + j] * eps[i * D + j];
      lq[i] = -0.5 * q - so - 0.5 * (double)D * FAMILY_LOG_2PI;
    } else {
      for (size_t j = 0; j < D; j++) {
        double e = (z[i * D + j] - x[j]) / exp(x[D + j]);
        q += -0.5 * e * e - x[D + j];
      }
      lq[i] = q - 0.5 * (double)D * FAMILY_LOG_2PI;
    }
  }
}

static void mf_marginal_sd(family *fam, const double *x, double *sd)
{
  for (size_t j = 0; j < fam->dim; j++) sd[j] = exp(x[fam->dim + j]);
}

static void mf_covariance(family *fam, const double *x, double *cov)
{
  size_t D = fam->dim;
  memset(cov, 0, D * D * sizeof(double));
  for (size_t j = 0; j < D; j++) cov[j * D + j] = exp(2.0 * x[D + j]);
}

static void mf_scale(family *fam, double *x, double log_factor)
{
  for (size_t j = 0; j < fam->dim; j++) x[fam->dim + j] += log_factor;
}

const vi_family_type family_meanfield_type = {
  "meanfield", "mean-field Gaussian", 0,
  mf_n_params, mf_n_noise, mf_n_zero, mf_n_zero,
  mf_init, mf_sample, mf_grad, mf_entropy, mf_log_q, mf_marginal_sd, mf_covariance, mf_scale
};
