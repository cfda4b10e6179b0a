/* check_complex.c: complex numbers in the language.  Values against independent
 * references written in real arithmetic in the same language (the DFT by its
 * definition for fft / inv_fft / fft2, the closed-form eigenvalues of 2 x 2 and
 * companion matrices, Euler's formula, the parts of products and quotients), so the
 * log density and its gradient must agree to rounding; gradients of real functions of
 * complex intermediates against central finite differences; complex JSON data and its
 * located errors; the CSV names z.real / z.imag. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <vi/lang.h>
#include <vi/status.h>
#include "program_testutil.h"

/* ---- values against real-arithmetic references ------------------------------------- */

static const char *FFT_DATA = "{\"N\": 5}";

/* fft of a parameter vector (N = 5: a mixed-radix length) against the DFT by definition,
 * X_k = sum_n x_n e^{-2 pi i k n / N}; both feed the same real function of the result. */
START_TEST(test_fft_is_the_dft)
{
  const char *cx =
      "data { int N; }\n"
      "parameters { vector[N] a; vector[N] b; }\n"
      "model {\n"
      "  complex_vector[N] X = fft(to_complex(a, b));\n"
      "  for (k in 1:N) target += -0.5 * (get_real(X[k]) * k + get_imag(X[k]) ^ 2 / k);\n"
      "  complex_vector[N] x = inv_fft(X);\n"
      "  target += -0.5 * dot_self(get_real(x)) - 0.25 * dot_self(get_imag(x));\n"
      "}\n";
  const char *ref =
      "data { int N; }\n"
      "parameters { vector[N] a; vector[N] b; }\n"
      "model {\n"
      "  for (k in 1:N) {\n"
      "    real re = 0, im = 0;\n"
      "    for (n in 1:N) {\n"
      "      real th = -2 * pi() * (k - 1) * (n - 1) / N;\n"
      "      re += a[n] * cos(th) - b[n] * sin(th);\n"
      "      im += a[n] * sin(th) + b[n] * cos(th);\n"
      "    }\n"
      "    target += -0.5 * (re * k + im ^ 2 / k);\n"
      "  }\n"
      "  target += -0.5 * dot_self(a) - 0.25 * dot_self(b);\n"
      "}\n";
  same_model(cx, ref, FFT_DATA, 4, 1e-12);
}
END_TEST

/* fft2 on a 2 x 3 matrix against the 2-D DFT by definition; inv_fft2 undoes it. */
START_TEST(test_fft2_is_the_2d_dft)
{
  const char *cx =
      "parameters { matrix[2, 3] a; }\n"
      "model {\n"
      "  complex_matrix[2, 3] X = fft2(a);\n"
      "  complex_matrix[2, 3] Y = inv_fft2(X);\n"
      "  for (j in 1:3) for (i in 1:2)\n"
      "    target += -0.5 * (get_real(X[i, j]) * (i + 2 * j) + get_imag(X[i, j]) ^ 2)\n"
      "              - get_real(Y[i, j]) ^ 2 - get_imag(Y[i, j]);\n"
      "}\n";
  const char *ref =
      "parameters { matrix[2, 3] a; }\n"
      "model {\n"
      "  for (j in 1:3) for (i in 1:2) {\n"
      "    real re = 0, im = 0;\n"
      "    for (q in 1:3) for (p in 1:2) {\n"
      "      real th = -2 * pi() * ((i - 1) * (p - 1) / 2.0 + (j - 1) * (q - 1) / 3.0);\n"
      "      re += a[p, q] * cos(th);\n"
      "      im += a[p, q] * sin(th);\n"
      "    }\n"
      "    target += -0.5 * (re * (i + 2 * j) + im ^ 2) - a[i, j] ^ 2;\n"
      "  }\n"
      "}\n";
  same_model(cx, ref, NULL, 4, 1e-12);
}
END_TEST

/* Arithmetic and functions against their real-part formulas: (a+bi)(c+di),
 * (a+bi)/(c+di), e^{a+bi} = e^a (cos b + i sin b), |z|, arg z, z^2, conj, polar. */
