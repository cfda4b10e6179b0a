/* family_lowrank.c: q = N(mu, S^2 + F F'), S = diag(exp(omega)), F = diag(s0) G a D x K
 * factor: a diagonal-plus-low-rank Gaussian, between mean-field and full rank at O(D K)
 * parameters (as in Ong, Nott & Smith, "Gaussian variational approximation with a factor
 * covariance structure", JCGS 2018).  x = (mu, omega, G by rows); s0, the base scale, is
 * fixed at the start.  z = mu + S eps1 + F eps2 with K + D noise values per point.  The
 * entropy and log q use the matrix determinant lemma and Woodbury's identity with the
 * K x K matrix A = I + F' S^-2 F:
 *   log det(S^2 + F F') = 2 sum(omega) + log det A,
 *   d/dF   (1/2 log det) = S^-2 F A^-1,
 *   d/domega_j (1/2 log det) = 1 - (F A^-1 F')_jj / S_jj^2.
 * The Laplace start gives the initial factor from the leading eigenvectors of the mode's
 * correlation matrix (probabilistic PCA's solution, Tipping & Bishop 1999). */
#include <math.h>
#include <string.h>
#include <gsl/gsl_eigen.h>
#include <gsl/gsl_linalg.h>
#include <gsl/gsl_randist.h>
#include <vi/status.h>
#include "engine/family.h"

static size_t lr_n_params(size_t D, size_t K) { return D * (K + 2); }
static size_t lr_n_noise(size_t D, size_t K) { return D + K; }
static size_t lr_n_base(size_t D, size_t K) { return D; }
/* A^-1 (K x K), F (D x K), u and v (K each) */
static size_t lr_n_work(size_t D, size_t K) { return K * K + D * K + 2 * K; }

/* work: F = diag(s0) G, then A^-1 and log det A.  0, or -1 when A is not positive
 * definite (it always is for finite x: A = I + a Gram matrix). */
static int lr_factor(family *fam, const double *x, double *logdet_a)
{
  size_t D = fam->dim, K = fam->rank;
  const double *omega = x + D, *G = x + 2 * D;
  double *Ai = fam->work, *F = Ai + K * K;
  for (size_t j = 0; j < D; j++)
    for (size_t k = 0; k < K; k++) F[j * K + k] = fam->base[j] * G[j * K + k];
  for (size_t a = 0; a < K; a++)
    for (size_t b = 0; b <= a; b++) {
      double s = a == b ? 1.0 : 0.0;
      for (size_t j = 0; j < D; j++) s += F[j * K + a] * F[j * K + b] * exp(-2.0 * omega[j]);
      Ai[a * K + b] = Ai[b * K + a] = s;
    }
  gsl_matrix_view A = gsl_matrix_view_array(Ai, K, K);
  if (gsl_linalg_cholesky_decomp1(&A.matrix) != GSL_SUCCESS) return -1;
  double ld = 0.0;
  for (size_t k = 0; k < K; k++) ld += 2.0 * log(Ai[k * K + k]);
  if (gsl_linalg_cholesky_invert(&A.matrix) != GSL_SUCCESS) return -1;
  *logdet_a = ld;
  return 0;
}

