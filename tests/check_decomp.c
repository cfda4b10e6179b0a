/* check_decomp.c: the decompositions and matrix functions (singular_values, svd_U, svd_V,
 * generalized_inverse, chol2inv, matrix_exp and its products; the QR factors' derivative),
 * the special functions
 * owens_t, inv_inc_beta, inv_erfc, std_normal_log_qf and the data helpers quantile,
 * linspaced_int_array, uniform_simplex.  Values against closed forms, exact identities
 * (U diag(s) V' = A, A X A = A, erfc(inv_erfc(x)) = x) and GSL; every gradient against
 * finite differences and every batched evaluation against one draw at a time
 * (ad_testutil.h); and a model (tests/lang/valid/decompositions.stan) that uses them all
 * on parameters, its log density's gradient against finite differences. */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <gsl/gsl_cdf.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_integration.h>
#include <gsl/gsl_sf_erf.h>
#include <gsl/gsl_sf_gamma.h>
#include <vi/lang.h>
#include <vi/status.h>
#include "ad_testutil.h"

#define CHK(name, tol, nargs, ...) \
  ta_check_builtin(name, (targ[]){__VA_ARGS__}, nargs, tol, y, &n)

static void expect(const double *y, size_t n, const double *ref, size_t nref, double tol,
                   const char *what)
{
  ck_assert_msg(n == nref, "%s: %zu elements, expected %zu", what, n, nref);
  for (size_t i = 0; i < n; i++)
    ck_assert_msg(fabs(y[i] - ref[i]) <= tol * (1 + fabs(ref[i])),
                  "%s[%zu] = %.17g, expected %.17g", what, i, y[i], ref[i]);
}
#define EXPECT(what, tol, ...) do { const double r_[] = {__VA_ARGS__}; \
  expect(y, n, r_, sizeof r_ / sizeof r_[0], tol, what); } while (0)

/* Value of a builtin on one draw of constant arguments (no checks); NULL result: the
 * tape's error message in *err. */
static ad_val *value_of(ad_tape *t, const char *name, const targ *args, int nargs)
{
  vi_type types[8], ret;
  for (int i = 0; i < nargs; i++) {
    types[i].base = args[i].base;
    types[i].ndims = args[i].arr;
  }
  char why[256];
  int id = builtin_resolve(name, types, nargs, &ret, why, sizeof why);
  ck_assert_msg(id >= 0, "%s: %s", name, why);
  ad_tape_reset(t, 1, 0);
  ad_val *av[8];
  for (int i = 0; i < nargs; i++) av[i] = ta_make(t, &args[i], 1, 0, 0, -1, 0);
  return builtin_call(t, id, av, nargs);
}

/* C = A B for column-major A (m x k), B (k x p). */
static void matmul(const double *A, const double *B, double *C, size_t m, size_t k, size_t p)
{
  for (size_t i = 0; i < m; i++)
    for (size_t j = 0; j < p; j++) {
      double acc = 0;
      for (size_t l = 0; l < k; l++) acc += A[i + l * m] * B[l + j * k];
      C[i + j * m] = acc;
    }
}

/* ---- SVD ------------------------------------------------------------------------ */

/* U diag(s) V' reconstructs A, U'U = V'V = I, s descending; for A (M x N) given. */
static void svd_identities(const targ *A)
{
  size_t M = A->dims[0], N = A->dims[1], K = M < N ? M : N, n;
  double s[8], U[64], V[64], y[TA_MAXV];
  ta_check_builtin("singular_values", A, 1, 1e-6, s, &n);
  ck_assert_uint_eq(n, K);
  ta_check_builtin("svd_U", A, 1, 1e-6, U, &n);
  ck_assert_uint_eq(n, M * K);
  ta_check_builtin("svd_V", A, 1, 1e-6, V, &n);
  ck_assert_uint_eq(n, N * K);
  for (size_t k = 0; k + 1 < K; k++) ck_assert(s[k] >= s[k + 1]);
  for (size_t i = 0; i < M; i++)
    for (size_t j = 0; j < N; j++) {
      double acc = 0;
      for (size_t k = 0; k < K; k++) acc += U[i + k * M] * s[k] * V[j + k * N];
      ck_assert_msg(fabs(acc - A->v[i + j * M]) < 1e-13, "A[%zu,%zu]: %.17g vs %.17g", i, j,
                    acc, A->v[i + j * M]);
    }
  for (size_t a = 0; a < K; a++)
    for (size_t b = 0; b < K; b++) {
      double uu = 0, vv = 0;
      for (size_t i = 0; i < M; i++) uu += U[i + a * M] * U[i + b * M];
      for (size_t i = 0; i < N; i++) vv += V[i + a * N] * V[i + b * N];
      ck_assert(fabs(uu - (a == b)) < 1e-13 && fabs(vv - (a == b)) < 1e-13);
    }
  (void)y;
}