START_TEST(test_arithmetic_against_parts)
{
  const char *cx =
      "parameters { real a; real b; real c; real d; }\n"
      "model {\n"
      "  complex z = to_complex(a, b), w = c + d * 1i;\n"
      "  complex p = z * w, q = z / (w + 3), e = exp(z), s = z ^ 2, k = conj(z) - polar(c, d);\n"
      "  target += get_real(p) + 2 * get_imag(p) + get_real(q) - get_imag(q)\n"
      "            + 0.1 * get_real(e) + 0.2 * get_imag(e) - abs(z) + arg(w + 3)\n"
      "            + get_real(s) * 0.3 + get_imag(s) + get_real(k) - get_imag(k) - norm(w);\n"
      "}\n";
  const char *ref =
      "parameters { real a; real b; real c; real d; }\n"
      "model {\n"
      "  real pr = a * c - b * d, pi_ = a * d + b * c;\n"
      "  real den = (c + 3) ^ 2 + d ^ 2;\n"
      "  real qr = (a * (c + 3) + b * d) / den, qi = (b * (c + 3) - a * d) / den;\n"
      "  target += pr + 2 * pi_ + qr - qi + 0.1 * exp(a) * cos(b) + 0.2 * exp(a) * sin(b)\n"
      "            - sqrt(a ^ 2 + b ^ 2) + atan2(d, c + 3)\n"
      "            + (a ^ 2 - b ^ 2) * 0.3 + 2 * a * b + (a - c * cos(d)) - (-b - c * sin(d))\n"
      "            - (c ^ 2 + d ^ 2);\n"
      "}\n";
  same_model(cx, ref, NULL, 4, 1e-12);
}
END_TEST

/* The eigenvalues of a real 2 x 2 matrix [[p, q], [r, s]] are
 * (p + s)/2 +- sqrt(((p - s)/2)^2 + q r); with q r < -((p - s)/2)^2 a conjugate pair.
 * The sum of the moduli and of the real parts (order-free) against that formula. */
START_TEST(test_eigenvalues_2x2)
{
  const char *cx =
      "parameters { real p; real s; }\n"
      "model {\n"
      "  complex_vector[2] l = eigenvalues([[p, -2 - p ^ 2], [1.5, s]]);\n"
      "  target += sum(abs(l)) + 0.3 * sum(get_real(l)) - 0.5 * (p ^ 2 + s ^ 2)\n"
      "            + 0.2 * abs(get_imag(l[1]));\n"
      "}\n";
  const char *ref =
      "parameters { real p; real s; }\n"
      "model {\n"
      "  real m = (p + s) / 2, disc = ((p - s) / 2) ^ 2 + (-2 - p ^ 2) * 1.5;\n"
      "  // disc < 0 at every test point: a pair m +- i sqrt(-disc), |l| = sqrt(m^2 - disc)\n"
      "  target += 2 * sqrt(m ^ 2 - disc) + 0.3 * 2 * m - 0.5 * (p ^ 2 + s ^ 2)\n"
      "            + 0.2 * sqrt(-disc);\n"
      "}\n";
  same_model(cx, ref, NULL, 4, 1e-10);
}
END_TEST

/* The largest eigenvalue modulus of a VAR(1) companion matrix with real eigenvalues
 * (an upper-triangular one: the diagonal), as the posteriordb VAR models compute it. */
START_TEST(test_eigenvalues_triangular)
{
  const char *cx =
      "parameters { vector[3] d; }\n"
      "model {\n"
      "  matrix[3, 3] A = [[d[1], 0.5, -0.2], [0, d[2], 0.3], [0, 0, d[3]]];\n"
      "  complex_vector[3] l = eigenvalues(A);\n"
      "  target += -0.5 * dot_self(d) + sum(get_real(l) .* get_real(l)) * 0.1\n"
      "            + sum(get_imag(l));\n"
      "}\n";
  const char *ref =
      "parameters { vector[3] d; }\n"
      "model { target += -0.5 * dot_self(d) + dot_self(d) * 0.1; }\n";
  same_model(cx, ref, NULL, 4, 1e-10);
}
END_TEST

