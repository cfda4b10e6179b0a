/* builtins_linalg.c: linear algebra (triangular solves, Cholesky, inverse, determinants, quadratic
 * forms, matrix_power, ...) and the functions that compose them (lmultiply, beta,
 * log_mix, block, ...).
 * Batched over the draws with hand-written reverse-mode derivatives; meanings and
 * signatures follow the Stan Functions Reference (see math_impl.h for what these files
 * share), the matrix derivatives Giles, "An extended collection of matrix derivative
 * results for forward and reverse mode AD" (2008) and Murray, "Differentiation of the
 * Cholesky decomposition" (2016).  A function outside its domain returns NaN, as Stan's do. */
#include "lang/ad/ad_kernels.h"
#include "lang/lib/lib.h"
#include "lang/lib/math_impl.h"

/* ---- triangular and dense matrix functions -------------------------------------- */

int math_square_check(ad_tape *t, const ad_val *M, const char *fn, size_t *K)
{
  size_t r, c;
  ad_shape2(M, &r, &c);
  if (r != c) {
    ad_tape_set_error(t, "%s: matrix must be square, found %zu x %zu", fn, r, c);
    return -1;
  }
  *K = r;
  return 0;
}

/* multiply_lower_tri_self_transpose(L) = tril(L) tril(L)^T, for an m x n L. */
static void mlt_backward(ad_tape *t, ad_node *node)
{
  UNUSED(t);
  ad_val *L = node->in[0], *A = node->out;
  size_t m = (size_t)node->iarg[0], n = (size_t)node->iarg[1], nd = A->nd;
  /* dL_ik = sum_j (gA_ij + gA_ji) L_jk over j with k <= j, for k <= i. */
  for (size_t i = 0; i < m; i++)
    for (size_t k = 0; k < n && k <= i; k++)
      for (size_t j = k; j < m; j++) {
        const double *g1 = A->adj + (i + j * m) * nd, *g2 = A->adj + (j + i * m) * nd;
        for (size_t s = 0; s < nd; s++)
          *ad_adjp(L, i + k * m, s) += (g1[s] + g2[s]) * ad_get(L, j + k * m, s);
      }
}

static ad_val *b_multiply_lower_tri_self_transpose(ad_tape *t, ad_val **a, int nargs)
{
  UNUSED(nargs);
  ad_val *L = a[0];
  size_t m, n;
  ad_shape2(L, &m, &n);
  size_t nd = L->nd;
  ad_val *A = ad_new_mat(t, VT_MATRIX, m, m, nd, L->adj != NULL);
  if (!A) return NULL;
  memset(A->x, 0, m * m * nd * sizeof(double));
  for (size_t i = 0; i < m; i++)
    for (size_t j = 0; j <= i; j++) {
      double *y = A->x + (i + j * m) * nd;
      for (size_t k = 0; k <= j && k < n; k++) {
        const double *li = L->x + (i + k * m) * nd, *lj = L->x + (j + k * m) * nd;
        for (size_t s = 0; s < nd; s++) y[s] += li[s] * lj[s];
      }
      if (i != j) memcpy(A->x + (j + i * m) * nd, y, nd * sizeof(double));
    }
  ad_val *in[1] = {L};
  ad_node *node = ad_push(t, mlt_backward, A, 1, in);
  if (node) { node->iarg[0] = (long)m; node->iarg[1] = (long)n; }
  return A;
}

/* Cholesky factor, column by column with the draw axis innermost; lower triangle of A
 * read only.  Not positive definite: NaN (the draw is rejected downstream). */
static void chol_backward(ad_tape *t, ad_node *node)
{
  ad_val *A = node->in[0], *L = node->out;
  size_t K = (size_t)node->iarg[0], nd = L->nd;
  double *Ls = ad_alloc(t, nz1(K * K) * 2 * sizeof(double));
  if (!Ls) return;
  double *P = Ls + K * K;
  for (size_t s = 0; s < nd; s++) {
    for (size_t e = 0; e < K * K; e++) Ls[e] = L->x[e * nd + s];
    int bad = 0;
    for (size_t i = 0; i < K; i++) if (!(Ls[i + i * K] > 0)) bad = 1;
    if (bad) continue;
    /* P = Phi(L^T Lbar): lower triangle, diagonal halved (only lower Lbar counts). */
    for (size_t i = 0; i < K; i++)
      for (size_t j = 0; j < K; j++) {
        double acc = 0;
        if (j <= i)
          for (size_t k = i; k < K; k++)   /* (L^T)_ik = L_ki, Lbar_kj, k >= j, k >= i */
            acc += Ls[k + i * K] * L->adj[(k + j * K) * nd + s];
        P[i + j * K] = j < i ? acc : j == i ? 0.5 * acc : 0.0;
      }
    /* S = L^{-T} P L^{-1}: solve L^T X = P, then S L = X. */
    cblas_dtrsm(CblasColMajor, CblasLeft, CblasLower, CblasTrans, CblasNonUnit, (int)K,
                (int)K, 1.0, Ls, (int)K, P, (int)K);
    cblas_dtrsm(CblasColMajor, CblasRight, CblasLower, CblasNoTrans, CblasNonUnit, (int)K,
                (int)K, 1.0, Ls, (int)K, P, (int)K);
    for (size_t j = 0; j < K; j++)
      for (size_t i = j; i < K; i++) {
        double g = i == j ? P[i + i * K] : P[i + j * K] + P[j + i * K];
        *ad_adjp(A, i + j * K, s) += g;
      }
  }
}

static ad_val *b_cholesky_decompose(ad_tape *t, ad_val **a, int nargs)
{
  UNUSED(nargs);
  ad_val *A = a[0];
  size_t K;
  if (math_square_check(t, A, "cholesky_decompose", &K)) return NULL;
  size_t nd = A->nd;
  ad_val *L = ad_new_mat(t, VT_MATRIX, K, K, nd, A->adj != NULL);
  if (!L) return NULL;
  memset(L->x, 0, K * K * nd * sizeof(double));
  for (size_t j = 0; j < K; j++) {
    double *ljj = L->x + (j + j * K) * nd;
    for (size_t s = 0; s < nd; s++) ljj[s] = A->x[(j + j * K) * nd + s];
    for (size_t k = 0; k < j; k++) {
      const double *ljk = L->x + (j + k * K) * nd;
      for (size_t s = 0; s < nd; s++) ljj[s] -= ljk[s] * ljk[s];
    }
    for (size_t s = 0; s < nd; s++) ljj[s] = ljj[s] > 0 ? sqrt(ljj[s]) : NAN;
    for (size_t i = j + 1; i < K; i++) {
      double *lij = L->x + (i + j * K) * nd;
      for (size_t s = 0; s < nd; s++) lij[s] = A->x[(i + j * K) * nd + s];
      for (size_t k = 0; k < j; k++) {
        const double *lik = L->x + (i + k * K) * nd, *ljk = L->x + (j + k * K) * nd;
        for (size_t s = 0; s < nd; s++) lij[s] -= lik[s] * ljk[s];
      }
      for (size_t s = 0; s < nd; s++) lij[s] /= ljj[s];
    }
  }
  ad_val *in[1] = {A};
  ad_node *node = ad_push(t, chol_backward, L, 1, in);
  if (node) node->iarg[0] = (long)K;
  ad_mark_shared(L);
  return L;
}

/* QR decomposition (qr_thin_Q, qr_thin_R, qr_Q, qr_R) by Householder reflections, per
 * draw, normalised as Stan does: R has a non-negative diagonal (rows of R and columns of
 * Q flipped together).  which: 0 thin Q, 1 thin R, 2 full Q, 3 full R.
 *
 * Reverse mode for A with at least as many rows as columns (N >= K; for qr_Q, square),
 * where the QR with positive diagonal is unique and smooth (Walter & Lehmann,
 * "Algorithmic differentiation of linear algebra functions with application in optimum
 * experimental design", 2018; Liao et al., "Differentiable programming tensor networks",
 * 2019, eq. 7), with Q the thin N x K factor and R the K x K one:
 *   M = R R_bar' - Q_bar' Q,  A_bar = (Q_bar + Q copyltu(M)) R^-T,
 * copyltu(M) the symmetric matrix with M's lower triangle.  A wide A, and qr_Q of a
 * tall one (whose columns beyond K are not unique: they are what the reflections make
 * them), take the reverse of the reflections below. */
