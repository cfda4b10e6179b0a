/* check_info.c: the information utilities (vi/info.h) and the importance-sampling helpers
 * of the engine against hand-computed values and identities: KL >= 0, asymmetry,
 * KL = H(P,Q) - H(P), +inf where Q = 0 < P, diagonal vs full Gaussian KL, log-sum-exp,
 * PSIS k-hat on samples with a known generalized Pareto tail, PSIS smoothing, and
 * resampling without replacement (moments corrected, probabilities proportional). */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <vi/info.h>
#include <vi/status.h>
#include <vi/fit.h>
#include "engine/evidence.h"

START_TEST(test_entropy_hand)
{
  double p[] = {0.5, 0.25, 0.25, 0.0};
  ck_assert_double_eq_tol(vi_info_entropy(p, 4), 1.5 * log(2.0), 1e-15);
  double u[] = {0.25, 0.25, 0.25, 0.25};
  ck_assert_double_eq_tol(vi_info_entropy(u, 4), log(4.0), 1e-15);
  double d[] = {1.0, 0.0};
  ck_assert_double_eq(vi_info_entropy(d, 2), 0.0);
}
END_TEST

START_TEST(test_cross_entropy_kl_hand)
{
  double p[] = {0.5, 0.5}, q[] = {0.25, 0.75};
  double hpq = -(0.5 * log(0.25) + 0.5 * log(0.75));
  ck_assert_double_eq_tol(vi_info_cross_entropy(p, q, 2), hpq, 1e-15);
  /* KL(p||q) = 0.5 log 2 + 0.5 log(2/3) = 0.5 log(4/3) */
  ck_assert_double_eq_tol(vi_info_kl_discrete(p, q, 2), 0.5 * log(4.0 / 3.0), 1e-15);
  /* KL(q||p) = 0.25 log(0.5) + 0.75 log(1.5): differs (asymmetry) */
  double kqp = 0.25 * log(0.5) + 0.75 * log(1.5);
  ck_assert_double_eq_tol(vi_info_kl_discrete(q, p, 2), kqp, 1e-15);
  ck_assert(fabs(kqp - 0.5 * log(4.0 / 3.0)) > 1e-3);
  ck_assert_double_eq(vi_info_kl_discrete(p, p, 2), 0.0);
}
END_TEST

START_TEST(test_kl_identity_nonneg)
{
  gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
  gsl_rng_set(r, 7);
  for (int t = 0; t < 200; t++) {
    size_t n = 2 + (size_t)(t % 9);
    double p[10], q[10], sp = 0, sq = 0;
    for (size_t i = 0; i < n; i++) {
      p[i] = gsl_rng_uniform(r) * (t % 3 == 0 && i == 0 ? 0.0 : 1.0);
      q[i] = gsl_rng_uniform_pos(r);
      sp += p[i];
      sq += q[i];
    }
    for (size_t i = 0; i < n; i++) { p[i] /= sp; q[i] /= sq; }
    double kl = vi_info_kl_discrete(p, q, n);
    ck_assert(kl >= 0.0);
    ck_assert_double_eq_tol(kl, vi_info_cross_entropy(p, q, n) - vi_info_entropy(p, n), 1e-12);
  }
  gsl_rng_free(r);
}
END_TEST

START_TEST(test_kl_infinite)
{
  double p[] = {0.5, 0.5, 0.0}, q[] = {1.0, 0.0, 0.0}, r[] = {0.4, 0.4, 0.2};
  ck_assert(isinf(vi_info_kl_discrete(p, q, 3)) && vi_info_kl_discrete(p, q, 3) > 0);
  ck_assert(isinf(vi_info_cross_entropy(p, q, 3)));
  /* Q(x) > 0 = P(x) is fine: finite */
  ck_assert(isfinite(vi_info_kl_discrete(p, r, 3)));
  ck_assert(isfinite(vi_info_kl_discrete(q, p, 3)));
  ck_assert_double_eq_tol(vi_info_kl_discrete(q, p, 3), log(2.0), 1e-15);
}
END_TEST

