/* builtins_decomp.c: the singular value decomposition and what is built on it:
 * singular_values, svd_U, svd_V (A = U diag(s) V', thin: U is M x K, V is N x K with
 * K = min(M, N), s descending, as Stan returns them), generalized_inverse (the
 * Moore-Penrose inverse) and chol2inv.  Per draw with GSL's one-sided Jacobi SVD
 * (gsl_linalg_SV_decomp_jacobi, which needs M >= N: a wide A is decomposed as A').
 *
 * Singular vectors are unique only up to a common sign of u_k and v_k; each pair is
 * flipped so that the largest component of u_k is positive, a choice that does not
 * change under small changes of A (GSL's own choice can flip, and so would a gradient).
 *
 * Reverse mode for the SVD (Townsend, "Differentiating the singular value
 * decomposition", 2016; the singular values also in Giles, "Collected matrix derivative
 * results for forward and reverse mode AD", 2008):
 *   A_bar = U [ (F o (U'U_bar - U_bar'U)) S + diag(s_bar) + S (F o (V'V_bar - V_bar'V)) ] V'
 *         + (I - U U') U_bar S^-1 V' + U S^-1 V_bar' (I - V V'),
 *   F_ij = 1 / (s_j^2 - s_i^2) off the diagonal, 0 on it (and 0 for equal singular
 *   values, where the vectors are not unique).
 * Reverse mode for the pseudo-inverse X = A^+ of constant rank (Golub & Pereyra, "The
 * differentiation of pseudo-inverses and nonlinear least squares problems", 1973:
 * dX = -X dA X + X X' dA' (I - A X) + (I - X A) dA' X' X), transposed:
 *   A_bar = -X' G X' + (I - A X) G' X X' + X' X G' (I - X A).
 * The rank is the number of singular values above max(M, N) eps s_max (as numpy's pinv
 * and Eigen's CompleteOrthogonalDecomposition threshold); for a full-rank A it is the
 * inverse, A' (A A')^-1 or (A'A)^-1 A' as Stan defines generalized_inverse. */
#include <float.h>
#include <math.h>
#include <string.h>
#include <gsl/gsl_cblas.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_linalg.h>
#include <gsl/gsl_matrix.h>
#include "lang/ad/ad_kernels.h"
#include "lang/lib/lib.h"

/* C = alpha op(A) op(B) + beta C, column-major (op: 't' transposes). */
static void gemm(char ta, char tb, size_t m, size_t n, size_t k, double alpha,
                 const double *A, size_t lda, const double *B, size_t ldb, double beta,
                 double *C, size_t ldc)
{
  if (m == 0 || n == 0) return;
  cblas_dgemm(CblasColMajor, ta == 't' ? CblasTrans : CblasNoTrans,
              tb == 't' ? CblasTrans : CblasNoTrans, (int)m, (int)n, (int)k, alpha, A,
              (int)(lda ? lda : 1), B, (int)(ldb ? ldb : 1), beta, C, (int)(ldc ? ldc : 1));
}

/* ---- the decomposition of one draw ------------------------------------------------ */

/* Sizes of one draw's saved factors: U (M x K), s (K), V (N x K). */
static size_t svd_per(size_t M, size_t N)
{
  size_t K = M < N ? M : N;
  return M * K + K + N * K;
}

/* Decompose draw s of the M x N value A into U, sv, V (column-major) with scratch of
 * 2 M N + 2 max(M, N)^2 doubles.  0, or -1 when a value is not finite or GSL fails. */
static int svd_draw(const ad_val *A, size_t s, size_t M, size_t N, double *U, double *sv,
                    double *V, double *scratch)
{
  int wide = M < N;
  size_t m = wide ? N : M, n = wide ? M : N;    /* the tall matrix B (m x n, m >= n) */
  double *b = scratch, *w = b + m * n, *sb = w + n * n;
  for (size_t i = 0; i < M; i++)
    for (size_t j = 0; j < N; j++) {
      double a = ad_get(A, i + j * M, s);
      if (!isfinite(a)) return -1;
      if (wide) b[j * n + i] = a;          /* B = A', row-major */
      else b[i * n + j] = a;
    }
  gsl_matrix_view bv = gsl_matrix_view_array(b, m, n);
  gsl_matrix_view wv = gsl_matrix_view_array(w, n, n);
  gsl_vector_view sv_v = gsl_vector_view_array(sb, n);
  if (gsl_linalg_SV_decomp_jacobi(&bv.matrix, &wv.matrix, &sv_v.vector) != GSL_SUCCESS)
    return -1;
  /* B = Ub S W' with Ub in b (m x n), W in w (n x n), both row-major.  A = B: U = Ub,
   * V = W; A = B': U = W, V = Ub. */
  size_t K = n;
  for (size_t k = 0; k < K; k++) {
    sv[k] = sb[k];
    for (size_t i = 0; i < m; i++) (wide ? V : U)[i + k * m] = b[i * n + k];
    for (size_t i = 0; i < n; i++) (wide ? U : V)[i + k * n] = w[i * n + k];
  }
  for (size_t k = 0; k < K; k++) {
    size_t imax = 0;
    for (size_t i = 1; i < M; i++)
      if (fabs(U[i + k * M]) > fabs(U[imax + k * M])) imax = i;
    if (U[imax + k * M] < 0) {
      for (size_t i = 0; i < M; i++) U[i + k * M] = -U[i + k * M];
      for (size_t i = 0; i < N; i++) V[i + k * N] = -V[i + k * N];
    }
  }
  return 0;
}

