/* solve.c: dense linear solves and the inverse on the AD tape, batched over the draws.
 *
 * A \ B and B / A factor A = P^T L U per draw (GSL's LU with partial pivoting; once in
 * all when A is the same for every draw) and solve with two triangular solves (CBLAS
 * trsm), never forming the inverse.  The reverse step reuses the factors (Giles, "An
 * extended collection of matrix derivative results", 2008, sec. 2.2.3): for X = A \ B,
 * Bbar += A^{-T} Xbar and Abar -= Bbar X^T; for X = B / A, Bbar += Xbar A^{-T} and
 * Abar -= X^T Bbar.  A singular A (a zero pivot) gives NaN, as the inverse does.
 *
 * The explicit inverse (Gauss-Jordan with partial pivoting, which yields log|det A| and
 * its sign on the way) serves inverse(), determinant() and log_determinant(). */
#include <math.h>
#include <string.h>
#include <gsl/gsl_cblas.h>
#include <gsl/gsl_linalg.h>
#include "lang/ad/ad_kernels.h"

/* ---- the inverse ------------------------------------------------------------------ */

/* Inverse of the K x K column-major A (destroyed) into Inv; 0, or -1 when singular. */
static int invert_draw(double *A, double *Inv, size_t K, double *logabsdet, double *sign)
{
  for (size_t j = 0; j < K; j++)
    for (size_t i = 0; i < K; i++) Inv[i + j * K] = i == j ? 1.0 : 0.0;
  double lad = 0, sg = 1;
  for (size_t c = 0; c < K; c++) {
    size_t p = c;
    double best = fabs(A[c + c * K]);
    for (size_t i = c + 1; i < K; i++)
      if (fabs(A[i + c * K]) > best) { best = fabs(A[i + c * K]); p = i; }
    if (!(best > 0)) { *logabsdet = -INFINITY; *sign = 0; return -1; }
    if (p != c) {
      sg = -sg;
      for (size_t j = 0; j < K; j++) {
        double tmp = A[c + j * K]; A[c + j * K] = A[p + j * K]; A[p + j * K] = tmp;
        tmp = Inv[c + j * K]; Inv[c + j * K] = Inv[p + j * K]; Inv[p + j * K] = tmp;
      }
    }
    double piv = A[c + c * K];
    lad += log(fabs(piv));
    if (piv < 0) sg = -sg;
    for (size_t j = 0; j < K; j++) { A[c + j * K] /= piv; Inv[c + j * K] /= piv; }
    for (size_t i = 0; i < K; i++) {
      if (i == c) continue;
      double f = A[i + c * K];
      if (f == 0) continue;
      for (size_t j = 0; j < K; j++) {
        A[i + j * K] -= f * A[c + j * K];
        Inv[i + j * K] -= f * Inv[c + j * K];
      }
    }
  }
  *logabsdet = lad;
  *sign = sg;
  return 0;
}

int ad_inverse_draws(ad_tape *t, const ad_val *A, size_t K, double *inv, double *lad,
                     double *sg)
{
  size_t nd = A->nd;
  double *w = ad_alloc(t, (K ? K * K : 1) * 2 * sizeof(double));
  if (!w) return -1;
  double *wi = w + K * K;
  for (size_t s = 0; s < nd; s++) {
    for (size_t e = 0; e < K * K; e++) w[e] = A->x[e * nd + s];
    if (invert_draw(w, wi, K, &lad[s], &sg[s]) != 0)
      for (size_t e = 0; e < K * K; e++) wi[e] = NAN;
    for (size_t e = 0; e < K * K; e++) inv[e * nd + s] = wi[e];
  }
  return 0;
}

static void inverse_backward(ad_tape *t, ad_node *node)
{
  UNUSED(t);
  ad_val *A = node->in[0], *Y = node->out;
  size_t K = (size_t)node->iarg[0], nd = Y->nd;
  /* Abar_ij = -sum_kl Y_ki Ybar_kl Y_jl */
  for (size_t i = 0; i < K; i++)
    for (size_t j = 0; j < K; j++)
      for (size_t k = 0; k < K; k++)
        for (size_t l = 0; l < K; l++) {
          const double *yki = Y->x + (k + i * K) * nd, *g = Y->adj + (k + l * K) * nd;
          const double *yjl = Y->x + (j + l * K) * nd;
          for (size_t s = 0; s < nd; s++) *ad_adjp(A, i + j * K, s) -= yki[s] * g[s] * yjl[s];
        }
}