START_TEST(test_kl_gaussian)
{
  /* 1-D by hand: KL(N(0,1) || N(1, 2^2)) = log 2 + (1 + 1) / 8 - 1/2 */
  double m1 = 0, s1 = 1, m2 = 1, s2 = 2;
  double hand = log(2.0) + 2.0 / 8.0 - 0.5;
  ck_assert_double_eq_tol(vi_info_kl_diag_gaussian(1, &m1, &s1, &m2, &s2), hand, 1e-15);
  double S1 = 1, S2 = 4, kl;
  ck_assert_int_eq(vi_info_kl_gaussian(1, &m1, &S1, &m2, &S2, &kl), VI_SUCCESS);
  ck_assert_double_eq_tol(kl, hand, 1e-14);
  /* diagonal covariances: full and diagonal forms agree; KL(N||N) = 0; asymmetric */
  double mu1[] = {0.3, -1.0, 2.0}, sd1[] = {0.5, 1.5, 1.0};
  double mu2[] = {-0.2, 0.0, 2.5}, sd2[] = {1.0, 0.7, 3.0};
  double C1[9] = {0}, C2[9] = {0};
  for (int j = 0; j < 3; j++) { C1[j * 4] = sd1[j] * sd1[j]; C2[j * 4] = sd2[j] * sd2[j]; }
  double kd = vi_info_kl_diag_gaussian(3, mu1, sd1, mu2, sd2);
  ck_assert_int_eq(vi_info_kl_gaussian(3, mu1, C1, mu2, C2, &kl), VI_SUCCESS);
  ck_assert_double_eq_tol(kl, kd, 1e-12);
  ck_assert(kd > 0);
  ck_assert(fabs(kd - vi_info_kl_diag_gaussian(3, mu2, sd2, mu1, sd1)) > 1e-3);
  ck_assert_int_eq(vi_info_kl_gaussian(3, mu1, C1, mu1, C1, &kl), VI_SUCCESS);
  ck_assert_double_eq_tol(kl, 0.0, 1e-14);
  /* a correlated case by hand: S1 = I, S2 = [[2,1],[1,2]] (det 3, inverse [[2,-1],[-1,2]]/3),
   * mu2 - mu1 = (1, 0): 1/2 (4/3 + 2/3 - 2 + log 3) */
  double a[] = {0, 0}, b[] = {1, 0}, I2[] = {1, 0, 0, 1}, S[] = {2, 1, 1, 2};
  ck_assert_int_eq(vi_info_kl_gaussian(2, a, I2, b, S, &kl), VI_SUCCESS);
  ck_assert_double_eq_tol(kl, 0.5 * (4.0 / 3.0 + 2.0 / 3.0 - 2.0 + log(3.0)), 1e-14);
  double bad[] = {1, 2, 2, 1};   /* not positive definite */
  ck_assert_int_eq(vi_info_kl_gaussian(2, a, I2, b, bad, &kl), VI_EINVAL);
}
END_TEST

START_TEST(test_log_sum_exp)
{
  double x[] = {1000.0, 1000.0};
  ck_assert_double_eq_tol(vi_info_log_sum_exp(x, 2), 1000.0 + log(2.0), 1e-12);
  double y[] = {-INFINITY, log(3.0), log(5.0)};
  ck_assert_double_eq_tol(vi_info_log_sum_exp(y, 3), log(8.0), 1e-14);
  double z[] = {-INFINITY, -INFINITY};
  ck_assert(isinf(vi_info_log_sum_exp(z, 2)) && vi_info_log_sum_exp(z, 2) < 0);
  ck_assert(isinf(vi_info_log_sum_exp(NULL, 0)) && vi_info_log_sum_exp(NULL, 0) < 0);
}
END_TEST

/* log-weights whose distribution is exactly a generalized Pareto with shape k */
static double khat_for(double k, size_t n, unsigned long seed)
{
  gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
  gsl_rng_set(r, seed);
  double *lw = malloc(n * sizeof(double));
  for (size_t i = 0; i < n; i++) {
    double u = gsl_rng_uniform_pos(r);
    lw[i] = log((pow(u, -k) - 1.0) / k);   /* inverse CDF, sigma = 1 */
  }
  double kh = vi_info_psis_khat(lw, n);
  free(lw);
  gsl_rng_free(r);
  return kh;
}