/* complex_schur_decompose_t/_u of a real 4 x 4 matrix with two complex pairs:
 * U T U^H = A, U^H U = I, T upper triangular, trace and determinant kept; the
 * residuals (scaled by 1e6) must vanish, so the density is the reference's. */
START_TEST(test_complex_schur)
{
  const char *cx =
      "data { matrix[4, 4] A; }\n"
      "parameters { real x; }\n"
      "model {\n"
      "  complex_matrix[4, 4] T = complex_schur_decompose_t(A);\n"
      "  complex_matrix[4, 4] U = complex_schur_decompose_u(A);\n"
      "  complex_matrix[4, 4] Uh = conj(U');\n"
      "  real r = sum(abs(U * T * Uh - A)) + sum(abs(Uh * U - diag_matrix(rep_vector(1, 4))));\n"
      "  complex tr = 0, det = 1;\n"
      "  for (i in 1:4) { tr += T[i, i]; det *= T[i, i]; for (j in 1:(i - 1)) r += abs(T[i, j]); }\n"
      "  r += abs(tr - trace(A)) + abs(det - determinant(A));\n"
      "  x ~ normal(0, 1);\n"
      "  target += -1e6 * r;\n"
      "}\n";
  const char *ref =
      "data { matrix[4, 4] A; }\n"
      "parameters { real x; }\n"
      "model { x ~ normal(0, 1); }\n";
  const char *json = "{\"A\": [[1, -2, 0, 0.5], [2, 1, 0.3, 0], [0, 0.1, -1, 3],"
                     " [0.2, 0, -3, -1]]}";
  same_model(cx, ref, json, 3, 1e-7);
}
END_TEST

/* ---- gradients against finite differences ------------------------------------------ */

