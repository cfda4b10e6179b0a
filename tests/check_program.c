/* check_program.c: model files end to end through vi_program_* (vi/lang.h): gradients of
 * the log joint against finite differences (constrained parameters of every supported
 * kind, bounds depending on earlier parameters, loops, indexing, in-place assignment),
 * a batch of 7 draws equal to the draws one by one, the per-draw fallback when a branch
 * differs between draws, the language's linear regression equal to the hand-written C
 * model (models/c_models.h) to 1e-10, eight schools (both parameterisations), runtime
 * errors (index out of range, with its location), reject and violated transformed
 * parameter constraints as -inf, truncation, the likelihood split, output names and
 * values. */
#include <check.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include <gsl/gsl_cdf.h>
#include <gsl/gsl_rng.h>
#include <vi/fit.h>
#include <vi/lang.h>
#include <vi/status.h>
#include "c_models.h"

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

static const double LOG_SQRT_2PI = 0.91893853320467274178;

/* Allocation counter: the test is linked with --wrap for the allocation functions, so
 * every allocation made by vi's (statically linked) code passes through here. */
static long n_allocs;
void *__real_malloc(size_t n);
void *__real_calloc(size_t k, size_t n);
void *__real_realloc(void *p, size_t n);
void *__real_aligned_alloc(size_t a, size_t n);
void *__wrap_malloc(size_t n) { n_allocs++; return __real_malloc(n); }
void *__wrap_calloc(size_t k, size_t n) { n_allocs++; return __real_calloc(k, n); }
void *__wrap_realloc(void *p, size_t n) { n_allocs++; return __real_realloc(p, n); }
void *__wrap_aligned_alloc(size_t a, size_t n) { n_allocs++; return __real_aligned_alloc(a, n); }

static char *path_of(const char *rel)
{
  const char *top = getenv("top_srcdir");
  char *p = malloc(4096);
  snprintf(p, 4096, "%s/%s", top ? top : ".", rel);
  return p;
}

static vi_program *make(const char *src, const char *json, vi_model *m)
{
  vi_error err; int st;
  vi_program *p = vi_program_compile(src, strlen(src), "t.stan", &err, &st);
  ck_assert_msg(p != NULL, "compile: %s", err.message);
  st = vi_program_load_data(p, json, json ? strlen(json) : 0, "t.json", &err);
  ck_assert_msg(st == 0, "data: %s", err.message);
  ck_assert_int_eq(vi_program_model(p, m), VI_SUCCESS);
  return p;
}

static void fill_z(double *z, size_t n, double seed)
{
  for (size_t i = 0; i < n; i++) z[i] = 0.8 * sin(0.7 * (double)i + seed);
}

/* Max relative difference between the gradient and central differences over n draws. */
static double fd_error(const vi_model *m, size_t n, double *z)
{
  size_t D = m->dim;
  double *lp = malloc(n * sizeof *lp), *lp2 = malloc(n * sizeof *lp2);
  double *g = malloc(n * D * sizeof *g);
  ck_assert_int_eq(m->log_joint(m->ctx, n, z, lp, g), VI_SUCCESS);
  double worst = 0;
  for (size_t s = 0; s < n; s++) {
    ck_assert_msg(isfinite(lp[s]), "lp[%zu] = %g", s, lp[s]);
    for (size_t j = 0; j < D; j++) {
      double h = 1e-6, zj = z[s * D + j];
      z[s * D + j] = zj + h; m->log_joint(m->ctx, n, z, lp2, NULL); double a = lp2[s];
      z[s * D + j] = zj - h; m->log_joint(m->ctx, n, z, lp2, NULL); double b = lp2[s];
      z[s * D + j] = zj;
      double fd = (a - b) / (2 * h);
      double e = fabs(fd - g[s * D + j]) / fmax(1, fabs(fd));
      if (e > worst) worst = e;
    }
  }
  free(lp); free(lp2); free(g);
  return worst;
}

/* A batch of n equals the draws one at a time (values and gradients, bit for bit up to
 * summation order). */
static void batch_vs_single(const vi_model *m, size_t n, const double *z)
{
  size_t D = m->dim;
  double *lp = malloc(n * sizeof *lp), *g = malloc(n * D * sizeof *g), *g1 = malloc(D * sizeof *g1);
  ck_assert_int_eq(m->log_joint(m->ctx, n, z, lp, g), VI_SUCCESS);
  for (size_t s = 0; s < n; s++) {
    double l1;
    ck_assert_int_eq(m->log_joint(m->ctx, 1, z + s * D, &l1, g1), VI_SUCCESS);
    ck_assert_msg(fabs(l1 - lp[s]) <= 1e-12 * fmax(1, fabs(l1)) || (isinf(l1) && l1 == lp[s]),
                  "draw %zu: batch %.17g single %.17g", s, lp[s], l1);
    for (size_t j = 0; j < D; j++)
      ck_assert_msg(fabs(g1[j] - g[s * D + j]) <= 1e-12 * fmax(1, fabs(g1[j])),
                    "draw %zu grad %zu: batch %.17g single %.17g", s, j, g[s * D + j], g1[j]);
  }
  free(lp); free(g); free(g1);
}

static const char *CONSTRAINED =
    "data { int N; vector[N] y; }\n"
    "parameters {\n"
    "  real<lower=0> s;\n"
    "  real<lower=-1, upper=2> a;\n"
    "  real<offset=1, multiplier=2> o;\n"
    "  vector<lower=0>[3] v;\n"
    "  real<lower=s> t;\n"
    "  real<lower=-s, upper=s + 1> r;\n"
    "  simplex[4] w;\n"
    "  ordered[3] od;\n"
    "  positive_ordered[2] po;\n"
    "  cov_matrix[2] S;\n"
    "  cholesky_factor_cov[3, 2] L;\n"
    "  unit_vector[3] u;\n"
    "  array[2] real<upper=3> ar;\n"
    "  cholesky_factor_corr[3] Lc;\n"
    "  corr_matrix[3] R;\n"
    "}\n"
    "model {\n"
    "  s ~ gamma(2, 1);\n"
    "  a ~ normal(0, 1);\n"
    "  o ~ normal(1, 2);\n"
    "  v ~ exponential(1);\n"
    "  t ~ normal(s, 1);\n"
    "  r ~ normal(0, 1);\n"
    "  target += 2 * log(w[1]) + log(w[3]) + w[4];\n"
    "  od ~ normal(0, 3);\n"
    "  po ~ exponential(0.5);\n"
    "  target += -0.5 * (S[1, 1] + S[2, 2]) + S[1, 2] * S[2, 1];\n"
    "  target += L[1, 1] + 2 * L[3, 2] + L[2, 1] * L[2, 2];\n"
    "  target += u[1] + 0.5 * u[2] * u[3];\n"
    "  ar ~ normal(0, 2);\n"
    "  Lc ~ lkj_corr_cholesky(2.0);\n"
    "  target += Lc[2, 1] + Lc[3, 2] * Lc[3, 3];\n"
    "  target += R[2, 1] - R[3, 1] * R[2, 3];\n"
    "  y ~ normal(a + o, s);\n"
    "}\n";