START_TEST(test_psis_khat)
{
  for (unsigned long s = 1; s <= 3; s++) {
    ck_assert_double_eq_tol(khat_for(0.3, 4000, s), 0.3, 0.12);
    ck_assert_double_eq_tol(khat_for(0.8, 4000, s), 0.8, 0.12);
  }
  /* light tails (normal log-weights from a nearly right q): small k-hat */
  gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
  gsl_rng_set(r, 3);
  double lw[4000];
  for (int i = 0; i < 4000; i++) lw[i] = 0.1 * gsl_ran_gaussian(r, 1.0);
  ck_assert(vi_info_psis_khat(lw, 4000) < 0.5);
  gsl_rng_free(r);
  ck_assert(isnan(vi_info_psis_khat(lw, 4)));
}
END_TEST


/* Draws from a proposal N(0, sg^2), target N(m, 1): log weights, and the draws. */
static void psis_draws(gsl_rng *r, size_t n, double sg, double m, double *x, double *lw)
{
  for (size_t i = 0; i < n; i++) {
    x[i] = sg * gsl_ran_gaussian_ziggurat(r, 1.0);
    double a = x[i] - m, b = x[i] / sg;
    lw[i] = -0.5 * a * a + 0.5 * b * b + log(sg);
  }
}

/* Smoothing: the tail is replaced, never above the largest raw weight, the body is kept,
 * and the k-hat is vi_info_psis_khat's. */
START_TEST(test_psis_smooth)
{
  size_t n = 4000;
  double *x = malloc(n * sizeof(double)), *lw = malloc(n * sizeof(double));
  double *raw = malloc(n * sizeof(double));
  gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
  gsl_rng_set(r, 11);
  psis_draws(r, n, 1.0, 0.0, x, lw);
  for (size_t i = 0; i < n; i++) lw[i] = 3.0 * lw[i] + 0.7 * x[i] * x[i];   /* heavier */
  for (size_t i = 0; i < n; i++) raw[i] = lw[i];
  double k = vi_info_psis_smooth(lw, n);
  ck_assert_double_eq(k, vi_info_psis_khat(raw, n));
  double top = raw[0];
  for (size_t i = 1; i < n; i++) top = fmax(top, raw[i]);
  size_t changed = 0;
  for (size_t i = 0; i < n; i++) {
    ck_assert(lw[i] <= top);
    if (lw[i] != raw[i]) changed++;
  }
  /* the tail is M = min(n / 5, 3 sqrt(n)) = 190 weights; ties with the raw are rare */
  ck_assert_uint_le(changed, 190);
  ck_assert_uint_ge(changed, 150);
  /* too few weights: unchanged */
  double few[4] = {1, 2, 3, 4};
  ck_assert(isnan(vi_info_psis_smooth(few, 4)));
  ck_assert_double_eq(few[3], 4.0);
  gsl_rng_free(r);
  free(x); free(lw); free(raw);
}
END_TEST

/* Resampling corrects the moments: from N(0, 2^2) to N(1, 1), k-hat small, the kept
 * draws' mean 1 and sd 1 within Monte Carlo error; and the law of one draw without
 * replacement is proportional to the weights. */