static void qr_backward(ad_tape *t, ad_node *node)
{
  UNUSED(t);
  ad_val *A = node->in[0], *o = node->out;
  if (!A->adj) return;
  size_t N = (size_t)node->iarg[0], K = (size_t)node->iarg[1], nd = o->nd;
  int which = (int)node->iarg[2], want_q = which == 0 || which == 2;
  size_t per = N * K + K * K;
  double *Mm = node->saved + nd * per, *B = Mm + K * K;
  for (size_t s = 0; s < nd; s++) {
    const double *Q = node->saved + s * per, *R = Q + N * K;
    if (isnan(R[0])) continue;
    /* Q_bar (into B) and M = R R_bar' - Q_bar' Q */
    for (size_t e = 0; e < N * K; e++) B[e] = want_q ? o->adj[e * nd + s] : 0.0;
    size_t rr = which == 1 ? K : N;           /* rows of the R output */
    for (size_t i = 0; i < K; i++)
      for (size_t j = 0; j < K; j++) {
        double acc = 0;
        if (want_q) {
          for (size_t r = 0; r < N; r++) acc -= B[r + i * N] * Q[r + j * N];
        } else {
          for (size_t c = i > j ? i : j; c < K; c++)   /* R and R_bar upper triangular */
            acc += R[i + c * K] * o->adj[(j + c * rr) * nd + s];
        }
        Mm[i + j * K] = acc;
      }
    /* B = Q_bar + Q copyltu(M) */
    for (size_t j = 0; j < K; j++)
      for (size_t r = 0; r < N; r++) {
        double acc = 0;
        for (size_t l = 0; l < K; l++) acc += Q[r + l * N] * (l >= j ? Mm[l + j * K] : Mm[j + l * K]);
        B[r + j * N] += acc;
      }
    /* A_bar = B R^-T */
    cblas_dtrsm(CblasColMajor, CblasRight, CblasUpper, CblasTrans, CblasNonUnit, (int)N,
                (int)K, 1.0, R, (int)K, B, (int)N);
    for (size_t e = 0; e < N * K; e++) *ad_adjp(A, e, s) += B[e];
  }
}

/* The reverse of the Householder QR itself, for the cases where the factors are not
 * those of the closed form above: a wide A (N < K), whose first N columns fix Q and R's
 * left block, the rest R's right block Q'A_2; and the full Q of a tall A, whose columns
 * beyond K span the complement of A's range in a way that only the reflections define.
 * Differentiating the algorithm (Walter & Lehmann 2018, sec. 3, "QR by Householder
 * reflections") gives the derivative of what the forward step returns, as Stan's
 * Eigen::HouseholderQR returns it (the same reflections: v = x - alpha e_1 with
 * alpha = -sign(x_1) ||x||, then the sign normalisation).  With R_0 = A,
 * R_{j+1} = H_j R_j (on columns >= j), H_j = I - beta_j v_j v_j', P = H_0 ... H_{m-1},
 * Q = P D and R = D R_m (D the signs), the adjoints are
 *   H_j_bar = (L_j' P_bar P' L_j) H_j + R_{j+1}_bar R_j',  L_j = H_0 ... H_{j-1},
 *   v_bar = -beta (H_bar + H_bar') v,  beta_bar = -v' H_bar v,
 * and back through v = x - alpha e_1, beta = 2 / v'v to the column x of R_j.  Per draw
 * O(m N^2 + m N K) with the R_j recomputed. */

/* One draw's reflections: Rs holds R_0 .. R_m (each N x K), Vs the m vectors v_j (N,
 * zero above row j), bt the beta_j, sg the signs of R's diagonal (m). */
static void qr_house_forward(const ad_val *A, size_t s, size_t N, size_t K, double *Rs,
                             double *Vs, double *bt, double *sg)
{
  size_t m = N < K ? N : K, NK = N * K;
  for (size_t e = 0; e < NK; e++) Rs[e] = ad_get(A, e, s);
  for (size_t j = 0; j < m; j++) {
    const double *R0 = Rs + j * NK;
    double *R1 = Rs + (j + 1) * NK, *v = Vs + j * N, nx = 0;
    memcpy(R1, R0, NK * sizeof *R1);
    for (size_t i = 0; i < N; i++) v[i] = i < j ? 0.0 : R0[i + j * N];
    for (size_t i = j; i < N; i++) nx += v[i] * v[i];
    nx = sqrt(nx);
    double alpha = v[j] > 0 ? -nx : nx, vn = 0;
    v[j] -= alpha;
    for (size_t i = j; i < N; i++) vn += v[i] * v[i];
    bt[j] = vn > 0 ? 2.0 / vn : 0.0;
    for (size_t c = j; c < K; c++) {
      double w = 0;
      for (size_t i = j; i < N; i++) w += v[i] * R0[i + c * N];
      w *= bt[j];
      for (size_t i = j; i < N; i++) R1[i + c * N] = R0[i + c * N] - w * v[i];
    }
  }
  for (size_t i = 0; i < m; i++) sg[i] = Rs[m * NK + i + i * N] < 0 ? -1.0 : 1.0;
}

/* S <- H S H for H = I - beta v v' (N x N, column-major), w: N scratch. */
static void qr_reflect_both(double *S, const double *v, double beta, size_t N, double *w)
{
  for (size_t c = 0; c < N; c++) {          /* S <- H S: column by column */
    double d = 0;
    for (size_t i = 0; i < N; i++) d += v[i] * S[i + c * N];
    d *= beta;
    for (size_t i = 0; i < N; i++) S[i + c * N] -= d * v[i];
  }
  for (size_t i = 0; i < N; i++) {           /* S <- S H: w = S v */
    double d = 0;
    for (size_t c = 0; c < N; c++) d += S[i + c * N] * v[c];
    w[i] = beta * d;
  }
  for (size_t c = 0; c < N; c++)
    for (size_t i = 0; i < N; i++) S[i + c * N] -= w[i] * v[c];
}

static void qr_house_backward(ad_tape *t, ad_node *node)
{
  ad_val *A = node->in[0], *o = node->out;
  if (!A->adj) return;
  size_t N = (size_t)node->iarg[0], K = (size_t)node->iarg[1], nd = o->nd;
  int which = (int)node->iarg[2], want_q = which == 0 || which == 2;
  size_t m = N < K ? N : K, NK = N * K, NN = N * N;
  size_t qc = which == 0 ? m : N, rr = which == 1 ? m : N;
  double *Rs = ad_alloc(t, ((m + 1) * NK + m * N + 2 * m + 3 * NN + NK + 4 * N + 1)
                               * sizeof(double));
  if (!Rs) return;
  double *Vs = Rs + (m + 1) * NK, *bt = Vs + m * N, *sg = bt + m, *P = sg + m, *S = P + NN;
  double *Pb = S + NN, *Rb = Pb + NN, *vb = Rb + NK, *w = vb + N, *y = w + N, *x = y + N;
  for (size_t s = 0; s < nd; s++) {
    qr_house_forward(A, s, N, K, Rs, Vs, bt, sg);
    int ok = 1;
    for (size_t e = 0; e < NK; e++) ok &= isfinite(Rs[e]) != 0;
    if (!ok) continue;
    /* the adjoints of P (N x N) and of R_m (N x K) */
    memset(Pb, 0, NN * sizeof *Pb);
    memset(Rb, 0, NK * sizeof *Rb);
    if (want_q) {
      for (size_t c = 0; c < qc; c++)
        for (size_t i = 0; i < N; i++)
          Pb[i + c * N] = (c < m ? sg[c] : 1.0) * o->adj[(i + c * N) * nd + s];
    } else {
      for (size_t c = 0; c < K; c++)
        for (size_t r = 0; r < rr && r <= c; r++)
          Rb[r + c * N] = sg[r] * o->adj[(r + c * rr) * nd + s];
    }
    /* S = P_bar P' (P = H_0 ... H_{m-1} applied to I) */
    if (want_q) {
      for (size_t e = 0; e < NN; e++) P[e] = 0;
      for (size_t i = 0; i < N; i++) P[i + i * N] = 1;
      for (size_t j = m; j-- > 0;) {
        const double *v = Vs + j * N;
        for (size_t c = 0; c < N; c++) {
          double d = 0;
          for (size_t i = j; i < N; i++) d += v[i] * P[i + c * N];
          d *= bt[j];
          for (size_t i = j; i < N; i++) P[i + c * N] -= d * v[i];
        }
      }
      for (size_t i = 0; i < N; i++)
        for (size_t k = 0; k < N; k++) {
          double d = 0;
          for (size_t c = 0; c < N; c++) d += Pb[i + c * N] * P[k + c * N];
          S[i + k * N] = d;
        }
    }
    /* the Q part of v_j's and beta_j's adjoints, forward in j (S_j = L_j' S L_j):
     * with H v = -v, v_bar = beta (S_j v - H_j S_j' v), beta_bar = v' S_j v; v_bar_j
     * kept in P (free now), beta_bar_j in y */
    double *vbq = P, *bbqs = y;
    for (size_t j = 0; j < m; j++) {
      const double *v = Vs + j * N;
      double *out = vbq + j * N, b = bt[j];
      if (!want_q || b == 0) {
        memset(out, 0, N * sizeof *out);
        bbqs[j] = 0;
        continue;
      }
      double vsv = 0;
      for (size_t i = 0; i < N; i++) {           /* x = S v, w = S' v */
        double d1 = 0, d2 = 0;
        for (size_t k = 0; k < N; k++) {
          d1 += S[i + k * N] * v[k];
          d2 += S[k + i * N] * v[k];
        }
        x[i] = d1;
        w[i] = d2;
        vsv += v[i] * d1;
      }
      double vw = 0;
      for (size_t i = 0; i < N; i++) vw += v[i] * w[i];
      for (size_t i = 0; i < N; i++) out[i] = b * (x[i] - (w[i] - b * v[i] * vw));
      bbqs[j] = vsv;
      qr_reflect_both(S, v, b, N, w);
    }
    /* backward in j: the R part, and on to x = column j of R_j */
    for (size_t j = m; j-- > 0;) {
      const double *v = Vs + j * N, *R0 = Rs + j * NK;
      double b = bt[j];
      if (b == 0) continue;   /* a zero column: H_j = I, no derivative through it */
      /* R part: H_bar = G R_j' over columns c >= j (G = R_{j+1}_bar):
       * (H_bar + H_bar') v = G (R_j' v) + R_j (G' v), v' H_bar v = (v'G)(R_j' v) */
      double vHv = 0;
      for (size_t i = 0; i < N; i++) vb[i] = 0;
      for (size_t c = j; c < K; c++) {
        double rv = 0, gv = 0;
        for (size_t i = j; i < N; i++) {
          rv += R0[i + c * N] * v[i];
          gv += Rb[i + c * N] * v[i];
        }
        for (size_t i = 0; i < N; i++) vb[i] += Rb[i + c * N] * rv + R0[i + c * N] * gv;
        vHv += gv * rv;
      }
      double bb = -vHv + bbqs[j], nx = 0;
      for (size_t i = 0; i < N; i++) vb[i] = -b * vb[i] + vbq[j * N + i];
      /* R_j_bar = H_j R_{j+1}_bar on columns >= j */
      for (size_t c = j; c < K; c++) {
        double d = 0;
        for (size_t i = j; i < N; i++) d += v[i] * Rb[i + c * N];
        d *= b;
        for (size_t i = j; i < N; i++) Rb[i + c * N] -= d * v[i];
      }
      /* beta = 2 / v'v; v = x - alpha e_j, alpha = -sign(x_j) ||x|| */
      for (size_t i = j; i < N; i++) vb[i] -= bb * b * b * v[i];
      for (size_t i = j; i < N; i++) nx += R0[i + j * N] * R0[i + j * N];
      nx = sqrt(nx);
      double sj = R0[j + j * N] > 0 ? 1.0 : -1.0;
      for (size_t i = j; i < N; i++)
        Rb[i + j * N] += vb[i] + (nx > 0 ? sj * vb[j] * R0[i + j * N] / nx : 0.0);
    }
    for (size_t e = 0; e < NK; e++) *ad_adjp(A, e, s) += Rb[e];
  }
}

