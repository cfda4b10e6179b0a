/* builtins_eigen.c: eigenvalues_sym and eigenvectors_sym, the symmetric eigendecomposition
 * A = V diag(lambda) V' (eigenvalues ascending, eigenvectors the columns of V, as Stan
 * returns them), per draw with GSL's gsl_eigen_symmv (which reads the lower triangle).
 *
 * Reverse mode, for a symmetric perturbation of A (Giles, "Collected matrix derivative
 * results for forward and reverse mode AD", 2008, sec. 3.1):
 *   eigenvalues:  A_bar += V diag(lambda_bar) V'
 *   eigenvectors: A_bar += sym(V (F o (V' V_bar)) V'),  F_kl = 1 / (lambda_l - lambda_k)
 *                 off the diagonal and 0 on it (0 also for equal eigenvalues, where the
 *                 eigenvectors are not unique). */
#include <math.h>
#include <string.h>
#include <gsl/gsl_eigen.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_matrix.h>
#include "lang/ad/ad_kernels.h"
#include "lang/lib/lib.h"


/* Decompose draw s of the K x K value A into lam (K) and V (K x K, column-major), both
 * at saved + s * (K + K K).  0, or -1 when GSL fails or a value is not finite. */
static int decompose(const ad_val *A, size_t s, size_t K, double *lam, double *V,
                     double *scratch, gsl_eigen_symmv_workspace *w)
{
  for (size_t i = 0; i < K; i++)
    for (size_t j = 0; j < K; j++) {
      /* the symmetric part: both triangles count, so the gradient is the symmetric one */
      double a = 0.5 * (ad_get(A, i + j * K, s) + ad_get(A, j + i * K, s));
      if (!isfinite(a)) return -1;
      scratch[i * K + j] = a;
    }
  gsl_matrix_view m = gsl_matrix_view_array(scratch, K, K);
  gsl_vector_view ev = gsl_vector_view_array(lam, K);
  gsl_matrix_view vv = gsl_matrix_view_array(V, K, K);   /* row-major: V' of ours */
  if (gsl_eigen_symmv(&m.matrix, &ev.vector, &vv.matrix, w) != GSL_SUCCESS) return -1;
  if (gsl_eigen_symmv_sort(&ev.vector, &vv.matrix, GSL_EIGEN_SORT_VAL_ASC) != GSL_SUCCESS)
    return -1;
  /* GSL's row-major V (eigenvector k in column k) read column-major is V'; transpose */
  for (size_t i = 0; i < K; i++)
    for (size_t j = 0; j < i; j++) {
      double t = V[i * K + j];
      V[i * K + j] = V[j * K + i];
      V[j * K + i] = t;
    }
  /* a sign for each eigenvector that does not flip under small changes of A: its
   * largest component positive (GSL's own choice can flip, so would the gradient) */
  for (size_t k = 0; k < K; k++) {
    size_t imax = 0;
    for (size_t i = 1; i < K; i++)
      if (fabs(V[i + k * K]) > fabs(V[imax + k * K])) imax = i;
    if (V[imax + k * K] < 0)
      for (size_t i = 0; i < K; i++) V[i + k * K] = -V[i + k * K];
  }
  return 0;
}

static void eig_backward(ad_tape *t, ad_node *node)
{
  UNUSED(t);
  ad_val *A = node->in[0], *o = node->out;
  if (!A->adj) return;
  size_t K = (size_t)node->iarg[0], nd = o->nd, per = K + K * K;
  int vectors = (int)node->iarg[1];
  double *M = node->saved + nd * per, *G = M + K * K;
  for (size_t s = 0; s < nd; s++) {
    const double *lam = node->saved + s * per, *V = lam + K;
    /* M = the inner matrix: diag(lambda_bar), or F o (V' V_bar) */
    if (!vectors) {
      memset(M, 0, K * K * sizeof *M);
      for (size_t k = 0; k < K; k++) M[k + k * K] = o->adj[k * nd + s];
    } else {
      for (size_t k = 0; k < K; k++)
        for (size_t l = 0; l < K; l++) {
          double d = lam[l] - lam[k], acc = 0;
          if (k == l || d == 0) { M[k + l * K] = 0; continue; }
          for (size_t i = 0; i < K; i++) acc += V[i + k * K] * o->adj[(i + l * K) * nd + s];
          M[k + l * K] = acc / d;
        }
    }
    /* G = V M V', then A_bar += (G + G') / 2 */
    for (size_t i = 0; i < K; i++)
      for (size_t j = 0; j < K; j++) {
        double acc = 0;
        for (size_t k = 0; k < K; k++) {
          double vm = 0;
          for (size_t l = 0; l < K; l++) vm += M[k + l * K] * V[j + l * K];
          acc += V[i + k * K] * vm;
        }
        G[i + j * K] = acc;
      }
    for (size_t i = 0; i < K; i++)
      for (size_t j = 0; j < K; j++)
        *ad_adjp(A, i + j * K, s) += 0.5 * (G[i + j * K] + G[j + i * K]);
  }
}

static ad_val *eig_sym(ad_tape *t, ad_val *A, int vectors)
{
  size_t R, C;
  ad_shape2(A, &R, &C);
  if (R != C) {
    ad_tape_set_error(t, "%s of a %zu x %zu matrix: it must be square",
                      vectors ? "eigenvectors_sym" : "eigenvalues_sym", R, C);
    return NULL;
  }
  size_t K = R, nd = A->nd, per = K + K * K;
  ad_val *in[1] = {A};
  ad_val *o = vectors ? ad_new_mat(t, VT_MATRIX, K, K, nd, ad_wants_adj(t, in, 1))
                      : ad_new_mat(t, VT_VECTOR, K, 1, nd, ad_wants_adj(t, in, 1));
  /* per draw lambda and V, then two K x K scratch matrices for the reverse step */
  double *saved = ad_alloc(t, (nd * per + 2 * K * K + 1) * sizeof(double));
  if (!o || !saved) return NULL;
  if (K == 0) return o;
  gsl_eigen_symmv_workspace *w = gsl_eigen_symmv_alloc(K);
  if (!w) { ad_tape_set_error(t, "out of memory (eigendecomposition)"); return NULL; }
  double *scratch = saved + nd * per;   /* free until the reverse step */
  for (size_t s = 0; s < nd; s++) {
    double *lam = saved + s * per, *V = lam + K;
    if (decompose(A, s, K, lam, V, scratch, w) != 0)
      for (size_t i = 0; i < per; i++) lam[i] = NAN;
    for (size_t i = 0; i < (vectors ? K * K : K); i++)
      o->x[i * nd + s] = vectors ? V[i] : lam[i];
  }
  gsl_eigen_symmv_free(w);
  ad_node *node = ad_push(t, eig_backward, o, 1, in);
  if (node) {
    node->iarg[0] = (long)K;
    node->iarg[1] = vectors;
    node->saved = saved;
  }
  return o;
}

static ad_val *b_eigenvalues_sym(ad_tape *t, ad_val **a, int n)
{ UNUSED(n); return eig_sym(t, a[0], 0); }
static ad_val *b_eigenvectors_sym(ad_tape *t, ad_val **a, int n)
{ UNUSED(n); return eig_sym(t, a[0], 1); }

#define BUILTIN(name, sig, impl) {name, sig, impl},
const builtin_def builtin_kernels_eigen[] = {
#include "lang/lib/table_eigen.def"
  {NULL, NULL, NULL}
};
#undef BUILTIN
