/* check_lrvb.c: the linear-response covariance (vi/lrvb.h).
 *  - correlated Gaussian targets (D = 10 and 100, lag-one correlations 0.99, sds from 0.5
 *    to 5.5, written here with their exact gradient): after a mean-field fit, Sigma_LR
 *    equals the exact covariance (sds to 1e-6 relative, every entry to 1e-6 of
 *    sd_i sd_j), where the mean-field sds are 3-10x too small;
 *  - a conjugate linear regression on an uncentred predictor with an interaction (the
 *    earnings kind): Sigma_LR equals the closed-form posterior covariance;
 *  - a logistic regression: Sigma_LR equals the one assembled from the analytic Hessians
 *    at the fit's draws (1e-6; central differences at h = 1e-4 sd give 3e-11 there,
 *    forward differences 5e-6 at that step and 5e-8 at best);
 *  - the cost: exactly M + 2 D M model points (the base draws, then a central difference
 *    per coordinate), in batched calls;
 *  - a Hessian that is not negative definite (q at the local minimum of a double well)
 *    is reported as VI_ENOTPD with the count of its non-positive eigenvalues, cov left
 *    untouched; bad arguments and a stochastic fit are VI_EINVAL. */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <gsl/gsl_linalg.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <vi/fit.h>
#include <vi/lrvb.h>
#include <vi/status.h>
#include "c_models.h"
#include "engine/fit_internal.h"

#define LOG_2PI 1.8378770664093454836

/* ---- a Gaussian target N(m, S) with its exact gradient ------------------------------ */
typedef struct {
  size_t D;
  double *m, *S, *P;   /* mean, covariance, precision */
  double log_norm;     /* -D/2 log 2 pi - 1/2 log det S */
  size_t calls;
} gauss_target;

/* S_ij = sd_i sd_j rho^|i-j| with sd_i = 0.5 + 5 i / (D - 1) */
static gauss_target *gauss_alloc(size_t D, double rho)
{
  gauss_target *t = calloc(1, sizeof *t);
  t->D = D;
  t->m = malloc(D * sizeof(double));
  t->S = malloc(D * D * sizeof(double));
  t->P = malloc(D * D * sizeof(double));
  for (size_t i = 0; i < D; i++) {
    t->m[i] = (double)i - 3.0;
    double si = 0.5 + 5.0 * (double)i / (double)(D - 1);
    for (size_t j = 0; j < D; j++) {
      double sj = 0.5 + 5.0 * (double)j / (double)(D - 1);
      t->S[i * D + j] = si * sj * pow(rho, fabs((double)i - (double)j));
    }
  }
  memcpy(t->P, t->S, D * D * sizeof(double));
  gsl_matrix_view Pv = gsl_matrix_view_array(t->P, D, D);
  ck_assert_int_eq(gsl_linalg_cholesky_decomp1(&Pv.matrix), GSL_SUCCESS);
  double logdet = 0.0;
  for (size_t i = 0; i < D; i++) logdet += 2.0 * log(t->P[i * D + i]);
  ck_assert_int_eq(gsl_linalg_cholesky_invert(&Pv.matrix), GSL_SUCCESS);
  t->log_norm = -0.5 * (double)D * LOG_2PI - 0.5 * logdet;
  return t;
}

static void gauss_free(gauss_target *t)
{
  free(t->m); free(t->S); free(t->P); free(t);
}

static int gauss_log_joint(void *ctx, size_t n, const double *z, double *lp, double *grad)
{
  gauss_target *t = ctx;
  size_t D = t->D;
  double *r = malloc(D * sizeof(double));
  t->calls++;
  for (size_t s = 0; s < n; s++) {
    const double *zs = z + s * D;
    for (size_t j = 0; j < D; j++) r[j] = zs[j] - t->m[j];
    double q = 0.0;
    for (size_t i = 0; i < D; i++) {
      double pr = 0.0;
      for (size_t j = 0; j < D; j++) pr += t->P[i * D + j] * r[j];
      q += r[i] * pr;
      if (grad) grad[s * D + i] = -pr;
    }
    lp[s] = t->log_norm - 0.5 * q;
  }
  free(r);
  return VI_SUCCESS;
}

static vi_fit *fit_to_end(const vi_model *m, const vi_options *opt)
{
  int st;
  vi_fit *f = vi_fit_alloc(m, opt, &st);
  ck_assert_int_eq(st, VI_SUCCESS);
  st = vi_fit_run(f, NULL, NULL);
  ck_assert_int_eq(st, VI_SUCCESS);
  return f;
}

