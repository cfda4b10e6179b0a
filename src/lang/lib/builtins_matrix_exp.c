/* builtins_matrix_exp.c: the matrix exponential, matrix_exp(A), and the products Stan
 * builds on it, matrix_exp_multiply(A, B) = exp(A) B and scale_matrix_exp_multiply(t, A,
 * B) = exp(t A) B (composed on the tape: exp, then the product).
 *
 * Value: scaling and squaring with a diagonal Pade approximant (Higham, "The scaling and
 * squaring method for the matrix exponential revisited", SIAM J. Matrix Anal. Appl. 26,
 * 2005, Algorithm 2.3): degree 3, 5, 7 or 9 when ||A||_1 is below that degree's theta, else
 * degree 13 on A / 2^s with ||A / 2^s||_1 <= theta_13, squared s times.  The Pade
 * quotient (V - U)^-1 (V + U) is one LU solve (GSL).
 *
 * Reverse mode: A_bar = L(A', G), the Frechet derivative of exp at A' in the direction
 * of the output's adjoint G (the adjoint of E -> L(A, E) is G -> L(A', G)), read off
 * the upper right block of exp([[A', G], [0, A']]) (Najfeld & Havel 1995; Higham,
 * "Functions of Matrices", 2008, eq. 3.16).  G is scaled to unit norm first so that it
 * does not raise the number of squarings. */
#include <math.h>
#include <string.h>
#include <gsl/gsl_cblas.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_linalg.h>
#include <gsl/gsl_matrix.h>
#include <gsl/gsl_permutation.h>
#include "lang/ad/ad_kernels.h"
#include "lang/lib/lib.h"

/* Pade coefficients b_0..b_m for m = 3, 5, 7, 9, 13 and the thetas (Higham 2005,
 * Table 2.3 and eq. 2.12). */
static const double pade3[] = {120, 60, 12, 1};
static const double pade5[] = {30240, 15120, 3360, 420, 30, 1};
static const double pade7[] = {17297280, 8648640, 1995840, 277200, 25200, 1512, 56, 1};
static const double pade9[] = {17643225600., 8821612800., 2075673600., 302702400., 30270240.,
                               2162160., 110880., 3960., 90., 1.};
static const double pade13[] = {64764752532480000., 32382376266240000., 7771770303897600.,
                                1187353796428800., 129060195264000., 10559470521600.,
                                670442572800., 33522128640., 1323241920., 40840800.,
                                960960., 16380., 182., 1.};
static const double theta[] = {1.495585217958292e-2, 2.539398330063230e-1,
                               9.504178996162932e-1, 2.097847961257068e0,
                               5.371920351148152e0};

/* Work space of expm for a K x K matrix, in doubles. */
static size_t expm_work(size_t K) { return 9 * K * K + K + 1; }

static void mm(size_t K, const double *A, const double *B, double *C)
{
  cblas_dgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, (int)K, (int)K, (int)K, 1.0, A,
              (int)K, B, (int)K, 0.0, C, (int)K);
}

/* E = exp(A) for a K x K column-major A (not changed); w: expm_work(K) doubles.
 * 0, or -1 when A is not finite or the Pade denominator is singular (E is NaN). */