static int lr_init(family *fam, const double *mu, const double *sd, const double *chol,
                   gsl_rng *rng, double *x)
{
  size_t D = fam->dim, K = fam->rank;
  double *omega = x + D, *G = x + 2 * D;
  memcpy(x, mu, D * sizeof(double));
  if (!chol) {   /* no covariance guess: a small random factor (G = 0 is a saddle) */
    for (size_t j = 0; j < D; j++) {
      fam->base[j] = sd[j];
      omega[j] = log(sd[j]);
      for (size_t k = 0; k < K; k++)
        G[j * K + k] = 0.1 * gsl_ran_gaussian_ziggurat(rng, 1.0) / sqrt((double)K);
    }
    return VI_SUCCESS;
  }
  /* R = the correlation matrix of C C'; s0 its marginal sds */
  int st = VI_ENOMEM;
  gsl_matrix *R = gsl_matrix_alloc(D, D), *V = gsl_matrix_alloc(D, D);
  gsl_vector *lam = gsl_vector_alloc(D);
  gsl_eigen_symmv_workspace *w = gsl_eigen_symmv_alloc(D);
  if (!R || !V || !lam || !w) goto done;
  for (size_t i = 0; i < D; i++) {
    double s = 0.0;
    for (size_t k = 0; k <= i; k++) s += chol[i * D + k] * chol[i * D + k];
    fam->base[i] = sqrt(s);
  }
  for (size_t i = 0; i < D; i++)
    for (size_t j = 0; j <= i; j++) {
      double s = 0.0;
      for (size_t k = 0; k <= j; k++) s += chol[i * D + k] * chol[j * D + k];
      s /= fam->base[i] * fam->base[j];
      gsl_matrix_set(R, i, j, s);
      gsl_matrix_set(R, j, i, s);
    }
  gsl_eigen_symmv(R, lam, V, w);
  gsl_eigen_symmv_sort(lam, V, GSL_EIGEN_SORT_VAL_DESC);
  double rest = 0.0;   /* probabilistic PCA: the noise level is the mean discarded eigenvalue */
  for (size_t k = K; k < D; k++) rest += gsl_vector_get(lam, k);
  rest = K < D ? rest / (double)(D - K) : 0.0;
  for (size_t j = 0; j < D; j++) {
    double load = 0.0;
    for (size_t k = 0; k < K; k++) {
      double g = gsl_matrix_get(V, j, k) * sqrt(fmax(gsl_vector_get(lam, k) - rest, 0.0));
      G[j * K + k] = g;
      load += g * g;
    }
    /* the rest of the variance on the diagonal, at least the conditional variance sd^2 */
    double psi = fmax(1.0 - load, sd[j] * sd[j] / (fam->base[j] * fam->base[j]));
    omega[j] = log(fam->base[j]) + 0.5 * log(psi);
  }
  st = VI_SUCCESS;
done:
  if (w) gsl_eigen_symmv_free(w);
  if (lam) gsl_vector_free(lam);
  if (V) gsl_matrix_free(V);
  if (R) gsl_matrix_free(R);
  return st;
}

static void lr_sample(family *fam, const double *x, size_t n, const double *eps, double *z)
{
  size_t D = fam->dim, K = fam->rank, E = D + K;
  const double *omega = x + D, *G = x + 2 * D;
  for (size_t i = 0; i < n; i++) {
    const double *e1 = eps + i * E, *e2 = e1 + D;
    for (size_t j = 0; j < D; j++) {
      double s = 0.0;
      for (size_t k = 0; k < K; k++) s += G[j * K + k] * e2[k];
      z[i * D + j] = x[j] + exp(omega[j]) * e1[j] + fam->base[j] * s;
    }
  }
}

static void lr_grad(family *fam, const double *x, size_t n, const double *eps,
                    const double *gz, double *gx)
{
  size_t D = fam->dim, K = fam->rank, E = D + K;
  memset(gx, 0, lr_n_params(D, K) * sizeof(double));
  double *gG = gx + 2 * D;
  for (size_t i = 0; i < n; i++) {
    const double *e1 = eps + i * E, *e2 = e1 + D;
    for (size_t j = 0; j < D; j++) {
      double g = gz[i * D + j];
      gx[j] += g;
      gx[D + j] += g * e1[j];
      for (size_t k = 0; k < K; k++) gG[j * K + k] += g * e2[k];
    }
  }
  for (size_t j = 0; j < D; j++) {
    gx[j] /= (double)n;
    gx[D + j] = gx[D + j] / (double)n * exp(x[D + j]);
    for (size_t k = 0; k < K; k++) gG[j * K + k] = gG[j * K + k] / (double)n * fam->base[j];
  }
}