static ad_val *qr_common(ad_tape *t, ad_val *A, int which)
{
  size_t N, K;
  ad_shape2(A, &N, &K);
  int grad = A->adj != NULL;
  /* the closed form for a tall or square A's thin factors; else the reflections' */
  int house = grad && (N < K || (which == 2 && N != K));
  size_t m = N < K ? N : K, nd = A->nd;
  size_t qc = which == 0 ? m : N;            /* columns of Q */
  size_t rr = which == 1 ? m : N;            /* rows of R */
  int want_q = which == 0 || which == 2;
  ad_val *out = want_q ? ad_new_mat(t, VT_MATRIX, N, qc, nd, grad)
                       : ad_new_mat(t, VT_MATRIX, rr, K, nd, grad);
  double *W = ad_alloc(t, (N * K + N * (qc > 0 ? qc : 1) + N * (m > 0 ? m : 1) + m + 1)
                              * sizeof(double));
  /* for the reverse step: per draw thin Q (N x K) and R (K x K), then M and B */
  size_t per = N * K + K * K;
  double *saved = grad && !house ? ad_alloc(t, (nd * per + K * K + N * K + 1) * sizeof(double)) : NULL;
  if (!out || !W || (grad && !house && !saved)) return NULL;
  double *R = W, *Q = R + N * K, *V = Q + N * (qc > 0 ? qc : 1), *beta = V + N * (m > 0 ? m : 1);
  for (size_t s = 0; s < nd; s++) {
    for (size_t e = 0; e < N * K; e++) R[e] = A->x[e * nd + s];
    for (size_t j = 0; j < m; j++) {
      double *v = V + j * N, nx = 0;
      for (size_t i = j; i < N; i++) { v[i] = R[i + j * N]; nx += v[i] * v[i]; }
      nx = sqrt(nx);
      double alpha = v[j] > 0 ? -nx : nx, vn = 0;
      v[j] -= alpha;
      for (size_t i = j; i < N; i++) vn += v[i] * v[i];
      beta[j] = vn > 0 ? 2.0 / vn : 0.0;
      for (size_t c = j; c < K; c++) {
        double w = 0;
        for (size_t i = j; i < N; i++) w += v[i] * R[i + c * N];
        w *= beta[j];
        for (size_t i = j; i < N; i++) R[i + c * N] -= w * v[i];
      }
    }
    /* Q = H_0 ... H_{m-1} applied to the first qc columns of the identity */
    if (want_q || (grad && !house)) {
      for (size_t c = 0; c < qc; c++)
        for (size_t i = 0; i < N; i++) Q[i + c * N] = i == c ? 1.0 : 0.0;
      for (size_t j = m; j-- > 0;) {
        const double *v = V + j * N;
        for (size_t c = 0; c < qc; c++) {
          double w = 0;
          for (size_t i = j; i < N; i++) w += v[i] * Q[i + c * N];
          w *= beta[j];
          for (size_t i = j; i < N; i++) Q[i + c * N] -= w * v[i];
        }
      }
    }
    for (size_t i = 0; i < m; i++)
      if (R[i + i * N] < 0) {
        for (size_t c = i; c < K; c++) R[i + c * N] = -R[i + c * N];
        if (want_q || (grad && !house)) for (size_t r = 0; r < N; r++) Q[r + i * N] = -Q[r + i * N];
      }
    if (grad && !house) {
      double *Qs = saved + s * per, *Rs = Qs + N * K;
      memcpy(Qs, Q, N * K * sizeof *Qs);      /* N >= K: the first K columns */
      for (size_t c = 0; c < K; c++)
        for (size_t r = 0; r < K; r++) Rs[r + c * K] = r <= c ? R[r + c * N] : 0.0;
      int ok = 1;
      for (size_t e = 0; e < N * K; e++) ok &= isfinite(A->x[e * nd + s]) != 0;
      for (size_t r = 0; r < K; r++) ok &= Rs[r + r * K] != 0;
      if (!ok) Rs[0] = NAN;                   /* singular: no gradient for this draw */
    }
    if (want_q) {
      for (size_t e = 0; e < N * qc; e++) out->x[e * nd + s] = Q[e];
    } else {
      for (size_t c = 0; c < K; c++)
        for (size_t r = 0; r < rr; r++)
          out->x[(r + c * rr) * nd + s] = r <= c ? R[r + c * N] : 0.0;
    }
  }
  if (grad && K > 0) {
    ad_val *in[1] = {A};
    ad_node *node = ad_push(t, house ? qr_house_backward : qr_backward, out, 1, in);
    if (node) {
      node->iarg[0] = (long)N;
      node->iarg[1] = (long)K;
      node->iarg[2] = which;
      node->saved = saved;
    }
  }
  return out;
}
static ad_val *b_qr_thin_Q(ad_tape *t, ad_val **a, int n) { UNUSED(n); return qr_common(t, a[0], 0); }
static ad_val *b_qr_thin_R(ad_tape *t, ad_val **a, int n) { UNUSED(n); return qr_common(t, a[0], 1); }
static ad_val *b_qr_Q(ad_tape *t, ad_val **a, int n) { UNUSED(n); return qr_common(t, a[0], 2); }
static ad_val *b_qr_R(ad_tape *t, ad_val **a, int n) { UNUSED(n); return qr_common(t, a[0], 3); }

/* mdivide_left_tri_low(L, B) = tril(L)^{-1} B by forward substitution; B a vector or
 * matrix.  Reverse: Bbar = L^{-T} Xbar, Lbar = -tril(Bbar X^T). */
