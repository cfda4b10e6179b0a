/* check_ode_stiff.c: the stiff ODE solver (ode_bdf.c) on plain doubles, and ode_bdf /
 * ode_bdf_tol / integrate_ode_bdf / ode_adjoint_tol_ctl in the model language.
 *
 * References: Robertson's chemical kinetics against the published reference values
 * (the Test Set for IVP Solvers, Mazzia & Magherini, Bari, at t = 1e11; Hairer & Wanner,
 * "Solving ODEs II", IV.1, at t = 40) and its exact invariant y1 + y2 + y3 = 1; a
 * one-compartment pharmacokinetic model with first-order absorption ka and elimination
 * ke = 1000 ka, whose closed form (the Bateman function) gives values and derivatives;
 * sensitivities against central finite differences of the solver itself; the step
 * count of ode_bdf against ode_rk45 on the same system (at most 1/20). */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <vi/lang.h>
#include <vi/status.h>
#include "lang/back/ode_bdf.h"
#include "lang/back/ode.h"

/* ---- Robertson: k1 = 0.04, k2 = 3e7, k3 = 1e4; p = (k1, k2, k3) --------------------- */

static int rober(void *ctx, double t, const double *y, double *f, double *J, double *Fp)
{
  const double *k = ctx;
  (void)t;
  f[0] = -k[0] * y[0] + k[2] * y[1] * y[2];
  f[1] = k[0] * y[0] - k[1] * y[1] * y[1] - k[2] * y[1] * y[2];
  f[2] = k[1] * y[1] * y[1];
  if (J) {
    double j[9] = {-k[0], k[2] * y[2], k[2] * y[1],
                   k[0], -2 * k[1] * y[1] - k[2] * y[2], -k[2] * y[1],
                   0, 2 * k[1] * y[1], 0};
    memcpy(J, j, sizeof j);
  }
  if (Fp) {
    double p[9] = {-y[0], 0, y[1] * y[2],
                   y[0], -y[1] * y[1], -y[1] * y[2],
                   0, y[1] * y[1], 0};
    memcpy(Fp, p, sizeof p);
  }
  return 0;
}

static void *work_for(size_t N, size_t P) { return malloc(bdf_work_bytes(N, P)); }

START_TEST(test_robertson_reference)
{
  double k[3] = {0.04, 3e7, 1e4}, y0[3] = {1, 0, 0}, atol[3] = {1e-14, 1e-14, 1e-14};
  double ts[3] = {40, 4e5, 1e11}, y[9];
  bdf_system sys = {3, 0, rober, k};
  bdf_options o = {1e-10, atol, 1000000};
  bdf_stats st = {0};
  char why[256];
  void *w = work_for(3, 0);
  ck_assert_int_eq(bdf_solve(&sys, &o, 0, y0, NULL, ts, 3, y, NULL, w, &st, why, sizeof why), 0);
  /* Hairer & Wanner (and CVODE's cvRoberts example): y(40) */
  ck_assert_msg(fabs(y[0] - 0.7158271) < 1e-6, "y1(40) = %.10g", y[0]);
  ck_assert_msg(fabs(y[1] - 9.185535e-6) < 1e-11, "y2(40) = %.10g", y[1]);
  ck_assert_msg(fabs(y[2] - 0.2841637) < 1e-6, "y3(40) = %.10g", y[2]);
  /* the Test Set's reference at t = 1e11 */
  ck_assert_msg(fabs(y[6] - 0.2083340149701255e-7) < 1e-6 * 0.2083340149701255e-7 * 100,
                "y1(1e11) = %.16g", y[6]);
  ck_assert_msg(fabs(y[7] - 0.8333360770334713e-13) < 1e-4 * 0.8333360770334713e-13,
                "y2(1e11) = %.16g", y[7]);
  ck_assert_msg(fabs(y[8] - 0.9999999791665050) < 1e-9, "y3(1e11) = %.16g", y[8]);
  /* the invariant: the rows of f sum to 0 */
  for (int q = 0; q < 3; q++)
    ck_assert_msg(fabs(y[3 * q] + y[3 * q + 1] + y[3 * q + 2] - 1) < 1e-12, "mass at %g", ts[q]);
  /* a stiff solver crosses 11 decades in a few hundred steps (an explicit one could not) */
  ck_assert_msg(st.steps < 3000, "%ld steps", st.steps);
  free(w);
}
END_TEST

/* Sensitivities of Robertson's y(t) to the rate constants and to y0, against central
 * differences of the solver at tight tolerances. */