START_TEST(test_psis_resample_moments)
{
  size_t S = 20000, n = 2000;
  double *x = malloc(S * sizeof(double)), *lw = malloc(S * sizeof(double));
  size_t *idx = malloc(n * sizeof(size_t));
  gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
  gsl_rng_set(r, 5);
  psis_draws(r, S, 2.0, 1.0, x, lw);
  double k = vi_info_psis_smooth(lw, S);
  ck_assert_msg(k < 0.5, "k-hat %g", k);
  ck_assert_int_eq(vi_info_resample(lw, S, n, r, idx), VI_SUCCESS);
  double s = 0.0, ss = 0.0;
  for (size_t i = 0; i < n; i++) {
    if (i) ck_assert_uint_lt(idx[i - 1], idx[i]);   /* distinct, ascending */
    s += x[idx[i]];
  }
  double mean = s / (double)n;
  for (size_t i = 0; i < n; i++) ss += (x[idx[i]] - mean) * (x[idx[i]] - mean);
  double sd = sqrt(ss / (double)(n - 1));
  ck_assert_msg(fabs(mean - 1.0) < 0.1, "mean %g", mean);   /* raw proposal: 0 */
  ck_assert_msg(fabs(sd - 1.0) < 0.1, "sd %g", sd);         /* raw proposal: 2 */
  /* one draw of three weights 1:2:5, many times: frequencies 1/8, 2/8, 5/8 */
  double w3[3] = {0.0, log(2.0), log(5.0)};
  size_t cnt[3] = {0, 0, 0}, one;
  for (int t = 0; t < 40000; t++) {
    ck_assert_int_eq(vi_info_resample(w3, 3, 1, r, &one), VI_SUCCESS);
    cnt[one]++;
  }
  ck_assert(fabs(cnt[0] / 40000.0 - 0.125) < 0.01);
  ck_assert(fabs(cnt[2] / 40000.0 - 0.625) < 0.01);
  /* zero weights never drawn; too few positive; bad arguments */
  double wz[3] = {-INFINITY, 0.0, -INFINITY};
  ck_assert_int_eq(vi_info_resample(wz, 3, 1, r, &one), VI_SUCCESS);
  ck_assert_uint_eq(one, 1);
  size_t two[2];
  ck_assert_int_eq(vi_info_resample(wz, 3, 2, r, two), VI_ENONFINITE);
  ck_assert_int_eq(vi_info_resample(wz, 3, 4, r, two), VI_EINVAL);
  double wn[2] = {0.0, NAN};
  ck_assert_int_eq(vi_info_resample(wn, 2, 1, r, two), VI_EINVAL);
  gsl_rng_free(r);
  free(x); free(lw); free(idx);
}
END_TEST

/* q exact: equal weights, no tail (k-hat -inf), every draw equally likely; q far too
 * narrow (N(0, 1) for N(0, 3^2)): k-hat > 0.7. */
START_TEST(test_psis_exact_and_bad)
{
  size_t S = 5000;
  double *x = malloc(S * sizeof(double)), *lw = malloc(S * sizeof(double));
  gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
  gsl_rng_set(r, 9);
  psis_draws(r, S, 1.0, 0.0, x, lw);
  ck_assert(vi_info_psis_smooth(lw, S) == -INFINITY);
  for (size_t i = 0; i < S; i++) ck_assert_double_eq_tol(lw[i], 0.0, 1e-12);
  for (size_t i = 0; i < S; i++) {
    x[i] = gsl_ran_gaussian_ziggurat(r, 1.0);
    lw[i] = -0.5 * x[i] * x[i] / 9.0 + 0.5 * x[i] * x[i] - log(3.0);
  }
  double k = vi_info_psis_smooth(lw, S);
  ck_assert_msg(k > 0.7, "k-hat %g", k);
  gsl_rng_free(r);
  free(x); free(lw);
}
END_TEST

/* The smoothed weights: the same tail fit as k-hat; below the tail the weights are
 * untouched, the tail keeps its order and stays between the cut-off and the largest
 * weight; the quantile function inverts the GPD's CDF. */
