/* builtins_complex.c: Stan's complex-valued functions (Stan Functions Reference 2.36,
 * "Complex-valued basic functions" and "Complex matrix operations"): to_complex,
 * get_real, get_imag, abs, arg, norm, conj, proj, polar, the exponential, power,
 * trigonometric and hyperbolic functions and their inverses on complex values (C99's
 * <complex.h>, whose branch cuts are those of std::complex that Stan uses), the
 * discrete Fourier transforms fft, inv_fft, fft2, inv_fft2 (GSL's mixed-radix
 * gsl_fft_complex_*), and the nonsymmetric eigenvalues and eigenvectors (GSL's
 * gsl_eigen_nonsymmv, Francis QR then back substitution) and the complex Schur
 * decomposition's factors complex_schur_decompose_t / _u.
 *
 * Reverse mode (the conventions are in ad/complex.c: a complex adjoint is
 * dL/dx + i dL/dy): the transforms are linear, y = F x, so x_bar += F^H y_bar, which is
 * an unnormalised inverse transform of y_bar for fft and a forward transform / N for
 * inv_fft.  For eigenvalues of a real A = V diag(lambda) V^-1 with distinct
 * eigenvalues, d lambda_k = (V^-1 dA V)_kk, so A_bar_ij = Re(M_ji) with
 * M = V diag(conj(lambda_bar)) V^-1 (Giles, "Collected matrix derivative results for
 * forward and reverse mode AD", 2008,
 * sec. 3.1, written for the real-pair adjoint).  For eigenvectors of unit 2-norm
 * (Boeddeker et al., "On the computation of complex-valued gradients with application to
 * statistically optimum beamforming", 2017, eq. 4.77; Giles 2008 for the unnormalised
 * ones), A_bar = Re(V^-H M V^H) with
 *   M_ij = conj(1 / (lambda_j - lambda_i)) (V^H V_bar - V^H V diag(Re diag(V^H V_bar)))_ij
 * off the diagonal and 0 on it (0 also for equal eigenvalues).  An eigenvector is unique
 * only up to a unit factor e^(i phi): the formula is the derivative in the gauge
 * Im(v_k^H dv_k) = 0, so it is exact for real eigenvectors (a real eigenvalue's, whose
 * sign is locally constant) and, for a complex pair's, for functions of the
 * eigenvectors that do not depend on their phases (|v_ik|, v_ik conj(v_jk), ...); a
 * function that depends on the phase GSL happens to choose has no well-defined
 * gradient.  The complex Schur decomposition A = U T U^H is unique up to the same
 * freedom, U -> U D, T -> D^H T D with D diagonal unitary (for distinct eigenvalues in a
 * fixed order); with Omega = U^H dU skew-Hermitian and C = U^H dA U,
 *   dT = C - Omega T + T Omega,  dU = U Omega,
 * the strictly lower part of dT zero fixing Omega's strictly lower part L by a
 * triangular Sylvester recurrence, and diag(Omega) = 0 the gauge (as Boeddeker et al.'s
 * for eigenvectors).  Its transpose (for the real inner product Re tr(X^H Y)):
 *   X = U^H U_bar - T_bar T^H + T^H T_bar,  L_bar = tril(X - X^H),
 *   Y the strictly lower solution of tril(Y T^H - T^H Y) = L_bar,
 *   A_bar = Re(U (triu(T_bar) + Y) U^H).
 * So, as for eigenvectors, gradients are exact for functions that do not depend on the
 * phases: T's diagonal (the eigenvalues), |T_ij|, |U_ik|, U_ik conj(U_jk), ... */
#include <complex.h>
#include <math.h>
#include <string.h>
#include <gsl/gsl_eigen.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_fft_complex.h>
#include <gsl/gsl_linalg.h>
#include <gsl/gsl_matrix.h>
#include <gsl/gsl_complex_math.h>
#include "lang/ad/ad_kernels.h"
#include "lang/lib/lib.h"

typedef double complex cplx;
#ifndef CMPLX   /* C11's; glibc defines it for GCC only (clang: the fuzz build) */
static inline cplx cplx_make(double re, double im)
{
  union { cplx z; double p[2]; } u = {.p = {re, im}};   /* C11 6.2.5: laid out as double[2] */
  return u.z;
}
#define CMPLX(x, y) cplx_make((x), (y))
#endif

/* ---- parts and conversions ---------------------------------------------------------- */

