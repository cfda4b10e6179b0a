/* lrvb.c: the linear-response covariance of a mean-field fit (vi/lrvb.h; Giordano,
 * Broderick & Jordan, JMLR 2018, sec. 3): Sigma_LR is the mu-mu block of (-d2L/d eta2)^-1
 * at the optimum of the fixed-draw objective
 *     L(mu, omega) = (1/M) sum_s log p(z_s) + sum_j omega_j + const,
 *     z_s = mu + sd * eps_s,  sd = exp(omega).
 * Its Hessian needs only the Hessians H_s of log p at the M draws z_s, and all of them in
 * one coordinate k are one batched evaluation: column k of every H_s is the difference of
 * the gradients at z_s +- h_k e_k (2M points).  With G_s the gradient at z_s, t_sj =
 * eps_sj sd_j, and every sum a mean over s:
 *     d2L/dmu_j dmu_k       = H_s[j,k]
 *     d2L/dmu_j domega_k    = H_s[j,k] t_sk
 *     d2L/domega_j domega_k = t_sj H_s[j,k] t_sk + [j = k] G_sj t_sj
 * (differencing the objective's gradient in eta instead would take twice the points:
 * mu_k and omega_k move every z_s along the same e_k).  Central differences with
 * h_k = 1e-4 sd_k: measured in tests/check_lrvb.c against an analytic Hessian (a logistic
 * regression), the sds agree to 3e-11 relative, where forward differences reach 5e-6 at
 * that step and 5e-8 at best (1e-6 sd; smaller steps lose to rounding, most on the
 * uncentred regressions, whose gradients are differences of large terms); on Gaussian
 * targets, where both are exact but for rounding, central gives 2e-10.  The price is
 * D M more points than forward.
 *
 * The 2D x 2D matrix K = -d2L/d eta2 is ordered (omega, mu): with K = L L' (Cholesky),
 * the mu-mu block of K^-1 is the inverse of the Schur complement of the omega block,
 * which is L22 L22' for the trailing D x D block L22 of L, so Sigma_LR = (L22 L22')^-1
 * from one triangular inverse.  A K that is not positive definite is reported with the
 * number of its non-positive eigenvalues (GSL's symmetric eigensolver), never patched. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <gsl/gsl_eigen.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_linalg.h>
#include <vi/lrvb.h>
#include <vi/status.h>
#include "engine/fit_internal.h"

#define LRVB_REL_STEP 1e-4            /* h_k = LRVB_REL_STEP * sd_k: the scale of q */
#define LRVB_BATCH ((size_t)1 << 20)  /* doubles of z per batched call */

typedef struct {
  const vi_model *m;
  size_t D, M;
  const double *eps, *sd;
  double *z, *g, *lp;   /* M x D base points, their gradients, lp (M) */
  double *zb, *gb, *lb; /* batch buffers: 2 M cols points */
  vi_lrvb_info *info;
} lrvb_ctx;

static int lrvb_call(lrvb_ctx *c, size_t n, const double *z, double *lp, double *g)
{
  int st = c->m->log_joint(c->m->ctx, n, z, lp, g);
  c->info->n_calls++;
  c->info->n_points += n;
  if (st != VI_SUCCESS) return st < 0 ? st : VI_EMODEL;
  for (size_t i = 0; i < n; i++)
    if (!isfinite(lp[i])) return VI_ENONFINITE;
  for (size_t i = 0; i < n * c->D; i++)
    if (!isfinite(g[i])) return VI_ENONFINITE;
  return VI_SUCCESS;
}

/* Add the columns k0 .. k0 + nk - 1 of -d2L/d eta2 into K (2D x 2D, order (omega, mu));
 * the matrix is symmetrised afterwards. */
static int lrvb_columns(lrvb_ctx *c, size_t k0, size_t nk, double *K)
{
  size_t D = c->D, M = c->M, N = 2 * D;
  for (size_t i = 0; i < nk; i++) {
    size_t k = k0 + i;
    double h = LRVB_REL_STEP * c->sd[k];
    for (size_t s = 0; s < M; s++) {
      double *zp = c->zb + ((2 * i) * M + s) * D, *zm = zp + M * D;
      memcpy(zp, c->z + s * D, D * sizeof(double));
      memcpy(zm, c->z + s * D, D * sizeof(double));
      zp[k] += h;
      zm[k] -= h;
    }
  }
  int st = lrvb_call(c, 2 * nk * M, c->zb, c->lb, c->gb);
  if (st != VI_SUCCESS) return st;
  double inv_m = 1.0 / (double)M;
  for (size_t i = 0; i < nk; i++) {
    size_t k = k0 + i;
    for (size_t s = 0; s < M; s++) {
      const double *zp = c->zb + ((2 * i) * M + s) * D, *zm = zp + M * D;
      const double *gp = c->gb + ((2 * i) * M + s) * D, *gm = gp + M * D;
      double step = zp[k] - zm[k];   /* the step actually taken, rounding included */
      if (!(step > 0.0)) return VI_ENONFINITE;
      double tk = c->eps[s * D + k] * c->sd[k];
      for (size_t j = 0; j < D; j++) {
        double hjk = -(gp[j] - gm[j]) / step * inv_m;   /* -H_s[j,k] / M */
        double tj = c->eps[s * D + j] * c->sd[j];
        K[(D + j) * N + (D + k)] += hjk;            /* mu_j, mu_k */
        K[(D + j) * N + k] += hjk * tk;             /* mu_j, omega_k */
        K[j * N + (D + k)] += hjk * tj;             /* omega_j, mu_k */
        K[j * N + k] += hjk * tj * tk;              /* omega_j, omega_k */
      }
    }
  }
  return VI_SUCCESS;
}