/* K of a square matrix, or -1 with an error naming the caller fn. */
static int square_size(ad_tape *t, const ad_val *A, const char *fn, size_t *K)
{
  size_t r, c;
  ad_shape2(A, &r, &c);
  if (r != c) {
    ad_tape_set_error(t, "%s: matrix must be square, found %zu x %zu", fn, r, c);
    return -1;
  }
  *K = r;
  return 0;
}

ad_val *ad_inverse(ad_tape *t, ad_val *A)
{
  size_t K;
  if (square_size(t, A, "inverse", &K)) return NULL;
  size_t nd = A->nd;
  ad_val *Y = ad_new_mat(t, VT_MATRIX, K, K, nd, A->adj != NULL);
  double *lad = ad_alloc(t, 2 * nd * sizeof(double));
  if (!Y || !lad || ad_inverse_draws(t, A, K, Y->x, lad, lad + nd)) return NULL;
  ad_val *in[1] = {A};
  ad_node *node = ad_push(t, inverse_backward, Y, 1, in);
  if (node) node->iarg[0] = (long)K;
  ad_mark_shared(Y);
  return Y;
}

/* ---- solves ------------------------------------------------------------------------ */

/* One draw's factors: LU row-major K x K as GSL leaves it (P A = L U), the permutation
 * (P b)[i] = b[perm[i]], and whether a pivot is zero. */
typedef struct lu_draw {
  double *lu;
  size_t *perm;
  int singular;
} lu_draw;

/* Factor draw s of A (K x K, column-major on the tape) into f. */
static void lu_factor(const ad_val *A, size_t K, size_t s, lu_draw *f)
{
  for (size_t i = 0; i < K; i++)
    for (size_t j = 0; j < K; j++) f->lu[i * K + j] = ad_get(A, i + j * K, s);
  gsl_matrix_view M = gsl_matrix_view_array(f->lu, K, K);
  gsl_permutation p = {K, f->perm};
  int signum;
  gsl_linalg_LU_decomp(&M.matrix, &p, &signum);
  f->singular = 0;
  for (size_t i = 0; i < K; i++)
    if (f->lu[i * K + i] == 0) f->singular = 1;
}

/* Solve A Y = R (trans = 0) or A^T Y = R (trans = 1) in place for the K x m row-major
 * R, with A's factors f.  w is K x m scratch. */
static void lu_solve(const lu_draw *f, size_t K, size_t m, int trans, double *R, double *w)
{
  if (f->singular) {
    for (size_t e = 0; e < K * m; e++) R[e] = NAN;
    return;
  }
  int Ki = (int)K, mi = (int)m;
  if (!trans) {
    /* L U Y = P R */
    for (size_t i = 0; i < K; i++) memcpy(w + i * m, R + f->perm[i] * m, m * sizeof *w);
    cblas_dtrsm(CblasRowMajor, CblasLeft, CblasLower, CblasNoTrans, CblasUnit, Ki, mi, 1.0,
                f->lu, Ki, w, mi);
    cblas_dtrsm(CblasRowMajor, CblasLeft, CblasUpper, CblasNoTrans, CblasNonUnit, Ki, mi,
                1.0, f->lu, Ki, w, mi);
    memcpy(R, w, K * m * sizeof *w);
  } else {
    /* A^T = U^T L^T P: U^T L^T (P Y) = R */
    cblas_dtrsm(CblasRowMajor, CblasLeft, CblasUpper, CblasTrans, CblasNonUnit, Ki, mi, 1.0,
                f->lu, Ki, R, mi);
    cblas_dtrsm(CblasRowMajor, CblasLeft, CblasLower, CblasTrans, CblasUnit, Ki, mi, 1.0,
                f->lu, Ki, R, mi);
    for (size_t i = 0; i < K; i++) memcpy(w + f->perm[i] * m, R + i * m, m * sizeof *w);
    memcpy(R, w, K * m * sizeof *w);
  }
}

/* The right-hand sides of draw s as a K x m row-major block: B (K x m) for A \ B, B^T
 * (B is m x K) for B / A.  get reads values (adj = 0) or adjoints (adj = 1). */
static void rhs_get(const ad_val *B, size_t K, size_t m, int right, int adj, size_t s,
                    double *R)
{
  for (size_t i = 0; i < K; i++)
    for (size_t j = 0; j < m; j++) {
      size_t e = right ? j + i * m : i + j * K;
      R[i * m + j] = adj ? *ad_adjp(B, e, s) : ad_get(B, e, s);
    }
}

typedef struct solve_state {
  size_t K, m;
  int right;          /* B / A rather than A \ B */
  size_t nf;          /* factors stored: 1 (A the same for every draw) or nd */
  lu_draw *f;
  double *work;       /* 3 K m doubles for the reverse step */
} solve_state;