static size_t svd_scratch(size_t M, size_t N)
{
  size_t m = M > N ? M : N;
  return 2 * M * N + 2 * m * m + 2;
}

/* ---- singular_values, svd_U, svd_V ------------------------------------------------ */

enum { SVD_VALUES, SVD_U, SVD_V };

/* Townsend's A_bar for one draw; exactly one of ub, sbar, vb is non-NULL (the output's
 * adjoint, with stride nd from draw s).  W: scratch of K K + max(M, N) K doubles. */
static void svd_adjoint(const ad_val *o, int which, size_t s, size_t M, size_t N,
                        const double *U, const double *sv, const double *V, double *W,
                        double *Abar)
{
  size_t K = M < N ? M : N, nd = o->nd;
  double *Mk = W, *P = W + K * K;
  memset(Abar, 0, M * N * sizeof *Abar);
  memset(Mk, 0, K * K * sizeof *Mk);
  if (which == SVD_VALUES) {
    for (size_t k = 0; k < K; k++) Mk[k + k * K] = o->adj[k * nd + s];
  } else {
    size_t R = which == SVD_U ? M : N;
    const double *Q = which == SVD_U ? U : V;       /* the factor whose adjoint we have */
    /* P = the adjoint (R x K); Mk = F o (Q'P - P'Q) times S on the right (U) or left (V) */
    for (size_t e = 0; e < R * K; e++) P[e] = o->adj[e * nd + s];
    double *QtP = Abar;                             /* K x K, Abar is free until the end */
    gemm('t', 'n', K, K, R, 1.0, Q, R, P, R, 0.0, QtP, K);
    for (size_t i = 0; i < K; i++)
      for (size_t j = 0; j < K; j++) {
        double d = sv[j] * sv[j] - sv[i] * sv[i];
        if (i == j || d == 0) continue;
        double f = (QtP[i + j * K] - QtP[j + i * K]) / d;
        Mk[i + j * K] = which == SVD_U ? f * sv[j] : sv[i] * f;
      }
    /* P <- (I - Q Q') P S^-1: the part outside the span of Q (zero when Q is square) */
    gemm('n', 'n', R, K, K, -1.0, Q, R, QtP, K, 1.0, P, R);
    for (size_t k = 0; k < K; k++) {
      double inv = sv[k] > 0 ? 1.0 / sv[k] : 0.0;
      for (size_t i = 0; i < R; i++) P[i + k * R] *= inv;
    }
    /* U: A_bar = P V';  V: A_bar = U P' */
    if (which == SVD_U) gemm('n', 't', M, N, K, 1.0, P, M, V, N, 0.0, Abar, M);
    else gemm('n', 't', M, N, K, 1.0, U, M, P, N, 0.0, Abar, M);
  }
  /* A_bar += U Mk V' */
  double *UM = P + (M > N ? M : N) * K;             /* M x K */
  gemm('n', 'n', M, K, K, 1.0, U, M, Mk, K, 0.0, UM, M);
  gemm('n', 't', M, N, K, 1.0, UM, M, V, N, 1.0, Abar, M);
}

static void svd_backward(ad_tape *t, ad_node *node)
{
  UNUSED(t);
  ad_val *A = node->in[0], *o = node->out;
  if (!A->adj) return;
  size_t M = (size_t)node->iarg[0], N = (size_t)node->iarg[1], nd = o->nd;
  size_t K = M < N ? M : N, per = svd_per(M, N), mx = M > N ? M : N;
  int which = (int)node->iarg[2];
  double *W = node->saved + nd * per, *Abar = W + K * K + 2 * mx * K;
  for (size_t s = 0; s < nd; s++) {
    const double *U = node->saved + s * per, *sv = U + M * K, *V = sv + K;
    if (isnan(sv[0])) continue;
    svd_adjoint(o, which, s, M, N, U, sv, V, W, Abar);
    for (size_t e = 0; e < M * N; e++) *ad_adjp(A, e, s) += Abar[e];
  }
}