START_TEST(test_gradients_constrained)
{
  vi_model m;
  vi_program *p = make(CONSTRAINED, "{\"N\": 3, \"y\": [0.5, 1.5, -0.2]}", &m);
  /* 1 + 1 + 1 + 3 + 1 + 1 + 3 + 3 + 2 + 3 + 5 + 3 + 2 + 3 + 3 */
  ck_assert_uint_eq(m.dim, 35);
  /* the names of the unconstrained coordinates say their transform */
  ck_assert_str_eq(m.names[0], "log(s)");
  ck_assert_str_eq(m.names[1], "logit((a - -1) / (2 - -1))");
  ck_assert_str_eq(m.names[2], "(o - 1) / 2");
  ck_assert_str_eq(m.names[3], "log(v.1)");
  ck_assert_str_eq(m.names[6], "log(t - s)");
  ck_assert_str_eq(m.names[7], "logit((r - lower) / (upper - lower))");
  ck_assert_str_eq(m.names[8], "unconstrained(w).1");
  ck_assert_str_eq(m.names[10], "unconstrained(w).3");
  ck_assert_str_eq(m.names[27], "log(3 - ar.1)");
  double z[3 * 35];
  fill_z(z, 3 * 35, 0.1);
  double e = fd_error(&m, 3, z);
  ck_assert_msg(e < 1e-6, "gradient error %g", e);
  double z7[7 * 35];
  fill_z(z7, 7 * 35, 1.0);
  batch_vs_single(&m, 7, z7);
  /* outputs: constrained values, CmdStan names */
  ck_assert_uint_eq(m.n_out, 1 + 1 + 1 + 3 + 1 + 1 + 4 + 3 + 2 + 4 + 6 + 3 + 2 + 9 + 9);
  double out[64];
  ck_assert_int_eq(m.constrain(m.ctx, z, NULL, out), VI_SUCCESS);
  ck_assert(fabs(out[0] - exp(z[0])) < 1e-15);
  ck_assert(fabs(out[2] - (1 + 2 * z[2])) < 1e-15);
  ck_assert(out[6] > out[0]);   /* t > s */
  double sw = 0;
  for (int i = 0; i < 4; i++) sw += out[8 + i];
  ck_assert(fabs(sw - 1) < 1e-14);
  ck_assert_str_eq(m.out_names[17], "S.1.1");
  ck_assert_str_eq(m.out_names[18], "S.2.1");
  ck_assert_str_eq(m.out_names[19], "S.1.2");
  ck_assert(out[18] == out[19]);   /* symmetric */
  ck_assert_str_eq(m.out_names[21], "L.1.1");
  ck_assert_str_eq(m.out_names[22], "L.2.1");
  ck_assert_str_eq(m.out_names[24], "L.1.2");
  ck_assert(out[24] == 0);         /* above the diagonal */
  vi_param_info info;
  ck_assert_int_eq(vi_program_param_info(p, 6, &info), 0);
  ck_assert_str_eq(info.name, "w");
  ck_assert_uint_eq(info.constrained_size, 4);
  ck_assert_uint_eq(info.unconstrained_size, 3);
  ck_assert_ptr_nonnull(strstr(info.type, "simplex"));
  ck_assert_uint_eq(vi_program_n_params(p), 15);
  ck_assert(out[41] == 1 && out[45] == 1 && out[49] == 1);   /* unit diagonal of R */
  ck_assert(out[42] == out[44]);
  /* the correlation factor: unit rows */
  for (int i = 0; i < 3; i++) {
    double ss = 0;
    for (int j = 0; j < 3; j++) ss += out[32 + i + 3 * j] * out[32 + i + 3 * j];
    ck_assert(fabs(ss - 1) < 1e-14);
  }
  ck_assert_str_eq(m.out_names[32], "Lc.1.1");
  vi_program_free(p);
}
END_TEST

static const char *LOOPS =
    "data { int N; vector[N] x; vector[N] y; array[N] int g; }\n"
    "transformed data { real xbar = mean(x); }\n"
    "parameters { real a; real b; real<lower=0> sigma; vector[2] u; }\n"
    "transformed parameters {\n"
    "  vector[N] mu;\n"
    "  for (n in 1:N) mu[n] = a + b * (x[n] - xbar) + u[g[n]];\n"
    "}\n"
    "model {\n"
    "  real acc = 0;\n"
    "  int k = 0;\n"
    "  vector[2] uu = u;\n"
    "  uu[1] += 1;\n"
    "  uu[2] *= 2;\n"
    "  array[2] vector[2] av;\n"
    "  av[1][2] = a; av[2] = u; av[1][1] = b; av[2][2] += 1;\n"
    "  target += -0.5 * (av[1][1]^2 + av[1][2]^2) + av[2][1] * av[2][2];\n"
    "  while (k < 3) { k += 1; if (k == 2) continue; acc += k * a; }\n"
    "  for (v in uu) target += -0.5 * v^2;\n"
    "  target += -0.1 * acc^2;\n"
    "  for (n in 1:N) {\n"
    "    if (n > 4) break;\n"
    "    y[n] ~ normal(mu[n], sigma);\n"
    "  }\n"
    "  y[5:N] ~ normal(mu[5:N], sigma);\n"
    "  a ~ normal(0, 1); b ~ normal(0, 1); sigma ~ lognormal(0, 1);\n"
    "}\n"
    "generated quantities { real r = normal_rng(a, 1); vector[N] res = y - mu; }\n";

static const char *LOOPS_DATA =
    "{\"N\": 6, \"x\": [1, 2, 3, 4, 5, 6], \"y\": [0.1, 0.5, 0.2, 1.1, 1.0, 1.6],"
    " \"g\": [1, 2, 1, 2, 1, 2]}";

START_TEST(test_gradients_loops)
{
  vi_model m;
  vi_program *p = make(LOOPS, LOOPS_DATA, &m);
  ck_assert_uint_eq(m.dim, 5);
  double z[4 * 5];
  fill_z(z, 20, 0.3);
  double e = fd_error(&m, 4, z);
  ck_assert_msg(e < 1e-6, "gradient error %g", e);
  double z7[35];
  fill_z(z7, 35, 2.0);
  batch_vs_single(&m, 7, z7);
  /* more draws than one pass takes (chunked inside) */
  double *zb = malloc(300 * 5 * sizeof *zb);
  fill_z(zb, 1500, 0.7);
  batch_vs_single(&m, 300, zb);
  free(zb);
  /* the same density written by hand, at one point */
  double q[5] = {0.3, -0.2, log(0.7), 0.1, -0.4}, lp;
  ck_assert_int_eq(m.log_joint(m.ctx, 1, q, &lp, NULL), 0);
  double x[6] = {1, 2, 3, 4, 5, 6}, y[6] = {0.1, 0.5, 0.2, 1.1, 1.0, 1.6};
  int g[6] = {1, 2, 1, 2, 1, 2};
  double a = q[0], b = q[1], sg = exp(q[2]), want = q[2];   /* Jacobian */
  double uu1 = q[3] + 1, uu2 = q[4] * 2, acc = 1 * a + 3 * a;
  want += -0.5 * uu1 * uu1 - 0.5 * uu2 * uu2 - 0.1 * acc * acc;
  want += -0.5 * (b * b + a * a) + q[3] * (q[4] + 1);
  for (int n = 0; n < 6; n++) {
    double mu = a + b * (x[n] - 3.5) + q[3 + g[n] - 1], r = (y[n] - mu) / sg;
    want += -LOG_SQRT_2PI - log(sg) - 0.5 * r * r;
  }
  want += -LOG_SQRT_2PI - 0.5 * a * a - LOG_SQRT_2PI - 0.5 * b * b;
  want += -LOG_SQRT_2PI - log(sg) - 0.5 * log(sg) * log(sg);
  ck_assert_msg(fabs(lp - want) < 1e-12, "lp %.17g want %.17g", lp, want);
  /* generated quantities with an rng */
  gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
  double out[32];
  ck_assert_uint_eq(m.n_out, 5 + 6 + 1 + 6);
  ck_assert_int_eq(m.constrain(m.ctx, q, rng, out), VI_SUCCESS);
  ck_assert_str_eq(m.out_names[5], "mu.1");
  ck_assert_str_eq(m.out_names[11], "r");
  ck_assert_str_eq(m.out_names[12], "res.1");
  ck_assert(isfinite(out[11]) && out[11] != a);
  ck_assert(fabs(out[12] - (y[0] - out[5])) < 1e-15);
  gsl_rng_free(rng);
  vi_program_free(p);
}
END_TEST

static char printed[1024];
static void capture(void *ctx, const char *text)
{
  (void)ctx;
  strncat(printed, text, sizeof printed - strlen(printed) - 2);
  strcat(printed, "|");
}