START_TEST(t_svd)
{
  double y[TA_MAXV];
  size_t n;
  /* diag(3, -2): singular values 3, 2 */
  CHK("singular_values", 1e-6, 1, TM(2, 2, 3, 0, 0, -2));
  EXPECT("singular_values", 1e-14, 3, 2);
  /* [[1, 1], [0, 1]]: s^2 are the eigenvalues of A'A = [[1, 1], [1, 2]], (3 +- sqrt 5)/2 */
  CHK("singular_values", 1e-6, 1, TM(2, 2, 1, 0, 1, 1));
  EXPECT("singular_values", 1e-14, sqrt((3 + sqrt(5.0)) / 2), sqrt((3 - sqrt(5.0)) / 2));
  /* tall, wide and square, with gradients of U and V (Townsend's extra terms for the
   * non-square cases) */
  targ tall = TM(3, 2, 1.0, -0.4, 2.1, 0.3, 1.7, -0.8);
  targ wide = TM(2, 3, 1.0, -0.4, 2.1, 0.3, 1.7, -0.8);
  targ sq = TM(3, 3, 2.0, 0.5, -0.3, 0.1, 1.4, 0.7, -0.6, 0.2, 0.9);
  svd_identities(&tall);
  svd_identities(&wide);
  svd_identities(&sq);
  /* sum of squared singular values = squared Frobenius norm */
  CHK("singular_values", 1e-6, 1, TM(3, 2, 1.0, -0.4, 2.1, 0.3, 1.7, -0.8));
  ck_assert(fabs(y[0] * y[0] + y[1] * y[1] - (1 + .16 + 2.1 * 2.1 + .09 + 1.7 * 1.7 + .64))
            < 1e-13);
}
END_TEST

/* ---- QR (builtins_linalg.c): values, Q'Q = I, Q R = A, gradients ------------------ */