static void mdl_tri_backward(ad_tape *t, ad_node *node)
{
  ad_val *L = node->in[0], *B = node->in[1], *X = node->out;
  size_t K = (size_t)node->iarg[0], C = (size_t)node->iarg[1], nd = X->nd;
  double *bb = ad_alloc(t, nz1(K) * nd * sizeof(double));
  if (!bb) return;
  for (size_t c = 0; c < C; c++) {
    /* back substitution: L^T bb = Xbar[:, c] */
    for (size_t i = K; i-- > 0;) {
      double *bi = bb + i * nd;
      const double *gx = X->adj + (i + c * K) * nd;
      for (size_t s = 0; s < nd; s++) bi[s] = gx[s];
      for (size_t k = i + 1; k < K; k++) {
        const double *bk = bb + k * nd;
        for (size_t s = 0; s < nd; s++) bi[s] -= ad_get(L, k + i * K, s) * bk[s];
      }
      for (size_t s = 0; s < nd; s++) bi[s] /= ad_get(L, i + i * K, s);
    }
    for (size_t i = 0; i < K; i++) {
      const double *bi = bb + i * nd;
      if (B->adj)
        for (size_t s = 0; s < nd; s++) *ad_adjp(B, i + c * K, s) += bi[s];
      if (L->adj)
        for (size_t k = 0; k <= i; k++)
          for (size_t s = 0; s < nd; s++)
            *ad_adjp(L, i + k * K, s) -= bi[s] * X->x[(k + c * K) * nd + s];
    }
  }
}

static ad_val *b_mdivide_left_tri_low(ad_tape *t, ad_val **a, int nargs)
{
  UNUSED(nargs);
  ad_val *L = a[0], *B = a[1];
  size_t K, r, C;
  if (math_square_check(t, L, "mdivide_left_tri_low", &K)) return NULL;
  ad_shape2(B, &r, &C);
  if (r != K) {
    ad_tape_set_error(t, "mdivide_left_tri_low: %zu x %zu matrix, right side with %zu rows",
                      K, K, r);
    return NULL;
  }
  size_t nd = ad_nd2(L, B);
  ad_val *X = ad_new_mat(t, B->type.base, K, C, nd, L->adj || B->adj);
  if (!X) return NULL;
  for (size_t c = 0; c < C; c++)
    for (size_t i = 0; i < K; i++) {
      double *xi = X->x + (i + c * K) * nd;
      for (size_t s = 0; s < nd; s++) xi[s] = ad_get(B, i + c * K, s);
      for (size_t k = 0; k < i; k++) {
        const double *xk = X->x + (k + c * K) * nd;
        for (size_t s = 0; s < nd; s++) xi[s] -= ad_get(L, i + k * K, s) * xk[s];
      }
      for (size_t s = 0; s < nd; s++) xi[s] /= ad_get(L, i + i * K, s);
    }
  ad_val *in[2] = {L, B};
  ad_node *node = ad_push(t, mdl_tri_backward, X, 2, in);
  if (node) { node->iarg[0] = (long)K; node->iarg[1] = (long)C; }
  ad_mark_shared(X);
  return X;
}

/* mdivide_right_tri_low(B, L) = B tril(L)^{-1} = (tril(L)^{-T} B^T)^T: through the
 * transposes, with L^T upper triangular solved by back substitution. */
static void mdr_tri_backward(ad_tape *t, ad_node *node)
{
  ad_val *B = node->in[0], *L = node->in[1], *X = node->out;
  size_t R = (size_t)node->iarg[0], K = (size_t)node->iarg[1], nd = X->nd;
  double *bb = ad_alloc(t, nz1(K) * nd * sizeof(double));
  if (!bb) return;
  /* Row r: x L = b.  Bbar_r L^T = Xbar_r  ->  L Bbar_r^T = Xbar_r^T: forward subst. */
  for (size_t r = 0; r < R; r++) {
    for (size_t i = 0; i < K; i++) {
      double *bi = bb + i * nd;
      const double *gx = X->adj + (r + i * R) * nd;
      for (size_t s = 0; s < nd; s++) bi[s] = gx[s];
      for (size_t k = 0; k < i; k++) {
        const double *bk = bb + k * nd;
        for (size_t s = 0; s < nd; s++) bi[s] -= ad_get(L, i + k * K, s) * bk[s];
      }
      for (size_t s = 0; s < nd; s++) bi[s] /= ad_get(L, i + i * K, s);
    }
    for (size_t j = 0; j < K; j++) {
      const double *bj = bb + j * nd;
      if (B->adj)
        for (size_t s = 0; s < nd; s++) *ad_adjp(B, r + j * R, s) += bj[s];
      /* Lbar = -X^T Bbar: Lbar_kj -= x_k bbar_j for k >= j */
      if (L->adj)
        for (size_t k = j; k < K; k++)
          for (size_t s = 0; s < nd; s++)
            *ad_adjp(L, k + j * K, s) -= X->x[(r + k * R) * nd + s] * bj[s];
    }
  }
}

static ad_val *b_mdivide_right_tri_low(ad_tape *t, ad_val **a, int nargs)
{
  UNUSED(nargs);
  ad_val *B = a[0], *L = a[1];
  size_t K, R, c;
  if (math_square_check(t, L, "mdivide_right_tri_low", &K)) return NULL;
  ad_shape2(B, &R, &c);
  if (c != K) {
    ad_tape_set_error(t, "mdivide_right_tri_low: left side with %zu columns, %zu x %zu matrix",
                      c, K, K);
    return NULL;
  }
  size_t nd = ad_nd2(L, B);
  ad_val *X = ad_new_mat(t, B->type.base, R, K, nd, L->adj || B->adj);
  if (!X) return NULL;
  /* x L = b: x_j = (b_j - sum_{k > j} x_k L_kj) / L_jj, j from the last. */
  for (size_t r = 0; r < R; r++)
    for (size_t j = K; j-- > 0;) {
      double *xj = X->x + (r + j * R) * nd;
      for (size_t s = 0; s < nd; s++) xj[s] = ad_get(B, r + j * R, s);
      for (size_t k = j + 1; k < K; k++) {
        const double *xk = X->x + (r + k * R) * nd;
        for (size_t s = 0; s < nd; s++) xj[s] -= xk[s] * ad_get(L, k + j * K, s);
      }
      for (size_t s = 0; s < nd; s++) xj[s] /= ad_get(L, j + j * K, s);
    }
  ad_val *in[2] = {B, L};
  ad_node *node = ad_push(t, mdr_tri_backward, X, 2, in);
  if (node) { node->iarg[0] = (long)R; node->iarg[1] = (long)K; }
  ad_mark_shared(X);
  return X;
}

static ad_val *b_inverse(ad_tape *t, ad_val **a, int nargs)
{
  UNUSED(nargs);
  return ad_inverse(t, a[0]);
}

/* mdivide_left(A, B) = A \ B, mdivide_right(B, A) = B / A (and the _spd forms). */
static ad_val *b_mdivide_left(ad_tape *t, ad_val **a, int n)
{
  UNUSED(n);
  return ad_binary(t, OP_LDIV, a[0], a[1]);
}
static ad_val *b_mdivide_right(ad_tape *t, ad_val **a, int n)
{
  UNUSED(n);
  return ad_binary(t, OP_DIV, a[0], a[1]);
}

/* log_determinant / determinant: d log|det A| / dA = A^{-T}. */
static void logdet_backward(ad_tape *t, ad_node *node)
{
  UNUSED(t);
  ad_val *A = node->in[0], *y = node->out;
  size_t K = (size_t)node->iarg[0], nd = y->nd;
  int isdet = (int)node->iarg[1];
  const double *inv = node->saved;
  for (size_t i = 0; i < K; i++)
    for (size_t j = 0; j < K; j++)
      for (size_t s = 0; s < nd; s++) {
        double g = y->adj[s] * (isdet ? y->x[s] : 1.0);
        *ad_adjp(A, i + j * K, s) += g * inv[(j + i * K) * nd + s];
      }
}

static ad_val *logdet_common(ad_tape *t, ad_val *A, int isdet)
{
  size_t K;
  if (math_square_check(t, A, isdet ? "determinant" : "log_determinant", &K)) return NULL;
  size_t nd = A->nd;
  ad_val *y = ad_new_nd(t, ty_of(VT_REAL, 0), 0, NULL, nd, A->adj != NULL);
  double *inv = ad_alloc(t, nz1(K * K) * nd * sizeof(double));
  double *lad = ad_alloc(t, 2 * nd * sizeof(double));
  if (!y || !inv || !lad || ad_inverse_draws(t, A, K, inv, lad, lad + nd)) return NULL;
  for (size_t s = 0; s < nd; s++)
    y->x[s] = isdet ? lad[nd + s] * exp(lad[s]) : lad[s];
  ad_val *in[1] = {A};
  ad_node *node = ad_push(t, logdet_backward, y, 1, in);
  if (node) { node->iarg[0] = (long)K; node->iarg[1] = isdet; node->saved = inv; }
  return y;
}
static ad_val *b_log_determinant(ad_tape *t, ad_val **a, int n) { UNUSED(n); return logdet_common(t, a[0], 0); }
static ad_val *b_determinant(ad_tape *t, ad_val **a, int n) { UNUSED(n); return logdet_common(t, a[0], 1); }