START_TEST(test_fallback)
{
  /* the branch taken depends on the draw: evaluated draw by draw */
  vi_model m;
  vi_program *p = make(
      "parameters { real a; vector[2] b; }\n"
      "model {\n"
      "  print(\"a=\", a);\n"
      "  if (a > 0) target += -a^2; else target += 3 * a - b[1];\n"
      "  for (i in 1:(b[1] > 0 ? 2 : 1)) target += -b[i]^2;\n"
      "  target += a > 0 ? -b[2] : b[2];\n"
      "  int k = (a > 0) + 1;\n"
      "  target += 0.5 * b[k];\n"
      "}\n", NULL, &m);
  double z[7 * 3];
  for (int s = 0; s < 7; s++) {
    z[3 * s] = s % 2 ? 0.5 + s : -0.5 - s;
    z[3 * s + 1] = s % 3 ? 0.7 : -0.4;
    z[3 * s + 2] = 0.1 * s;
  }
  batch_vs_single(&m, 7, z);
  double lp[7];
  /* prints of the abandoned batched pass are dropped: one line per draw */
  printed[0] = '\0';
  vi_program_set_print(p, capture, NULL);
  ck_assert_int_eq(m.log_joint(m.ctx, 3, z, lp, NULL), 0);
  ck_assert_str_eq(printed, "a=-0.5\n|a=1.5\n|a=-2.5\n|");
  vi_program_set_print(p, NULL, NULL);
  ck_assert_int_eq(m.log_joint(m.ctx, 7, z, lp, NULL), 0);
  for (int s = 0; s < 7; s++) {
    double a = z[3 * s], b1 = z[3 * s + 1], b2 = z[3 * s + 2];
    double want = (a > 0 ? -a * a : 3 * a - b1) - b1 * b1 - (b1 > 0 ? b2 * b2 : 0)
                  + (a > 0 ? -b2 : b2) + 0.5 * (a > 0 ? b2 : b1);
    ck_assert_msg(fabs(lp[s] - want) < 1e-14, "draw %d: %g vs %g", s, lp[s], want);
  }
  double e = fd_error(&m, 7, z);
  ck_assert_msg(e < 1e-6, "gradient error %g", e);
  vi_program_free(p);
}
END_TEST

/* Read models/linreg.data.json into X (row-major), y. */
static void read_linreg(double **X, double **y, size_t *n, size_t *d, double *sigma,
                        double *tau)
{
  char *path = path_of("models/linreg.data.json");
  json_error_t je;
  json_t *root = json_load_file(path, 0, &je);
  ck_assert_msg(root != NULL, "%s: %s", path, je.text);
  *n = (size_t)json_integer_value(json_object_get(root, "N"));
  *d = (size_t)json_integer_value(json_object_get(root, "K"));
  *sigma = json_number_value(json_object_get(root, "sigma"));
  *tau = json_number_value(json_object_get(root, "tau"));
  *X = malloc(*n * *d * sizeof **X);
  *y = malloc(*n * sizeof **y);
  json_t *jx = json_object_get(root, "X"), *jy = json_object_get(root, "y");
  for (size_t i = 0; i < *n; i++) {
    (*y)[i] = json_number_value(json_array_get(jy, i));
    for (size_t j = 0; j < *d; j++)
      (*X)[i * *d + j] = json_number_value(json_array_get(json_array_get(jx, i), j));
  }
  json_decref(root);
  free(path);
}

/* Two programs over the same parameters and data give the same log joint and gradient
 * at S draws (to 1e-10), and the first passes the finite-difference and batch checks. */
static void same_log_joint(const char *src_a, const char *src_b, const char *json)
{
  vi_model ma, mb;
  vi_program *pa = make(src_a, json, &ma), *pb = make(src_b, json, &mb);
  ck_assert_uint_eq(ma.dim, mb.dim);
  size_t S = 7, D = ma.dim;
  double *z = malloc(S * D * sizeof *z), *ga = malloc(S * D * sizeof *ga);
  double *gb = malloc(S * D * sizeof *gb), lpa[7], lpb[7];
  fill_z(z, S * D, 0.9);
  ck_assert_int_eq(ma.log_joint(ma.ctx, S, z, lpa, ga), 0);
  ck_assert_int_eq(mb.log_joint(mb.ctx, S, z, lpb, gb), 0);
  for (size_t s = 0; s < S; s++) {
    ck_assert_msg(isfinite(lpa[s]) && fabs(lpa[s] - lpb[s]) < 1e-10 * fmax(1, fabs(lpb[s])),
                  "draw %zu: %.17g vs %.17g", s, lpa[s], lpb[s]);
    for (size_t j = 0; j < D; j++)
      ck_assert_msg(fabs(ga[s * D + j] - gb[s * D + j]) < 1e-10 * fmax(1, fabs(gb[s * D + j])),
                    "draw %zu grad %zu: %.17g vs %.17g", s, j, ga[s * D + j], gb[s * D + j]);
  }
  ck_assert_double_lt(fd_error(&ma, S, z), 1e-6);
  batch_vs_single(&ma, S, z);
  free(z); free(ga); free(gb);
  vi_program_free(pa);
  vi_program_free(pb);
}

/* A two-state Gaussian HMM: hmm_marginal against the forward algorithm written in the
 * language. */
static const char *HMM_DATA = "{\"N\": 7, \"y\": [0.3, -0.8, 2.1, 2.5, 1.9, -0.2, 0.1]}";
#define HMM_HEAD \
  "data { int N; array[N] real y; }\n" \
  "parameters { simplex[2] rho; array[2] simplex[2] theta; ordered[2] mu; }\n" \
  "model {\n" \
  "  matrix[2, N] log_omega;\n" \
  "  for (k in 1:2) for (t in 1:N) log_omega[k, t] = normal_lpdf(y[t] | mu[k], 1);\n" \
  "  mu ~ normal(0, 3);\n"
static const char *HMM_BUILTIN = HMM_HEAD
  "  matrix[2, 2] Gamma;\n"
  "  for (k in 1:2) Gamma[k] = theta[k]';\n"
  "  target += hmm_marginal(log_omega, Gamma, rho);\n"
  "}\n";
static const char *HMM_BY_HAND = HMM_HEAD
  "  vector[2] alpha = log(rho) + log_omega[, 1];\n"
  "  for (t in 2:N) {\n"
  "    vector[2] next;\n"
  "    for (j in 1:2)\n"
  "      next[j] = log_sum_exp(alpha[1] + log(theta[1, j]), alpha[2] + log(theta[2, j]))\n"
  "                + log_omega[j, t];\n"
  "    alpha = next;\n"
  "  }\n"
  "  target += log_sum_exp(alpha);\n"
  "}\n";

START_TEST(test_hmm_marginal_vs_forward)
{
  same_log_joint(HMM_BUILTIN, HMM_BY_HAND, HMM_DATA);
}
END_TEST

/* A regression on a sparse design matrix: csr_matrix_times_vector on the CSR form the
 * model extracts in transformed data, against the dense product. */
static const char *CSR_DATA =
  "{\"N\": 4, \"K\": 3, \"X\": [[1, 0, 2], [0, 0, 0], [0, 3, 0], [4, 0, 5]],"
  " \"y\": [1.5, 0.2, -0.7, 3.1]}";
#define CSR_HEAD \
  "data { int N; int K; matrix[N, K] X; vector[N] y; }\n" \
  "transformed data {\n" \
  "  vector[size(csr_extract_w(X))] w = csr_extract_w(X);\n" \
  "  array[size(w)] int v = csr_extract_v(X);\n" \
  "  array[N + 1] int u = csr_extract_u(X);\n" \
  "  if (max(abs(csr_to_dense_matrix(N, K, w, v, u) - X)) != 0) reject(\"round trip\");\n" \
  "}\n" \
  "parameters { vector[K] beta; real<lower=0> sigma; }\n" \
  "model {\n" \
  "  beta ~ normal(0, 2);\n" \
  "  sigma ~ exponential(1);\n"
static const char *CSR_SPARSE = CSR_HEAD
  "  y ~ normal(csr_matrix_times_vector(N, K, w, v, u, beta), sigma);\n"
  "}\n";
static const char *CSR_DENSE_MODEL = CSR_HEAD
  "  y ~ normal(X * beta, sigma);\n"
  "}\n";

START_TEST(test_csr_vs_dense)
{
  same_log_joint(CSR_SPARSE, CSR_DENSE_MODEL, CSR_DATA);
}
END_TEST