static ad_val *b_to_complex0(ad_tape *t, ad_val **a, int n)
{
  UNUSED(a); UNUSED(n);
  ad_val *z = ad_scalar(t, 0, 0);
  return z ? ad_cx_from_pair(t, z, z, AD_CX_PAIR) : NULL;
}
static ad_val *b_to_complex1(ad_tape *t, ad_val **a, int n)
{
  UNUSED(n);
  ad_val *z = ad_scalar(t, 0, 0);
  return z ? ad_cx_from_pair(t, a[0], z, AD_CX_PAIR) : NULL;
}
static ad_val *b_to_complex2(ad_tape *t, ad_val **a, int n)
{ UNUSED(n); return ad_cx_from_pair(t, a[0], a[1], AD_CX_PAIR); }
static ad_val *b_polar(ad_tape *t, ad_val **a, int n)
{ UNUSED(n); return ad_cx_from_pair(t, a[0], a[1], AD_CX_POLAR); }
static ad_val *b_get_real(ad_tape *t, ad_val **a, int n)
{ UNUSED(n); return ad_cx_part(t, a[0], AD_CX_REAL); }
static ad_val *b_get_imag(ad_tape *t, ad_val **a, int n)
{ UNUSED(n); return ad_cx_part(t, a[0], AD_CX_IMAG); }
static ad_val *b_abs(ad_tape *t, ad_val **a, int n)
{ UNUSED(n); return ad_cx_part(t, a[0], AD_CX_ABS); }
static ad_val *b_arg(ad_tape *t, ad_val **a, int n)
{ UNUSED(n); return ad_cx_part(t, a[0], AD_CX_ARG); }
static ad_val *b_norm(ad_tape *t, ad_val **a, int n)
{ UNUSED(n); return ad_cx_part(t, a[0], AD_CX_NORM); }
static ad_val *b_conj(ad_tape *t, ad_val **a, int n)
{ UNUSED(n); return ad_cx_conj(t, a[0]); }

/* proj: z, or (inf, +-0) when a part is infinite (the Riemann sphere's point) */
static cplx c_proj(cplx z) { return cproj(z); }
static cplx c_one(cplx z) { UNUSED(z); return 1; }
static ad_val *b_proj(ad_tape *t, ad_val **a, int n)
{ UNUSED(n); return ad_cx_map1(t, a[0], c_proj, c_one); }

/* ---- holomorphic elementwise functions: f and f' ------------------------------------- */

static cplx d_exp(cplx z) { return cexp(z); }
static cplx d_log(cplx z) { return 1 / z; }
static cplx c_log10(cplx z) { return clog(z) / M_LN10; }
static cplx d_log10(cplx z) { return 1 / (z * M_LN10); }
static cplx d_sqrt(cplx z) { return 0.5 / csqrt(z); }
static cplx d_sin(cplx z) { return ccos(z); }
static cplx d_cos(cplx z) { return -csin(z); }
static cplx d_tan(cplx z) { cplx c = ccos(z); return 1 / (c * c); }
static cplx d_asin(cplx z) { return 1 / csqrt(1 - z * z); }
static cplx d_acos(cplx z) { return -1 / csqrt(1 - z * z); }
static cplx d_atan(cplx z) { return 1 / (1 + z * z); }
static cplx d_sinh(cplx z) { return ccosh(z); }
static cplx d_cosh(cplx z) { return csinh(z); }
static cplx d_tanh(cplx z) { cplx c = ccosh(z); return 1 / (c * c); }
static cplx d_asinh(cplx z) { return 1 / csqrt(z * z + 1); }
static cplx d_acosh(cplx z) { return 1 / (csqrt(z - 1) * csqrt(z + 1)); }
static cplx d_atanh(cplx z) { return 1 / (1 - z * z); }