/* Compositions. */
static ad_val *b_crossprod(ad_tape *t, ad_val **a, int n)
{
  UNUSED(n);
  ad_val *tr = ad_unary(t, OP_TRANSPOSE, a[0]);
  return tr ? ad_binary(t, OP_MUL, tr, a[0]) : NULL;
}
static ad_val *b_tcrossprod(ad_tape *t, ad_val **a, int n)
{
  UNUSED(n);
  ad_val *tr = ad_unary(t, OP_TRANSPOSE, a[0]);
  return tr ? ad_binary(t, OP_MUL, a[0], tr) : NULL;
}
/* quad_form(A, B) = B' A B; quad_form_sym the same (A symmetric). */
ad_val *math_quad_form(ad_tape *t, ad_val **a, int n)
{
  UNUSED(n);
  ad_val *bt = ad_unary(t, OP_TRANSPOSE, a[1]);
  ad_val *ab = ad_binary(t, OP_MUL, a[0], a[1]);
  return bt && ab ? ad_binary(t, OP_MUL, bt, ab) : NULL;
}
/* quad_form_diag(M, v) = diag(v) M diag(v). */
static ad_val *b_quad_form_diag(ad_tape *t, ad_val **a, int n)
{
  UNUSED(n);
  ad_val *m = math_group_scale(t, a[1], a[0], 1, "quad_form_diag");
  return m ? math_group_scale(t, a[1], m, 0, "quad_form_diag") : NULL;
}
ad_val *math_trace(ad_tape *t, ad_val **a, int n)
{
  ad_val *d = math_diagonal(t, a, n);
  return d ? ad_sum_all(t, d) : NULL;
}
static ad_val *b_squared_distance(ad_tape *t, ad_val **a, int n)
{
  UNUSED(n);
  if (a[0]->len != a[1]->len) {
    ad_tape_set_error(t, "squared_distance: size mismatch (%zu and %zu)", a[0]->len, a[1]->len);
    return NULL;
  }
  ad_val *b = a[1];
  if (b->type.base != a[0]->type.base) {
    b = math_retype(t, b, a[0]->type, a[0]->ndims, a[0]->dims);
    if (!b) return NULL;
  }
  ad_val *d = ad_map2(t, a[0], b, f_sub, d_sub, 0);
  return d ? math_grouped_dot(t, d, d, VT_REAL, 1, 1, 1, "squared_distance") : NULL;
}
static ad_val *b_distance(ad_tape *t, ad_val **a, int n)
{
  ad_val *d = b_squared_distance(t, a, n);
  return d ? ad_map1(t, d, sqrt, d_sqrt, 0) : NULL;
}
static ad_val *b_norm2(ad_tape *t, ad_val **a, int n)
{
  UNUSED(n);
  ad_val *d = math_grouped_dot(t, a[0], a[0], VT_REAL, 1, 1, 1, "norm2");
  return d ? ad_map1(t, d, sqrt, d_sqrt, 0) : NULL;
}
static ad_val *b_norm1(ad_tape *t, ad_val **a, int n)
{
  UNUSED(n);
  ad_val *d = ad_map1(t, a[0], fabs, d_fabs, 0);
  return d ? ad_sum_all(t, d) : NULL;
}
/* log_mix(vector theta, vector lp) = log_sum_exp(log(theta) + lp). */
static ad_val *b_log_mix_vec(ad_tape *t, ad_val **a, int n)
{
  UNUSED(n);
  if (a[0]->len != a[1]->len) {
    ad_tape_set_error(t, "log_mix: %zu mixing proportions, %zu densities", a[0]->len,
                      a[1]->len);
    return NULL;
  }
  ad_val *lt = ad_map1(t, a[0], log, d_log, 0);
  ad_val *s = lt ? ad_map2(t, lt, a[1], f_add, d_add, 0) : NULL;
  return s ? math_log_sum_exp(t, &s, 1) : NULL;
}

/* gp_exp_quad_cov(x, sigma, l) (cov_exp_quad): K_ij = sigma^2 exp(-|x_i - x_j|^2 / (2 l^2)),
 * x a real[] or an array of vectors. */
static void sqdist_backward(ad_tape *t, ad_node *node)
{
  UNUSED(t);
  ad_val *x = node->in[0], *D = node->out;
  size_t N = (size_t)node->iarg[0], d = (size_t)node->iarg[1], nd = D->nd;
  for (size_t i = 0; i < N; i++)
    for (size_t j = 0; j < N; j++) {
      const double *g = D->adj + (i + j * N) * nd;
      for (size_t k = 0; k < d; k++)
        for (size_t s = 0; s < nd; s++) {
          double diff = ad_get(x, i * d + k, s) - ad_get(x, j * d + k, s);
          *ad_adjp(x, i * d + k, s) += 2 * g[s] * diff;
          *ad_adjp(x, j * d + k, s) -= 2 * g[s] * diff;
        }
    }
}

static ad_val *sq_dists(ad_tape *t, ad_val *x)
{
  size_t N = x->ndims ? x->dims[0] : 1, d = N ? x->len / N : 1, nd = x->nd;
  ad_val *D = ad_new_mat(t, VT_MATRIX, N, N, nd, x->adj != NULL);
  if (!D) return NULL;
  for (size_t i = 0; i < N; i++)
    for (size_t j = 0; j < N; j++)
      for (size_t s = 0; s < nd; s++) {
        double acc = 0;
        for (size_t k = 0; k < d; k++) {
          double diff = ad_get(x, i * d + k, s) - ad_get(x, j * d + k, s);
          acc += diff * diff;
        }
        D->x[(i + j * N) * nd + s] = acc;
      }
  ad_val *in[1] = {x};
  ad_node *node = ad_push(t, sqdist_backward, D, 1, in);
  if (node) { node->iarg[0] = (long)N; node->iarg[1] = (long)d; }
  return D;
}

static ad_val *b_gp_exp_quad_cov(ad_tape *t, ad_val **a, int n)
{
  UNUSED(n);
  ad_val *x = a[0];
  if (x->type.base == VT_INT) x = ad_to_real(t, x);
  if (!x) return NULL;
  ad_val *D = sq_dists(t, x);
  ad_val *l2 = ad_map1(t, a[2], f_square, d_square, 0);
  ad_val *m2 = ad_scalar(t, -2.0, 0);
  ad_val *den = l2 && m2 ? ad_binary(t, OP_MUL, m2, l2) : NULL;
  ad_val *q = D && den ? ad_binary(t, OP_DIV, D, den) : NULL;
  ad_val *e = q ? ad_map1(t, q, exp, d_exp, 0) : NULL;
  ad_val *s2 = ad_map1(t, a[1], f_square, d_square, 0);
  return e && s2 ? ad_binary(t, OP_MUL, s2, e) : NULL;
}

/* The cross-covariance forms gp_*_cov(x1, x2, sigma, l) (an N1 x N2 matrix, the
 * prediction step of GP models) and the Matern / exponential kernels share the squared
 * distances D_ij = |x1_i - x2_j|^2. */
static void sqdist2_backward(ad_tape *t, ad_node *node)
{
  UNUSED(t);
  ad_val *x1 = node->in[0], *x2 = node->in[1], *D = node->out;
  size_t N1 = (size_t)node->iarg[0], N2 = (size_t)node->iarg[1], d = (size_t)node->iarg[2];
  size_t nd = D->nd;
  for (size_t i = 0; i < N1; i++)
    for (size_t j = 0; j < N2; j++) {
      const double *g = D->adj + (i + j * N1) * nd;
      for (size_t k = 0; k < d; k++)
        for (size_t s = 0; s < nd; s++) {
          double diff = ad_get(x1, i * d + k, s) - ad_get(x2, j * d + k, s);
          if (x1->adj) *ad_adjp(x1, i * d + k, s) += 2 * g[s] * diff;
          if (x2->adj) *ad_adjp(x2, j * d + k, s) -= 2 * g[s] * diff;
        }
    }
}

static ad_val *sq_dists2(ad_tape *t, ad_val *x1, ad_val *x2)
{
  size_t N1 = x1->ndims ? x1->dims[0] : 1, d = N1 ? x1->len / N1 : 1;
  size_t N2 = x2->ndims ? x2->dims[0] : 1, d2 = N2 ? x2->len / N2 : 1;
  if (N1 && N2 && d != d2) {
    ad_tape_set_error(t, "covariance function: points of dimension %zu and %zu", d, d2);
    return NULL;
  }
  size_t nd = ad_nd2(x1, x2);
  ad_val *in[2] = {x1, x2};
  ad_val *D = ad_new_mat(t, VT_MATRIX, N1, N2, nd, ad_wants_adj(t, in, 2));
  if (!D) return NULL;
  for (size_t i = 0; i < N1; i++)
    for (size_t j = 0; j < N2; j++)
      for (size_t s = 0; s < nd; s++) {
        double acc = 0;
        for (size_t k = 0; k < d; k++) {
          double diff = ad_get(x1, i * d + k, s) - ad_get(x2, j * d + k, s);
          acc += diff * diff;
        }
        D->x[(i + j * N1) * nd + s] = acc;
      }
  ad_node *node = ad_push(t, sqdist2_backward, D, 2, in);
  if (node) { node->iarg[0] = (long)N1; node->iarg[1] = (long)N2; node->iarg[2] = (long)d; }
  return D;
}