START_TEST(test_linreg_vs_c)
{
  double *X, *y, sigma, tau;
  size_t n, d;
  read_linreg(&X, &y, &n, &d, &sigma, &tau);
  cm_linreg *c = cm_linreg_alloc(X, y, n, d, sigma, tau);
  ck_assert_ptr_nonnull(c);
  vi_model mc, ml;
  cm_linreg_model(c, &mc);
  char *sp = path_of("models/linreg.stan"), *dp = path_of("models/linreg.data.json");
  vi_error err; int st;
  vi_program *p = vi_program_compile_file(sp, &err, &st);
  ck_assert_msg(p != NULL, "%s", err.message);
  ck_assert_msg(vi_program_load_data_file(p, dp, &err) == 0, "%s", err.message);
  ck_assert_int_eq(vi_program_model(p, &ml), 0);
  ck_assert_uint_eq(ml.dim, mc.dim);
  const size_t S = 9;
  double *z = malloc(S * d * sizeof *z), *gc = malloc(S * d * sizeof *gc), *gl = malloc(S * d * sizeof *gl);
  double lpc[9], lpl[9], llc[9], lll[9];
  fill_z(z, S * d, 0.4);
  for (size_t i = 0; i < S * d; i++) z[i] *= 2;
  ck_assert_int_eq(mc.log_joint(mc.ctx, S, z, lpc, gc), 0);
  ck_assert_int_eq(ml.log_joint(ml.ctx, S, z, lpl, gl), 0);
  for (size_t s = 0; s < S; s++) {
    ck_assert_msg(fabs(lpc[s] - lpl[s]) < 1e-10, "draw %zu: C %.17g, language %.17g", s,
                  lpc[s], lpl[s]);
    for (size_t j = 0; j < d; j++)
      ck_assert_msg(fabs(gc[s * d + j] - gl[s * d + j]) < 1e-10, "grad");
  }
  /* the likelihood part */
  if (mc.log_lik) {
    ck_assert_int_eq(mc.log_lik(mc.ctx, S, z, llc), 0);
    ck_assert_int_eq(ml.log_lik(ml.ctx, S, z, lll), 0);
    for (size_t s = 0; s < S; s++) ck_assert(fabs(llc[s] - lll[s]) < 1e-10);
  }
  free(z); free(gc); free(gl); free(sp); free(dp); free(X); free(y);
  cm_linreg_free(c);
  vi_program_free(p);
}
END_TEST

/* Fitted through the engine: the language's linear regression reaches the mean-field
 * optimum in closed form, as the C model does. */
START_TEST(test_fit_linreg)
{
  double *X, *y, sigma, tau;
  size_t n, d;
  read_linreg(&X, &y, &n, &d, &sigma, &tau);
  cm_linreg *c = cm_linreg_alloc(X, y, n, d, sigma, tau);
  double mean[8], sd[8];
  cm_linreg_mean_field(c, mean, sd);
  char *sp = path_of("models/linreg.stan"), *dp = path_of("models/linreg.data.json");
  vi_error err; int st;
  vi_program *p = vi_program_compile_file(sp, &err, &st);
  ck_assert_msg(p != NULL, "%s", err.message);
  ck_assert_msg(vi_program_load_data_file(p, dp, &err) == 0, "%s", err.message);
  vi_model m;
  ck_assert_int_eq(vi_program_model(p, &m), 0);
  vi_options opt;
  vi_options_default(&opt);
  opt.standardize_draws = 1;   /* exact for a Gaussian posterior */
  opt.tol_grad = 1e-9;
  opt.tol_rel_obj = 0.0;
  vi_fit *f = vi_fit_alloc(&m, &opt, &st);
  ck_assert_msg(f != NULL, "fit alloc %d", st);
  st = vi_fit_run(f, NULL, NULL);
  ck_assert_int_eq(st, VI_SUCCESS);
  for (size_t j = 0; j < d; j++) {
    ck_assert_msg(fabs(vi_fit_mean(f)[j] - mean[j]) < 1e-6, "mean %zu: %.10g vs %.10g", j,
                  vi_fit_mean(f)[j], mean[j]);
    ck_assert_msg(fabs(vi_fit_sd(f)[j] - sd[j]) < 1e-6, "sd %zu", j);
  }
  /* the likelihood split is available and finite */
  ck_assert(isfinite(vi_fit_diag(f)->expected_log_lik));
  vi_fit_free(f);
  vi_program_free(p);
  cm_linreg_free(c);
  free(sp); free(dp); free(X); free(y);
}
END_TEST

/* A model with no finite density at z = 0 (a transformed parameter's bound excludes
 * it): the fit starts from a random feasible mean, as Stan would, and finds q inside. */
START_TEST(test_start_infeasible_at_zero)
{
  vi_model m;
  vi_program *p = make("parameters { real x; }\n"
                       "transformed parameters { real<lower=1> y = x; }\n"
                       "model { x ~ normal(1.5, 0.2); }\n", NULL, &m);
  double z = 0, lp;
  ck_assert_int_eq(m.log_joint(m.ctx, 1, &z, &lp, NULL), VI_SUCCESS);
  ck_assert(isinf(lp) && lp < 0);
  vi_options opt;
  vi_options_default(&opt);
  int st;
  vi_fit *f = vi_fit_alloc(&m, &opt, &st);
  ck_assert_msg(f != NULL, "fit alloc %d", st);
  ck_assert_int_ne(vi_fit_init_kind(f), VI_INIT_ZERO);
  st = vi_fit_run(f, NULL, NULL);
  ck_assert_msg(st == VI_SUCCESS || st == VI_ENOPROG, "status %d", st);
  ck_assert_msg(vi_fit_mean(f)[0] > 1.3 && vi_fit_mean(f)[0] < 1.8, "mean %g", vi_fit_mean(f)[0]);
  vi_fit_free(f);
  vi_program_free(p);
}
END_TEST

/* Batched outputs equal the outputs one point at a time, with a branch on a parameter
 * in generated quantities (the batch falls back to one point at a time there). */
START_TEST(test_constrain_batched)
{
  vi_model m;
  vi_program *p = make("parameters { real a; vector<lower=0>[2] b; }\n"
                       "transformed parameters { real c = a * b[1]; }\n"
                       "model { a ~ normal(0, 1); b ~ lognormal(0, 1); }\n"
                       "generated quantities { real g = a > 0 ? log(b[2]) : c; }\n", NULL, &m);
  ck_assert_ptr_nonnull(m.constrain_n);
  enum { N = 9 };
  double z[N * 3], one[5], all[N * 5];
  for (int i = 0; i < N * 3; i++) z[i] = 0.9 * sin(0.8 * i + 0.2);
  for (int branchy = 0; branchy < 2; branchy++) {
    if (!branchy)   /* every a of the same sign: one batched pass */
      for (int s = 0; s < N; s++) z[3 * s] = fabs(z[3 * s]) + 0.1;
    else
      z[0] = -1.0;
    ck_assert_uint_eq(m.n_out, 5);
    ck_assert_int_eq(m.constrain_n(m.ctx, N, z, NULL, all), VI_SUCCESS);
    for (int s = 0; s < N; s++) {
      ck_assert_int_eq(m.constrain(m.ctx, z + 3 * s, NULL, one), VI_SUCCESS);
      for (int k = 0; k < 5; k++)
        ck_assert_msg(fabs(one[k] - all[s * 5 + k]) <= 1e-15 * fmax(1, fabs(one[k])),
                      "draw %d output %d: %.17g vs %.17g", s, k, all[s * 5 + k], one[k]);
    }
  }
  vi_program_free(p);
}
END_TEST

START_TEST(test_eight_schools)
{
  const char *names[2] = {"eight_schools", "eight_schools_centered"};
  for (int k = 0; k < 2; k++) {
    char rel[128];
    snprintf(rel, sizeof rel, "models/%s.stan", names[k]);
    char *sp = path_of(rel);
    snprintf(rel, sizeof rel, "models/%s.data.json", names[k]);
    char *dp = path_of(rel);
    vi_error err; int st;
    vi_program *p = vi_program_compile_file(sp, &err, &st);
    ck_assert_msg(p != NULL, "%s", err.message);
    ck_assert_msg(vi_program_load_data_file(p, dp, &err) == 0, "%s", err.message);
    vi_model m;
    ck_assert_int_eq(vi_program_model(p, &m), 0);
    ck_assert_uint_eq(m.dim, 10);
    ck_assert_str_eq(m.names[1], "log(tau)");
    double z[5 * 10];
    fill_z(z, 50, 0.2 + k);
    double e = fd_error(&m, 5, z);
    ck_assert_msg(e < 1e-6, "%s: gradient error %g", names[k], e);
    batch_vs_single(&m, 5, z);
    /* by hand at z = 0: mu = 0, tau = 1, theta(_tilde) = 0 */
    double y[8] = {28, 8, -3, 7, -1, 1, 18, 12}, sd[8] = {15, 10, 16, 11, 9, 11, 10, 18};
    double z0[10] = {0}, lp;
    ck_assert_int_eq(m.log_joint(m.ctx, 1, z0, &lp, NULL), 0);
    double want = -LOG_SQRT_2PI - log(5.0) - log(M_PI * 5 * (1 + 1.0 / 25));
    for (int j = 0; j < 8; j++) {
      want += -LOG_SQRT_2PI - 0.5 * y[j] * y[j] / (sd[j] * sd[j]) - log(sd[j]);
      want += -LOG_SQRT_2PI;   /* theta_tilde ~ N(0,1) or theta ~ N(mu, tau) at 0 */
    }
    ck_assert_msg(fabs(lp - want) < 1e-10, "%s: %.15g vs %.15g", names[k], lp, want);
    free(sp); free(dp);
    vi_program_free(p);
  }
}
END_TEST