static double lr_entropy(family *fam, const double *x, double *gx)
{
  size_t D = fam->dim, K = fam->rank;
  double lda;
  if (lr_factor(fam, x, &lda) != 0) {
    if (gx) for (size_t i = D; i < lr_n_params(D, K); i++) gx[i] = NAN;
    return NAN;
  }
  double so = 0.0;
  for (size_t j = 0; j < D; j++) so += x[D + j];
  if (gx) {
    const double *Ai = fam->work, *F = Ai + K * K;
    for (size_t j = 0; j < D; j++) {
      double djj = 0.0, s2 = exp(-2.0 * x[D + j]);
      for (size_t k = 0; k < K; k++) {
        double t = 0.0;
        for (size_t l = 0; l < K; l++) t += F[j * K + l] * Ai[l * K + k];
        djj += t * F[j * K + k];
        gx[2 * D + j * K + k] += s2 * t * fam->base[j];
      }
      gx[D + j] += 1.0 - djj * s2;
    }
  }
  return so + 0.5 * lda + family_entropy_const(D);
}

static void lr_log_q(family *fam, const double *x, size_t n, const double *eps,
                     const double *z, double *lq)
{
  size_t D = fam->dim, K = fam->rank;
  double lda;
  if (lr_factor(fam, x, &lda) != 0) {
    for (size_t i = 0; i < n; i++) lq[i] = NAN;
    return;
  }
  const double *Ai = fam->work, *F = Ai + K * K;
  double *u = fam->work + K * K + D * K, *v = u + K;
  double so = 0.0;
  for (size_t j = 0; j < D; j++) so += x[D + j];
  double c = -so - 0.5 * lda - 0.5 * (double)D * FAMILY_LOG_2PI;
  for (size_t i = 0; i < n; i++) {
    /* r' Sigma^-1 r = r' S^-2 r - u' A^-1 u, u = F' S^-2 r */
    double q = 0.0;
    memset(u, 0, K * sizeof(double));
    for (size_t j = 0; j < D; j++) {
      double r = z[i * D + j] - x[j], s2 = exp(-2.0 * x[D + j]);
      q += r * r * s2;
      for (size_t k = 0; k < K; k++) u[k] += F[j * K + k] * s2 * r;
    }
    for (size_t a = 0; a < K; a++) {
      v[a] = 0.0;
      for (size_t b = 0; b < K; b++) v[a] += Ai[a * K + b] * u[b];
      q -= u[a] * v[a];
    }
    lq[i] = -0.5 * q + c;
  }
}

static void lr_covariance(family *fam, const double *x, double *cov)
{
  size_t D = fam->dim, K = fam->rank;
  const double *G = x + 2 * D;
  for (size_t i = 0; i < D; i++)
    for (size_t j = 0; j < D; j++) {
      double s = i == j ? exp(2.0 * x[D + i]) : 0.0;
      for (size_t k = 0; k < K; k++)
        s += fam->base[i] * G[i * K + k] * fam->base[j] * G[j * K + k];
      cov[i * D + j] = s;
    }
}

static void lr_marginal_sd(family *fam, const double *x, double *sd)
{
  size_t D = fam->dim, K = fam->rank;
  const double *G = x + 2 * D;
  for (size_t j = 0; j < D; j++) {
    double s = exp(2.0 * x[D + j]);
    for (size_t k = 0; k < K; k++) s += fam->base[j] * G[j * K + k] * fam->base[j] * G[j * K + k];
    sd[j] = sqrt(s);
  }
}

static void lr_scale(family *fam, double *x, double log_factor)
{
  size_t D = fam->dim, K = fam->rank;
  double k = exp(log_factor);
  for (size_t j = 0; j < D; j++) x[D + j] += log_factor;
  for (size_t i = 0; i < D * K; i++) x[2 * D + i] *= k;
}

const vi_family_type family_lowrank_type = {
  "lowrank", "low-rank Gaussian (diagonal + rank K)", 1,
  lr_n_params, lr_n_noise, lr_n_base, lr_n_work,
  lr_init, lr_sample, lr_grad, lr_entropy, lr_log_q, lr_marginal_sd, lr_covariance, lr_scale
};