START_TEST(t_qr)
{
  double y[TA_MAXV], Q[16], R[16];
  size_t n;
  /* [[3, 1], [4, 2]]: Q = [[3, -4], [4, 3]] / 5, R = [[5, 11/5], [0, 2/5]] (R_22 > 0) */
  CHK("qr_thin_Q", 1e-6, 1, TM(2, 2, 3, 4, 1, 2));
  EXPECT("qr_thin_Q", 1e-14, 0.6, 0.8, -0.8, 0.6);
  CHK("qr_thin_R", 1e-6, 1, TM(2, 2, 3, 4, 1, 2));
  EXPECT("qr_thin_R", 1e-14, 5, 0, 2.2, 0.4);
  CHK("qr_Q", 1e-6, 1, TM(2, 2, 3, 4, 1, 2));
  CHK("qr_R", 1e-6, 1, TM(2, 2, 3, 4, 1, 2));
  /* tall 3 x 2: thin factors reconstruct A, with gradients; full R's extra row is 0 */
  const double At[6] = {1.0, -0.4, 2.1, 0.3, 1.7, -0.8};
  ta_check_builtin("qr_thin_Q", (targ[]){TM(3, 2, 1.0, -0.4, 2.1, 0.3, 1.7, -0.8)}, 1, 1e-6, Q, &n);
  ck_assert_uint_eq(n, 6);
  ta_check_builtin("qr_thin_R", (targ[]){TM(3, 2, 1.0, -0.4, 2.1, 0.3, 1.7, -0.8)}, 1, 1e-6, R, &n);
  ck_assert_uint_eq(n, 4);
  double QR[6];
  matmul(Q, R, QR, 3, 2, 2);
  for (int e = 0; e < 6; e++) ck_assert(fabs(QR[e] - At[e]) < 1e-14);
  ck_assert(R[0] > 0 && R[3] > 0 && R[1] == 0);
  CHK("qr_R", 1e-6, 1, TM(3, 2, 1.0, -0.4, 2.1, 0.3, 1.7, -0.8));
  ck_assert_uint_eq(n, 6);
  ck_assert(y[1] == 0 && y[2] == 0 && y[5] == 0);
  ck_assert(fabs(y[3] - R[2]) < 1e-15 && fabs(y[4] - R[3]) < 1e-15);
  CHK("qr_thin_Q", 1e-6, 1, TM(3, 3, 2.0, 0.5, -0.3, 0.1, 1.4, 0.7, -0.6, 0.2, 0.9));
  CHK("qr_Q", 1e-6, 1, TM(3, 3, 2.0, 0.5, -0.3, 0.1, 1.4, 0.7, -0.6, 0.2, 0.9));
  /* wide 2 x 3 and 3 x 5, and the full Q of tall 3 x 2 and 5 x 3 (columns beyond K:
   * what the reflections make them): the reverse of the reflections, every factor's
   * gradient against finite differences; Q R = A and Q'Q = I */
  static const struct { size_t r, c; double v[15]; } shapes[] = {
    {2, 3, {1.0, -0.4, 2.1, 0.3, 1.7, -0.8}},
    {3, 5, {0.7, -1.2, 0.4, 2.0, 0.3, -0.5, 0.1, 1.1, 0.9, -0.6, 0.8, 0.2, 1.5, -0.3, 0.4}},
    {3, 2, {1.0, -0.4, 2.1, 0.3, 1.7, -0.8}},
    {5, 3, {0.7, -1.2, 0.4, 2.0, 0.3, -0.5, 0.1, 1.1, 0.9, -0.6, 0.8, 0.2, 1.5, -0.3, 0.4}},
  };
  for (size_t k = 0; k < sizeof shapes / sizeof shapes[0]; k++) {
    size_t r = shapes[k].r, c = shapes[k].c, mn = r < c ? r : c;
    targ a = TM(r, c, 0);
    for (size_t e = 0; e < r * c; e++) a.v[e] = shapes[k].v[e];
    double Qf[25], Rf[25], Rt[25], QRf[25];
    ta_check_builtin("qr_Q", &a, 1, 1e-6, Qf, &n);
    ck_assert_uint_eq(n, r * r);
    ta_check_builtin("qr_R", &a, 1, 1e-6, Rf, &n);
    ck_assert_uint_eq(n, r * c);
    ta_check_builtin("qr_thin_Q", &a, 1, 1e-6, Q, &n);
    ck_assert_uint_eq(n, r * mn);
    ta_check_builtin("qr_thin_R", &a, 1, 1e-6, Rt, &n);
    ck_assert_uint_eq(n, mn * c);
    matmul(Qf, Rf, QRf, r, r, c);
    for (size_t e = 0; e < r * c; e++)
      ck_assert_msg(fabs(QRf[e] - a.v[e]) < 1e-14, "%zu x %zu: (QR)[%zu] %.17g", r, c, e,
                    QRf[e]);
    matmul(Q, Rt, QRf, r, mn, c);
    for (size_t e = 0; e < r * c; e++) ck_assert(fabs(QRf[e] - a.v[e]) < 1e-14);
    for (size_t i = 0; i < r; i++)
      for (size_t j = 0; j < r; j++) {
        double acc = 0;
        for (size_t l = 0; l < r; l++) acc += Qf[l + i * r] * Qf[l + j * r];
        ck_assert(fabs(acc - (i == j)) < 1e-14);
      }
    for (size_t i = 0; i < mn; i++) ck_assert(Rt[i + i * mn] > 0);
  }
}
END_TEST

/* ---- generalized_inverse, chol2inv ------------------------------------------------ */