/* Data-only subexpressions are evaluated once and kept: the same values on every call,
 * and new values after the data is reloaded. */
START_TEST(test_data_only_cache)
{
  const char *src =
      "data { int N; vector[N] y; real<lower=0> s; }\n"
      "parameters { real mu; }\n"
      "model {\n"
      "  for (n in 1:N) y[n] ~ normal(mu + log(s) - log(s), exp(log(s)));\n"
      "  target += mean(y) + rep_vector(s, N)[N];\n"
      "}\n";
  const char *json[2] = {"{\"N\": 3, \"y\": [1, 2, 4], \"s\": 1.5}",
                         "{\"N\": 2, \"y\": [-1, 0.5], \"s\": 0.5}"};
  double ys[2][3] = {{1, 2, 4}, {-1, 0.5, 0}}, ss[2] = {1.5, 0.5};
  int ns[2] = {3, 2};
  vi_model m;
  vi_program *p = make(src, json[0], &m);
  for (int k = 0; k < 2; k++) {
    vi_error err;
    if (k) {
      ck_assert_int_eq(vi_program_load_data(p, json[k], strlen(json[k]), "t.json", &err), 0);
      ck_assert_int_eq(vi_program_model(p, &m), 0);
    }
    for (int call = 0; call < 3; call++) {
      double z[2] = {0.3, -0.7}, lp[2];
      ck_assert_int_eq(m.log_joint(m.ctx, 2, z, lp, NULL), 0);
      for (int d = 0; d < 2; d++) {
        double want = 0, mean = 0;
        for (int n = 0; n < ns[k]; n++) {
          double r = (ys[k][n] - z[d]) / ss[k];
          want += -LOG_SQRT_2PI - log(ss[k]) - 0.5 * r * r;
          mean += ys[k][n] / ns[k];
        }
        want += mean + ss[k];
        ck_assert_msg(fabs(lp[d] - want) < 1e-12, "data %d call %d: %.17g vs %.17g", k, call,
                      lp[d], want);
      }
    }
  }
  vi_program_free(p);
}
END_TEST

START_TEST(test_runtime_errors)
{
  vi_model m;
  vi_program *p = make(
      "data { int N; vector[N] y; }\n"
      "parameters { real mu; }\n"
      "model {\n"
      "  for (n in 1:(N + 1))\n"
      "    y[n] ~ normal(mu, 1);\n"
      "}\n", "{\"N\": 3, \"y\": [1, 2, 3]}", &m);
  double z[2] = {0, 1}, lp[2];
  ck_assert_int_eq(m.log_joint(m.ctx, 2, z, lp, NULL), VI_ERUNTIME);
  const char *e = vi_program_last_error(p);
  ck_assert_msg(strstr(e, "t.stan:5:7: error: index 4 out of range for y (size 3)") != NULL,
                "message: %s", e);
  vi_program_free(p);

  /* size mismatch in assignment */
  p = make("data { int N; } parameters { real mu; }\n"
           "model { vector[N] v; v = rep_vector(mu, N + 1); mu ~ normal(0, 1); }\n",
           "{\"N\": 2}", &m);
  ck_assert_int_eq(m.log_joint(m.ctx, 1, z, lp, NULL), VI_ERUNTIME);
  ck_assert_ptr_nonnull(strstr(vi_program_last_error(p), "size mismatch"));
  vi_program_free(p);
}
END_TEST

START_TEST(test_reject)
{
  vi_model m;
  vi_program *p = make(
      "parameters { real mu; }\n"
      "transformed parameters { real<lower=-1> t = mu; }\n"
      "model {\n"
      "  if (mu > 2) reject(\"mu too large: \", mu);\n"
      "  mu ~ normal(0, 1);\n"
      "}\n", NULL, &m);
  double z[4] = {0.5, 3.0, -2.0, 1.0}, lp[4], g[4];
  ck_assert_int_eq(m.log_joint(m.ctx, 4, z, lp, g), VI_SUCCESS);
  ck_assert(isfinite(lp[0]) && isfinite(lp[3]));
  ck_assert(isinf(lp[1]) && lp[1] < 0);    /* reject */
  ck_assert(isinf(lp[2]) && lp[2] < 0);    /* t < -1 */
  ck_assert(fabs(lp[0] - (-LOG_SQRT_2PI - 0.125)) < 1e-14);
  ck_assert(fabs(g[0] + 0.5) < 1e-14);
  /* all draws reject in a batch: -inf everywhere */
  double zz[2] = {5, 6};
  ck_assert_int_eq(m.log_joint(m.ctx, 2, zz, lp, g), VI_SUCCESS);
  ck_assert(isinf(lp[0]) && isinf(lp[1]));
  ck_assert_ptr_nonnull(strstr(vi_program_last_error(p), "mu too large: 5"));
  vi_program_free(p);
}
END_TEST

/* Why a point has no finite density: the statement, its location and its arguments; a
 * reject's message; "" where the density is finite.  And after a fit whose q reaches
 * the rejected region, vi_fit_finish counts the fresh draws that fall there. */
START_TEST(test_explain)
{
  vi_model m;
  vi_program *p = make(
      "parameters { real mu; real s; }\n"
      "model {\n"
      "  if (mu > 1.5) reject(\"mu too large: \", mu);\n"
      "  mu ~ normal(0, 1);\n"
      "  s ~ normal(mu, s);\n"
      "}\n", NULL, &m);
  char why[2048];
  double z[2] = {0.5, -2.0};
  ck_assert_int_eq(vi_program_explain(p, z, why, sizeof why), VI_SUCCESS);
  ck_assert_msg(strstr(why, "t.stan:5:5: error: normal_lpdf: Scale parameter is -2, but must "
                            "be positive finite!") != NULL, "%s", why);
  ck_assert_ptr_nonnull(strstr(why, "  s ~ normal(mu, s);"));   /* the source line */
  z[0] = 1.75;
  ck_assert_int_eq(vi_program_explain(p, z, why, sizeof why), VI_SUCCESS);
  ck_assert_msg(strstr(why, "mu too large: 1.75") != NULL, "%s", why);
  z[1] = 1.0;
  z[0] = 0.0;
  ck_assert_int_eq(vi_program_explain(p, z, why, sizeof why), VI_SUCCESS);
  ck_assert_str_eq(why, "");
  vi_program_free(p);

  p = make("parameters { real mu; }\n"
           "model {\n"
           "  if (mu > 1.5) reject(\"mu too large: \", mu);\n"
           "  mu ~ normal(0, 1);\n"
           "}\n", NULL, &m);
  vi_options opt;
  vi_options_default(&opt);
  vi_fit *f = vi_fit_alloc(&m, &opt, NULL);
  ck_assert_ptr_nonnull(f);
  vi_fit_run(f, NULL, NULL);
  vi_final fin;
  size_t bad = 99;
  ck_assert_int_eq(vi_fit_finish(f, &fin), VI_SUCCESS);
  const vi_fault *ft = vi_fit_finish_fault(f, &bad);
  /* the share of q beyond 1.5, within 5 binomial sds */
  double pr = 0.5 * erfc((1.5 - vi_fit_mean(f)[0]) / (vi_fit_sd(f)[0] * sqrt(2.0)));
  double n = (double)fin.draws;
  ck_assert_msg(pr > 0.005 && fabs((double)bad - n * pr) < 5 * sqrt(n * pr * (1 - pr)) + 1,
                "%zu failed draws, expected about %g", bad, n * pr);
  ck_assert_ptr_nonnull(ft);
  ck_assert(ft->z[0] > 1.5 && isinf(ft->lp) && ft->lp < 0 && ft->draw < fin.draws);
  ck_assert_int_eq(ft->status, VI_ENONFINITE);
  ck_assert(isinf(fin.elbo) && fin.elbo < 0);
  vi_fit_free(f);
  vi_program_free(p);
}
END_TEST

/* A host under a decimal-comma locale (R, Python and GUI programs call
 * setlocale(LC_ALL, "")): the model's literals, the JSON data and the messages read and
 * print numbers as in "C", the fit is the same bits, and the host's locale is untouched.
 * Needs de_DE.UTF-8 (.ci/run generates it); skipped with a message where it is absent. */