START_TEST(test_gradients_fd)
{
  static const char *const models[] = {
    /* elementwise functions, holomorphic and not */
    "parameters { real a; real b; }\n"
    "model { complex z = to_complex(a, b + 2);\n"
    "  complex v = log(z) + sqrt(z) + sin(z) * cos(z) + tanh(z) + asin(z / 5) + acos(z / 5)\n"
    "              + atan(z) + sinh(z) / cosh(z) + asinh(z) + acosh(z + 2) + atanh(z / 5)\n"
    "              + log10(z) + tan(z / 4) + pow(z, 0.5 + 0.1i) + proj(z);\n"
    "  target += get_real(v) - 0.3 * get_imag(v) + arg(z) - 0.5 * (a ^ 2 + b ^ 2); }\n",
    /* complex vectors and matrices: products, transpose, sums, fft */
    "parameters { vector[3] a; vector[3] b; }\n"
    "model { complex_vector[3] v = to_complex(a, b);\n"
    "  complex_matrix[3, 3] M = v * v';\n"
    "  complex_row_vector[3] r = v' * M;\n"
    "  complex s = r * v + sum(fft(v) .* conj(v)) + sum(exp(v / 3));\n"
    "  target += get_real(s) * 0.01 + get_imag(s) * 0.02 + sum(abs(inv_fft(v)))\n"
    "            - 0.5 * dot_self(a) - 0.5 * dot_self(b); }\n",
    /* eigenvalues of a general 3 x 3 matrix (distinct eigenvalues) */
    "parameters { matrix[3, 3] A; }\n"
    "model { complex_vector[3] l = eigenvalues(A + diag_matrix([1, 2, 3.5]'));\n"
    "  target += sum(abs(l)) + sum(get_real(l)) * 0.5 - 0.5 * dot_self(to_vector(A)); }\n",
    /* eigenvectors of a matrix with real distinct eigenvalues (Gershgorin discs apart):
     * real unit vectors whose signs stay put, so any function of them has a gradient */
    "parameters { matrix[3, 3] A; }\n"
    "model { matrix[3, 3] B = diag_matrix([1, 3, 6]') + 0.3 * A;\n"
    "  complex_matrix[3, 3] V = eigenvectors(B);\n"
    "  matrix[3, 3] W = [[0.3, -1.2, 0.5], [0.7, 0.2, -0.4], [-0.9, 1.1, 0.6]];\n"
    "  for (i in 1:3) for (k in 1:3) target += W[i, k] * get_real(V[i, k]) + get_imag(V[i, k]);\n"
    "  target += -0.5 * dot_self(to_vector(A)); }\n",
    /* a complex pair: eigenvectors are unique up to a phase each, so only functions
     * that do not depend on it (moduli, v_ik conj(v_jk)) have gradients; with the
     * eigenvalues of the same call (eigendecompose) */
    "parameters { matrix[3, 3] A; }\n"
    "model { matrix[3, 3] B = [[1, -2, 0], [2, 1, 0], [0, 0, 3]] + 0.3 * A;\n"
    "  tuple(complex_vector[3], complex_matrix[3, 3]) e = eigendecompose(B);\n"
    "  matrix[3, 3] W = [[0.3, -1.2, 0.5], [0.7, 0.2, -0.4], [-0.9, 1.1, 0.6]];\n"
    "  for (k in 1:3) {\n"
    "    for (i in 1:3) target += W[i, k] * abs(e.2[i, k]);\n"
    "    target += 0.4 * get_real(e.2[1, k] * conj(e.2[2, k]))\n"
    "              - 0.7 * get_imag(e.2[2, k] * conj(e.2[3, k])) + 0.2 * get_imag(e.1[k]);\n"
    "  }\n"
    "  target += -0.5 * dot_self(to_vector(A)); }\n",
    /* the complex Schur decomposition of a 4 x 4 matrix with two complex pairs and of a
     * 3 x 3 with a pair and a real eigenvalue: unique up to a phase per column of U, so
     * functions that do not depend on it (T's diagonal, |T_ij|, |U_ik|,
     * U_ik conj(U_jk)) */
    "parameters { matrix[4, 4] A; }\n"
    "model { matrix[4, 4] B = [[1, -2, 0, 0.5], [2, 1, 0.3, 0], [0, 0.1, -1, 3],"
    " [0.2, 0, -3, -1]] + 0.2 * A;\n"
    "  tuple(complex_matrix[4, 4], complex_matrix[4, 4]) ut = complex_schur_decompose(B);\n"
    "  complex_matrix[4, 4] T = complex_schur_decompose_t(B);\n"
    "  for (k in 1:4) {\n"
    "    target += 0.3 * get_real(T[k, k]) - 0.2 * k * get_imag(T[k, k]);\n"
    "    for (i in 1:4) target += 0.1 * (i - k) * abs(ut.1[i, k]) + (i < k) * 0.15 * i * abs(ut.2[i, k]);\n"
    "    target += 0.4 * get_real(ut.1[1, k] * conj(ut.1[3, k]))\n"
    "              - 0.6 * get_imag(ut.1[2, k] * conj(ut.1[4, k]));\n"
    "  }\n"
    "  target += -0.5 * dot_self(to_vector(A)); }\n",
    "parameters { matrix[3, 3] A; }\n"
    "model { matrix[3, 3] B = [[1, -2, 0.4], [2, 1, 0], [0.3, 0, 3]] + 0.3 * A;\n"
    "  complex_matrix[3, 3] U = complex_schur_decompose_u(B);\n"
    "  complex_matrix[3, 3] T = complex_schur_decompose_t(B);\n"
    "  for (k in 1:3) {\n"
    "    target += 0.5 * get_real(T[k, k]) + 0.25 * abs(get_imag(T[k, k]));\n"
    "    for (i in 1:3) target += 0.2 * (i + 2 * k) * abs(U[i, k]) + (i < k) * abs(T[i, k]);\n"
    "    target += 0.3 * get_imag(U[1, k] * conj(U[2, k])) + 0.3 * get_real(U[3, k] * conj(U[2, k]));\n"
    "  }\n"
    "  target += -0.5 * dot_self(to_vector(A)); }\n",
  };
  for (size_t i = 0; i < sizeof models / sizeof models[0]; i++) fd_check(models[i], NULL);
}
END_TEST

/* ---- data and output ----------------------------------------------------------------- */

