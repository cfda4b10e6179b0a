/* objective.c: the reparameterised ELBO estimator of a Gaussian family and its gradient
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

int objective_init(objective *o, const vi_model *m, family *fam, size_t draws)
{
  return objective_init_cap(o, m, fam, draws, draws);
}

int objective_init_cap(objective *o, const vi_model *m, family *fam, size_t draws,
                          size_t cap)
{
  memset(o, 0, sizeof *o);
  o->model = *m;
  o->fam = fam;
  o->dim = m->dim;
  o->noise = fam->n_noise;
  o->draws = draws;
  if (cap < draws) cap = draws;
  o->cap = cap;
  size_t nd = cap * m->dim, ne = cap * o->noise;
  o->eps = calloc(ne, sizeof(double));
  o->z = calloc(nd, sizeof(double));
  o->gz = calloc(nd, sizeof(double));
  o->lp = calloc(cap, sizeof(double));
  o->fault_z = calloc(m->dim, sizeof(double));
  if (cap > draws) o->raw = calloc(ne, sizeof(double));
  if (!o->eps || !o->z || !o->gz || !o->lp || !o->fault_z || (cap > draws && !o->raw)) {
    objective_clear(o);
    return VI_ENOMEM;
  }
  return VI_SUCCESS;
}

void objective_clear(objective *o)
{
  if (!o) return;
  free(o->eps);
  free(o->z);
  free(o->gz);
  free(o->lp);
  free(o->raw);
  free(o->fault_z);
  o->eps = o->z = o->gz = o->lp = o->raw = o->fault_z = NULL;
}

void objective_draw(objective *o, gsl_rng *rng)
{
  size_t nd = o->draws * o->noise;
  for (size_t i = 0; i < nd; i++) o->eps[i] = gsl_ran_gaussian_ziggurat(rng, 1.0);
  if (o->raw) memcpy(o->raw, o->eps, nd * sizeof(double));
}

/* Each column of eps (M x D, centred) scaled to (1/M) sum eps^2 = 1; a constant column
 * (all zero after centring) is left at zero. */
static void objective_scale_columns(double *eps, size_t M, size_t D)
{
  for (size_t j = 0; j < D; j++) {
    double s = 0.0;
    for (size_t i = 0; i < M; i++) s += eps[i * D + j] * eps[i * D + j];
    if (!(s > 0.0)) continue;
    double k = 1.0 / sqrt(s / (double)M);
    for (size_t i = 0; i < M; i++) eps[i * D + j] *= k;
  }
}

int objective_standardize(objective *o)
{
  size_t M = o->draws, D = o->noise;
  if (M < 2) return VI_SUCCESS;
  /* C on our own buffer: gsl_matrix_calloc leaks its struct when the block allocation
   * fails (GSL 2.7), which the allocation-failure test (tests/check_oom.c) sees */
  double *cbuf = NULL;
  gsl_matrix_view Cv;
  gsl_matrix *C = NULL;
  if (M > D) {
    if (!(cbuf = calloc(D * D, sizeof *cbuf))) return VI_ENOMEM;
    Cv = gsl_matrix_view_array(cbuf, D, D);
    C = &Cv.matrix;
  }
  for (size_t j = 0; j < D; j++) {   /* centre each coordinate */
    double s = 0.0;
    for (size_t i = 0; i < M; i++) s += o->eps[i * D + j];
    s /= (double)M;
    for (size_t i = 0; i < M; i++) o->eps[i * D + j] -= s;
  }
  if (C) {
    gsl_matrix_view E = gsl_matrix_view_array(o->eps, M, D);
    /* C = (1/M) E'E = L L';  E <- E L^-T makes (1/M) E'E = I */
    gsl_blas_dsyrk(CblasLower, CblasTrans, 1.0 / (double)M, &E.matrix, 0.0, C);
    int ok = gsl_linalg_cholesky_decomp1(C) == GSL_SUCCESS;
    if (ok)
      gsl_blas_dtrsm(CblasRight, CblasLower, CblasTrans, CblasNonUnit, 1.0, C, &E.matrix);
    free(cbuf);
    if (ok) return VI_SUCCESS;
  }
  /* M <= D (or a numerically singular sample): the sample covariance has rank <= M - 1
   * and cannot be I; its diagonal can.  (Making the centred rows orthogonal as well would
   * only even out the off-diagonal error, which for D >> M is already at the rank bound
   * for independent draws.) */
  objective_scale_columns(o->eps, M, D);
  return VI_SUCCESS;
}