static void fit_under_locale(double *out)
{
  vi_model m;
  vi_program *p = make("data { int N; vector[N] y; real s; }\n"
                       "parameters { real mu; real<lower=0> sigma; }\n"
                       "model { mu ~ normal(2.5, 0.5); sigma ~ lognormal(-0.25, 1.5e-1 * 10);\n"
                       "  y ~ normal(mu, sigma * s); }\n",
                       "{\"N\": 3, \"y\": [1.25, 2.75, 3.5e0], \"s\": 0.5}", &m);
  vi_options opt;
  vi_options_default(&opt);
  vi_fit *f = vi_fit_alloc(&m, &opt, NULL);
  ck_assert_ptr_nonnull(f);
  vi_fit_run(f, NULL, NULL);
  out[0] = vi_fit_mean(f)[0];
  out[1] = vi_fit_sd(f)[0];
  out[2] = vi_fit_diag(f)->elbo;
  /* log p at mu = 0, sigma = 1: the literals and data as written */
  double z[2] = {0, 0}, lp;
  ck_assert_int_eq(m.log_joint(m.ctx, 1, z, &lp, NULL), VI_SUCCESS);
  out[3] = lp;
  vi_fit_free(f);
  char why[2048];
  z[0] = 1.5;
  ck_assert_int_eq(vi_program_explain(p, z, why, sizeof why), VI_SUCCESS);
  ck_assert_str_eq(why, "");
  vi_program_free(p);
  /* a message with a number: a point decimal, whatever the host's locale */
  p = make("parameters { real s; }\nmodel { s ~ normal(0, -1.5); }\n", NULL, &m);
  z[0] = 0.25;
  ck_assert_int_eq(vi_program_explain(p, z, why, sizeof why), VI_SUCCESS);
  ck_assert_msg(strstr(why, "normal_lpdf: Scale parameter is -1.5, but must be positive finite!")
                != NULL, "%s", why);
  vi_program_free(p);
}

/* A failing `~` names the argument as Stan does ("normal_lpdf: Scale parameter is -1,
 * but must be positive finite!"), an element of a container by its index; where no
 * argument is outside its domain (the variate outside uniform's support) the message
 * lists the arguments, those that are not variables by Stan's names. */
static void expect_explain(const char *src, const double *z, const char *want)
{
  vi_model m;
  char why[2048];
  vi_program *p = make(src, NULL, &m);
  ck_assert_int_eq(vi_program_explain(p, z, why, sizeof why), VI_SUCCESS);
  ck_assert_msg(strstr(why, want) != NULL, "explain gave\n%s\nexpected\n%s", why, want);
  vi_program_free(p);
}

START_TEST(test_explain_stan_names)
{
  const double a[3] = {1, -1, 2}, half[1] = {-0.5}, one5[1] = {1.5}, two[1] = {2};
  expect_explain("parameters { vector[3] v; }\nmodel { v ~ student_t(3, 0, v); }\n", a,
                 "t.stan:2:11: error: student_t_lpdf: Scale parameter[2] is -1, but must be "
                 "positive finite!");
  expect_explain("transformed data { int k = 3; }\nparameters { real l; }\n"
                 "model { k ~ poisson(l); }\n", half,
                 "t.stan:3:11: error: poisson_lpmf: Rate parameter is -0.5, but must be "
                 "nonnegative!");
  expect_explain("transformed data { int k = 3; }\nparameters { real q; }\n"
                 "model { k ~ binomial(10, q); }\n", one5,
                 "binomial_lpmf: Probability parameter is 1.5, but must be in the interval "
                 "[0, 1]");
  expect_explain("parameters { real a; }\nmodel { 1.5 ~ gamma(a, 1); }\n", half,
                 "gamma_lpdf: Shape parameter is -0.5, but must be positive finite!");
  expect_explain("parameters { real s; }\nmodel { s ~ exponential(2); }\n", half,
                 "exponential_lpdf: Random variable is -0.5, but must be nonnegative!");
  expect_explain("parameters { real s; }\nmodel { s ~ beta(2, 2); }\n", one5,
                 "beta_lpdf: Random variable is 1.5, but must be in the interval [0, 1]");
  expect_explain("parameters { real s; }\nmodel { s ~ uniform(0, 1 + 0); }\n", two,
                 "the log density is -inf here; the arguments of uniform: s = 2, "
                 "Lower bound parameter = 0, Upper bound parameter = 1");
}
END_TEST

START_TEST(test_locale)
{
  double c[4], de[4];
  fit_under_locale(c);
  /* the literals: log N(0 | 2.5, 0.5) + log lognormal(1 | -0.25, 1.5) + the data's */
  double want = -0.5 * 25.0 - log(0.5) - LOG_SQRT_2PI
                - 0.5 * (0.25 / 1.5) * (0.25 / 1.5) - log(1.5) - LOG_SQRT_2PI;
  double y[3] = {1.25, 2.75, 3.5};
  for (int i = 0; i < 3; i++) want += -0.5 * (y[i] / 0.5) * (y[i] / 0.5) - log(0.5) - LOG_SQRT_2PI;
  ck_assert_msg(fabs(c[3] - want) < 1e-12, "lp %.17g vs %.17g", c[3], want);
  if (!setlocale(LC_ALL, "de_DE.UTF-8")) {
    fprintf(stderr, "check_program: SKIP test_locale: the de_DE.UTF-8 locale is not installed "
                    "(localedef -i de_DE -f UTF-8 de_DE.UTF-8)\n");
    return;
  }
  ck_assert_str_eq(localeconv()->decimal_point, ",");   /* the test would show nothing */
  ck_assert_double_eq(strtod("2.5", NULL), 2.0);
  fit_under_locale(de);
  ck_assert_str_eq(localeconv()->decimal_point, ",");   /* the host's locale is kept */
  setlocale(LC_ALL, "C");
  for (int i = 0; i < 4; i++)
    ck_assert_msg(de[i] == c[i], "value %d: %.17g under de_DE, %.17g under C", i, de[i], c[i]);
}
END_TEST

/* Initial values (CmdStan's init files) to the unconstrained point: bounds that depend on
 * earlier parameters, a simplex, per-element bounds; the round trip through the model's
 * constrain gives the values back; a missing parameter gets 0; a value outside its
 * constraint is an error naming it. */
START_TEST(test_unconstrain)
{
  vi_model m;
  vi_program *p = make("data { vector[2] lo; }\n"
                       "parameters { real mu; real<lower=0> tau; real<lower=tau, upper=tau + 2> t;\n"
                       "  simplex[3] w; vector<lower=lo>[2] v; real absent; }\n"
                       "model { mu ~ normal(0, 1); tau ~ normal(0, 1); absent ~ normal(0, 1); }\n",
                       "{\"lo\": [0, 1]}", &m);
  ck_assert_uint_eq(m.dim, 8);
  const char *init = "{\"mu\": 1.5, \"tau\": 2, \"t\": 3.5, \"w\": [0.2, 0.3, 0.5], \"v\": [1, 4]}";
  double z[8];
  vi_error err;
  ck_assert_int_eq(vi_program_unconstrain(p, init, strlen(init), "init.json", z, &err), VI_SUCCESS);
  ck_assert_double_eq_tol(z[0], 1.5, 1e-15);
  ck_assert_double_eq_tol(z[1], log(2.0), 1e-15);
  ck_assert_double_eq_tol(z[2], log(0.75 / 0.25), 1e-12);   /* logit((3.5 - 2) / 2) */
  ck_assert_double_eq_tol(z[5], 0.0, 1e-15);                 /* log(1 - 0) */
  ck_assert_double_eq_tol(z[6], log(3.0), 1e-15);            /* log(4 - 1) */
  ck_assert_double_eq(z[7], 0.0);                            /* absent */
  double out[16];
  ck_assert_uint_eq(m.n_out, 9);
  ck_assert_int_eq(m.constrain(m.ctx, z, NULL, out), VI_SUCCESS);
  double want[9] = {1.5, 2, 3.5, 0.2, 0.3, 0.5, 1, 4, 0};
  for (int i = 0; i < 9; i++) ck_assert_double_eq_tol(out[i], want[i], 1e-12);
  const char *bad = "{\"tau\": 2, \"t\": 1.5}";   /* t must be >= tau */
  ck_assert_int_eq(vi_program_unconstrain(p, bad, strlen(bad), "init.json", z, &err), VI_EDATA);
  ck_assert_msg(strstr(err.message, "parameter 't'") != NULL, "%s", err.message);
  const char *shape = "{\"v\": [1, 2, 3]}";
  ck_assert_int_eq(vi_program_unconstrain(p, shape, strlen(shape), "init.json", z, &err), VI_EDATA);
  ck_assert_msg(strstr(err.message, "variable 'v': dimension 1: declared size 2, found 3") != NULL,
                "%s", err.message);
  vi_program_free(p);
}
END_TEST

