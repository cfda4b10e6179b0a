/* check_ode_stiff.c: the stiff ODE solver (ode_bdf.c) on plain doubles, and ode_bdf /
 * ode_bdf_tol / integrate_ode_bdf / ode_adjoint_tol_ctl in the model language.
 *
 * References: Robertson's chemical kinetics against the published reference values
 * (the Test Set for IVP Solvers, Mazzia & Magherini, Bari, at t = 1e11; Hairer & Wanner,
 * "Solving ODEs II", IV.1, at t = 40) and its exact invariant y1 + y2 + y3 = 1; a
 * one-compartment pharmacokinetic model with first-order absorption ka and elimination
 * ke = 1000 ka, whose closed form (the Bateman function) gives values and derivatives;
 * sensitivities against central finite differences of the solver itself; ode_rk45 on
 * the stiff system handing each draw to the stiff solver (within 3x ode_bdf's steps). */
#include <check.h>
#include <stdio.h>
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


/* ---- the model language ----------------------------------------------------------- */

static vi_program *make(const char *src, const char *json, vi_model *m)
{
  vi_error err;
  int st;
  vi_program *p = vi_program_compile(src, strlen(src), "s.stan", &err, &st);
  ck_assert_msg(p != NULL, "compile: %s", err.message);
  st = vi_program_load_data(p, json, json ? strlen(json) : 0, "s.json", &err);
  ck_assert_msg(st == 0, "data: %s", err.message);
  ck_assert_int_eq(vi_program_model(p, m), VI_SUCCESS);
  return p;
}

/* The gradient of m at n points z against central differences of its log density. */
static void gradient_vs_differences(const vi_model *m, size_t n, const double *z, double tol)
{
  size_t D = m->dim;
  double *g = malloc(n * D * sizeof *g), *lp = malloc(n * sizeof *lp);
  double *zz = malloc(D * sizeof *zz);
  ck_assert_int_eq(m->log_joint(m->ctx, n, z, lp, g), VI_SUCCESS);
  for (size_t s = 0; s < n; s++)
    for (size_t j = 0; j < D; j++) {
      double h = 1e-5, lpp, lpm;
      memcpy(zz, z + s * D, D * sizeof *zz);
      zz[j] += h;
      ck_assert_int_eq(m->log_joint(m->ctx, 1, zz, &lpp, NULL), VI_SUCCESS);
      zz[j] -= 2 * h;
      ck_assert_int_eq(m->log_joint(m->ctx, 1, zz, &lpm, NULL), VI_SUCCESS);
      double fd = (lpp - lpm) / (2 * h);
      ck_assert_msg(fabs(g[s * D + j] - fd) <= tol * fmax(1, fabs(fd)),
                    "draw %zu, d/dz%zu: gradient %.10g, differences %.10g", s, j, g[s * D + j], fd);
    }
  free(g); free(lp); free(zz);
}

static const char *PK_DATA = "{\"T\": 8, \"ts\": [0.25, 0.5, 1, 2, 4, 8, 12, 24],"
                             " \"c\": [0.8, 0.59, 0.38, 0.12, 0.03, 0.01, -0.02, 0.0]}";

/* ka = exp(la), ke = 1000 ka (the stiff system); sigma fixed.  The same model with the
 * closed form. */
static const char *pk_model(const char *call)
{
  static char buf[2048];
  snprintf(buf, sizeof buf,
           "functions {\n"
           "  vector one_cpt(real t, vector y, real ka, real ke) {\n"
           "    vector[2] dy;\n"
           "    dy[1] = -ka * y[1];\n"
           "    dy[2] = ka * y[1] - ke * y[2];\n"
           "    return dy;\n"
           "  }\n"
           "}\n"
           "data { int T; array[T] real ts; vector[T] c; }\n"
           "parameters { real la; real<lower=0> dose; }\n"
           "model {\n"
           "  real ka = exp(la);\n"
           "  real ke = 1000 * ka;\n"
           "  array[T] vector[2] y = %s;\n"
           "  for (t in 1:T) c[t] ~ normal(1000 * y[t][2], 0.05);\n"
           "  la ~ normal(0, 1);\n"
           "  dose ~ lognormal(0, 1);\n"
           "}\n", call);
  return buf;
}

static const char *PK_CLOSED =
    "data { int T; array[T] real ts; vector[T] c; }\n"
    "parameters { real la; real<lower=0> dose; }\n"
    "model {\n"
    "  real ka = exp(la);\n"
    "  real ke = 1000 * ka;\n"
    "  for (t in 1:T)\n"
    "    c[t] ~ normal(1000 * dose * ka / (ke - ka) * (exp(-ka * ts[t]) - exp(-ke * ts[t])), 0.05);\n"
    "  la ~ normal(0, 1);\n"
    "  dose ~ lognormal(0, 1);\n"
    "}\n";

/* ode_bdf on the stiff one-compartment model: values and gradients as the closed form;
 * ode_rk45 on it switches to the stiff method (values as the closed form, steps near
 * ode_bdf's). */