static ad_val *svd_common(ad_tape *t, ad_val *A, int which)
{
  size_t M, N;
  ad_shape2(A, &M, &N);
  size_t K = M < N ? M : N, nd = A->nd, per = svd_per(M, N), mx = M > N ? M : N;
  ad_val *in[1] = {A};
  int adj = ad_wants_adj(t, in, 1);
  ad_val *o = which == SVD_VALUES ? ad_new_mat(t, VT_VECTOR, K, 1, nd, adj)
              : ad_new_mat(t, VT_MATRIX, which == SVD_U ? M : N, K, nd, adj);
  /* per draw U, s, V; then the reverse step's scratch (K K + 2 max K) and A_bar (M N),
   * which the forward step uses as GSL's scratch */
  size_t back = K * K + 2 * mx * K + M * N, fwd = svd_scratch(M, N);
  double *saved = ad_alloc(t, (nd * per + (back > fwd ? back : fwd) + 1) * sizeof(double));
  if (!o || !saved) return NULL;
  if (K == 0) return o;
  for (size_t s = 0; s < nd; s++) {
    double *U = saved + s * per, *sv = U + M * K, *V = sv + K;
    if (svd_draw(A, s, M, N, U, sv, V, saved + nd * per) != 0)
      for (size_t i = 0; i < per; i++) U[i] = NAN;
    const double *src = which == SVD_VALUES ? sv : which == SVD_U ? U : V;
    for (size_t e = 0; e < o->len; e++) o->x[e * nd + s] = src[e];
  }
  if (adj) {
    ad_node *node = ad_push(t, svd_backward, o, 1, in);
    if (node) {
      node->iarg[0] = (long)M;
      node->iarg[1] = (long)N;
      node->iarg[2] = which;
      node->saved = saved;
    }
  }
  return o;
}

static ad_val *b_singular_values(ad_tape *t, ad_val **a, int n)
{ UNUSED(n); return svd_common(t, a[0], SVD_VALUES); }
static ad_val *b_svd_U(ad_tape *t, ad_val **a, int n)
{ UNUSED(n); return svd_common(t, a[0], SVD_U); }
static ad_val *b_svd_V(ad_tape *t, ad_val **a, int n)
{ UNUSED(n); return svd_common(t, a[0], SVD_V); }

/* ---- generalized_inverse ---------------------------------------------------------- */

static void pinv_backward(ad_tape *t, ad_node *node)
{
  UNUSED(t);
  ad_val *A = node->in[0], *o = node->out;
  if (!A->adj) return;
  size_t M = (size_t)node->iarg[0], N = (size_t)node->iarg[1], nd = o->nd;
  size_t mx = M > N ? M : N;
  /* per draw X (N x M); then scratch: Am (M N), G (N M), T1 (mx mx), T2 (mx mx),
   * R (M N), Abar (M N) */
  double *Am = node->saved + nd * N * M, *G = Am + M * N, *T1 = G + N * M;
  double *T2 = T1 + mx * mx, *R = T2 + mx * mx, *Ab = R + M * N;
  for (size_t s = 0; s < nd; s++) {
    const double *X = node->saved + s * N * M;
    if (isnan(X[0])) continue;
    for (size_t e = 0; e < M * N; e++) Am[e] = ad_get(A, e, s);
    for (size_t e = 0; e < N * M; e++) G[e] = o->adj[e * nd + s];
    /* Ab = -X' G X' */
    gemm('t', 'n', M, M, N, 1.0, X, N, G, N, 0.0, T1, M);           /* X'G: M x M */
    gemm('n', 't', M, N, M, -1.0, T1, M, X, N, 0.0, Ab, M);
    /* R = G' X X' (M x N); Ab += R - A (X R) */
    gemm('n', 't', N, N, M, 1.0, X, N, X, N, 0.0, T1, N);           /* X X': N x N */
    gemm('t', 'n', M, N, N, 1.0, G, N, T1, N, 0.0, R, M);
    gemm('n', 'n', N, N, M, 1.0, X, N, R, M, 0.0, T2, N);           /* X R: N x N */
    for (size_t e = 0; e < M * N; e++) Ab[e] += R[e];
    gemm('n', 'n', M, N, N, -1.0, Am, M, T2, N, 1.0, Ab, M);
    /* R = X' X G' (M x N); Ab += R - (R X) A */
    gemm('t', 'n', M, M, N, 1.0, X, N, X, N, 0.0, T1, M);           /* X'X: M x M */
    gemm('n', 't', M, N, M, 1.0, T1, M, G, N, 0.0, R, M);
    gemm('n', 'n', M, M, N, 1.0, R, M, X, N, 0.0, T2, M);           /* R X: M x M */
    for (size_t e = 0; e < M * N; e++) Ab[e] += R[e];
    gemm('n', 'n', M, N, M, -1.0, T2, M, Am, M, 1.0, Ab, M);
    for (size_t e = 0; e < M * N; e++) *ad_adjp(A, e, s) += Ab[e];
  }
}