int objective_grow(objective *o, size_t M2, gsl_rng *rng, int standardize)
{
  size_t D = o->noise;
  if (!o->raw || M2 <= o->draws || M2 > o->cap) return VI_EINVAL;
  for (size_t i = o->draws * D; i < M2 * D; i++)
    o->raw[i] = gsl_ran_gaussian_ziggurat(rng, 1.0);
  size_t M = o->draws;
  o->draws = M2;
  memcpy(o->eps, o->raw, M2 * D * sizeof(double));
  int st = standardize ? objective_standardize(o) : VI_SUCCESS;
  if (st != VI_SUCCESS) {   /* keep the old draws: recompute them from raw */
    o->draws = M;
    memcpy(o->eps, o->raw, M * D * sizeof(double));
    if (standardize) objective_standardize(o);   /* no allocation when M <= D ... */
  }
  return st;
}

/* Record draw i of the last evaluation as the fault (no allocation). */
static void objective_fault(objective *o, int status, size_t i)
{
  o->fault_set = 1;
  o->fault_status = status;
  o->fault_draw = i;
  o->fault_lp = o->lp[i];
  memcpy(o->fault_z, o->z + i * o->dim, o->dim * sizeof(double));
}

double objective_entropy(const objective *o, const double *x)
{
  return o->fam->type->entropy(o->fam, x, NULL);
}

int objective_eval(objective *o, const double *x, double *elbo, double *elj,
                      double *grad)
{
  size_t M = o->draws, D = o->dim, P = o->fam->n_params;
  const vi_family_type *t = o->fam->type;
  t->sample(o->fam, x, M, o->eps, o->z);
  int st = o->model.log_joint(o->model.ctx, M, o->z, o->lp, grad ? o->gz : NULL);
  o->n_fevals++;
  o->n_points += M;
  if (grad) o->n_gevals++;
  size_t bad = M;   /* first draw with a non-finite lp or gradient */
  for (size_t i = 0; i < M && bad == M; i++)
    if (!isfinite(o->lp[i])) bad = i;
  if (st != VI_SUCCESS) {
    /* A batch call does not say which point failed: find the first that fails alone
     * (only on the way out of a failing fit; 0 when none does) */
    st = st < 0 ? st : VI_EMODEL;
    bad = 0;
    for (size_t i = 0; i < M && M > 1; i++)
      if (o->model.log_joint(o->model.ctx, 1, o->z + i * D, o->lp + i,
                             grad ? o->gz + i * D : NULL) != VI_SUCCESS) {
        bad = i;
        break;
      }
    objective_fault(o, st, bad);
    o->fault_lp = NAN;   /* the model gave no value there */
    return st;
  }
  int finite = bad == M;
  double s = 0.0;
  for (size_t i = 0; i < M; i++) s += o->lp[i];
  double h = t->entropy(o->fam, x, NULL);
  if (!isfinite(h)) finite = 0;
  if (grad && finite) {
    t->grad(o->fam, x, M, o->eps, o->gz, grad);
    t->entropy(o->fam, x, grad);
    for (size_t i = 0; i < P; i++)
      if (!isfinite(grad[i])) finite = 0;
    for (size_t i = 0; i < M * D && !finite && bad == M; i++)
      if (!isfinite(o->gz[i])) bad = i / D;
  }
  if (!finite) {
    objective_fault(o, VI_ENONFINITE, bad < M ? bad : 0);
    *elbo = *elj = -INFINITY;
    if (grad) memset(grad, 0, P * sizeof(double));
    return VI_SUCCESS;
  }
  *elj = s / (double)M;
  *elbo = *elj + h;
  return VI_SUCCESS;
}