START_TEST(test_no_alloc_after_warmup)
{
  vi_model m;
  vi_program *p = make(LOOPS, LOOPS_DATA, &m);
  vi_model m2;
  vi_program *p2 = make(CONSTRAINED, "{\"N\": 3, \"y\": [0.5, 1.5, -0.2]}", &m2);
  double z[32 * 35], lp[32], g[32 * 35];
  fill_z(z, 32 * 35, 0.5);
  for (int k = 0; k < 2; k++) {
    ck_assert_int_eq(m.log_joint(m.ctx, 32, z, lp, g), 0);
    ck_assert_int_eq(m2.log_joint(m2.ctx, 32, z, lp, g), 0);
  }
  long before = n_allocs;
  int bad = 0;   /* (Check's own ck_assert allocates: count statuses instead) */
  for (int k = 0; k < 5; k++) {
    bad += m.log_joint(m.ctx, 32, z, lp, g) != 0;
    bad += m.log_joint(m.ctx, 32, z, lp, NULL) != 0;
    bad += m2.log_joint(m2.ctx, 32, z, lp, g) != 0;
  }
  long used = n_allocs - before;
  ck_assert_int_eq(bad, 0);
  ck_assert_int_eq(used, 0);
  /* and the counter does count: the first call of a new program grows its arena */
  vi_model m3;
  vi_program *p3 = make(LOOPS, LOOPS_DATA, &m3);
  before = n_allocs;
  int rc = m3.log_joint(m3.ctx, 32, z, lp, g);
  used = n_allocs - before;
  ck_assert_int_eq(rc, 0);
  ck_assert_int_gt(used, 0);
  vi_program_free(p3);
  vi_program_free(p);
  vi_program_free(p2);
}
END_TEST


START_TEST(test_print_truncation_loglik)
{
  vi_model m;
  vi_program *p = make(
      "data { real y; }\n"
      "parameters { real mu; }\n"
      "model {\n"
      "  print(\"mu=\", mu, \" v=\", [1, 2]);\n"
      "  mu ~ normal(0, 1);\n"
      "  y ~ normal(mu, 1) T[0, ];\n"
      "}\n", "{\"y\": 0.7}", &m);
  printed[0] = '\0';
  vi_program_set_print(p, capture, NULL);
  double z[2] = {0.25, -0.5}, lp[2], ll[2];
  ck_assert_int_eq(m.log_joint(m.ctx, 2, z, lp, NULL), VI_SUCCESS);
  ck_assert_str_eq(printed, "mu=0.25 v=[1,2]\n|mu=-0.5 v=[1,2]\n|");
  vi_program_set_print(p, NULL, NULL);
  for (int s = 0; s < 2; s++) {
    double mu = z[s];
    double lik = -LOG_SQRT_2PI - 0.5 * (0.7 - mu) * (0.7 - mu) - log(gsl_cdf_ugaussian_Q(-mu));
    double want = -LOG_SQRT_2PI - 0.5 * mu * mu + lik;
    ck_assert_msg(fabs(lp[s] - want) < 1e-12, "lp %.17g want %.17g", lp[s], want);
    ck_assert_int_eq(m.log_lik(m.ctx, 2, z, ll), 0);
    ck_assert_msg(fabs(ll[s] - lik) < 1e-12, "ll %.17g want %.17g", ll[s], lik);
  }
  double e = fd_error(&m, 2, z);
  ck_assert_msg(e < 1e-6, "gradient error %g", e);
  vi_program_free(p);
}
END_TEST

START_TEST(test_compile_errors)
{
  vi_error err; int st;
  /* Stan has no binomial_logit_lcdf either */
  const char *src = "data { int y; } parameters { real a; }\n"
                    "model { y ~ binomial_logit(10, a) T[0, 5]; }";
  vi_program *p = vi_program_compile(src, strlen(src), "t.stan", &err, &st);
  ck_assert_ptr_null(p);
  ck_assert_int_eq(st, VI_EUNSUPPORTED);
  ck_assert_ptr_nonnull(strstr(err.message, "binomial_logit_lc"));
  ck_assert_ptr_nonnull(strstr(err.message, "t.stan:2:"));
  p = vi_program_compile_file("/nonexistent/x.stan", &err, &st);
  ck_assert_ptr_null(p);
  ck_assert_int_eq(st, VI_EIO);
  /* a model without parameters cannot be fitted */
  vi_model m;
  src = "data { real x; } generated quantities { real y = x; }";
  p = vi_program_compile(src, strlen(src), "t.stan", &err, &st);
  ck_assert_ptr_nonnull(p);
  ck_assert_int_eq(vi_program_load_data(p, "{\"x\": 1}", 8, "d", &err), 0);
  ck_assert_int_eq(vi_program_model(p, &m), VI_EINVAL);
  ck_assert_ptr_nonnull(strstr(vi_program_last_error(p), "no parameters"));
  vi_program_free(p);
}
END_TEST

/* Threads (vi_program_set_threads): the log joint and its gradient over 50 draws (four
 * chunks, the last short) are bit-identical with 1, 2 and 3 threads (and equal to the
 * draws evaluated one at a time); draws whose branch differs (the per-draw fallback inside a
 * chunk), a reject in the third chunk (its message, -inf for it alone) and an index out
 * of range in one draw (the same error status and message) included.  A whole fit
 * (adaptive M: 32 .. 128 draws) gives the same ELBO trace, q and final diagnostics to
 * the bit with 1 and 2 threads. */
static const char *THREADS_MODEL =
    "data { int N; int K; matrix[N, K] X; array[N] int y; }\n"
    "parameters { real alpha; vector[K] beta; real<lower=0> s; }\n"
    "model {\n"
    "  alpha ~ normal(0, 2); beta ~ normal(0, s); s ~ exponential(1);\n"
    "  y ~ bernoulli_logit(alpha + X * beta);\n"
    "  if (alpha > 2.5) target += -alpha;\n"
    "  if (alpha > 3.9 && alpha < 4.1) reject(\"alpha near 4: \", alpha);\n"
    "  if (alpha < -9) { array[2] real a = {1.0, 2.0}; target += a[3]; }\n"
    "}\n";

static char *threads_data(size_t N, size_t K)
{
  size_t cap = 64 + N * K * 24 + N * 4, len = 0;
  char *j = malloc(cap);
  len += snprintf(j + len, cap - len, "{\"N\": %zu, \"K\": %zu, \"X\": [", N, K);
  unsigned long r = 12345;
  for (size_t i = 0; i < N; i++) {
    len += snprintf(j + len, cap - len, "%s[", i ? "," : "");
    for (size_t k = 0; k < K; k++) {
      r = r * 6364136223846793005UL + 1442695040888963407UL;
      len += snprintf(j + len, cap - len, "%s%.6f", k ? "," : "", (double)(r >> 11) / 9007199254740992.0 * 2 - 1);
    }
    len += snprintf(j + len, cap - len, "]");
  }
  len += snprintf(j + len, cap - len, "], \"y\": [");
  for (size_t i = 0; i < N; i++)
    len += snprintf(j + len, cap - len, "%s%d", i ? "," : "", (int)((i * 7) % 3 == 0));
  snprintf(j + len, cap - len, "]}");
  return j;
}

