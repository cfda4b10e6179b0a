/* objective.c: the reparameterised ELBO estimator of a mean-field Gaussian and its gradient
 * (Kucukelbir, Tran, Ranganath, Gelman & Blei, "Automatic differentiation variational
 * inference", JMLR 2017, sec. 2.5), evaluated on a matrix of draws eps so that fixed draws
 * (DADVI, Giordano, Ingram & Broderick, JMLR 2024) and fresh draws share the code.  The
 * entropy term is exact, so only E_q[log p(x, z)] is a sample average.  All M points go to
 * the model in one batched call: that is where a vectorised model earns its speed. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <gsl/gsl_blas.h>
#include <gsl/gsl_linalg.h>
#include <gsl/gsl_matrix.h>
#include <gsl/gsl_randist.h>
#include <vi/status.h>
#include "engine/objective.h"

int vi_objective_init(vi_objective *o, const vi_model *m, size_t draws)
{
  memset(o, 0, sizeof *o);
  o->model = *m;
  o->dim = m->dim;
  o->draws = draws;
  size_t nd = draws * m->dim;
  o->eps = calloc(nd, sizeof(double));
  o->z = calloc(nd, sizeof(double));
  o->gz = calloc(nd, sizeof(double));
  o->lp = calloc(draws, sizeof(double));
  if (!o->eps || !o->z || !o->gz || !o->lp) {
    vi_objective_clear(o);
    return VI_ENOMEM;
  }
  return VI_SUCCESS;
}

void vi_objective_clear(vi_objective *o)
{
  if (!o) return;
  free(o->eps);
  free(o->z);
  free(o->gz);
  free(o->lp);
  o->eps = o->z = o->gz = o->lp = NULL;
}

void vi_objective_draw(vi_objective *o, gsl_rng *rng)
{
  size_t nd = o->draws * o->dim;
  for (size_t i = 0; i < nd; i++) o->eps[i] = gsl_ran_gaussian_ziggurat(rng, 1.0);
}

int vi_objective_standardize(vi_objective *o)
{
  size_t M = o->draws, D = o->dim;
  if (M <= D) return VI_EINVAL;
  for (size_t j = 0; j < D; j++) {   /* centre each coordinate */
    double s = 0.0;
    for (size_t i = 0; i < M; i++) s += o->eps[i * D + j];
    s /= (double)M;
    for (size_t i = 0; i < M; i++) o->eps[i * D + j] -= s;
  }
  gsl_matrix *C = gsl_matrix_calloc(D, D);
  if (!C) return VI_ENOMEM;
  gsl_matrix_view E = gsl_matrix_view_array(o->eps, M, D);
  /* C = (1/M) E'E = L L';  E <- E L^-T makes (1/M) E'E = I */
  gsl_blas_dsyrk(CblasLower, CblasTrans, 1.0 / (double)M, &E.matrix, 0.0, C);
  int st = VI_EINVAL;
  if (gsl_linalg_cholesky_decomp1(C) == GSL_SUCCESS) {
    gsl_blas_dtrsm(CblasRight, CblasLower, CblasTrans, CblasNonUnit, 1.0, C, &E.matrix);
    st = VI_SUCCESS;
  }
  gsl_matrix_free(C);
  return st;
}

double vi_objective_entropy(size_t dim, const double *omega)
{
  double h = 0.0;
  for (size_t j = 0; j < dim; j++) h += omega[j];
  return h + 0.5 * (double)dim * (1.0 + 1.8378770664093454836);   /* log 2 pi */
}

int vi_objective_eval(vi_objective *o, const double *x, double *elbo, double *elj,
                      double *grad)
{
  size_t M = o->draws, D = o->dim;
  const double *mu = x, *omega = x + D;
  for (size_t i = 0; i < M; i++)
    for (size_t j = 0; j < D; j++)
      o->z[i * D + j] = mu[j] + exp(omega[j]) * o->eps[i * D + j];
  int st = o->model.log_joint(o->model.ctx, M, o->z, o->lp, grad ? o->gz : NULL);
  o->n_fevals++;
  if (grad) o->n_gevals++;
  if (st != VI_SUCCESS) return st < 0 ? st : VI_EMODEL;
  int finite = 1;
  double s = 0.0;
  for (size_t i = 0; i < M; i++) {
    if (!isfinite(o->lp[i])) finite = 0;
    s += o->lp[i];
  }
  if (grad && finite) {
    memset(grad, 0, 2 * D * sizeof(double));
    for (size_t i = 0; i < M; i++)
      for (size_t j = 0; j < D; j++) {
        double g = o->gz[i * D + j];
        grad[j] += g;
        grad[D + j] += g * o->eps[i * D + j];
      }
    for (size_t j = 0; j < D; j++) {
      grad[j] /= (double)M;
      grad[D + j] = grad[D + j] / (double)M * exp(omega[j]) + 1.0;
      if (!isfinite(grad[j]) || !isfinite(grad[D + j])) finite = 0;
    }
  }
  if (!finite) {
    *elbo = *elj = -INFINITY;
    if (grad) memset(grad, 0, 2 * D * sizeof(double));
    return VI_SUCCESS;
  }
  *elj = s / (double)M;
  *elbo = *elj + vi_objective_entropy(D, omega);
  return VI_SUCCESS;
}