/* cov against the reference S: sds to tol relative, entries to tol of sd_i sd_j. */
static void assert_cov(const double *cov, const double *S, size_t D, double tol)
{
  for (size_t i = 0; i < D; i++) {
    double sd = sqrt(S[i * D + i]);
    ck_assert_msg(fabs(sqrt(cov[i * D + i]) / sd - 1.0) < tol, "sd %zu: %.12g vs %.12g", i,
                  sqrt(cov[i * D + i]), sd);
    for (size_t j = 0; j < D; j++) {
      double sj = sqrt(S[j * D + j]);
      ck_assert_msg(fabs(cov[i * D + j] - S[i * D + j]) < tol * sd * sj,
                    "cov %zu %zu: %.12g vs %.12g", i, j, cov[i * D + j], S[i * D + j]);
    }
  }
}

static void check_gaussian(size_t D)
{
  gauss_target *t = gauss_alloc(D, 0.99);
  vi_model m = {.dim = D, .log_joint = gauss_log_joint, .ctx = t};
  vi_options opt;
  vi_options_default(&opt);
  opt.init = VI_INIT_LAPLACE;
  vi_fit *f = fit_to_end(&m, &opt);
  /* the mean-field sds are 1/sqrt(P_jj): far too small at correlation 0.99 */
  const double *sd = vi_fit_sd(f);
  double ratio_max = 0.0;
  for (size_t j = 0; j < D; j++) {
    double r = sqrt(t->S[j * D + j]) / sd[j];
    if (r > ratio_max) ratio_max = r;
  }
  ck_assert_msg(ratio_max > 3.0, "mean-field sds only %.3g x too small", ratio_max);

  double *cov = malloc(D * D * sizeof(double));
  vi_lrvb_info info;
  size_t calls = t->calls;
  ck_assert_int_eq(vi_fit_lrvb(f, cov, &info), VI_SUCCESS);
  assert_cov(cov, t->S, D, 1e-6);
  ck_assert_uint_ge(info.draws, opt.draws);   /* the final M of adaptive M */
  ck_assert_uint_eq(info.n_points, info.draws + 2 * D * info.draws);
  ck_assert_uint_eq(info.n_calls, t->calls - calls);
  ck_assert_uint_lt(info.n_calls, 2 + D);   /* batched */
  ck_assert_uint_eq(info.n_negative, 0);
  ck_assert(isnan(info.min_eig));
  /* q itself untouched */
  ck_assert(vi_fit_sd(f) == sd);
  free(cov);
  vi_fit_free(f);
  gauss_free(t);
}

START_TEST(test_gaussian_10) { check_gaussian(10); }
END_TEST

START_TEST(test_gaussian_100) { check_gaussian(100); }
END_TEST

/* y = b0 + b1 x + b2 w + b3 x w + e: x ~ 66 + 4 N(0,1) (uncentred, as height), w in
 * {0, 1}; intercept and slope correlated at about -0.99. */
START_TEST(test_linreg_uncentred)
{
  size_t n = 200, d = 4;
  double *X = malloc(n * d * sizeof(double)), *y = malloc(n * sizeof(double));
  gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
  gsl_rng_set(r, 7);
  for (size_t i = 0; i < n; i++) {
    double x = 66.0 + 4.0 * gsl_ran_gaussian_ziggurat(r, 1.0), w = (double)(i % 2);
    X[i * d + 0] = 1.0;
    X[i * d + 1] = x;
    X[i * d + 2] = w;
    X[i * d + 3] = x * w;
    y[i] = -60.0 + 1.3 * x + 5.0 * w - 0.05 * x * w + 2.0 * gsl_ran_gaussian_ziggurat(r, 1.0);
  }
  gsl_rng_free(r);
  cm_linreg *c = cm_linreg_alloc(X, y, n, d, 2.0, 100.0);
  ck_assert_ptr_nonnull(c);
  vi_model m;
  cm_linreg_model(c, &m);
  vi_options opt;
  vi_options_default(&opt);
  opt.init = VI_INIT_LAPLACE;
  vi_fit *f = fit_to_end(&m, &opt);
  double S[16], cov[16];
  cm_linreg_posterior(c, NULL, S);
  ck_assert(S[1] / sqrt(S[0] * S[5]) < -0.99);
  ck_assert(sqrt(S[0]) / vi_fit_sd(f)[0] > 5.0);   /* mean-field: far too small */
  vi_lrvb_info info;
  ck_assert_int_eq(vi_fit_lrvb(f, cov, &info), VI_SUCCESS);
  assert_cov(cov, S, d, 1e-6);
  vi_fit_free(f);
  cm_linreg_free(c);
  free(X);
  free(y);
}
END_TEST