START_TEST(t_generalized_inverse)
{
  double y[TA_MAXV];
  size_t n;
  /* square: the inverse */
  CHK("generalized_inverse", 1e-6, 1, TM(2, 2, 4, 2, 7, 6));
  EXPECT("generalized_inverse", 1e-13, 0.6, -0.2, -0.7, 0.4);
  /* tall (3 x 2) and wide (2 x 3): the Penrose conditions A X A = A, X A X = X */
  const double At[6] = {1.0, -0.4, 2.1, 0.3, 1.7, -0.8};
  for (int wide = 0; wide < 2; wide++) {
    size_t M = wide ? 2 : 3, N = wide ? 3 : 2;
    targ A = TM(M, N, 1.0, -0.4, 2.1, 0.3, 1.7, -0.8);
    ta_check_builtin("generalized_inverse", &A, 1, 1e-6, y, &n);
    ck_assert_uint_eq(n, 6);
    double AX[9], AXA[6], XA[9], XAX[6];
    matmul(At, y, AX, M, N, M);
    matmul(AX, At, AXA, M, M, N);
    matmul(y, At, XA, N, M, N);
    matmul(XA, y, XAX, N, N, M);
    for (int e = 0; e < 6; e++) {
      ck_assert(fabs(AXA[e] - At[e]) < 1e-13);
      ck_assert(fabs(XAX[e] - y[e]) < 1e-13);
    }
  }
  /* rank 1: [[1, 2], [2, 4]] = v v' with v = (1, 2): pinv = A / |v|^4 = A / 25 */
  ad_tape *t = ad_tape_alloc();
  ad_val *r = value_of(t, "generalized_inverse", (targ[]){TM(2, 2, 1, 2, 2, 4)}, 1);
  ck_assert_ptr_nonnull(r);
  const double ref[4] = {1 / 25., 2 / 25., 2 / 25., 4 / 25.};
  for (int e = 0; e < 4; e++) ck_assert(fabs(r->x[e] - ref[e]) < 1e-15);
  ad_tape_free(t);
}
END_TEST

START_TEST(t_chol2inv)
{
  double y[TA_MAXV];
  size_t n;
  /* L = [[2, 0], [1, 3]]: L L' = [[4, 2], [2, 10]], inverse [[10, -2], [-2, 4]] / 36 */
  CHK("chol2inv", 1e-6, 1, TM(2, 2, 2, 1, 0, 3));
  EXPECT("chol2inv", 1e-13, 10 / 36., -2 / 36., -2 / 36., 4 / 36.);
  /* the upper triangle is not read */
  CHK("chol2inv", 1e-6, 1, TM(2, 2, 2, 1, 0.5, 3));
  EXPECT("chol2inv", 1e-13, 10 / 36., -2 / 36., -2 / 36., 4 / 36.);
  CHK("chol2inv", 1e-6, 1, TM(3, 3, 1.5, 0.2, -0.4, 0, 0.9, 0.3, 0, 0, 1.2));
}
END_TEST

/* ---- matrix_exp ----------------------------------------------------------------- */