START_TEST(test_threads)
{
  enum { N = 3000, K = 6, S = 50, D = K + 2 };   /* N: big enough for threads */
  char *json = threads_data(N, K);
  vi_model m;
  vi_program *p = make(THREADS_MODEL, json, &m);
  free(json);
  ck_assert_int_eq(vi_program_threads(p), 1);
#ifdef _OPENMP
  ck_assert_int_eq(vi_program_set_threads(p, 2), 2);
  ck_assert_int_ge(vi_program_set_threads(p, 0), 1);   /* the cores */
#else
  ck_assert_int_eq(vi_program_set_threads(p, 2), 1);
#endif
  double z[S * D];
  for (int s = 0; s < S; s++)
    for (int j = 0; j < D; j++) z[s * D + j] = 0.3 * sin(1.7 * s + 0.9 * j + 0.2);
  for (int s = 0; s < S; s += 3) z[s * D] = 3.0;    /* alpha > 2.5: another branch */
  double lp1[S], g1[S * D], lp2[S], g2[S * D], l1[1], gs[D];
  vi_program_set_threads(p, 1);
  ck_assert_int_eq(m.log_joint(m.ctx, S, z, lp1, g1), 0);
  ck_assert_int_eq(vi_program_parallel_calls(p), 0);
  for (size_t t = 2; t <= 3; t++) {
    vi_program_set_threads(p, t);
    memset(lp2, 0, sizeof lp2); memset(g2, 0, sizeof g2);
    ck_assert_int_eq(m.log_joint(m.ctx, S, z, lp2, g2), 0);
    ck_assert_msg(memcmp(lp1, lp2, sizeof lp1) == 0, "lp differs with %zu threads", t);
    ck_assert_msg(memcmp(g1, g2, sizeof g1) == 0, "gradient differs with %zu threads", t);
  }
#ifdef _OPENMP
  ck_assert_int_eq(vi_program_parallel_calls(p), 2);   /* it did run on threads */
#endif
  /* each chunk takes one branch throughout, but the batch as a whole does not: one
   * thread evaluates it draw by draw (whose gradients differ in the last bits from a
   * batched pass's: OpenBLAS's one-column kernels), so must the threads */
  double zb[S * D];
  memcpy(zb, z, sizeof zb);
  for (int s = 0; s < S; s++) zb[s * D] = s < 16 ? 3.0 : 0.1;
  vi_program_set_threads(p, 1);
  ck_assert_int_eq(m.log_joint(m.ctx, S, zb, lp1, g1), 0);
  vi_program_set_threads(p, 2);
  ck_assert_int_eq(m.log_joint(m.ctx, S, zb, lp2, g2), 0);
  ck_assert(memcmp(lp1, lp2, sizeof lp1) == 0 && memcmp(g1, g2, sizeof g1) == 0);
  vi_program_set_threads(p, 1);
  ck_assert_int_eq(m.log_joint(m.ctx, S, z, lp1, g1), 0);
  for (int s = 0; s < S; s++) {
    ck_assert_int_eq(m.log_joint(m.ctx, 1, z + s * D, l1, gs), 0);
    ck_assert_msg(memcmp(l1, lp1 + s, sizeof l1) == 0, "draw %d alone differs", s);
    for (int j = 0; j < D; j++)
      ck_assert(fabs(gs[j] - g1[s * D + j]) <= 1e-12 * (1 + fabs(gs[j])));
  }
  /* a reject in draw 37 (third chunk): -inf there only, its message as last error */
  z[37 * D] = 4.0;
  for (size_t t = 1; t <= 2; t++) {
    vi_program_set_threads(p, t);
    ck_assert_int_eq(m.log_joint(m.ctx, S, z, lp2, g2), 0);
    for (int s = 0; s < S; s++)
      ck_assert(s == 37 ? lp2[s] == -INFINITY : memcmp(lp2 + s, lp1 + s, sizeof *lp2) == 0);
    ck_assert_msg(strstr(vi_program_last_error(p), "alpha near 4: 4") != NULL, "%s",
                  vi_program_last_error(p));
  }
  /* an index out of range in draw 21 (second chunk): the same error with 1 and 2 */
  z[21 * D] = -10.0;
  char msg1[2048];
  vi_program_set_threads(p, 1);
  int st1 = m.log_joint(m.ctx, S, z, lp2, g2);
  ck_assert_int_lt(st1, 0);
  snprintf(msg1, sizeof msg1, "%s", vi_program_last_error(p));
  ck_assert_msg(strstr(msg1, "index") != NULL, "%s", msg1);
  vi_program_set_threads(p, 2);
  ck_assert_int_eq(m.log_joint(m.ctx, S, z, lp2, g2), st1);
  ck_assert_str_eq(vi_program_last_error(p), msg1);

  vi_program_free(p);

  /* a whole fit, adaptive M: minutes under valgrind, where the checks above suffice */
  if (getenv("VALGRIND")) return;
  vi_fit *f[2];
  vi_final fin[2];
  vi_program *pf[2];
  json = threads_data(N, K);
  for (int k = 0; k < 2; k++) {
    pf[k] = make(THREADS_MODEL, json, &m);
    vi_program_set_threads(pf[k], (size_t)k + 1);
    vi_options opt;
    vi_options_default(&opt);
    opt.draws = 32;
    opt.draws_max = 128;
    opt.starts = 1;
    int st;
    f[k] = vi_fit_alloc(&m, &opt, &st);
    ck_assert_msg(f[k] != NULL, "fit alloc %d", st);
    st = vi_fit_run(f[k], NULL, NULL);
    ck_assert_msg(st >= 0 || st == VI_EMAXITER, "fit %d", st);
    ck_assert_int_eq(vi_fit_finish(f[k], &fin[k]), 0);
  }
  ck_assert_int_eq(vi_fit_history_len(f[0]), vi_fit_history_len(f[1]));
  ck_assert_int_gt(vi_fit_diag(f[0])->draws, 32);   /* chunks of 16 at several M */
  for (size_t i = 0; i < vi_fit_history_len(f[0]); i++) {
    const vi_diag *a = vi_fit_history(f[0], i), *b = vi_fit_history(f[1], i);
    ck_assert_msg(memcmp(&a->elbo, &b->elbo, sizeof a->elbo) == 0 &&
                  memcmp(&a->grad_norm, &b->grad_norm, sizeof a->grad_norm) == 0 &&
                  a->n_points == b->n_points, "iteration %zu differs: elbo %.17g %.17g, grad %.17g %.17g, points %zu %zu", i, a->elbo, b->elbo, a->grad_norm, b->grad_norm, a->n_points, b->n_points);
  }
#ifdef _OPENMP
  ck_assert_int_eq(vi_program_parallel_calls(pf[0]), 0);
  ck_assert_int_gt(vi_program_parallel_calls(pf[1]), 10);
#endif
  ck_assert(memcmp(vi_fit_mean(f[0]), vi_fit_mean(f[1]), D * sizeof(double)) == 0);
  ck_assert(memcmp(vi_fit_sd(f[0]), vi_fit_sd(f[1]), D * sizeof(double)) == 0);
  ck_assert(memcmp(&fin[0].elbo, &fin[1].elbo, sizeof fin[0].elbo) == 0);
  ck_assert(memcmp(&fin[0].log_evidence, &fin[1].log_evidence, sizeof(double)) == 0);
  ck_assert(memcmp(&fin[0].khat, &fin[1].khat, sizeof(double)) == 0);
  vi_fit_free(f[0]);
  vi_fit_free(f[1]);
  vi_program_free(pf[0]);
  vi_program_free(pf[1]);
  free(json);
}
END_TEST

int main(void)
{
  Suite *s = suite_create("program");
  TCase *tc = tcase_create("core");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, test_gradients_constrained);
  tcase_add_test(tc, test_gradients_loops);
  tcase_add_test(tc, test_fallback);
  tcase_add_test(tc, test_no_alloc_after_warmup);
  tcase_add_test(tc, test_linreg_vs_c);
  tcase_add_test(tc, test_hmm_marginal_vs_forward);
  tcase_add_test(tc, test_csr_vs_dense);
  tcase_add_test(tc, test_fit_linreg);
  tcase_add_test(tc, test_explain);
  tcase_add_test(tc, test_explain_stan_names);
  tcase_add_test(tc, test_locale);
  tcase_add_test(tc, test_unconstrain);
  tcase_add_test(tc, test_eight_schools);
  tcase_add_test(tc, test_start_infeasible_at_zero);
  tcase_add_test(tc, test_constrain_batched);
  tcase_add_test(tc, test_data_only_cache);
  tcase_add_test(tc, test_runtime_errors);
  tcase_add_test(tc, test_reject);
  tcase_add_test(tc, test_print_truncation_loglik);
  tcase_add_test(tc, test_compile_errors);
  suite_add_tcase(s, tc);
  /* a whole fit of a model big enough for threads: slow on a busy machine */
  TCase *tt = tcase_create("threads");
  tcase_set_timeout(tt, 600);
  tcase_add_test(tt, test_threads);
  suite_add_tcase(s, tt);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