/* log p = sum_j -(z_j^2 - 1)^2: at z = 0 a local minimum (curvature +4 per coordinate) */
static int well_log_joint(void *ctx, size_t n, const double *z, double *lp, double *grad)
{
  size_t D = *(const size_t *)ctx;
  for (size_t s = 0; s < n; s++) {
    lp[s] = 0.0;
    for (size_t j = 0; j < D; j++) {
      double x = z[s * D + j], a = x * x - 1.0;
      lp[s] -= a * a;
      if (grad) grad[s * D + j] = -4.0 * a * x;
    }
  }
  return VI_SUCCESS;
}

START_TEST(test_not_positive_definite)
{
  size_t D = 3;
  vi_model m = {.dim = D, .log_joint = well_log_joint, .ctx = &D};
  vi_options opt;
  vi_options_default(&opt);
  opt.init = VI_INIT_ZERO;
  opt.init_sd = 0.05;
  int st;
  vi_fit *f = vi_fit_alloc(&m, &opt, &st);
  ck_assert_int_eq(st, VI_SUCCESS);
  double cov[9] = {42.0};
  vi_lrvb_info info;
  ck_assert_int_eq(vi_fit_lrvb(f, cov, &info), VI_ENOTPD);
  /* mu: -d2L/dmu2 ~ -4; omega: ~ -8 sd^2: every eigenvalue is negative */
  ck_assert_uint_eq(info.n_negative, 2 * D);
  ck_assert(info.min_eig < -3.0);
  ck_assert(cov[0] == 42.0);
  ck_assert_str_eq(vi_strerror(VI_ENOTPD), "matrix not positive definite");
  vi_fit_free(f);
}
END_TEST

START_TEST(test_bad_arguments)
{
  gauss_target *t = gauss_alloc(3, 0.5);
  vi_model m = {.dim = 3, .log_joint = gauss_log_joint, .ctx = t};
  double cov[9];
  vi_lrvb_info info;
  ck_assert_int_eq(vi_fit_lrvb(NULL, cov, &info), VI_EINVAL);
  vi_options opt;
  vi_options_default_for(&opt, VI_FRESH_DRAWS);
  opt.max_iter = 10;
  int st;
  vi_fit *f = vi_fit_alloc(&m, &opt, &st);
  ck_assert_int_eq(st, VI_SUCCESS);
  ck_assert_int_eq(vi_fit_lrvb(f, NULL, &info), VI_EINVAL);
  ck_assert_int_eq(vi_fit_lrvb(f, cov, &info), VI_EINVAL);   /* fresh draws */
  vi_fit_free(f);
  vi_options_default(&opt);
  f = vi_fit_alloc(&m, &opt, &st);
  ck_assert_int_eq(vi_fit_lrvb(f, cov, NULL), VI_SUCCESS);   /* info optional */
  vi_fit_free(f);
  gauss_free(t);
}
END_TEST


/* ---- a logistic regression with its analytic Hessian: the differences against it ---- */
typedef struct {
  size_t n, d;
  double X[60 * 3];
  int y[60];
} logit_target;

static int logit_log_joint(void *ctx, size_t n, const double *z, double *lp, double *grad)
{
  logit_target *t = ctx;
  size_t d = t->d;
  for (size_t s = 0; s < n; s++) {
    const double *b = z + s * d;
    lp[s] = 0.0;
    for (size_t j = 0; j < d; j++) {
      lp[s] -= 0.5 * b[j] * b[j];
      if (grad) grad[s * d + j] = -b[j];
    }
    for (size_t i = 0; i < t->n; i++) {
      double eta = 0.0;
      for (size_t j = 0; j < d; j++) eta += t->X[i * d + j] * b[j];
      double p = 1.0 / (1.0 + exp(-eta));
      lp[s] += t->y[i] ? -log1p(exp(-eta)) : -log1p(exp(eta));
      if (grad)
        for (size_t j = 0; j < d; j++) grad[s * d + j] += ((double)t->y[i] - p) * t->X[i * d + j];
    }
  }
  return VI_SUCCESS;
}

/* Sigma_LR from the analytic Hessians H_s = -X' diag(p (1 - p)) X - I at the fit's draws
 * (reconstructed from q and the objective's definition), inverted directly (LU). */