START_TEST(t_matrix_exp)
{
  double y[TA_MAXV];
  size_t n;
  /* diagonal */
  CHK("matrix_exp", 1e-6, 1, TM(2, 2, 0.3, 0, 0, -1.2));
  EXPECT("matrix_exp diag", 1e-14, exp(0.3), 0, 0, exp(-1.2));
  /* nilpotent: exp([[0, 1], [0, 0]]) = [[1, 1], [0, 1]]; 3 x 3 strictly upper */
  CHK("matrix_exp", 1e-6, 1, TM(2, 2, 0, 0, 1, 0));
  EXPECT("matrix_exp nilpotent", 1e-15, 1, 0, 1, 1);
  CHK("matrix_exp", 1e-6, 1, TM(3, 3, 0, 0, 0, 2, 0, 0, 1, 3, 0));
  /* N = [[0,2,1],[0,0,3],[0,0,0]]: I + N + N^2/2, N^2 = [[0,0,6],[0,0,0],[0,0,0]] */
  EXPECT("matrix_exp nilpotent 3", 1e-15, 1, 0, 0, 2, 1, 0, 4, 3, 1);
  /* rotation generator: exp([[0, -t], [t, 0]]) = [[cos t, -sin t], [sin t, cos t]], with
   * t in each Pade degree's range and beyond (squarings) */
  const double ts[] = {0.01, 0.2, 0.7, 1.5, 3.0, 10.0, 40.0};
  for (size_t k = 0; k < sizeof ts / sizeof ts[0]; k++) {
    double th = ts[k];
    CHK("matrix_exp", 1e-5, 1, TM(2, 2, 0, th, -th, 0));
    EXPECT("matrix_exp rotation", 1e-13 * (1 + th), cos(th), sin(th), -sin(th), cos(th));
  }
  /* Moler & Van Loan's example [[-49, 24], [-64, 31]] = V diag(-1, -17) V^-1 with
   * V = [[1, 3], [2, 4]]: ||A||_1 = 113 needs 5 squarings */
  CHK("matrix_exp", 1e-5, 1, TM(2, 2, -49, -64, 24, 31));
  {
    double e1 = exp(-1.0), e17 = exp(-17.0);
    /* V diag V^-1, V^-1 = [[-2, 1.5], [1, -0.5]] */
    double r00 = -2 * e1 + 3 * e17, r01 = 1.5 * e1 - 1.5 * e17;
    double r10 = -4 * e1 + 4 * e17, r11 = 3 * e1 - 2 * e17;
    EXPECT("matrix_exp Moler", 1e-12, r00, r10, r01, r11);
  }
  /* a general 3 x 3 (gradient through the block-triangular Frechet derivative) */
  CHK("matrix_exp", 1e-6, 1, TM(3, 3, 0.2, -0.5, 0.3, 1.1, -0.4, 0.6, -0.7, 0.25, 0.1));
  CHK("matrix_exp", 1e-6, 1, TM(3, 3, 2.2, -1.5, 0.3, 3.1, -0.4, 2.6, -2.7, 0.25, 1.1));
  /* exp(A) exp(-A) = I */
  {
    double Ea[9], Eb[9], P[9];
    CHK("matrix_exp", 1e-6, 1, TM(3, 3, 2.2, -1.5, 0.3, 3.1, -0.4, 2.6, -2.7, 0.25, 1.1));
    memcpy(Ea, y, sizeof Ea);
    CHK("matrix_exp", 1e-6, 1, TM(3, 3, -2.2, 1.5, -0.3, -3.1, 0.4, -2.6, 2.7, -0.25, -1.1));
    memcpy(Eb, y, sizeof Eb);
    matmul(Ea, Eb, P, 3, 3, 3);
    for (int i = 0; i < 3; i++)
      for (int j = 0; j < 3; j++) ck_assert(fabs(P[i + 3 * j] - (i == j)) < 1e-12);
  }
  /* the products: exp(A) B and exp(t A) B */
  double E[9];
  CHK("matrix_exp", 1e-6, 1, TM(2, 2, 0.2, -0.5, 1.1, -0.4));
  memcpy(E, y, 4 * sizeof *E);
  const double B[6] = {1, 2, -1, 0.5, 3, -2};
  double EB[6];
  matmul(E, B, EB, 2, 2, 3);
  CHK("matrix_exp_multiply", 1e-6, 2, TM(2, 2, 0.2, -0.5, 1.1, -0.4),
      TM(2, 3, 1, 2, -1, 0.5, 3, -2));
  expect(y, n, EB, 6, 1e-14, "matrix_exp_multiply");
  CHK("scale_matrix_exp_multiply", 1e-6, 3, TR(0.5), TM(2, 2, 0.4, -1.0, 2.2, -0.8),
      TM(2, 3, 1, 2, -1, 0.5, 3, -2));
  expect(y, n, EB, 6, 1e-14, "scale_matrix_exp_multiply");
  /* not square */
  ad_tape *t = ad_tape_alloc();
  ck_assert_ptr_null(value_of(t, "matrix_exp", (targ[]){TM(2, 3, 1, 2, 3, 4, 5, 6)}, 1));
  ck_assert_msg(strstr(ad_tape_error(t), "must be square"), "%s", ad_tape_error(t));
  ad_tape_free(t);
}
END_TEST

/* ---- special functions ------------------------------------------------------------ */

static double owen_integrand(double x, void *p)
{
  double h = *(double *)p;
  return exp(-0.5 * h * h * (1 + x * x)) / (1 + x * x) / (2 * M_PI);
}

/* Owen's T by GSL's adaptive quadrature on the defining integral, for reference. */
static double owens_t_ref(double h, double a)
{
  gsl_integration_workspace *w = gsl_integration_workspace_alloc(200);
  gsl_function F = {owen_integrand, &h};
  double r, err;
  int st = gsl_integration_qag(&F, 0, a, 0, 1e-13, 200, GSL_INTEG_GAUSS61, w, &r, &err);
  ck_assert_msg(st == 0, "reference quadrature: %s", gsl_strerror(st));
  gsl_integration_workspace_free(w);
  return r;
}