#define CX_FN(NAME, F, DF)                                            \
  static cplx c_##NAME(cplx z) { return F(z); }                        \
  static ad_val *b_c##NAME(ad_tape *t, ad_val **a, int n)              \
  { UNUSED(n); return ad_cx_map1(t, a[0], c_##NAME, DF); }
CX_FN(exp, cexp, d_exp)
CX_FN(log, clog, d_log)
CX_FN(sqrt, csqrt, d_sqrt)
CX_FN(sin, csin, d_sin)
CX_FN(cos, ccos, d_cos)
CX_FN(tan, ctan, d_tan)
CX_FN(asin, casin, d_asin)
CX_FN(acos, cacos, d_acos)
CX_FN(atan, catan, d_atan)
CX_FN(sinh, csinh, d_sinh)
CX_FN(cosh, ccosh, d_cosh)
CX_FN(tanh, ctanh, d_tanh)
CX_FN(asinh, casinh, d_asinh)
CX_FN(acosh, cacosh, d_acosh)
CX_FN(atanh, catanh, d_atanh)
#undef CX_FN
static ad_val *b_clog10(ad_tape *t, ad_val **a, int n)
{ UNUSED(n); return ad_cx_map1(t, a[0], c_log10, d_log10); }

static ad_val *b_cpow(ad_tape *t, ad_val **a, int n)
{ UNUSED(n); return ad_cx_binary(t, OP_POW, a[0], a[1]); }

/* ---- sizes -------------------------------------------------------------------------- */

static ad_val *b_crows(ad_tape *t, ad_val **a, int n)
{
  UNUSED(n);
  size_t r, c;
  ad_shape2(a[0], &r, &c);
  return ad_scalar(t, (double)r, 1);
}
static ad_val *b_ccols(ad_tape *t, ad_val **a, int n)
{
  UNUSED(n);
  size_t r, c;
  ad_shape2(a[0], &r, &c);
  return ad_scalar(t, (double)c, 1);
}
static ad_val *b_cnum_elements(ad_tape *t, ad_val **a, int n)
{ UNUSED(n); return ad_scalar(t, (double)ad_cx_count(a[0]), 1); }
static ad_val *b_csize(ad_tape *t, ad_val **a, int n)
{
  UNUSED(n);
  const ad_val *v = a[0];
  return ad_scalar(t, (double)(v->type.ndims ? v->dims[0] : ad_cx_count(v)), 1);
}

/* ---- sums --------------------------------------------------------------------------- */

static void csum_backward(ad_tape *t, ad_node *node)
{
  UNUSED(t);
  ad_val *a = node->in[0], *y = node->out;
  size_t L = ad_cx_count(a), nd = y->nd;
  for (size_t k = 0; k < L; k++)
    for (size_t q = 0; q < 2; q++)
      for (size_t s = 0; s < nd; s++)
        *ad_adjp(a, 2 * k + q, s) += y->adj[q * nd + s];
}

static ad_val *b_csum(ad_tape *t, ad_val **a, int n)
{
  UNUSED(n);
  ad_val *v = ad_to_complex(t, a[0]);
  if (!v) return NULL;
  ad_val *one = ad_scalar(t, 0, 0);
  ad_val *R = one ? ad_cx_like(t, one, v->nd, v->adj && ad_tape_recording(t)) : NULL;
  if (!R) return NULL;
  size_t L = ad_cx_count(v), nd = v->nd;
  for (size_t q = 0; q < 2; q++)
    for (size_t s = 0; s < nd; s++) {
      double acc = 0;
      for (size_t k = 0; k < L; k++) acc += v->x[(2 * k + q) * nd + s];
      R->x[q * nd + s] = acc;
    }
  ad_val *in[1] = {v};
  ad_push(t, csum_backward, R, 1, in);
  return R;
}

/* ---- Fourier transforms ------------------------------------------------------------- */

/* Transform one packed complex array (length n, stride in complex elements) in place:
 * dir -1 forward (unnormalised), +1 backward (unnormalised). */
static int fft1(double *data, size_t stride, size_t n, int dir, gsl_fft_complex_wavetable *wt,
                gsl_fft_complex_workspace *ws)
{
  if (n <= 1) return 0;
  return dir < 0 ? gsl_fft_complex_forward(data, stride, n, wt, ws)
                 : gsl_fft_complex_backward(data, stride, n, wt, ws);
}

/* The 1-D (rows = n, cols = 1) or 2-D (rows x cols, column-major) transform of a packed
 * array, scaled by scale: columns first, then rows. */
static int fft_nd(double *buf, size_t rows, size_t cols, int dir, double scale)
{
  int rc = 0;
  size_t lens[2] = {rows, cols};
  for (int d = 0; d < 2 && !rc; d++) {
    size_t n = lens[d];
    if (n <= 1) continue;
    gsl_fft_complex_wavetable *wt = gsl_fft_complex_wavetable_alloc(n);
    gsl_fft_complex_workspace *ws = gsl_fft_complex_workspace_alloc(n);
    if (!wt || !ws) rc = -1;
    if (d == 0)
      for (size_t j = 0; j < cols && !rc; j++)
        rc = fft1(buf + 2 * j * rows, 1, rows, dir, wt, ws);
    else
      for (size_t i = 0; i < rows && !rc; i++) rc = fft1(buf + 2 * i, rows, cols, dir, wt, ws);
    gsl_fft_complex_wavetable_free(wt);
    gsl_fft_complex_workspace_free(ws);
  }
  if (scale != 1)
    for (size_t k = 0; k < 2 * rows * cols; k++) buf[k] *= scale;
  return rc;
}

/* out[.., s] = transform of in[.., s] for every draw s (in may be shared over draws). */
static int fft_draws(ad_tape *t, const double *in, size_t in_nd, double *out, size_t nd,
                     size_t rows, size_t cols, int dir, double scale, int accumulate)
{
  size_t L = 2 * rows * cols;
  double *buf = ad_alloc(t, (L ? L : 1) * sizeof *buf);
  if (!buf) return -1;
  for (size_t s = 0; s < nd; s++) {
    for (size_t k = 0; k < L; k++) buf[k] = in[k * in_nd + (in_nd == 1 ? 0 : s)];
    if (fft_nd(buf, rows, cols, dir, scale)) return -1;
    for (size_t k = 0; k < L; k++) {
      if (accumulate) out[k * nd + (nd == 1 ? 0 : s)] += buf[k];
      else out[k * nd + s] = buf[k];
    }
  }
  return 0;
}

static void fft_backward(ad_tape *t, ad_node *node)
{
  ad_val *a = node->in[0], *y = node->out;
  size_t rows = (size_t)node->iarg[0], cols = (size_t)node->iarg[1];
  int dir = (int)node->iarg[2];
  /* x_bar += F^H y_bar: fft's adjoint is the unnormalised backward transform, inv_fft's
   * the forward one over N */
  double scale = dir < 0 ? 1.0 : 1.0 / (double)(rows * cols);
  fft_draws(t, y->adj, y->nd, a->adj, a->nd, rows, cols, -dir, scale, 1);
}

static ad_val *fft_op(ad_tape *t, ad_val *x, int two_d, int dir)
{
  if (!(x = ad_to_complex(t, x))) return NULL;
  size_t rows, cols;
  ad_shape2(x, &rows, &cols);
  if (!two_d) { rows = ad_cx_count(x); cols = 1; }
  int adj = x->adj && ad_tape_recording(t);
  ad_val *y = ad_new_nd(t, x->type, x->ndims, x->dims, x->nd, adj);
  if (!y) return NULL;
  double scale = dir < 0 ? 1.0 : 1.0 / (double)(rows && cols ? rows * cols : 1);
  if (fft_draws(t, x->x, x->nd, y->x, x->nd, rows, cols, dir, scale, 0)) {
    ad_tape_set_error(t, "the Fourier transform failed (GSL)");
    return NULL;
  }
  ad_val *in[1] = {x};
  ad_node *node = ad_push(t, fft_backward, y, 1, in);
  if (node) { node->iarg[0] = (long)rows; node->iarg[1] = (long)cols; node->iarg[2] = dir; }
  return y;
}

static ad_val *b_fft(ad_tape *t, ad_val **a, int n) { UNUSED(n); return fft_op(t, a[0], 0, -1); }
static ad_val *b_inv_fft(ad_tape *t, ad_val **a, int n) { UNUSED(n); return fft_op(t, a[0], 0, 1); }
static ad_val *b_fft2(ad_tape *t, ad_val **a, int n) { UNUSED(n); return fft_op(t, a[0], 1, -1); }
static ad_val *b_inv_fft2(ad_tape *t, ad_val **a, int n) { UNUSED(n); return fft_op(t, a[0], 1, 1); }

/* ---- nonsymmetric eigendecomposition ------------------------------------------------ */

/* Draw s of the real K x K matrix A: eigenvalues lam (K complex, packed) and right
 * eigenvectors V (K x K complex, column-major packed, unit 2-norm columns as GSL and
 * Eigen give them).  0, or -1 (a value not finite, or GSL failed). */
static int eig_draw(const ad_val *A, size_t s, size_t K, double *lam, double *V,
                    double *scratch, gsl_eigen_nonsymmv_workspace *w)
{
  for (size_t i = 0; i < K; i++)
    for (size_t j = 0; j < K; j++) {
      double a = ad_get(A, i + j * K, s);
      if (!isfinite(a)) return -1;
      scratch[i * K + j] = a;   /* GSL is row-major */
    }
  gsl_matrix_view m = gsl_matrix_view_array(scratch, K, K);
  gsl_vector_complex *ev = gsl_vector_complex_alloc(K);
  gsl_matrix_complex *ev_m = gsl_matrix_complex_alloc(K, K);
  int rc = -1;
  if (ev && ev_m && gsl_eigen_nonsymmv(&m.matrix, ev, ev_m, w) == GSL_SUCCESS) {
    for (size_t k = 0; k < K; k++) {
      gsl_complex z = gsl_vector_complex_get(ev, k);
      lam[2 * k] = GSL_REAL(z);
      lam[2 * k + 1] = GSL_IMAG(z);
      for (size_t i = 0; i < K; i++) {
        gsl_complex v = gsl_matrix_complex_get(ev_m, i, k);
        V[2 * (i + k * K)] = GSL_REAL(v);
        V[2 * (i + k * K) + 1] = GSL_IMAG(v);
      }
    }
    rc = 0;
  }
  gsl_vector_complex_free(ev);
  gsl_matrix_complex_free(ev_m);
  return rc;
}

/* A_bar_ij += Re(M_ji), M = V diag(conj(lambda_bar)) V^-1, per draw; saved holds V
 * (2 K^2 doubles per draw). */
static void eigvals_backward(ad_tape *t, ad_node *node)
{
  UNUSED(t);
  ad_val *A = node->in[0], *y = node->out;
  size_t K = (size_t)node->iarg[0], nd = y->nd;
  gsl_matrix_complex *Vm = gsl_matrix_complex_alloc(K, K);
  gsl_matrix_complex *Vi = gsl_matrix_complex_alloc(K, K);
  gsl_permutation *perm = gsl_permutation_alloc(K);
  if (!Vm || !Vi || !perm) goto out;
  for (size_t s = 0; s < nd; s++) {
    const double *V = node->saved + s * 2 * K * K;
    for (size_t i = 0; i < K; i++)
      for (size_t k = 0; k < K; k++)
        gsl_matrix_complex_set(Vm, i, k, gsl_complex_rect(V[2 * (i + k * K)],
                                                          V[2 * (i + k * K) + 1]));
    int sg;
    if (gsl_linalg_complex_LU_decomp(Vm, perm, &sg) != GSL_SUCCESS ||
        gsl_linalg_complex_LU_invert(Vm, perm, Vi) != GSL_SUCCESS)
      continue;
    for (size_t i = 0; i < K; i++)
      for (size_t j = 0; j < K; j++) {
        /* M_ji = sum_k V_jk conj(lbar_k) Vi_ki */
        cplx m = 0;
        for (size_t k = 0; k < K; k++) {
          cplx lb = CMPLX(y->adj[2 * k * nd + s], y->adj[(2 * k + 1) * nd + s]);
          gsl_complex vi = gsl_matrix_complex_get(Vi, k, i);
          m += CMPLX(V[2 * (j + k * K)], V[2 * (j + k * K) + 1]) * conj(lb) *
               CMPLX(GSL_REAL(vi), GSL_IMAG(vi));
        }
        *ad_adjp(A, i + j * K, s) += creal(m);
      }
  }
out:
  gsl_matrix_complex_free(Vm);
  gsl_matrix_complex_free(Vi);
  gsl_permutation_free(perm);
}

/* A_bar += Re(V^-H M V^H) with M from V^H V_bar (see the file's head), per draw; saved
 * holds V (2 K^2 doubles per draw), ptr the eigenvalues (2 K per draw). */
static void eigvecs_backward(ad_tape *t, ad_node *node)
{
  ad_val *A = node->in[0], *y = node->out;
  size_t K = (size_t)node->iarg[0], nd = y->nd;
  const double *lams = node->ptr;
  gsl_matrix_complex *Vm = gsl_matrix_complex_alloc(K, K);
  gsl_matrix_complex *Vi = gsl_matrix_complex_alloc(K, K);
  gsl_permutation *perm = gsl_permutation_alloc(K);
  cplx *W = ad_alloc(t, 4 * K * K * sizeof(cplx));
  if (!Vm || !Vi || !perm || !W) goto out;
  cplx *V = W, *Vb = V + K * K, *G = Vb + K * K, *X = G + K * K;
  for (size_t s = 0; s < nd; s++) {
    const double *Vs = node->saved + s * 2 * K * K, *lam = lams + s * 2 * K;
    if (isnan(Vs[0])) continue;
    for (size_t e = 0; e < K * K; e++) {
      V[e] = CMPLX(Vs[2 * e], Vs[2 * e + 1]);
      Vb[e] = CMPLX(y->adj[2 * e * nd + s], y->adj[(2 * e + 1) * nd + s]);
      gsl_matrix_complex_set(Vm, e % K, e / K, gsl_complex_rect(Vs[2 * e], Vs[2 * e + 1]));
    }
    int sg;
    if (gsl_linalg_complex_LU_decomp(Vm, perm, &sg) != GSL_SUCCESS ||
        gsl_linalg_complex_LU_invert(Vm, perm, Vi) != GSL_SUCCESS)
      continue;
    /* G = V^H V_bar, X = V^H V */
    for (size_t i = 0; i < K; i++)
      for (size_t j = 0; j < K; j++) {
        cplx g = 0, x = 0;
        for (size_t r = 0; r < K; r++) {
          g += conj(V[r + i * K]) * Vb[r + j * K];
          x += conj(V[r + i * K]) * V[r + j * K];
        }
        G[i + j * K] = g;
        X[i + j * K] = x;
      }
    /* M (into X) */
    for (size_t j = 0; j < K; j++) {
      double rj = creal(G[j + j * K]);
      cplx lj = CMPLX(lam[2 * j], lam[2 * j + 1]);
      for (size_t i = 0; i < K; i++) {
        cplx d = lj - CMPLX(lam[2 * i], lam[2 * i + 1]);
        X[i + j * K] = i == j || d == 0 ? 0 : conj(1 / d) * (G[i + j * K] - X[i + j * K] * rj);
      }
    }
    /* G = M V^H, then A_bar_ij += Re((V^-H G)_ij) = Re(sum_k conj(Vi_ki) G_kj) */
    for (size_t i = 0; i < K; i++)
      for (size_t j = 0; j < K; j++) {
        cplx acc = 0;
        for (size_t k = 0; k < K; k++) acc += X[i + k * K] * conj(V[j + k * K]);
        G[i + j * K] = acc;
      }
    for (size_t i = 0; i < K; i++)
      for (size_t j = 0; j < K; j++) {
        cplx acc = 0;
        for (size_t k = 0; k < K; k++) {
          gsl_complex vi = gsl_matrix_complex_get(Vi, k, i);
          acc += CMPLX(GSL_REAL(vi), -GSL_IMAG(vi)) * G[k + j * K];
        }
        *ad_adjp(A, i + j * K, s) += creal(acc);
      }
  }
out:
  gsl_matrix_complex_free(Vm);
  gsl_matrix_complex_free(Vi);
  gsl_permutation_free(perm);
}

static ad_val *eig_op(ad_tape *t, ad_val *A, int vectors)
{
  size_t r, c;
  ad_shape2(A, &r, &c);
  if (r != c) {
    ad_tape_set_error(t, "expecting a square matrix; found %zu rows and %zu columns", r, c);
    return NULL;
  }
  size_t K = r, nd = A->nd;
  int rec = A->adj && ad_tape_recording(t);
  ad_val *R = vectors ? ad_new_mat(t, VT_MATRIX, K, K, 1, 0)
                      : ad_new_mat(t, VT_VECTOR, K, 1, 1, 0);
  ad_val *y = R ? ad_cx_like(t, R, nd, rec) : NULL;
  double *scratch = ad_alloc(t, (K ? K * K : 1) * sizeof(double));
  double *lam = ad_alloc(t, (K ? 2 * K : 1) * sizeof(double));
  double *V = ad_alloc(t, (2 * K * K * (rec ? nd : 1) + 1) * sizeof(double));
  /* eigenvectors' reverse step: the eigenvalues of every draw too, after V */
  double *lams = rec && vectors ? ad_alloc(t, (2 * K * nd + 1) * sizeof(double)) : NULL;
  if (!y || !scratch || !lam || !V || (rec && vectors && !lams)) return NULL;
  if (K == 0) return y;
  gsl_eigen_nonsymmv_workspace *w = gsl_eigen_nonsymmv_alloc(K);
  if (!w) {
    ad_tape_set_error(t, "out of memory (eigen workspace)");
    return NULL;
  }
  gsl_error_handler_t *old = gsl_set_error_handler_off();
  for (size_t s = 0; s < nd; s++) {
    double *Vs = V + (rec ? s * 2 * K * K : 0);
    if (eig_draw(A, s, K, lam, Vs, scratch, w)) {
      for (size_t k = 0; k < 2 * K; k++) lam[k] = NAN;
      for (size_t k = 0; k < 2 * K * K; k++) Vs[k] = NAN;
    }
    if (lams) memcpy(lams + s * 2 * K, lam, 2 * K * sizeof *lam);
    const double *src = vectors ? Vs : lam;
    size_t L = vectors ? 2 * K * K : 2 * K;
    for (size_t k = 0; k < L; k++) y->x[k * nd + s] = src[k];
  }
  gsl_set_error_handler(old);
  gsl_eigen_nonsymmv_free(w);
  if (rec) {
    ad_val *in[1] = {A};
    ad_node *node = ad_push(t, vectors ? eigvecs_backward : eigvals_backward, y, 1, in);
    if (node) { node->iarg[0] = (long)K; node->saved = V; node->ptr = lams; }
  }
  return y;
}

static ad_val *b_eigenvalues(ad_tape *t, ad_val **a, int n)
{ UNUSED(n); return eig_op(t, a[0], 0); }
static ad_val *b_eigenvectors(ad_tape *t, ad_val **a, int n)
{ UNUSED(n); return eig_op(t, a[0], 1); }

/* ---- complex Schur decomposition ---------------------------------------------------- */

/* A = U T U^H with U unitary and T upper triangular, for a real K x K A, written to U
 * and T (complex, column-major).  GSL gives the real Schur form A = Z S Z' (Francis
 * QR; S quasi-triangular with a 2 x 2 block per complex pair); each block is then made
 * triangular by the unitary G = [x, -conj(y); y, conj(x)] whose first column (x, y) is
 * a unit eigenvector of the block (Golub & Van Loan, "Matrix Computations", 4th ed.,
 * sec. 7.4.1: rotating a 2 x 2 block to triangular form).  0, or -1 on failure. */
static int schur_draw(const ad_val *A, size_t s, size_t K, cplx *U, cplx *T, double *scratch,
                      gsl_eigen_nonsymm_workspace *w)
{
  for (size_t i = 0; i < K; i++)
    for (size_t j = 0; j < K; j++) {
      double a = ad_get(A, i + j * K, s);
      if (!isfinite(a)) return -1;
      scratch[i * K + j] = a;
    }
  gsl_matrix_view m = gsl_matrix_view_array(scratch, K, K);
  gsl_vector_complex *ev = gsl_vector_complex_alloc(K);
  gsl_matrix *Z = gsl_matrix_alloc(K, K);
  int rc = -1;
  if (ev && Z) {
    gsl_eigen_nonsymm_params(1, 0, w);
    if (gsl_eigen_nonsymm_Z(&m.matrix, ev, Z, w) == GSL_SUCCESS) rc = 0;
  }
  if (!rc)
    for (size_t i = 0; i < K; i++)
      for (size_t j = 0; j < K; j++) {
        /* GSL leaves rubbish below the subdiagonal: S is zero there */
        T[i + j * K] = i > j + 1 ? 0 : scratch[i * K + j];
        U[i + j * K] = gsl_matrix_get(Z, i, j);
      }
  gsl_vector_complex_free(ev);
  gsl_matrix_free(Z);
  if (rc) return rc;
  for (size_t k = 0; k + 1 < K; k++) {
    cplx a = T[k + k * K], b = T[k + (k + 1) * K], c = T[k + 1 + k * K],
         d = T[k + 1 + (k + 1) * K];
    if (c == 0) continue;
    /* an eigenvalue of [a b; c d] and its eigenvector (b, lambda - a) */
    cplx half = (a + d) / 2, disc = csqrt((a - d) * (a - d) / 4 + b * c);
    cplx lam = half + disc;
    cplx x = b, y = lam - a;
    if (cabs(x) + cabs(y) == 0) { x = lam - d; y = c; }
    double nr = sqrt(creal(x * conj(x)) + creal(y * conj(y)));
    if (!(nr > 0)) continue;
    x /= nr; y /= nr;
    /* T <- G^H T G on rows/cols k, k+1; U <- U G */
    for (size_t j = 0; j < K; j++) {
      cplx t1 = T[k + j * K], t2 = T[k + 1 + j * K];
      T[k + j * K] = conj(x) * t1 + conj(y) * t2;
      T[k + 1 + j * K] = -y * t1 + x * t2;
    }
    for (size_t i = 0; i < K; i++) {
      cplx t1 = T[i + k * K], t2 = T[i + (k + 1) * K];
      T[i + k * K] = t1 * x + t2 * y;
      T[i + (k + 1) * K] = -t1 * conj(y) + t2 * conj(x);
      cplx u1 = U[i + k * K], u2 = U[i + (k + 1) * K];
      U[i + k * K] = u1 * x + u2 * y;
      U[i + (k + 1) * K] = -u1 * conj(y) + u2 * conj(x);
    }
    T[k + 1 + k * K] = 0;
    k++;   /* the block is done: the next one starts after it */
  }
  return 0;
}

/* The transpose of the Schur decomposition's derivative (see the file's head), per draw;
 * ptr holds U and T (K x K complex each) per draw. */
static void schur_backward(ad_tape *t, ad_node *node)
{
  ad_val *A = node->in[0], *y = node->out;
  size_t K = (size_t)node->iarg[0], nd = y->nd;
  int want_u = (int)node->iarg[1];
  const cplx *UT = node->ptr;
  cplx *W = ad_alloc(t, 3 * K * K * sizeof(cplx));
  if (!W) return;
  cplx *B = W, *X = B + K * K, *Y = X + K * K;
  for (size_t s = 0; s < nd; s++) {
    const cplx *U = UT + s * 2 * K * K, *T = U + K * K;
    if (isnan(creal(U[0]))) continue;
    /* B = the output's adjoint: U_bar, or T_bar's upper triangle */
    for (size_t j = 0; j < K; j++)
      for (size_t i = 0; i < K; i++) {
        size_t e = i + j * K;
        B[e] = want_u || i <= j ? CMPLX(y->adj[2 * e * nd + s], y->adj[(2 * e + 1) * nd + s])
                                : 0;
      }
    /* X = U^H U_bar, or T^H T_bar - T_bar T^H */
    for (size_t i = 0; i < K; i++)
      for (size_t j = 0; j < K; j++) {
        cplx acc = 0;
        for (size_t k = 0; k < K; k++)
          acc += want_u ? conj(U[k + i * K]) * B[k + j * K]
                        : conj(T[k + i * K]) * B[k + j * K] - B[i + k * K] * conj(T[j + k * K]);
        X[i + j * K] = acc;
      }
    /* Y: strictly lower, tril(Y T^H - T^H Y) = tril(X - X^H), by distance from the
     * diagonal (Y_ij needs Y_ik and Y_kj for j < k < i) */
    memset(Y, 0, K * K * sizeof *Y);
    for (size_t d = 1; d < K; d++)
      for (size_t j = 0; j + d < K; j++) {
        size_t i = j + d;
        cplx rhs = X[i + j * K] - conj(X[j + i * K]);
        for (size_t k = j + 1; k < i; k++)
          rhs -= Y[i + k * K] * conj(T[j + k * K]) - conj(T[k + i * K]) * Y[k + j * K];
        cplx den = conj(T[j + j * K]) - conj(T[i + i * K]);
        Y[i + j * K] = den == 0 ? 0 : rhs / den;
      }
    /* C_bar = triu(T_bar) + Y (into Y); A_bar = Re(U C_bar U^H) */
    if (!want_u)
      for (size_t j = 0; j < K; j++)
        for (size_t i = 0; i <= j; i++) Y[i + j * K] = B[i + j * K];
    for (size_t i = 0; i < K; i++)
      for (size_t j = 0; j < K; j++) {
        cplx acc = 0;
        for (size_t k = 0; k < K; k++) acc += Y[i + k * K] * conj(U[j + k * K]);
        X[i + j * K] = acc;   /* C_bar U^H */
      }
    for (size_t i = 0; i < K; i++)
      for (size_t j = 0; j < K; j++) {
        cplx acc = 0;
        for (size_t k = 0; k < K; k++) acc += U[i + k * K] * X[k + j * K];
        *ad_adjp(A, i + j * K, s) += creal(acc);
      }
  }
}

static ad_val *schur_op(ad_tape *t, ad_val *A, int want_u)
{
  size_t r, c;
  ad_shape2(A, &r, &c);
  if (r != c) {
    ad_tape_set_error(t, "expecting a square matrix; found %zu rows and %zu columns", r, c);
    return NULL;
  }
  int rec = A->adj && ad_tape_recording(t);
  size_t K = r, nd = A->nd;
  ad_val *R = ad_new_mat(t, VT_MATRIX, K, K, 1, 0);
  ad_val *y = R ? ad_cx_like(t, R, nd, rec) : NULL;
  double *scratch = ad_alloc(t, (K ? K * K : 1) * sizeof(double));
  /* per draw U and T when recording (the reverse step's), else one draw's */
  cplx *UT = ad_alloc(t, (K ? 2 * K * K * (rec ? nd : 1) : 1) * sizeof(cplx));
  if (!y || !scratch || !UT) return NULL;
  if (K == 0) return y;
  gsl_eigen_nonsymm_workspace *w = gsl_eigen_nonsymm_alloc(K);
  if (!w) {
    ad_tape_set_error(t, "out of memory (Schur workspace)");
    return NULL;
  }
  gsl_error_handler_t *old = gsl_set_error_handler_off();
  for (size_t s = 0; s < nd; s++) {
    cplx *U = UT + (rec ? s * 2 * K * K : 0), *T = U + K * K;
    int bad = schur_draw(A, s, K, U, T, scratch, w);
    if (bad) U[0] = NAN;
    const cplx *src = want_u ? U : T;
    for (size_t k = 0; k < K * K; k++) {
      y->x[2 * k * nd + s] = bad ? NAN : creal(src[k]);
      y->x[(2 * k + 1) * nd + s] = bad ? NAN : cimag(src[k]);
    }
  }
  gsl_set_error_handler(old);
  gsl_eigen_nonsymm_free(w);
  if (rec) {
    ad_val *in[1] = {A};
    ad_node *node = ad_push(t, schur_backward, y, 1, in);
    if (node) { node->iarg[0] = (long)K; node->iarg[1] = want_u; node->ptr = UT; }
  }
  return y;
}

static ad_val *b_schur_t(ad_tape *t, ad_val **a, int n) { UNUSED(n); return schur_op(t, a[0], 0); }
static ad_val *b_schur_u(ad_tape *t, ad_val **a, int n) { UNUSED(n); return schur_op(t, a[0], 1); }

#define BUILTIN(name, sig, impl) {name, sig, impl},
const builtin_def builtin_kernels_complex[] = {
#include "lang/lib/table_complex.def"
  {NULL, NULL, NULL}
};
#undef BUILTIN