static void logit_exact_lrvb(const logit_target *t, const double *mu, const double *sd,
                             const double *eps, size_t M, double *cov)
{
  size_t d = t->d, N = 2 * d;
  gsl_matrix *K = gsl_matrix_calloc(N, N), *Ki = gsl_matrix_alloc(N, N);
  gsl_permutation *perm = gsl_permutation_alloc(N);
  double z[3], H[9];
  for (size_t s = 0; s < M; s++) {
    const double *e = eps + s * d;
    for (size_t j = 0; j < d; j++) z[j] = mu[j] + sd[j] * e[j];
    double g[3];
    for (size_t j = 0; j < d; j++) { g[j] = -z[j]; for (size_t k = 0; k < d; k++) H[j * d + k] = j == k ? -1.0 : 0.0; }
    for (size_t i = 0; i < t->n; i++) {
      double eta = 0.0;
      for (size_t j = 0; j < d; j++) eta += t->X[i * d + j] * z[j];
      double p = 1.0 / (1.0 + exp(-eta));
      for (size_t j = 0; j < d; j++) {
        g[j] += ((double)t->y[i] - p) * t->X[i * d + j];
        for (size_t k = 0; k < d; k++) H[j * d + k] -= p * (1 - p) * t->X[i * d + j] * t->X[i * d + k];
      }
    }
    /* eta = (mu, omega) here */
    for (size_t j = 0; j < d; j++)
      for (size_t k = 0; k < d; k++) {
        double tj = e[j] * sd[j], tk = e[k] * sd[k], h = -H[j * d + k] / (double)M;
        *gsl_matrix_ptr(K, j, k) += h;
        *gsl_matrix_ptr(K, j, d + k) += h * tk;
        *gsl_matrix_ptr(K, d + j, k) += h * tj;
        *gsl_matrix_ptr(K, d + j, d + k) += h * tj * tk;
      }
    for (size_t j = 0; j < d; j++) *gsl_matrix_ptr(K, d + j, d + j) -= g[j] * e[j] * sd[j] / (double)M;
  }
  int sg;
  gsl_linalg_LU_decomp(K, perm, &sg);
  gsl_linalg_LU_invert(K, perm, Ki);
  for (size_t j = 0; j < d; j++)
    for (size_t k = 0; k < d; k++) cov[j * d + k] = gsl_matrix_get(Ki, j, k);
  gsl_matrix_free(K); gsl_matrix_free(Ki); gsl_permutation_free(perm);
}

START_TEST(test_logistic_analytic)
{
  logit_target t = {.n = 60, .d = 3};
  gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
  gsl_rng_set(r, 3);
  for (size_t i = 0; i < t.n; i++) {
    double x = 66.0 + 4.0 * gsl_ran_gaussian_ziggurat(r, 1.0);
    t.X[i * 3] = 1.0;
    t.X[i * 3 + 1] = (x - 66.0) / 4.0;
    t.X[i * 3 + 2] = gsl_ran_gaussian_ziggurat(r, 1.0);
    double eta = 0.5 + 1.5 * t.X[i * 3 + 1] - t.X[i * 3 + 2];
    t.y[i] = gsl_rng_uniform(r) < 1.0 / (1.0 + exp(-eta));
  }
  gsl_rng_free(r);
  vi_model m = {.dim = 3, .log_joint = logit_log_joint, .ctx = &t};
  vi_options opt;
  vi_options_default(&opt);
  opt.draws_max = 0;
  vi_fit *f = fit_to_end(&m, &opt);
  double cov[9], ref[9];
  ck_assert_int_eq(vi_fit_lrvb(f, cov, NULL), VI_SUCCESS);
  /* at the fit's own (standardized) draws */
  logit_exact_lrvb(&t, vi_fit_mean(f), vi_fit_sd(f), f->obj.eps, f->obj.draws, ref);
  assert_cov(cov, ref, 3, 1e-6);
  vi_fit_free(f);
}
END_TEST

int main(void)
{
  Suite *s = suite_create("lrvb");
  TCase *tc = tcase_create("lrvb");
  tcase_set_timeout(tc, 600);
  tcase_add_test(tc, test_gaussian_10);
  tcase_add_test(tc, test_gaussian_100);
  tcase_add_test(tc, test_linreg_uncentred);
  tcase_add_test(tc, test_logistic_analytic);
  tcase_add_test(tc, test_not_positive_definite);
  tcase_add_test(tc, test_bad_arguments);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int nf = srunner_ntests_failed(sr);
  srunner_free(sr);
  return nf == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