/* sqrt with derivative 0 at 0: distances on the diagonal, where the Matern kernels are
 * flat (the exponential kernel's kink gets the subgradient 0). */
static double d_sqrt0(double x, double y) { return x > 0 ? 0.5 / y : 0.0; }

enum { GP_EXP_QUAD, GP_EXPONENTIAL, GP_MATERN32, GP_MATERN52 };

static ad_val *gp_kernel(ad_tape *t, ad_val *x1, ad_val *x2, ad_val *sigma, ad_val *l,
                         int kind)
{
  if (x1->type.base == VT_INT && !(x1 = ad_to_real(t, x1))) return NULL;
  if (x2 && x2->type.base == VT_INT && !(x2 = ad_to_real(t, x2))) return NULL;
  ad_val *D = x2 ? sq_dists2(t, x1, x2) : sq_dists(t, x1);
  ad_val *s2 = ad_map1(t, sigma, f_square, d_square, 0), *k = NULL;
  if (!D || !s2) return NULL;
  if (kind == GP_EXP_QUAD) {
    ad_val *l2 = ad_map1(t, l, f_square, d_square, 0);
    ad_val *m2 = ad_scalar(t, -2.0, 0);
    ad_val *den = l2 && m2 ? ad_binary(t, OP_MUL, m2, l2) : NULL;
    ad_val *q = den ? ad_binary(t, OP_DIV, D, den) : NULL;
    k = q ? ad_map1(t, q, exp, d_exp, 0) : NULL;
  } else {
    ad_val *dist = ad_map1(t, D, sqrt, d_sqrt0, 0);
    ad_val *r = dist ? ad_binary(t, OP_DIV, dist, l) : NULL;   /* d / l */
    if (!r) return NULL;
    double c = kind == GP_EXPONENTIAL ? 1.0 : kind == GP_MATERN32 ? sqrt(3.0) : sqrt(5.0);
    ad_val *cr = ad_binary(t, OP_MUL, ad_scalar(t, c, 0), r);
    ad_val *ncr = cr ? ad_unary(t, OP_NEG, cr) : NULL;
    ad_val *e = ncr ? ad_map1(t, ncr, exp, d_exp, 0) : NULL;
    if (!e) return NULL;
    if (kind == GP_EXPONENTIAL) {
      k = e;
    } else {
      ad_val *poly = ad_binary(t, OP_ADD, ad_scalar(t, 1.0, 0), cr);
      if (poly && kind == GP_MATERN52) {
        ad_val *r2 = ad_map1(t, r, f_square, d_square, 0);
        ad_val *t2 = r2 ? ad_binary(t, OP_MUL, ad_scalar(t, 5.0 / 3.0, 0), r2) : NULL;
        poly = t2 ? ad_binary(t, OP_ADD, poly, t2) : NULL;
      }
      k = poly ? ad_binary(t, OP_EMUL, poly, e) : NULL;
    }
  }
  return k ? ad_binary(t, OP_MUL, s2, k) : NULL;
}

static ad_val *b_gp_exp_quad_cov2(ad_tape *t, ad_val **a, int n)
{ UNUSED(n); return gp_kernel(t, a[0], a[1], a[2], a[3], GP_EXP_QUAD); }
static ad_val *b_gp_exponential_cov(ad_tape *t, ad_val **a, int n)
{ UNUSED(n); return gp_kernel(t, a[0], NULL, a[1], a[2], GP_EXPONENTIAL); }
static ad_val *b_gp_exponential_cov2(ad_tape *t, ad_val **a, int n)
{ UNUSED(n); return gp_kernel(t, a[0], a[1], a[2], a[3], GP_EXPONENTIAL); }
static ad_val *b_gp_matern32_cov(ad_tape *t, ad_val **a, int n)
{ UNUSED(n); return gp_kernel(t, a[0], NULL, a[1], a[2], GP_MATERN32); }
static ad_val *b_gp_matern32_cov2(ad_tape *t, ad_val **a, int n)
{ UNUSED(n); return gp_kernel(t, a[0], a[1], a[2], a[3], GP_MATERN32); }
static ad_val *b_gp_matern52_cov(ad_tape *t, ad_val **a, int n)
{ UNUSED(n); return gp_kernel(t, a[0], NULL, a[1], a[2], GP_MATERN52); }
static ad_val *b_gp_matern52_cov2(ad_tape *t, ad_val **a, int n)
{ UNUSED(n); return gp_kernel(t, a[0], a[1], a[2], a[3], GP_MATERN52); }

/* ARD (one length scale per input dimension): the kernels of points x[i] ./ l with
 * length scale 1.  x an array of N vectors of size d, l a real[d]. */
static void ard_backward(ad_tape *t, ad_node *node)
{
  UNUSED(t);
  ad_val *x = node->in[0], *l = node->in[1], *o = node->out;
  size_t N = (size_t)node->iarg[0], d = (size_t)node->iarg[1];
  for (size_t i = 0; i < N; i++)
    for (size_t k = 0; k < d; k++)
      for (size_t s = 0; s < o->nd; s++) {
        double g = o->adj[(i * d + k) * o->nd + s], lk = ad_get(l, k, s);
        if (x->adj) *ad_adjp(x, i * d + k, s) += g / lk;
        if (l->adj) *ad_adjp(l, k, s) -= g * ad_get(x, i * d + k, s) / (lk * lk);
      }
}

static ad_val *ard_scale(ad_tape *t, ad_val *x, ad_val *l)
{
  size_t N = x->ndims ? x->dims[0] : 1, d = N ? x->len / N : 1;
  if (l->len != d) {
    ad_tape_set_error(t, "%zu length scales for points of dimension %zu", l->len, d);
    return NULL;
  }
  ad_val *in[2] = {x, l};
  size_t nd = ad_nd2(x, l);
  ad_val *o = ad_new(t, x->type, x->ndims, x->dims, nd > 1, ad_wants_adj(t, in, 2));
  if (!o) return NULL;
  for (size_t i = 0; i < N; i++)
    for (size_t k = 0; k < d; k++)
      for (size_t s = 0; s < nd; s++)
        o->x[(i * d + k) * nd + s] = ad_get(x, i * d + k, s) / ad_get(l, k, s);
  ad_node *node = ad_push(t, ard_backward, o, 2, in);
  if (node) { node->iarg[0] = (long)N; node->iarg[1] = (long)d; }
  return o;
}

static ad_val *gp_ard(ad_tape *t, ad_val *x1, ad_val *x2, ad_val *sigma, ad_val *l, int kind)
{
  ad_val *one = ad_scalar(t, 1.0, 0), *s1 = ard_scale(t, x1, l), *s2 = NULL;
  if (!one || !s1 || (x2 && !(s2 = ard_scale(t, x2, l)))) return NULL;
  return gp_kernel(t, s1, s2, sigma, one, kind);
}

static ad_val *b_gp_exp_quad_ard(ad_tape *t, ad_val **a, int n)
{ UNUSED(n); return gp_ard(t, a[0], NULL, a[1], a[2], GP_EXP_QUAD); }
static ad_val *b_gp_exp_quad_ard2(ad_tape *t, ad_val **a, int n)
{ UNUSED(n); return gp_ard(t, a[0], a[1], a[2], a[3], GP_EXP_QUAD); }
static ad_val *b_gp_exponential_ard(ad_tape *t, ad_val **a, int n)
{ UNUSED(n); return gp_ard(t, a[0], NULL, a[1], a[2], GP_EXPONENTIAL); }
static ad_val *b_gp_exponential_ard2(ad_tape *t, ad_val **a, int n)
{ UNUSED(n); return gp_ard(t, a[0], a[1], a[2], a[3], GP_EXPONENTIAL); }
static ad_val *b_gp_matern32_ard(ad_tape *t, ad_val **a, int n)
{ UNUSED(n); return gp_ard(t, a[0], NULL, a[1], a[2], GP_MATERN32); }
static ad_val *b_gp_matern32_ard2(ad_tape *t, ad_val **a, int n)
{ UNUSED(n); return gp_ard(t, a[0], a[1], a[2], a[3], GP_MATERN32); }
static ad_val *b_gp_matern52_ard(ad_tape *t, ad_val **a, int n)
{ UNUSED(n); return gp_ard(t, a[0], NULL, a[1], a[2], GP_MATERN52); }
static ad_val *b_gp_matern52_ard2(ad_tape *t, ad_val **a, int n)
{ UNUSED(n); return gp_ard(t, a[0], a[1], a[2], a[3], GP_MATERN52); }

