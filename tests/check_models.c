/* check_models.c: the C example models (models/c_models.h): gradients against central
 * finite differences, a batch of points equal to the points one by one, log_lik + prior =
 * log joint, the normal-mean evidence equal to the linear-regression evidence with a
 * column of ones, and the linear-regression evidence against the direct n x n formula
 * log N(y; 0, sigma^2 I + tau^2 X X'). */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <gsl/gsl_linalg.h>
#include <vi/status.h>
#include "c_models.h"

#define LOG_2PI 1.8378770664093454836

/* central differences of m at the n points z (n * dim), each coordinate */
static void check_grad(const vi_model *m, size_t n, const double *z, double tol)
{
  size_t D = m->dim;
  double *lp = malloc(n * sizeof(double)), *g = malloc(n * D * sizeof(double));
  double *zz = malloc(D * sizeof(double));
  ck_assert_int_eq(m->log_joint(m->ctx, n, z, lp, g), VI_SUCCESS);
  for (size_t s = 0; s < n; s++) {
    double one, g1[64];
    ck_assert_int_eq(m->log_joint(m->ctx, 1, z + s * D, &one, g1), VI_SUCCESS);
    ck_assert_double_eq_tol(one, lp[s], 1e-9 * fmax(1.0, fabs(one)));   /* batch = single */
    for (size_t j = 0; j < D; j++) {
      double h = 1e-5, fp, fm;
      memcpy(zz, z + s * D, D * sizeof(double));
      zz[j] += h;
      m->log_joint(m->ctx, 1, zz, &fp, NULL);
      zz[j] -= 2 * h;
      m->log_joint(m->ctx, 1, zz, &fm, NULL);
      double fd = (fp - fm) / (2 * h);
      ck_assert_double_eq_tol(g[s * D + j], fd, tol * fmax(1.0, fabs(fd)));
      ck_assert_double_eq_tol(g1[j], g[s * D + j], 1e-9 * fmax(1.0, fabs(fd)));
    }
  }
  free(lp); free(g); free(zz);
}

START_TEST(test_normal_mean)
{
  double y[30];
  cm_normal_simulate(3, 30, 1.5, 2.0, y);
  cm_normal *c = cm_normal_alloc(y, 30, 2.0, 0.0, 3.0);
  ck_assert_ptr_nonnull(c);
  vi_model m;
  cm_normal_model(c, &m);
  double z[] = {-1.0, 0.3, 2.7};
  check_grad(&m, 3, z, 1e-6);
  /* evidence by quadrature of p(y, theta) over theta */
  double s = 0.0, h = 1e-3, mx = -INFINITY, lps[20001];
  for (int k = 0; k <= 20000; k++) {
    double th = -10.0 + h * k;
    m.log_joint(m.ctx, 1, &th, &lps[k], NULL);
    if (lps[k] > mx) mx = lps[k];
  }
  for (int k = 0; k <= 20000; k++) s += exp(lps[k] - mx) * h;
  ck_assert_double_eq_tol(m.log_evidence, mx + log(s), 1e-8);
  ck_assert(m.has_log_evidence);
  cm_normal_free(c);
  cm_normal_free(NULL);
}
END_TEST