static int expm(size_t K, const double *A, double *E, double *w)
{
  size_t KK = K * K;
  double *As = w, *A2 = As + KK, *A4 = A2 + KK, *A6 = A4 + KK, *U = A6 + KK, *V = U + KK;
  double *T = V + KK, *P = T + KK, *B = P + KK;
  double nrm = 0;
  for (size_t j = 0; j < K; j++) {
    double c = 0;
    for (size_t i = 0; i < K; i++) c += fabs(A[i + j * K]);
    if (c > nrm) nrm = c;
  }
  if (!isfinite(nrm)) {
    for (size_t e = 0; e < KK; e++) E[e] = NAN;
    return -1;
  }
  const double *b = pade13;
  int m = 13, sq = 0;
  static const double *const low[] = {pade3, pade5, pade7, pade9};
  for (int k = 0; k < 4; k++)
    if (nrm <= theta[k]) { b = low[k]; m = 3 + 2 * k; break; }
  if (m == 13 && nrm > theta[4]) sq = (int)ceil(log2(nrm / theta[4]));
  double sc = ldexp(1.0, -sq);
  for (size_t e = 0; e < KK; e++) As[e] = A[e] * sc;
  mm(K, As, As, A2);
  /* U = A (sum of odd terms), V = sum of even terms */
  memset(T, 0, KK * sizeof *T);
  memset(V, 0, KK * sizeof *V);
  if (m == 13) {
    mm(K, A2, A2, A4);
    mm(K, A4, A2, A6);
    /* T = A6 (b13 A6 + b11 A4 + b9 A2) + b7 A6 + b5 A4 + b3 A2 + b1 I */
    for (size_t e = 0; e < KK; e++) P[e] = b[13] * A6[e] + b[11] * A4[e] + b[9] * A2[e];
    mm(K, A6, P, T);
    for (size_t e = 0; e < KK; e++) T[e] += b[7] * A6[e] + b[5] * A4[e] + b[3] * A2[e];
    for (size_t e = 0; e < KK; e++) P[e] = b[12] * A6[e] + b[10] * A4[e] + b[8] * A2[e];
    mm(K, A6, P, V);
    for (size_t e = 0; e < KK; e++) V[e] += b[6] * A6[e] + b[4] * A4[e] + b[2] * A2[e];
    for (size_t i = 0; i < K; i++) { T[i + i * K] += b[1]; V[i + i * K] += b[0]; }
  } else {
    /* powers A^0, A^2, ..., A^(m-1): sum b_{2j+1} A^{2j} into T, b_{2j} A^{2j} into V */
    for (size_t i = 0; i < K; i++) { T[i + i * K] = b[1]; V[i + i * K] = b[0]; }
    memcpy(P, A2, KK * sizeof *P);               /* P = A^{2j} */
    for (int j = 1; 2 * j <= m - 1; j++) {
      if (j > 1) { mm(K, P, A2, A4); memcpy(P, A4, KK * sizeof *P); }
      for (size_t e = 0; e < KK; e++) { T[e] += b[2 * j + 1] * P[e]; V[e] += b[2 * j] * P[e]; }
    }
  }
  mm(K, As, T, U);
  /* E = (V - U)^-1 (V + U): LU of V - U (row-major for GSL), column by column */
  for (size_t i = 0; i < K; i++)
    for (size_t j = 0; j < K; j++) B[i * K + j] = V[i + j * K] - U[i + j * K];
  for (size_t e = 0; e < KK; e++) E[e] = V[e] + U[e];
  gsl_permutation perm = {K, (size_t *)(void *)T};   /* T is free again: K size_t fit */
  gsl_matrix_view lu = gsl_matrix_view_array(B, K, K);
  int signum;
  int st = gsl_linalg_LU_decomp(&lu.matrix, &perm, &signum);
  for (size_t i = 0; i < K; i++)
    if (st != GSL_SUCCESS || B[i * K + i] == 0) {
      for (size_t e = 0; e < KK; e++) E[e] = NAN;
      return -1;
    }
  for (size_t j = 0; j < K; j++) {
    gsl_vector_view x = gsl_vector_view_array(E + j * K, K);
    gsl_linalg_LU_svx(&lu.matrix, &perm, &x.vector);
  }
  for (int k = 0; k < sq; k++) {
    mm(K, E, E, P);
    memcpy(E, P, KK * sizeof *E);
  }
  return 0;
}

/* The tape: saved holds nothing per draw (A is read again) and the reverse step's work
 * space: the 2K x 2K block matrix, its exponential and expm's work. */