START_TEST(t_owens_t)
{
  double y[TA_MAXV];
  size_t n;
  /* T(0, a) = atan(a) / (2 pi) */
  CHK("owens_t", 1e-6, 2, TR(0.0), TR(2.5));
  EXPECT("owens_t(0, a)", 1e-14, atan(2.5) / (2 * M_PI));
  /* T(h, 1) = Phi(h) (1 - Phi(h)) / 2 */
  const double hs[] = {-1.3, 0.4, 2.0, 5.5};
  for (size_t k = 0; k < 4; k++) {
    CHK("owens_t", 1e-6, 2, TR(hs[k]), TR(1.0));
    double P = gsl_cdf_ugaussian_P(hs[k]);
    EXPECT("owens_t(h, 1)", 1e-13, 0.5 * P * (1 - P));
  }
  /* both regimes (|a| <= 1 by quadrature, |a| > 1 through Owen's identity), negative a,
   * against GSL's adaptive quadrature of the definition */
  const double cases[][2] = {{0.5, 0.3}, {1.7, 0.9}, {0.3, 2.5}, {2.2, 4.0}, {-1.1, -1.6},
                             {0.0625, 0.25}, {6.0, 0.5}, {3.5, 20.0}, {12.0, 0.8}};
  for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
    double h = cases[k][0], a = cases[k][1];
    CHK("owens_t", 1e-6, 2, TR(h), TR(a));
    double ref = a < 0 ? -owens_t_ref(h, -a) : owens_t_ref(h, a);
    ck_assert_msg(fabs(y[0] - ref) <= 1e-12 * fabs(ref) + 1e-300,
                  "owens_t(%g, %g) = %.17g, quadrature %.17g", h, a, y[0], ref);
  }
  /* T(h, inf) = Q(|h|) / 2 */
  ad_tape *t = ad_tape_alloc();
  ad_val *r = value_of(t, "owens_t", (targ[]){TR(0.7), TR(INFINITY)}, 2);
  ck_assert(fabs(r->x[0] - 0.5 * gsl_cdf_ugaussian_Q(0.7)) < 1e-15);
  ad_tape_free(t);
  /* vectorised */
  CHK("owens_t", 1e-6, 2, TV(3, 0.2, 1.0, 2.0), TR(1.5));
  ck_assert_uint_eq(n, 3);
}
END_TEST

START_TEST(t_inverse_functions)
{
  double y[TA_MAXV];
  size_t n;
  /* inv_inc_beta(1, b, p) = 1 - (1 - p)^(1/b) */
  CHK("inv_inc_beta", 1e-5, 3, TR(1.0), TR(2.5), TR(0.3));
  EXPECT("inv_inc_beta(1, b, p)", 1e-13, 1 - pow(0.7, 1 / 2.5));
  /* I_x(a, b) = p at the result, over shapes below and above 1 */
  const double cases[][3] = {{2.0, 3.0, 0.4}, {0.5, 0.5, 0.9}, {0.3, 4.0, 0.01},
                             {8.0, 1.5, 0.999}, {40.0, 30.0, 0.2}};
  for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
    double a = cases[k][0], b = cases[k][1], p = cases[k][2];
    CHK("inv_inc_beta", 1e-5, 3, TR(a), TR(b), TR(p));
    double back = gsl_sf_beta_inc(a, b, y[0]);
    ck_assert_msg(fabs(back - p) <= 1e-12 * p, "inv_inc_beta(%g, %g, %g) = %.17g: I = %.17g",
                  a, b, p, y[0], back);
  }
  {
    ad_tape *t = ad_tape_alloc();   /* a tiny root: x ~ 1e-20 */
    ad_val *r = value_of(t, "inv_inc_beta", (targ[]){TR(0.3), TR(4.0), TR(1e-6)}, 3);
    ck_assert(fabs(gsl_sf_beta_inc(0.3, 4.0, r->x[0]) - 1e-6) <= 1e-12 * 1e-6);
    ad_tape_free(t);
  }
  /* inv_erfc */
  CHK("inv_erfc", 1e-6, 1, TV(4, 0.3, 1.0, 1.7, 0.01));
  ck_assert(fabs(y[1]) < 1e-16);
  ad_tape *t0 = ad_tape_alloc();
  ad_val *r1 = value_of(t0, "inv_erfc", (targ[]){TR(1e-300)}, 1);
  ck_assert(fabs(erfc(r1->x[0]) - 1e-300) <= 1e-11 * 1e-300);   /* cond. number 2 y^2 ~ 1400 */
  ad_tape_free(t0);
  const double xs[4] = {0.3, 1.0, 1.7, 0.01};
  for (int k = 0; k < 4; k++)
    ck_assert_msg(fabs(erfc(y[k]) - xs[k]) <= 1e-14 * xs[k], "erfc(inv_erfc(%g))", xs[k]);
  /* std_normal_log_qf: inv_Phi(exp(lp)) where that is accurate; log Phi(x) = lp in the
   * far tail (exp(lp) underflows) and next to lp = 0 */
  const double lps[] = {-0.1, -0.69, -0.7, -2.0, -30.0};
  for (size_t k = 0; k < sizeof lps / sizeof lps[0]; k++) {
    CHK("std_normal_log_qf", 1e-6, 1, TR(lps[k]));
    /* above log 1/2 through the upper tail Q = -expm1(lp), which keeps its accuracy */
    double ok = lps[k] > -M_LN2
                    ? fabs(gsl_cdf_ugaussian_Q(y[0]) + expm1(lps[k])) / -expm1(lps[k])
                    : fabs(gsl_sf_log_erfc(-y[0] / M_SQRT2) - M_LN2 - lps[k]) / -lps[k];
    ck_assert_msg(ok <= 1e-13, "std_normal_log_qf(%g) = %.17g: relative error %g", lps[k],
                  y[0], ok);
  }
  CHK("std_normal_log_qf", 1e-6, 1, TR(-2.0));
  EXPECT("std_normal_log_qf(-2)", 1e-14, gsl_cdf_ugaussian_Pinv(exp(-2.0)));
  ad_tape *t = ad_tape_alloc();
  ad_val *r0 = value_of(t, "std_normal_log_qf", (targ[]){TR(-1e-10)}, 1);
  ck_assert(fabs(gsl_cdf_ugaussian_Q(r0->x[0]) - 1e-10) <= 1e-13 * 1e-10 * 1e3);
  const double far[] = {-800.0, -1e5};
  for (int k = 0; k < 2; k++) {
    ad_val *r = value_of(t, "std_normal_log_qf", (targ[]){TR(far[k])}, 1);
    double lP = gsl_sf_log_erfc(-r->x[0] / M_SQRT2) - M_LN2;
    ck_assert_msg(fabs(lP - far[k]) <= 1e-13 * fabs(far[k]), "far tail %g: %.17g", far[k], lP);
  }
  ad_val *r = value_of(t, "std_normal_log_qf", (targ[]){TR(0.0)}, 1);
  ck_assert(isinf(r->x[0]) && r->x[0] > 0);
  ad_tape_free(t);
}
END_TEST