START_TEST(test_pk_language)
{
  vi_model mb, mr, mc;
  vi_program *pb = make(pk_model("ode_bdf_tol(one_cpt, [dose, 0]', 0, ts, 1e-8, 1e-10, 100000, ka, ke)"),
                        PK_DATA, &mb);
  vi_program *pr = make(pk_model("ode_rk45_tol(one_cpt, [dose, 0]', 0, ts, 1e-8, 1e-10, 100000000, ka, ke)"),
                        PK_DATA, &mr);
  vi_program *pc = make(PK_CLOSED, PK_DATA, &mc);
  size_t n = 4, D = 2;
  double z[8] = {0.1, 0.0, -0.5, 0.3, 0.4, -0.2, 0.0, 0.1}, lb[4], lr[4], lc[4];
  double gb[8], gr[8], gc[8];
  long s0 = ode_steps_taken();
  ck_assert_int_eq(mb.log_joint(mb.ctx, n, z, lb, gb), VI_SUCCESS);
  long sb = ode_steps_taken() - s0;
  s0 = ode_steps_taken();
  ck_assert_int_eq(mr.log_joint(mr.ctx, n, z, lr, gr), VI_SUCCESS);
  long sr = ode_steps_taken() - s0;
  ck_assert_int_eq(mc.log_joint(mc.ctx, n, z, lc, gc), VI_SUCCESS);
  for (size_t s = 0; s < n; s++) {
    ck_assert_msg(fabs(lb[s] - lc[s]) < 1e-5 * fmax(1, fabs(lc[s])), "draw %zu: bdf %.12g, "
                  "closed form %.12g", s, lb[s], lc[s]);
    ck_assert_msg(fabs(lr[s] - lc[s]) < 1e-5 * fmax(1, fabs(lc[s])), "draw %zu: rk45 %.12g, "
                  "closed form %.12g", s, lr[s], lc[s]);
  }
  for (size_t i = 0; i < n * D; i++)
    ck_assert_msg(fabs(gb[i] - gc[i]) < 1e-4 * fmax(1, fabs(gc[i])), "grad %zu: bdf %.12g, "
                  "closed form %.12g", i, gb[i], gc[i]);
  /* rk45 proves the system stiff in its first steps and hands each draw to the BDF (as
     LSODA switches): within 3x bdf's steps, where its own Dormand-Prince steps alone
     took over 20x */
  ck_assert_msg(sr <= 3 * sb, "bdf %ld steps (%zu draws), rk45 %ld", sb, n, sr);
  fprintf(stderr, "tight: bdf %ld steps (%zu draws), rk45 %ld\n", sb, n, sr);
  gradient_vs_differences(&mb, n, z, 1e-4);
  /* one draw at a time equals the batch (each draw has its own steps either way; with
     the gradient, as the sensitivities take part in the step control) */
  for (size_t s = 0; s < n; s++) {
    double l1, g1[2];
    ck_assert_int_eq(mb.log_joint(mb.ctx, 1, z + s * D, &l1, g1), VI_SUCCESS);
    ck_assert_msg(l1 == lb[s], "draw %zu alone %.17g, in the batch %.17g", s, l1, lb[s]);
  }
  vi_program_free(pb);
  vi_program_free(pr);
  vi_program_free(pc);
}
END_TEST

/* Robertson in the language (rates as parameters), old and new interfaces and
 * ode_adjoint_tol_ctl: values at t = 40 as published, gradients vs differences. */
static const char *ROBER_F =
    "functions {\n"
    "  vector rober(real t, vector y, vector k) {\n"
    "    return [-k[1] * y[1] + k[3] * y[2] * y[3],\n"
    "            k[1] * y[1] - k[2] * y[2] * y[2] - k[3] * y[2] * y[3],\n"
    "            k[2] * y[2] * y[2]]';\n"
    "  }\n"
    "  array[] real rober_old(real t, array[] real y, array[] real k, array[] real xr,\n"
    "                         array[] int xi) {\n"
    "    return to_array_1d(rober(t, to_vector(y), to_vector(k)));\n"
    "  }\n"
    "}\n";