/* Eigenvalues of the symmetric N x N matrix A (destroyed): the count <= 0, the least. */
static int lrvb_count_negative(double *A, size_t N, vi_lrvb_info *info)
{
  gsl_eigen_symm_workspace *w = gsl_eigen_symm_alloc(N);
  gsl_vector *ev = gsl_vector_alloc(N);
  int st = VI_ENOMEM;
  if (w && ev) {
    gsl_matrix_view Av = gsl_matrix_view_array(A, N, N);
    if (gsl_eigen_symm(&Av.matrix, ev, w) == GSL_SUCCESS) {
      info->min_eig = INFINITY;
      for (size_t i = 0; i < N; i++) {
        double e = gsl_vector_get(ev, i);
        if (!(e > 0.0)) info->n_negative++;
        if (e < info->min_eig) info->min_eig = e;
      }
      st = VI_SUCCESS;
    } else {
      st = VI_ENONFINITE;
    }
  }
  if (w) gsl_eigen_symm_free(w);
  if (ev) gsl_vector_free(ev);
  return st;
}

int vi_fit_lrvb(vi_fit *f, double *cov, vi_lrvb_info *info)
{
  vi_lrvb_info dummy;
  if (!info) info = &dummy;
  memset(info, 0, sizeof *info);
  info->min_eig = NAN;
  /* LRVB is the mean-field family's: the linear response of its (mu, omega); a richer
   * family carries its own covariance (vi_fit_covariance). */
  if (!f || !cov || f->opt.estimator != VI_FIXED_DRAWS || f->fam.type != vi_family_meanfield)
    return VI_EINVAL;
  size_t D = f->dim, M = f->obj.draws, N = 2 * D;
  if (D > VI_LRVB_MAX_DIM) return VI_EUNSUPPORTED;
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  info->draws = M;
  gsl_error_handler_t *old = gsl_set_error_handler_off();

  size_t cols = LRVB_BATCH / (2 * M * D);
  if (cols < 1) cols = 1;
  if (cols > D) cols = D;
  lrvb_ctx c = {.m = &f->model, .D = D, .M = M, .eps = f->obj.eps, .sd = f->sd, .info = info};
  c.z = malloc(M * D * sizeof(double));
  c.g = malloc(M * D * sizeof(double));
  c.lp = malloc(M * sizeof(double));
  c.zb = malloc(2 * cols * M * D * sizeof(double));
  c.gb = malloc(2 * cols * M * D * sizeof(double));
  c.lb = malloc(2 * cols * M * sizeof(double));
  double *K = calloc(N * N, sizeof(double)), *diag = malloc(N * sizeof(double));
  int st = VI_ENOMEM;
  if (!c.z || !c.g || !c.lp || !c.zb || !c.gb || !c.lb || !K || !diag) goto done;

  const double *mu = f->x;
  for (size_t s = 0; s < M; s++)
    for (size_t j = 0; j < D; j++) c.z[s * D + j] = mu[j] + f->sd[j] * c.eps[s * D + j];
  if ((st = lrvb_call(&c, M, c.z, c.lp, c.g)) != VI_SUCCESS) goto done;
  for (size_t k0 = 0; k0 < D; k0 += cols) {
    size_t nk = D - k0 < cols ? D - k0 : cols;
    if ((st = lrvb_columns(&c, k0, nk, K)) != VI_SUCCESS) goto done;
  }
  /* the omega-omega diagonal's gradient term: -mean_s G_sj t_sj */
  for (size_t j = 0; j < D; j++) {
    double a = 0.0;
    for (size_t s = 0; s < M; s++) a += c.g[s * D + j] * c.eps[s * D + j] * f->sd[j];
    K[j * N + j] -= a / (double)M;
  }
  for (size_t i = 0; i < N; i++) {
    for (size_t j = 0; j < i; j++) {
      double a = 0.5 * (K[i * N + j] + K[j * N + i]);
      K[i * N + j] = K[j * N + i] = a;
    }
    diag[i] = K[i * N + i];
  }

  gsl_matrix_view Kv = gsl_matrix_view_array(K, N, N);
  if (gsl_linalg_cholesky_decomp1(&Kv.matrix) != GSL_SUCCESS) {
    /* the upper triangle still holds K: rebuild it for the eigenvalues */
    for (size_t i = 0; i < N; i++) {
      K[i * N + i] = diag[i];
      for (size_t j = 0; j < i; j++) K[i * N + j] = K[j * N + i];
    }
    st = lrvb_count_negative(K, N, info);
    if (st == VI_SUCCESS) st = VI_ENOTPD;
    goto done;
  }
  /* Sigma_LR = (L22 L22')^-1, L22 the trailing D x D block of the factor */
  gsl_matrix_view L22 = gsl_matrix_submatrix(&Kv.matrix, D, D, D, D);
  if (gsl_linalg_cholesky_invert(&L22.matrix) != GSL_SUCCESS) {
    st = VI_ENONFINITE;
    goto done;
  }
  for (size_t i = 0; i < D; i++)
    for (size_t j = 0; j < D; j++) {
      double v = gsl_matrix_get(&L22.matrix, i, j);
      if (!isfinite(v)) { st = VI_ENONFINITE; goto done; }
    }
  for (size_t i = 0; i < D; i++)
    for (size_t j = 0; j < D; j++) cov[i * D + j] = gsl_matrix_get(&L22.matrix, i, j);
  st = VI_SUCCESS;
done:
  gsl_set_error_handler(old);
  free(c.z); free(c.g); free(c.lp); free(c.zb); free(c.gb); free(c.lb);
  free(K); free(diag);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  info->seconds = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
  return st;
}