START_TEST(test_linreg)
{
  size_t n = 40, d = 3;
  double X[120], y[40], beta[3];
  cm_linreg_simulate(5, n, d, 0.7, X, y, beta);
  cm_linreg *c = cm_linreg_alloc(X, y, n, d, 0.7, 2.0);
  ck_assert_ptr_nonnull(c);
  vi_model m;
  cm_linreg_model(c, &m);
  double z[200 * 3];   /* more points than one GEMM block */
  for (int k = 0; k < 600; k++) z[k] = sin(0.37 * k) * 2.0;
  check_grad(&m, 200, z, 1e-6);
  /* log_lik + log prior = log joint */
  double lp[200], ll[200];
  m.log_joint(m.ctx, 200, z, lp, NULL);
  m.log_lik(m.ctx, 200, z, ll);
  for (int s = 0; s < 200; s++) {
    double pr = 0.0;
    for (size_t j = 0; j < d; j++)
      pr += -0.5 * (LOG_2PI + log(4.0)) - 0.5 * z[s * d + j] * z[s * d + j] / 4.0;
    ck_assert_double_eq_tol(ll[s] + pr, lp[s], 1e-9 * fabs(lp[s]));
  }
  /* evidence: direct n x n Cholesky of sigma^2 I + tau^2 X X' */
  gsl_matrix *K = gsl_matrix_alloc(n, n);
  for (size_t i = 0; i < n; i++)
    for (size_t k = 0; k < n; k++) {
      double v = 0.0;
      for (size_t j = 0; j < d; j++) v += X[i * d + j] * X[k * d + j];
      gsl_matrix_set(K, i, k, 4.0 * v + (i == k ? 0.49 : 0.0));
    }
  gsl_linalg_cholesky_decomp1(K);
  gsl_vector *a = gsl_vector_alloc(n);
  for (size_t i = 0; i < n; i++) gsl_vector_set(a, i, y[i]);
  gsl_blas_dtrsv(CblasLower, CblasNoTrans, CblasNonUnit, K, a);
  double q = 0.0, ld = 0.0;
  for (size_t i = 0; i < n; i++) {
    q += gsl_vector_get(a, i) * gsl_vector_get(a, i);
    ld += 2.0 * log(gsl_matrix_get(K, i, i));
  }
  double direct = -0.5 * ((double)n * LOG_2PI + ld + q);
  ck_assert_double_eq_tol(cm_linreg_log_evidence(c), direct, 1e-9 * fabs(direct));
  ck_assert_double_eq_tol(m.log_evidence, direct, 1e-9 * fabs(direct));
  gsl_vector_free(a);
  gsl_matrix_free(K);
  /* mean-field sds are 1/sqrt(diag precision) <= posterior marginal sds */
  double mean[3], cov[9], mm[3], sd[3];
  cm_linreg_posterior(c, mean, cov);
  cm_linreg_mean_field(c, mm, sd);
  for (size_t j = 0; j < d; j++) {
    ck_assert_double_eq(mm[j], mean[j]);
    ck_assert(sd[j] <= sqrt(cov[j * d + j]) * (1 + 1e-12));
  }
  cm_linreg_free(c);
  cm_linreg_free(NULL);
}
END_TEST

START_TEST(test_normal_is_linreg_with_ones)
{
  double y[25], X[25];
  cm_normal_simulate(11, 25, -0.5, 1.3, y);
  for (int i = 0; i < 25; i++) X[i] = 1.0;
  cm_normal *a = cm_normal_alloc(y, 25, 1.3, 0.0, 2.5);
  cm_linreg *b = cm_linreg_alloc(X, y, 25, 1, 1.3, 2.5);
  ck_assert_double_eq_tol(cm_normal_log_evidence(a), cm_linreg_log_evidence(b), 1e-10);
  double m1, s1, m2, s2;
  cm_normal_posterior(a, &m1, &s1);
  cm_linreg_mean_field(b, &m2, &s2);
  ck_assert_double_eq_tol(m1, m2, 1e-12);
  ck_assert_double_eq_tol(s1, s2, 1e-12);
  cm_normal_free(a);
  cm_linreg_free(b);
}
END_TEST

START_TEST(test_logreg)
{
  size_t n = 300, d = 4;
  double *X = malloc(n * d * sizeof(double));
  int *y = malloc(n * sizeof(int));
  cm_logreg_simulate(9, n, d, X, y, NULL);
  cm_logreg *c = cm_logreg_alloc(X, y, n, d, 1.5);
  ck_assert_ptr_nonnull(c);
  vi_model m;
  cm_logreg_model(c, &m);
  ck_assert(!m.has_log_evidence);
  double z[100 * 4];
  for (int k = 0; k < 400; k++) z[k] = cos(0.71 * k) * 1.5;
  check_grad(&m, 100, z, 1e-6);
  /* extreme coefficients: no overflow, values finite */
  double big[4] = {800.0, -800.0, 500.0, 0.0}, lp, g[4];
  m.log_joint(m.ctx, 1, big, &lp, g);
  ck_assert(isfinite(lp));
  for (int j = 0; j < 4; j++) ck_assert(isfinite(g[j]));
  int bad[3] = {0, 2, 1};
  ck_assert_ptr_null(cm_logreg_alloc(X, bad, 3, 1, 1.0));
  cm_logreg_free(c);
  free(X);
  free(y);
}
END_TEST

int main(void)
{
  Suite *s = suite_create("models");
  TCase *tc = tcase_create("core");
  tcase_set_timeout(tc, 300);
  tcase_add_test(tc, test_normal_mean);
  tcase_add_test(tc, test_linreg);
  tcase_add_test(tc, test_normal_is_linreg_with_ones);
  tcase_add_test(tc, test_logreg);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int nf = srunner_ntests_failed(sr);
  srunner_free(sr);
  return nf == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