/* gp_periodic_cov(x, sigma, l, p): sigma^2 exp(-2 sin^2(pi |x_i - x_j| / p) / l^2). */
static ad_val *gp_periodic(ad_tape *t, ad_val *x1, ad_val *x2, ad_val *sigma, ad_val *l,
                           ad_val *p)
{
  if (x1->type.base == VT_INT && !(x1 = ad_to_real(t, x1))) return NULL;
  if (x2 && x2->type.base == VT_INT && !(x2 = ad_to_real(t, x2))) return NULL;
  ad_val *D = x2 ? sq_dists2(t, x1, x2) : sq_dists(t, x1);
  ad_val *dist = D ? ad_map1(t, D, sqrt, d_sqrt0, 0) : NULL;
  ad_val *pi_p = ad_binary(t, OP_DIV, ad_scalar(t, M_PI, 0), p);
  ad_val *arg = dist && pi_p ? ad_binary(t, OP_MUL, pi_p, dist) : NULL;
  ad_val *sn = arg ? ad_map1(t, arg, sin, d_sin, 0) : NULL;
  ad_val *sn2 = sn ? ad_map1(t, sn, f_square, d_square, 0) : NULL;
  ad_val *l2 = ad_map1(t, l, f_square, d_square, 0);
  ad_val *c = l2 ? ad_binary(t, OP_DIV, ad_scalar(t, -2.0, 0), l2) : NULL;
  ad_val *q = sn2 && c ? ad_binary(t, OP_MUL, c, sn2) : NULL;
  ad_val *e = q ? ad_map1(t, q, exp, d_exp, 0) : NULL;
  ad_val *s2 = ad_map1(t, sigma, f_square, d_square, 0);
  return e && s2 ? ad_binary(t, OP_MUL, s2, e) : NULL;
}

static ad_val *b_gp_periodic_cov(ad_tape *t, ad_val **a, int n)
{ UNUSED(n); return gp_periodic(t, a[0], NULL, a[1], a[2], a[3]); }
static ad_val *b_gp_periodic_cov2(ad_tape *t, ad_val **a, int n)
{ UNUSED(n); return gp_periodic(t, a[0], a[1], a[2], a[3], a[4]); }

/* gp_dot_prod_cov(x1[, x2], sigma): sigma^2 + x1_i . x2_j (the linear kernel). */
static void dot_gram_backward(ad_tape *t, ad_node *node)
{
  UNUSED(t);
  ad_val *x1 = node->in[0], *x2 = node->in[1], *K = node->out;
  size_t N1 = (size_t)node->iarg[0], N2 = (size_t)node->iarg[1], d = (size_t)node->iarg[2];
  for (size_t i = 0; i < N1; i++)
    for (size_t j = 0; j < N2; j++)
      for (size_t s = 0; s < K->nd; s++) {
        double g = K->adj[(i + j * N1) * K->nd + s];
        for (size_t k = 0; k < d; k++) {
          if (x1->adj) *ad_adjp(x1, i * d + k, s) += g * ad_get(x2, j * d + k, s);
          if (x2->adj) *ad_adjp(x2, j * d + k, s) += g * ad_get(x1, i * d + k, s);
        }
      }
}

static ad_val *gp_dot_prod(ad_tape *t, ad_val *x1, ad_val *x2, ad_val *sigma)
{
  if (x1->type.base == VT_INT && !(x1 = ad_to_real(t, x1))) return NULL;
  if (!x2) x2 = x1;
  else if (x2->type.base == VT_INT && !(x2 = ad_to_real(t, x2))) return NULL;
  size_t N1 = x1->ndims ? x1->dims[0] : 1, d = N1 ? x1->len / N1 : 1;
  size_t N2 = x2->ndims ? x2->dims[0] : 1, d2 = N2 ? x2->len / N2 : 1;
  if (N1 && N2 && d != d2) {
    ad_tape_set_error(t, "covariance function: points of dimension %zu and %zu", d, d2);
    return NULL;
  }
  ad_val *in[2] = {x1, x2};
  size_t nd = ad_nd2(x1, x2);
  ad_val *K = ad_new_mat(t, VT_MATRIX, N1, N2, nd, ad_wants_adj(t, in, 2));
  if (!K) return NULL;
  for (size_t i = 0; i < N1; i++)
    for (size_t j = 0; j < N2; j++)
      for (size_t s = 0; s < nd; s++) {
        double acc = 0;
        for (size_t k = 0; k < d; k++) acc += ad_get(x1, i * d + k, s) * ad_get(x2, j * d + k, s);
        K->x[(i + j * N1) * nd + s] = acc;
      }
  ad_node *node = ad_push(t, dot_gram_backward, K, 2, in);   /* x1 == x2 adds twice */
  if (node) { node->iarg[0] = (long)N1; node->iarg[1] = (long)N2; node->iarg[2] = (long)d; }
  ad_val *s2 = ad_map1(t, sigma, f_square, d_square, 0);
  return s2 ? ad_binary(t, OP_ADD, s2, K) : NULL;
}

static ad_val *b_gp_dot_prod_cov(ad_tape *t, ad_val **a, int n)
{ UNUSED(n); return gp_dot_prod(t, a[0], NULL, a[1]); }
static ad_val *b_gp_dot_prod_cov2(ad_tape *t, ad_val **a, int n)
{ UNUSED(n); return gp_dot_prod(t, a[0], a[1], a[2]); }

/* transpose(m): the ' operator as a function (older Stan models call it). */
static ad_val *b_transpose(ad_tape *t, ad_val **a, int n)
{ UNUSED(n); return ad_unary(t, OP_TRANSPOSE, a[0]); }

/* ---- more special functions ----------------------------------------------------- */

static double f_lmultiply(double a, double b) { return a == 0 && b == 0 ? 0.0 : a * log(b); }
static void d_lmultiply(double a, double b, double y, double *da, double *db)
{
  UNUSED(y);
  *da = a == 0 && b == 0 ? 0.0 : log(b);
  *db = a == 0 ? 0.0 : a / b;
}
static double f_binary_log_loss(double y, double p) { return y != 0 ? -log(p) : -log1p(-p); }
static void d_binary_log_loss(double y, double p, double v, double *da, double *db)
{
  UNUSED(v);
  *da = 0.0;
  *db = y != 0 ? -1.0 / p : 1.0 / (1.0 - p);
}
static double f_log_inv_logit_diff(double x, double y)
{
  if (!(x > y)) return x == y ? -INFINITY : NAN;
  return x - log1p_exp(x) + log1m_exp(y - x) - log1p_exp(y);
}
static void d_log_inv_logit_diff(double x, double y, double v, double *da, double *db)
{
  UNUSED(v);
  double e = expm1(x - y);
  *da = 1.0 - inv_logit(x) + 1.0 / e;
  *db = -1.0 / e - inv_logit(y);
}
static double f_log_falling_factorial(double x, double n)
{
  return f_lgamma(x + 1) - f_lgamma(x - n + 1);
}
static void d_log_falling_factorial(double x, double n, double y, double *da, double *db)
{
  UNUSED(y);
  double p = gsl_sf_psi(x - n + 1);
  *da = gsl_sf_psi(x + 1) - p; *db = p;
}
static double f_log_rising_factorial(double x, double n) { return f_lgamma(x + n) - f_lgamma(x); }
static void d_log_rising_factorial(double x, double n, double y, double *da, double *db)
{
  UNUSED(y);
  double p = gsl_sf_psi(x + n);
  *da = p - gsl_sf_psi(x); *db = p;
}
static double f_falling_factorial(double x, double n) { return exp(f_log_falling_factorial(x, n)); }
static void d_falling_factorial(double x, double n, double y, double *da, double *db)
{
  d_log_falling_factorial(x, n, y, da, db);
  *da *= y; *db = 0.0;
}
static double f_rising_factorial(double x, double n) { return exp(f_log_rising_factorial(x, n)); }
static void d_rising_factorial(double x, double n, double y, double *da, double *db)
{
  d_log_rising_factorial(x, n, y, da, db);
  *da *= y; *db = 0.0;
}
/* lmgamma(k, x) = k (k - 1) / 4 log(pi) + sum_{j=1..k} lgamma(x + (1 - j) / 2) */
static double f_lmgamma(double k, double x)
{
  double r = k * (k - 1) / 4.0 * log(M_PI);
  for (long j = 1; j <= (long)k; j++) r += f_lgamma(x + (1.0 - (double)j) / 2.0);
  return r;
}
static void d_lmgamma(double k, double x, double y, double *da, double *db)
{
  UNUSED(y);
  double r = 0;
  for (long j = 1; j <= (long)k; j++) r += gsl_sf_psi(x + (1.0 - (double)j) / 2.0);
  *da = 0.0; *db = r;
}