START_TEST(test_json_data)
{
  const char *src =
      "data { complex z; complex_vector[2] v; complex_matrix[2, 2] m; array[2] complex a; }\n"
      "parameters { real x; }\n"
      "model { x ~ normal(get_real(z) + get_imag(v[2]) + get_imag(m[1, 2])\n"
      "                   + get_real(a[2]), 1); }\n"
      "generated quantities { complex w = z * 1i; complex_vector[2] u = v; }\n";
  const char *good = "{\"z\": [1, 2], \"v\": [[0, 0], [0, 3]],"
                     " \"m\": [[[0, 0], [0, 5]], [[0, 0], [0, 0]]], \"a\": [[0, 0], [7, 1]]}";
  vi_error err;
  int st;
  vi_program *p = vi_program_compile(src, strlen(src), "c.stan", &err, &st);
  ck_assert_msg(p != NULL, "compile: %s", err.message);
  st = vi_program_load_data(p, good, strlen(good), "c.json", &err);
  ck_assert_msg(st == 0, "data: %s", err.message);
  vi_model m;
  ck_assert_int_eq(vi_program_model(p, &m), VI_SUCCESS);
  double z = 16, lp, g;   /* the mean is 1 + 3 + 5 + 7 = 16: the gradient is 0 there */
  ck_assert_int_eq(m.log_joint(m.ctx, 1, &z, &lp, &g), VI_SUCCESS);
  ck_assert_msg(fabs(g) < 1e-12, "gradient %g at the mean", g);
  ck_assert_msg(fabs(lp + 0.91893853320467274) < 1e-12, "lp %g", lp);
  /* output names: CmdStan's z.real, z.imag, element by element */
  const char *want[] = {"x", "w.real", "w.imag", "u.1.real", "u.1.imag", "u.2.real",
                        "u.2.imag"};
  ck_assert_uint_eq(m.n_out, 7);
  for (size_t i = 0; i < m.n_out; i++) ck_assert_str_eq(m.out_names[i], want[i]);
  /* malformed complex values: located errors */
  static const char *const bad[][2] = {
    {"{\"z\": 1, \"v\": [[0, 0], [0, 3]], \"m\": [[[0, 0], [0, 5]], [[0, 0], [0, 0]]],"
     " \"a\": [[0, 0], [7, 1]]}", "variable 'z': z should be a complex number, a list "
     "[real part, imaginary part], found an integer"},
    {"{\"z\": [1, 2], \"v\": [[0, 0], [0, 3, 4]], \"m\": [[[0, 0], [0, 5]], [[0, 0], [0, 0]]],"
     " \"a\": [[0, 0], [7, 1]]}", "variable 'v': v[2] should be a complex number, a list "
     "[real part, imaginary part], found a list of 3"},
    {"{\"z\": [1, 2], \"v\": [[0, 0], [0, 3]], \"m\": [[[0, 0], [0, \"x\"]], [[0, 0], [0, 0]]],"
     " \"a\": [[0, 0], [7, 1]]}", "variable 'm': m[1, 2, 2] should be a number"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    st = vi_program_load_data(p, bad[i][0], strlen(bad[i][0]), "c.json", &err);
    ck_assert_int_eq(st, VI_EDATA);
    ck_assert_msg(strstr(err.message, bad[i][1]) != NULL, "message: %s\nwanted: %s",
                  err.message, bad[i][1]);
  }
  vi_program_free(p);
}
END_TEST

static Suite *suite(void)
{
  Suite *s = suite_create("complex");
  TCase *tc = tcase_create("core");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, test_fft_is_the_dft);
  tcase_add_test(tc, test_fft2_is_the_2d_dft);
  tcase_add_test(tc, test_arithmetic_against_parts);
  tcase_add_test(tc, test_eigenvalues_2x2);
  tcase_add_test(tc, test_eigenvalues_triangular);
  tcase_add_test(tc, test_complex_schur);
  tcase_add_test(tc, test_gradients_fd);
  tcase_add_test(tc, test_json_data);
  suite_add_tcase(s, tc);
  return s;
}

int main(void)
{
  SRunner *sr = srunner_create(suite());
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