static void expm_backward(ad_tape *t, ad_node *node)
{
  UNUSED(t);
  ad_val *A = node->in[0], *o = node->out;
  if (!A->adj) return;
  size_t K = (size_t)node->iarg[0], K2 = 2 * K, nd = o->nd;
  double *Bm = node->saved, *Em = Bm + K2 * K2, *w = Em + K2 * K2;
  for (size_t s = 0; s < nd; s++) {
    double gn = 0;
    for (size_t e = 0; e < K * K; e++) gn = fmax(gn, fabs(o->adj[e * nd + s]));
    if (gn == 0 || !isfinite(gn)) continue;
    memset(Bm, 0, K2 * K2 * sizeof *Bm);
    for (size_t i = 0; i < K; i++)
      for (size_t j = 0; j < K; j++) {
        double at = ad_get(A, j + i * K, s);            /* A'[i, j] */
        Bm[i + j * K2] = at;
        Bm[(K + i) + (K + j) * K2] = at;
        Bm[i + (K + j) * K2] = o->adj[(i + j * K) * nd + s] / gn;
      }
    if (expm(K2, Bm, Em, w) != 0) continue;
    for (size_t i = 0; i < K; i++)
      for (size_t j = 0; j < K; j++) *ad_adjp(A, i + j * K, s) += gn * Em[i + (K + j) * K2];
  }
}

static ad_val *matrix_exp(ad_tape *t, ad_val *A, const char *fn)
{
  size_t R, C;
  ad_shape2(A, &R, &C);
  if (R != C) {
    ad_tape_set_error(t, "%s of a %zu x %zu matrix: it must be square", fn, R, C);
    return NULL;
  }
  size_t K = R, nd = A->nd;
  ad_val *in[1] = {A};
  int adj = ad_wants_adj(t, in, 1);
  ad_val *o = ad_new_mat(t, VT_MATRIX, K, K, nd, adj);
  size_t need = adj ? 8 * K * K + expm_work(2 * K) : 2 * K * K + expm_work(K);
  double *w = ad_alloc(t, (need + 1) * sizeof(double));
  if (!o || !w) return NULL;
  if (K == 0) return o;
  double *Ad = w, *E = Ad + K * K, *ws = E + K * K;
  for (size_t s = 0; s < nd; s++) {
    for (size_t e = 0; e < K * K; e++) Ad[e] = ad_get(A, e, s);
    expm(K, Ad, E, ws);
    for (size_t e = 0; e < K * K; e++) o->x[e * nd + s] = E[e];
  }
  if (adj) {
    ad_node *node = ad_push(t, expm_backward, o, 1, in);
    if (node) {
      node->iarg[0] = (long)K;
      node->saved = w;
    }
  }
  return o;
}

static ad_val *b_matrix_exp(ad_tape *t, ad_val **a, int n)
{ UNUSED(n); return matrix_exp(t, a[0], "matrix_exp"); }

static ad_val *b_matrix_exp_multiply(ad_tape *t, ad_val **a, int n)
{
  UNUSED(n);
  size_t R, C, RB, CB;
  ad_shape2(a[0], &R, &C);
  ad_shape2(a[1], &RB, &CB);
  if (RB != C) {
    ad_tape_set_error(t, "matrix_exp_multiply: A is %zu x %zu, B is %zu x %zu (B needs %zu "
                         "rows)", R, C, RB, CB, C);
    return NULL;
  }
  ad_val *E = matrix_exp(t, a[0], "matrix_exp_multiply");
  return E ? ad_binary(t, OP_MUL, E, a[1]) : NULL;
}

static ad_val *b_scale_matrix_exp_multiply(ad_tape *t, ad_val **a, int n)
{
  UNUSED(n);
  size_t R, C, RB, CB;
  ad_shape2(a[1], &R, &C);
  ad_shape2(a[2], &RB, &CB);
  if (RB != C) {
    ad_tape_set_error(t, "scale_matrix_exp_multiply: A is %zu x %zu, B is %zu x %zu (B "
                         "needs %zu rows)", R, C, RB, CB, C);
    return NULL;
  }
  ad_val *tA = ad_binary(t, OP_MUL, a[0], a[1]);
  ad_val *E = tA ? matrix_exp(t, tA, "scale_matrix_exp_multiply") : NULL;
  return E ? ad_binary(t, OP_MUL, E, a[2]) : NULL;
}

#define BUILTIN(name, sig, impl) {name, sig, impl},
const builtin_def builtin_kernels_matrix_exp[] = {
#include "lang/lib/table_matrix_exp.def"
  {NULL, NULL, NULL}
};
#undef BUILTIN