AD_BINARY_BUILTIN(lmultiply, f_lmultiply, d_lmultiply)
AD_BINARY_BUILTIN(binary_log_loss, f_binary_log_loss, d_binary_log_loss)
AD_BINARY_BUILTIN(log_inv_logit_diff, f_log_inv_logit_diff, d_log_inv_logit_diff)
AD_BINARY_BUILTIN(log_falling_factorial, f_log_falling_factorial, d_log_falling_factorial)
AD_BINARY_BUILTIN(log_rising_factorial, f_log_rising_factorial, d_log_rising_factorial)
AD_BINARY_BUILTIN(falling_factorial, f_falling_factorial, d_falling_factorial)
AD_BINARY_BUILTIN(rising_factorial, f_rising_factorial, d_rising_factorial)
AD_BINARY_BUILTIN(lmgamma, f_lmgamma, d_lmgamma)
static double f_falling_int(double x, double n) { return round(f_falling_factorial(x, n)); }
static double f_rising_int(double x, double n) { return round(f_rising_factorial(x, n)); }
BINARY_INT(falling_factorial_int, f_falling_int)
BINARY_INT(rising_factorial_int, f_rising_int)
/* to_int(x): truncation toward zero; outside the int range it is an error (Stan's). */
static ad_val *b_to_int(ad_tape *t, ad_val **a, int n)
{
  UNUSED(n);
  size_t m = a[0]->len * a[0]->nd;
  for (size_t i = 0; i < m; i++) {
    double v = a[0]->x[i];
    if (!(v > -2147483649.0 && v < 2147483648.0)) {
      ad_tape_set_error(t, "to_int: %g is outside the range of an int", v);
      return NULL;
    }
  }
  return ad_map1(t, a[0], trunc, NULL, 1);
}

/* rank(v, s): the number of elements of v less than v[s]. */
static ad_val *b_rank(ad_tape *t, ad_val **a, int n)
{
  UNUSED(n);
  ad_val *v = a[0];
  long s1 = int_arg(a[1]);
  if (s1 < 1 || (size_t)s1 > v->len) {
    ad_tape_set_error(t, "rank: index %ld out of range [1, %zu]", s1, v->len);
    return NULL;
  }
  size_t nd = v->nd;
  ad_val *y = ad_new_nd(t, ty_of(VT_INT, 0), 0, NULL, nd, 0);
  if (!y) return NULL;
  for (size_t s = 0; s < nd; s++) {
    double ref = v->x[(size_t)(s1 - 1) * nd + s], c = 0;
    for (size_t e = 0; e < v->len; e++) c += v->x[e * nd + s] < ref;
    y->x[s] = c;
  }
  return y;
}

/* matrix_power(M, n) by repeated squaring of products on the tape. */
static ad_val *b_matrix_power(ad_tape *t, ad_val **a, int nargs)
{
  UNUSED(nargs);
  ad_val *M = a[0];
  size_t K;
  long p = int_arg(a[1]);
  if (math_square_check(t, M, "matrix_power", &K)) return NULL;
  if (p < 0) {
    ad_tape_set_error(t, "matrix_power: exponent must be non-negative, found %ld", p);
    return NULL;
  }
  ad_val *r = NULL, *base = M;
  while (p > 0) {
    if (p & 1) {
      r = r ? ad_binary(t, OP_MUL, r, base) : base;
      if (!r) return NULL;
    }
    p >>= 1;
    if (p) {
      base = ad_binary(t, OP_MUL, base, base);
      if (!base) return NULL;
    }
  }
  if (!r) {
    ad_val *kk = ad_scalar(t, (double)K, 1);
    return kk ? math_identity_matrix(t, &kk, 1) : NULL;
  }
  return r == M ? ad_copy(t, M) : r;
}

/* symmetrize_from_lower_tri(M): the lower triangle mirrored. */
static ad_val *b_symmetrize_from_lower_tri(ad_tape *t, ad_val **a, int n)
{
  UNUSED(n);
  size_t K;
  if (math_square_check(t, a[0], "symmetrize_from_lower_tri", &K)) return NULL;
  size_t *ii = math_idx_alloc(t, K * K);
  if (!ii) return NULL;
  for (size_t j = 0; j < K; j++)
    for (size_t i = 0; i < K; i++) ii[i + j * K] = i >= j ? i + j * K : j + i * K;
  size_t dims[2] = {K, K};
  return math_gather_new(t, ty_of(VT_MATRIX, 0), 2, dims, a[0], ii);
}

/* trace_quad_form(A, B) = trace(B' A B); trace_gen_quad_form(D, A, B) = trace(D B' A B). */
static ad_val *b_trace_quad_form(ad_tape *t, ad_val **a, int n)
{
  UNUSED(n);
  ad_val *ab = ad_binary(t, OP_MUL, a[0], a[1]);
  return ab ? math_grouped_dot(t, a[1], ab, VT_REAL, 1, 1, 1, "trace_quad_form") : NULL;
}
static ad_val *b_trace_gen_quad_form(ad_tape *t, ad_val **a, int n)
{
  UNUSED(n);
  ad_val *args[2] = {a[1], a[2]};
  ad_val *q = math_quad_form(t, args, 2);
  ad_val *dq = q ? ad_binary(t, OP_MUL, a[0], q) : NULL;
  return dq ? math_trace(t, &dq, 1) : NULL;
}

/* log_mix(vector theta, vector[] lps) = sum_n log_sum_exp(log(theta) + lps[n]). */
static ad_val *b_log_mix_arr(ad_tape *t, ad_val **a, int nargs)
{
  UNUSED(nargs);
  ad_val *lps = a[1];
  size_t N = lps->dims[0];
  ad_val *lt = ad_map1(t, a[0], log, d_log, 0);
  if (!lt) return NULL;
  ad_val *tot = ad_scalar(t, 0.0, 0);
  for (size_t i = 0; i < N && tot; i++) {
    ad_ix ix = {0, i, NULL, 0};
    ad_val *row = ad_index(t, lps, &ix, 1);
    if (!row) return NULL;
    if (row->len != lt->len) {
      ad_tape_set_error(t, "log_mix: %zu mixing proportions, %zu densities", lt->len, row->len);
      return NULL;
    }
    ad_val *s = ad_map2(t, lt, row, f_add, d_add, 0);
    ad_val *l = s ? math_log_sum_exp(t, &s, 1) : NULL;
    tot = l ? ad_binary(t, OP_ADD, tot, l) : NULL;
  }
  return tot;
}

/* block(M, i, j, nr, nc), sub_col(M, i, j, nr), sub_row(M, i, j, nc), col(M, j),
 * row(M, i): rectangles of a matrix (1-based positions, checked). */
static ad_val *rect(ad_tape *t, ad_val *M, long i, long j, long nr, long nc, vi_basetype rt,
                    const char *fn)
{
  size_t r, c;
  ad_shape2(M, &r, &c);
  if (nr < 0 || nc < 0 || i < 1 || j < 1 || (size_t)(i - 1) + (size_t)nr > r ||
      (size_t)(j - 1) + (size_t)nc > c) {
    ad_tape_set_error(t, "%s: block at (%ld, %ld) of size %ld x %ld outside a %zu x %zu matrix",
                      fn, i, j, nr, nc, r, c);
    return NULL;
  }
  size_t R = (size_t)nr, C = (size_t)nc;
  size_t *ii = math_idx_alloc(t, R * C);
  if (!ii) return NULL;
  for (size_t q = 0; q < C; q++)
    for (size_t p = 0; p < R; p++) ii[p + q * R] = ((size_t)i - 1 + p) + ((size_t)j - 1 + q) * r;
  size_t dims[2] = {R, C};
  if (rt == VT_ROW_VECTOR) dims[0] = C;
  return math_gather_new(t, ty_of(rt, 0), rt == VT_MATRIX ? 2 : 1, dims, M, ii);
}
static ad_val *b_block(ad_tape *t, ad_val **a, int n)
{
  UNUSED(n);
  return rect(t, a[0], int_arg(a[1]), int_arg(a[2]), int_arg(a[3]), int_arg(a[4]), VT_MATRIX,
              "block");
}
static ad_val *b_sub_col(ad_tape *t, ad_val **a, int n)
{
  UNUSED(n);
  return rect(t, a[0], int_arg(a[1]), int_arg(a[2]), int_arg(a[3]), 1, VT_VECTOR, "sub_col");
}
static ad_val *b_sub_row(ad_tape *t, ad_val **a, int n)
{
  UNUSED(n);
  return rect(t, a[0], int_arg(a[1]), int_arg(a[2]), 1, int_arg(a[3]), VT_ROW_VECTOR, "sub_row");
}
static ad_val *b_col(ad_tape *t, ad_val **a, int n)
{
  UNUSED(n);
  size_t r, c;
  ad_shape2(a[0], &r, &c);
  return rect(t, a[0], 1, int_arg(a[1]), (long)r, 1, VT_VECTOR, "col");
}
static ad_val *b_row(ad_tape *t, ad_val **a, int n)
{
  UNUSED(n);
  size_t r, c;
  ad_shape2(a[0], &r, &c);
  return rect(t, a[0], int_arg(a[1]), 1, 1, (long)c, VT_ROW_VECTOR, "row");
}

#define BUILTIN(name, sig, impl) {name, sig, impl},
const builtin_def builtin_kernels_linalg[] = {
#include "lang/lib/table_linalg.def"
  {NULL, NULL, NULL}
};
#undef BUILTIN