START_TEST(test_robertson_language)
{
  char src[4096];
  const char *calls[3] = {
      "ode_bdf_tol(rober, y0, 0, ts, 1e-9, 1e-12, 100000, k)",
      "ode_adjoint_tol_ctl(rober, y0, 0, ts, 1e-9, rep_vector(1e-12, 3), 1e-9,\n"
      "  rep_vector(1e-12, 3), 1e-9, 1e-12, 100000, 150, 1, 2, 2, k)",
      "to_vectors(integrate_ode_bdf(rober_old, to_array_1d(y0), 0, ts, to_array_1d(k),\n"
      "  rep_array(0.0, 0), rep_array(0, 0), 1e-9, 1e-12, 100000))"};
  double lp[3][2], g[3][6];
  for (int v = 0; v < 3; v++) {
    snprintf(src, sizeof src,
             "%s"
             "functions {\n"
             "  array[] vector to_vectors(array[,] real a) {\n"
             "    array[size(a)] vector[3] r;\n"
             "    for (i in 1:size(a)) r[i] = to_vector(a[i]);\n"
             "    return r;\n"
             "  }\n"
             "}\n"
             "data { array[2] real ts; }\n"
             "parameters { vector[3] lk; }\n"
             "model {\n"
             "  vector[3] k = exp(lk) .* [0.04, 3e7, 1e4]';\n"
             "  vector[3] y0 = [1, 0, 0]';\n"
             "  array[2] vector[3] y = %s;\n"
             "  target += y[1][1] + 1e4 * y[1][2] + y[2][1] + 3 * y[2][3];\n"
             "}\n", ROBER_F, calls[v]);
    /* two functions blocks are not Stan: merge them */
    char *second = strstr(src + 10, "functions {\n  array[] vector");
    ck_assert_ptr_nonnull(second);
    char *close = strstr(src, "}\nfunctions {");
    ck_assert_ptr_nonnull(close);
    memmove(close, second + strlen("functions {\n"), strlen(second + strlen("functions {\n")) + 1);
    vi_model m;
    vi_program *p = make(src, "{\"ts\": [0.4, 40]}", &m);
    double z[6] = {0, 0, 0, 0.1, -0.2, 0.05};
    ck_assert_int_eq(m.log_joint(m.ctx, 2, z, lp[v], g[v]), VI_SUCCESS);
    /* at the published rates: y1(40) + 3 y3(40) + the t = 0.4 terms */
    double y40 = 0.7158271 + 3 * 0.2841637;
    ck_assert_msg(fabs(lp[v][0] - (y40 + 0.9851721 + 1e4 * 3.386406e-5)) < 2e-5,
                  "variant %d: %.10g", v, lp[v][0]);
    gradient_vs_differences(&m, 2, z, 2e-4);
    vi_program_free(p);
  }
  for (int v = 1; v < 3; v++)
    for (int s = 0; s < 2; s++)
      ck_assert_msg(fabs(lp[v][s] - lp[0][s]) < 1e-12, "variant %d: %.17g vs %.17g", v, lp[v][s],
                    lp[0][s]);
}
END_TEST

/* Stan's errors: max_num_steps reached rejects the draw; bad controls are errors. */
START_TEST(test_language_errors)
{
  vi_model m;
  vi_program *p = make(
      "functions { vector fast(real t, vector y, real k) { return -k * y .* y; } }\n"
      "parameters { real<lower=0> k; }\n"
      "model {\n"
      "  array[1] vector[1] z = ode_bdf_tol(fast, [1.0]', 0, {1e6}, 1e-10, 1e-10, 5, k);\n"
      "  target += z[1][1];\n"
      "}\n", NULL, &m);
  double z[2] = {0.0, 1.0}, lp[2];
  ck_assert_int_eq(m.log_joint(m.ctx, 2, z, lp, NULL), VI_SUCCESS);
  ck_assert(isinf(lp[0]) && lp[0] < 0 && isinf(lp[1]));
  ck_assert_msg(strstr(vi_program_last_error(p), "max_num_steps") != NULL, "%s",
                vi_program_last_error(p));
  vi_program_free(p);
  p = make("functions { vector f(real t, vector y) { return -y; } }\n"
           "parameters { real mu; }\n"
           "model {\n"
           "  array[1] vector[1] z = ode_adjoint_tol_ctl(f, [1.0]', 0, {1.0}, 1e-6, [1e-6]',\n"
           "    1e-6, [1e-6]', 1e-6, 1e-6, 1000, 150, 3, 2, 2);\n"
           "  target += z[1][1];\n"
           "}\n", NULL, &m);
  ck_assert_int_ne(m.log_joint(m.ctx, 1, z, lp, NULL), VI_SUCCESS);
  ck_assert_msg(strstr(vi_program_last_error(p), "interpolation polynomial") != NULL, "%s",
                vi_program_last_error(p));
  vi_program_free(p);
  /* a parameter that is not finite in the system's arguments rejects the draw */
  p = make("functions { vector f(real t, vector y, real a) { return -a * y; } }\n"
           "parameters { real mu; }\n"
           "model {\n"
           "  array[1] vector[1] z = ode_bdf(f, [1.0]', 0, {1.0}, exp(mu));\n"
           "  target += z[1][1];\n"
           "}\n", NULL, &m);
  z[0] = 1000;
  ck_assert_int_eq(m.log_joint(m.ctx, 1, z, lp, NULL), VI_SUCCESS);
  ck_assert(isinf(lp[0]) && lp[0] < 0);
  ck_assert_msg(strstr(vi_program_last_error(p), "not finite") != NULL, "%s",
                vi_program_last_error(p));
  vi_program_free(p);
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
  tcase_add_test(tc, test_pk_language);
  tcase_add_test(tc, test_robertson_language);
  tcase_add_test(tc, test_language_errors);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