START_TEST(test_psis_smooth_tail)
{
  const size_t n = 2000;
  gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
  gsl_rng_set(r, 5);
  double *lw = malloc(n * sizeof(double)), *sm = malloc(n * sizeof(double));
  for (size_t i = 0; i < n; i++)
    lw[i] = log((pow(gsl_rng_uniform_pos(r), -0.6) - 1.0) / 0.6) + 3.0;
  vi_psis_tail t;
  ck_assert_int_eq(vi_info_psis(lw, n, sm, &t), 0);
  ck_assert_double_eq(t.k, vi_info_psis_khat(lw, n));
  ck_assert_uint_eq(t.n_tail, (size_t)ceil(fmin(0.2 * n, 3.0 * sqrt((double)n))));
  ck_assert(t.sigma > 0.0 && t.cutoff > 0.0 && t.cutoff < 1.0);
  double top = -INFINITY;
  for (size_t i = 0; i < n; i++) top = fmax(top, lw[i]);
  ck_assert_double_eq(t.log_max, top);
  size_t changed = 0;
  for (size_t i = 0; i < n; i++) {
    int in_tail = lw[i] > top + log(t.cutoff);
    if (!in_tail) ck_assert_double_eq(sm[i], lw[i]);
    changed += sm[i] != lw[i];
    if (in_tail) {
      ck_assert(sm[i] <= top && sm[i] >= top + log(t.cutoff));
      for (size_t j = 0; j < n; j++)   /* order kept within the tail */
        if (lw[j] > top + log(t.cutoff) && lw[j] < lw[i]) ck_assert(sm[j] <= sm[i]);
    }
  }
  ck_assert(changed > 0 && changed <= t.n_tail);
  for (double p = 0.05; p < 1.0; p += 0.1) {
    double k = 0.4, s = 2.0, x = vi_info_gpd_quantile(p, k, s);
    ck_assert_double_eq_tol(1.0 - pow(1.0 + k * x / s, -1.0 / k), p, 1e-13);
    ck_assert_double_eq_tol(vi_info_gpd_quantile(p, 0.0, s), -s * log1p(-p), 1e-13);
  }
  lw[7] = NAN;
  ck_assert_int_eq(vi_info_psis(lw, n, sm, &t), -1);
  double few[] = {1.0, 2.0, 3.0};
  ck_assert_int_eq(vi_info_psis(few, 3, sm, &t), 0);
  ck_assert(isnan(t.k) && t.n_tail == 0 && sm[2] == 3.0);
  free(lw);
  free(sm);
  gsl_rng_free(r);
}
END_TEST

START_TEST(test_importance_sampling)
{
  double lw[] = {2.0, 2.0, 2.0, 2.0};
  double lz, se;
  evidence_is(lw, 4, &lz, &se);
  ck_assert_double_eq_tol(lz, 2.0, 1e-15);
  ck_assert_double_eq_tol(se, 0.0, 1e-15);
  ck_assert_double_eq_tol(evidence_forward_kl(lw, 4), 0.0, 1e-15);
  /* weights 1 and 3: mean 2, sd sqrt(2), se = sqrt(2)/sqrt(2)/2 = 0.5 */
  double lv[] = {0.0, log(3.0)};
  evidence_is(lv, 2, &lz, &se);
  ck_assert_double_eq_tol(lz, log(2.0), 1e-15);
  ck_assert_double_eq_tol(se, 0.5, 1e-15);
  /* normalised weights (1/4, 3/4) vs uniform: KL = 1/4 log(1/2) + 3/4 log(3/2) */
  ck_assert_double_eq_tol(evidence_forward_kl(lv, 2), 0.25 * log(0.5) + 0.75 * log(1.5),
                          1e-15);
  double lu[] = {-INFINITY, 0.0};
  ck_assert_double_eq_tol(evidence_forward_kl(lu, 2), log(2.0), 1e-15);
}
END_TEST

START_TEST(test_strings)
{
  for (int s = -14; s <= 1; s++) ck_assert_ptr_nonnull(vi_strerror(s));
  ck_assert_str_eq(vi_strerror(VI_SUCCESS), "success");
  for (int r = VI_STOP_NONE; r <= VI_STOP_FAILED; r++)
    ck_assert_ptr_nonnull(vi_stop_reason_string((vi_stop_reason)r));
}
END_TEST

int main(void)
{
  Suite *s = suite_create("info");
  TCase *tc = tcase_create("core");
  tcase_set_timeout(tc, 120);   /* generous: sanitizer and valgrind runs are slow */
  tcase_add_test(tc, test_entropy_hand);
  tcase_add_test(tc, test_cross_entropy_kl_hand);
  tcase_add_test(tc, test_kl_identity_nonneg);
  tcase_add_test(tc, test_kl_infinite);
  tcase_add_test(tc, test_kl_gaussian);
  tcase_add_test(tc, test_log_sum_exp);
  tcase_add_test(tc, test_psis_khat);
  tcase_add_test(tc, test_psis_smooth);
  tcase_add_test(tc, test_psis_resample_moments);
  tcase_add_test(tc, test_psis_exact_and_bad);
  tcase_add_test(tc, test_psis_smooth_tail);
  tcase_add_test(tc, test_importance_sampling);
  tcase_add_test(tc, test_strings);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int nf = srunner_ntests_failed(sr);
  srunner_free(sr);
  return nf == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