/* Reverse step.  Left: G = A^{-T} Xbar, Bbar += G, Abar -= G X^T.  Right (X = B / A, in
 * the transposed frame X^T = A^{-T} B^T): G^T = A^{-1} Xbar^T, Bbar += G,
 * Abar -= X^T G.  In both, with R the K x m block of G in the frame solved and Y that
 * of X: Abar_ij -= sum_c R_ic Y_jc (left) or Y_ic R_jc (right). */
static void solve_backward(ad_tape *t, ad_node *node)
{
  ad_val *A = node->in[0], *B = node->in[1], *X = node->out;
  const solve_state *st = node->ptr;
  size_t K = st->K, m = st->m, nd = X->nd;
  double *R = st->work, *Y = R + K * m, *w = Y + K * m;
  for (size_t s = 0; s < nd; s++) {
    rhs_get(X, K, m, st->right, 1, s, R);
    lu_solve(&st->f[st->nf == 1 ? 0 : s], K, m, !st->right, R, w);
    if (B->adj)
      for (size_t i = 0; i < K; i++)
        for (size_t j = 0; j < m; j++)
          *ad_adjp(B, st->right ? j + i * m : i + j * K, s) += R[i * m + j];
    if (A->adj) {
      rhs_get(X, K, m, st->right, 0, s, Y);
      const double *P = st->right ? Y : R, *Q = st->right ? R : Y;
      for (size_t i = 0; i < K; i++)
        for (size_t j = 0; j < K; j++) {
          double acc = 0;
          for (size_t c = 0; c < m; c++) acc += P[i * m + c] * Q[j * m + c];
          *ad_adjp(A, i + j * K, s) -= acc;
        }
    }
  }
}

/* X = A \ B (right = 0) or X = B / A (right = 1). */
static ad_val *solve(ad_tape *t, ad_val *A, ad_val *B, int right)
{
  const char *op = right ? "/" : "\\";
  if (A->type.base != VT_MATRIX || A->type.ndims) {
    ad_tape_set_error(t, "matrix division: the divisor must be a square matrix");
    return NULL;
  }
  if (B->type.ndims
      || (B->type.base != VT_MATRIX && B->type.base != (right ? VT_ROW_VECTOR : VT_VECTOR))) {
    ad_tape_set_error(t, "operator %s is not defined for these operand types", op);
    return NULL;
  }
  size_t K, br, bc;
  if (square_size(t, A, "matrix division", &K)) return NULL;
  ad_shape2(B, &br, &bc);
  if ((right ? bc : br) != K) {
    ad_tape_set_error(t, "matrix division: size mismatch (%zu x %zu) %s (%zu x %zu)",
                      right ? br : K, right ? bc : K, op, right ? K : br, right ? K : bc);
    return NULL;
  }
  size_t m = right ? br : bc, nd = ad_nd2(A, B);
  ad_val *in[2] = {A, B};
  int adj = ad_wants_adj(t, in, 2);
  ad_val *X = ad_new_mat(t, B->type.base, br, bc, nd, adj);
  if (!X || K == 0 || m == 0) return X;
  solve_state *st = ad_alloc(t, sizeof *st);
  size_t nf = A->nd == 1 ? 1 : nd;
  lu_draw *f = ad_alloc(t, nf * sizeof *f);
  double *lu = ad_alloc(t, nf * K * K * sizeof(double));
  size_t *perm = ad_alloc(t, nf * K * sizeof(size_t));
  double *R = ad_alloc(t, K * m * 3 * sizeof(double));
  if (!st || !f || !lu || !perm || !R) return NULL;
  for (size_t k = 0; k < nf; k++) {
    f[k].lu = lu + k * K * K;
    f[k].perm = perm + k * K;
    lu_factor(A, K, k, &f[k]);
  }
  for (size_t s = 0; s < nd; s++) {
    rhs_get(B, K, m, right, 0, s, R);
    lu_solve(&f[nf == 1 ? 0 : s], K, m, right, R, R + K * m);
    for (size_t i = 0; i < K; i++)
      for (size_t j = 0; j < m; j++)
        X->x[(right ? j + i * m : i + j * K) * nd + s] = R[i * m + j];
  }
  *st = (solve_state){K, m, right, nf, f, R};
  ad_node *node = ad_push(t, solve_backward, X, 2, in);
  if (node) node->ptr = st;
  ad_mark_shared(X);
  return X;
}

ad_val *ad_solve_left(ad_tape *t, ad_val *A, ad_val *B) { return solve(t, A, B, 0); }
ad_val *ad_solve_right(ad_tape *t, ad_val *B, ad_val *A) { return solve(t, A, B, 1); }