/* ---- quantile, linspaced_int_array, uniform_simplex ------------------------------- */

START_TEST(t_sequences)
{
  double y[TA_MAXV];
  size_t n;
  /* R: quantile(c(3, 1, 4, 1, 5, 9, 2, 6), c(0, 0.1, 0.5, 0.9, 1)) =
   *    1, 1, 3.5, 6.9, 9 (type 7: h = 7 p) */
  ad_tape *tq = ad_tape_alloc();
  ad_val *q = value_of(tq, "quantile", (targ[]){TAR(8, 3, 1, 4, 1, 5, 9, 2, 6),
                                               TAR(5, 0, 0.1, 0.5, 0.9, 1)}, 2);
  ck_assert(q->type.base == VT_REAL && q->type.ndims == 1);
  expect(q->x, q->len, (double[]){1, 1, 3.5, 6.9, 9}, 5, 1e-14, "quantile");
  q = value_of(tq, "quantile", (targ[]){TV(3, 3, 1, 2), TR(0.25)}, 2);
  ck_assert(q->type.base == VT_REAL && q->type.ndims == 0);
  expect(q->x, q->len, (double[]){1.5}, 1, 1e-15, "quantile vector");
  q = value_of(tq, "quantile", (targ[]){TRV(4, 10, 20, 30, 40), TAR(2, 0.5, 1.0 / 3)}, 2);
  ck_assert(q->type.base == VT_ROW_VECTOR);
  expect(q->x, q->len, (double[]){25, 20}, 2, 1e-14, "quantile row_vector");
  ad_tape_free(tq);
  ad_tape *t = ad_tape_alloc();
  ck_assert_ptr_null(value_of(t, "quantile", (targ[]){TV(2, 1, 2), TR(1.5)}, 2));
  ck_assert_msg(strstr(ad_tape_error(t), "not in [0, 1]"), "%s", ad_tape_error(t));
  /* linspaced_int_array: Stan's documented cases */
  CHK("linspaced_int_array", 1e-6, 3, TI(5), TI(0), TI(11));
  EXPECT("linspaced_int_array(5, 0, 11)", 0, 0, 2, 4, 6, 8);
  CHK("linspaced_int_array", 1e-6, 3, TI(5), TI(0), TI(12));
  EXPECT("linspaced_int_array(5, 0, 12)", 0, 0, 3, 6, 9, 12);
  CHK("linspaced_int_array", 1e-6, 3, TI(5), TI(-2), TI(2));
  EXPECT("linspaced_int_array(5, -2, 2)", 0, -2, -1, 0, 1, 2);
  CHK("linspaced_int_array", 1e-6, 3, TI(1), TI(1), TI(5));
  EXPECT("linspaced_int_array(1, 1, 5)", 0, 5);
  CHK("linspaced_int_array", 1e-6, 3, TI(5), TI(0), TI(1));
  EXPECT("linspaced_int_array(5, 0, 1)", 0, 0, 0, 0, 1, 1);
  ck_assert_ptr_null(value_of(t, "linspaced_int_array", (targ[]){TI(3), TI(2), TI(1)}, 3));
  ck_assert_msg(strstr(ad_tape_error(t), "less than low"), "%s", ad_tape_error(t));
  ad_tape_free(t);
  CHK("uniform_simplex", 1e-6, 1, TI(4));
  EXPECT("uniform_simplex", 0, 0.25, 0.25, 0.25, 0.25);
}
END_TEST