START_TEST(test_robertson_sensitivities)
{
  double k[3] = {0.04, 3e7, 1e4}, y0[3] = {1, 0, 0}, atol[3] = {1e-12, 1e-12, 1e-12};
  double ts[2] = {0.4, 40}, y[6], S[18], yp[6], ym[6];
  char why[256];
  bdf_stats st = {0};
  bdf_options o = {1e-9, atol, 1000000};
  bdf_system sys = {3, 3, rober, k};
  void *w = work_for(3, 3);
  ck_assert_int_eq(bdf_solve(&sys, &o, 0, y0, NULL, ts, 2, y, S, w, &st, why, sizeof why), 0);
  bdf_system s0 = {3, 0, rober, k};
  for (int p = 0; p < 3; p++) {
    double kk[3] = {k[0], k[1], k[2]}, eps = 1e-5 * k[p];
    s0.ctx = kk;
    kk[p] = k[p] + eps;
    ck_assert_int_eq(bdf_solve(&s0, &o, 0, y0, NULL, ts, 2, yp, NULL, w, &st, why, sizeof why), 0);
    kk[p] = k[p] - eps;
    ck_assert_int_eq(bdf_solve(&s0, &o, 0, y0, NULL, ts, 2, ym, NULL, w, &st, why, sizeof why), 0);
    for (int e = 0; e < 6; e++) {
      double fd = (yp[e] - ym[e]) / (2 * eps), an = S[e * 3 + p];
      double scale = fabs(fd) + fabs(y[e]) / k[p] * 1e-3;
      ck_assert_msg(fabs(an - fd) <= 2e-3 * scale + 1e-9,
                    "dy[%d]/dk%d: sensitivity %.8g, differences %.8g", e, p + 1, an, fd);
    }
  }
  /* with respect to y0: S0 = I */
  double S0[9] = {1, 0, 0, 0, 1, 0, 0, 0, 1};
  bdf_system sy = {3, 3, rober, k};
  ck_assert_int_eq(bdf_solve(&sy, &o, 0, y0, S0, ts, 2, y, S, w, &st, why, sizeof why), 0);
  /* the rows of f sum to zero, so d(y1 + y2 + y3)/dy0_j = 1 exactly */
  for (int q = 0; q < 2; q++)
    for (int j = 0; j < 3; j++) {
      double sum = 0;
      for (int i = 0; i < 3; i++) sum += S[(q * 3 + i) * 3 + j];
      ck_assert_msg(fabs(sum - 1) < 1e-8, "sum d y_i / d y0_%d = %.12g", j, sum);
    }
  free(w);
}
END_TEST

/* ---- one compartment: gut -ka-> central -ke->; p = (ka, ke) -------------------------- */

static int pk(void *ctx, double t, const double *y, double *f, double *J, double *Fp)
{
  const double *k = ctx;
  (void)t;
  f[0] = -k[0] * y[0];
  f[1] = k[0] * y[0] - k[1] * y[1];
  if (J) { J[0] = -k[0]; J[1] = 0; J[2] = k[0]; J[3] = -k[1]; }
  if (Fp) { Fp[0] = -y[0]; Fp[1] = 0; Fp[2] = y[0]; Fp[3] = -y[1]; }
  return 0;
}

/* the Bateman function and its derivatives in ka, ke (dose 1 in the gut at t = 0) */
static void bateman(double ka, double ke, double t, double *c, double *dka, double *dke)
{
  double ea = exp(-ka * t), ee = exp(-ke * t), r = ka / (ke - ka);
  *c = r * (ea - ee);
  *dka = ke / ((ke - ka) * (ke - ka)) * (ea - ee) + r * (-t * ea);
  *dke = -ka / ((ke - ka) * (ke - ka)) * (ea - ee) + r * (t * ee);
}

START_TEST(test_pk_closed_form)
{
  double k[2] = {0.5, 500}, y0[2] = {1, 0}, atol[2] = {1e-10, 1e-10};
  double ts[5] = {0.25, 1, 2, 6, 12}, y[10], S[20];
  char why[256];
  bdf_stats st = {0};
  bdf_options o = {1e-8, atol, 100000};
  bdf_system sys = {2, 2, pk, k};
  void *w = work_for(2, 2);
  ck_assert_int_eq(bdf_solve(&sys, &o, 0, y0, NULL, ts, 5, y, S, w, &st, why, sizeof why), 0);
  for (int q = 0; q < 5; q++) {
    double c, dka, dke;
    bateman(k[0], k[1], ts[q], &c, &dka, &dke);
    ck_assert_msg(fabs(y[2 * q] - exp(-k[0] * ts[q])) < 1e-6 * exp(-k[0] * ts[q]) + 1e-9,
                  "gut(%g) = %.10g", ts[q], y[2 * q]);
    ck_assert_msg(fabs(y[2 * q + 1] - c) < 1e-5 * c + 1e-9, "central(%g) = %.10g, exact %.10g",
                  ts[q], y[2 * q + 1], c);
    ck_assert_msg(fabs(S[(2 * q + 1) * 2] - dka) < 1e-4 * fabs(dka) + 1e-9,
                  "dc/dka(%g) = %.10g, exact %.10g", ts[q], S[(2 * q + 1) * 2], dka);
    ck_assert_msg(fabs(S[(2 * q + 1) * 2 + 1] - dke) < 1e-4 * fabs(dke) + 1e-9,
                  "dc/dke(%g) = %.10g, exact %.10g", ts[q], S[(2 * q + 1) * 2 + 1], dke);
  }
  free(w);
}
END_TEST

/* Stan's max_num_steps: a budget too small for the interval is an error with a reason. */
START_TEST(test_max_steps)
{
  double k[3] = {0.04, 3e7, 1e4}, y0[3] = {1, 0, 0}, atol[3] = {1e-8, 1e-8, 1e-8};
  double ts[1] = {1e5}, y[3];
  bdf_system sys = {3, 0, rober, k};
  bdf_options o = {1e-8, atol, 20};
  bdf_stats st = {0};
  char why[256] = "";
  void *w = work_for(3, 0);
  ck_assert_int_eq(bdf_solve(&sys, &o, 0, y0, NULL, ts, 1, y, NULL, w, &st, why, sizeof why), 1);
  ck_assert_msg(strstr(why, "max_num_steps") != NULL, "%s", why);
  free(w);
}
END_TEST

int main(void)
{
  Suite *s = suite_create("ode_stiff");
  TCase *tc = tcase_create("core");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, test_robertson_reference);
  tcase_add_test(tc, test_robertson_sensitivities);
  tcase_add_test(tc, test_pk_closed_form);
  tcase_add_test(tc, test_max_steps);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