static ad_val *b_generalized_inverse(ad_tape *t, ad_val **a, int n)
{
  UNUSED(n);
  ad_val *A = a[0];
  size_t M, N;
  ad_shape2(A, &M, &N);
  size_t K = M < N ? M : N, nd = A->nd, per = svd_per(M, N), mx = M > N ? M : N;
  ad_val *in[1] = {A};
  int adj = ad_wants_adj(t, in, 1);
  ad_val *o = ad_new_mat(t, VT_MATRIX, N, M, nd, adj);
  size_t back = 4 * M * N + 2 * mx * mx, fwd = per + svd_scratch(M, N);
  double *saved = ad_alloc(t, (nd * N * M + (back > fwd ? back : fwd) + 1) * sizeof(double));
  if (!o || !saved) return NULL;
  if (K == 0) return o;
  double *U = saved + nd * N * M, *sv = U + M * K, *V = sv + K, *scr = V + N * K;
  for (size_t s = 0; s < nd; s++) {
    double *X = saved + s * N * M;
    if (svd_draw(A, s, M, N, U, sv, V, scr) != 0) {
      for (size_t e = 0; e < N * M; e++) X[e] = NAN;
    } else {
      /* X = V diag(1/s) U' over the singular values above the rank threshold */
      double tol = (double)mx * DBL_EPSILON * sv[0];
      memset(X, 0, N * M * sizeof *X);
      for (size_t k = 0; k < K; k++) {
        if (!(sv[k] > tol)) break;
        double inv = 1.0 / sv[k];
        for (size_t j = 0; j < M; j++)
          for (size_t i = 0; i < N; i++) X[i + j * N] += V[i + k * N] * inv * U[j + k * M];
      }
    }
    for (size_t e = 0; e < N * M; e++) o->x[e * nd + s] = X[e];
  }
  if (adj) {
    ad_node *node = ad_push(t, pinv_backward, o, 1, in);
    if (node) {
      node->iarg[0] = (long)M;
      node->iarg[1] = (long)N;
      node->saved = saved;
    }
  }
  return o;
}

/* ---- chol2inv(L) = (L L')^-1 for a lower-triangular L ----------------------------- */

/* Only the lower triangle of L is read (Stan rejects an L with a non-zero above the
 * diagonal; here it is ignored, as multiply_lower_tri_self_transpose ignores it). */
static ad_val *b_chol2inv(ad_tape *t, ad_val **a, int n)
{
  UNUSED(n);
  ad_val *L = a[0];
  size_t R, C;
  ad_shape2(L, &R, &C);
  if (R != C) {
    ad_tape_set_error(t, "chol2inv of a %zu x %zu matrix: it must be square", R, C);
    return NULL;
  }
  size_t K = R, m = K * (K + 1) / 2;
  ad_val *Lo = ad_new_mat(t, VT_MATRIX, K, K, L->nd, L->adj != NULL);
  size_t *idx = ad_alloc(t, (m + 1) * sizeof *idx);
  if (!Lo || !idx) return NULL;
  memset(Lo->x, 0, K * K * L->nd * sizeof *Lo->x);
  size_t k = 0;
  for (size_t j = 0; j < K; j++)
    for (size_t i = j; i < K; i++) idx[k++] = i + j * K;
  ad_gather(t, Lo, L, m, idx, idx);
  ad_val *Lt = ad_transpose(t, Lo);
  ad_val *LLt = Lt ? ad_binary(t, OP_MUL, Lo, Lt) : NULL;
  return LLt ? ad_inverse(t, LLt) : NULL;
}

#define BUILTIN(name, sig, impl) {name, sig, impl},
const builtin_def builtin_kernels_decomp[] = {
#include "lang/lib/table_decomp.def"
  {NULL, NULL, NULL}
};
#undef BUILTIN