/* ---- a model that uses them: gradient of the log density against finite differences */

static char *slurp(const char *path, size_t *len)
{
  FILE *f = fopen(path, "rb");
  ck_assert_msg(f != NULL, "cannot open %s", path);
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *buf = malloc((size_t)n + 1);
  ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
  buf[n] = 0;
  fclose(f);
  *len = (size_t)n;
  return buf;
}

START_TEST(t_model)
{
  const char *dir = getenv("top_srcdir");
  char path[1024];
  snprintf(path, sizeof path, "%s/tests/lang/valid/decompositions.stan", dir ? dir : ".");
  size_t len;
  char *src = slurp(path, &len);
  const char *json = "{\"N\": 4, \"X\": [[1, 0.5], [0.2, -1], [1.5, 0.3], [-0.7, 0.8]],"
                     " \"y\": [1.1, -0.4, 2.0, 0.3]}";
  vi_error err;
  int st;
  vi_program *p = vi_program_compile(src, len, "decompositions.stan", &err, &st);
  ck_assert_msg(p != NULL, "compile: %s", err.message);
  st = vi_program_load_data(p, json, strlen(json), "d.json", &err);
  ck_assert_msg(st == 0, "data: %s", err.message);
  vi_model m;
  ck_assert_int_eq(vi_program_model(p, &m), VI_SUCCESS);
  size_t D = m.dim;
  ck_assert_uint_eq(D, 2 + 1 + 3 + 1);
  double z[16], g[16], lp, lp1, lp2, gg[16];
  for (size_t i = 0; i < D; i++) z[i] = 0.3 * sin(1.7 * (double)i + 0.2);
  ck_assert_int_eq(m.log_joint(m.ctx, 1, z, &lp, g), VI_SUCCESS);
  ck_assert(isfinite(lp));
  for (size_t i = 0; i < D; i++) {
    double h = 1e-6, zi = z[i];
    z[i] = zi + h;
    m.log_joint(m.ctx, 1, z, &lp1, gg);
    z[i] = zi - h;
    m.log_joint(m.ctx, 1, z, &lp2, gg);
    z[i] = zi;
    double fd = (lp1 - lp2) / (2 * h);
    ck_assert_msg(fabs(g[i] - fd) <= 1e-6 * (1 + fabs(fd)), "d lp / d z[%zu]: %.10g vs %.10g",
                  i, g[i], fd);
  }
  vi_program_free(p);
  free(src);
}
END_TEST

static Suite *decomp_suite(void)
{
  Suite *s = suite_create("decomp");
  TCase *tc = tcase_create("decomp");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, t_svd);
  tcase_add_test(tc, t_qr);
  tcase_add_test(tc, t_generalized_inverse);
  tcase_add_test(tc, t_chol2inv);
  tcase_add_test(tc, t_matrix_exp);
  tcase_add_test(tc, t_owens_t);
  tcase_add_test(tc, t_inverse_functions);
  tcase_add_test(tc, t_sequences);
  tcase_add_test(tc, t_model);
  suite_add_tcase(s, tc);
  return s;
}

int main(void)
{
  gsl_set_error_handler_off();
  SRunner *r = srunner_create(decomp_suite());
  srunner_run_all(r, CK_NORMAL);
  int nf = srunner_ntests_failed(r);
  srunner_free(r);
  return nf ? EXIT_FAILURE : EXIT_SUCCESS;
}
