/* check_loop_vec.c: loops with independent iterations evaluated as vector ops
 * (src/lang/back/loop_vec.c).  Each model is compiled twice, once with
 * VI_NO_LOOP_VECTORIZE=1 (every loop per iteration, the interpreter as before), and the
 * log joint and its gradient over 7 draws must agree to 1e-12 (relative); the vector
 * path must have been taken (vi_program_vector_loops) where the loop qualifies and not
 * where it does not; the gradient of the vector path is checked against central
 * differences; an index out of range inside a vectorised loop gives the per-iteration
 * path's error, word for word. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <vi/lang.h>
#include <vi/model.h>
#include <vi/status.h>

#define S 7

static vi_program *make(const char *src, const char *json, int plain, vi_model *m)
{
  vi_error err; int st;
  if (plain) setenv("VI_NO_LOOP_VECTORIZE", "1", 1);
  else unsetenv("VI_NO_LOOP_VECTORIZE");
  vi_program *p = vi_program_compile(src, strlen(src), "t.stan", &err, &st);
  unsetenv("VI_NO_LOOP_VECTORIZE");
  ck_assert_msg(p != NULL, "compile: %s", err.message);
  st = vi_program_load_data(p, json, strlen(json), "t.json", &err);
  ck_assert_msg(st == 0, "data: %s", err.message);
  ck_assert_int_eq(vi_program_model(p, m), VI_SUCCESS);
  return p;
}

static void fill_z(double *z, size_t n, double seed)
{
  for (size_t i = 0; i < n; i++) z[i] = 0.7 * sin(0.9 * (double)i + seed);
}

static double rel(double a, double b)
{
  if (a == b) return 0;
  return fabs(a - b) / fmax(1.0, fmax(fabs(a), fabs(b)));
}

/* Both paths over S draws: value and gradient agree to 1e-12; returns the vector
 * path's loop count per evaluation. */
static size_t compare(const char *src, const char *json, const char *what)
{
  vi_model mv, mp;
  vi_program *pv = make(src, json, 0, &mv), *pp = make(src, json, 1, &mp);
  size_t D = mv.dim;
  ck_assert_uint_eq(D, mp.dim);
  double *z = malloc(S * D * sizeof *z), *gv = malloc(S * D * sizeof *gv),
         *gp = malloc(S * D * sizeof *gp), lv[S], lpl[S];
  fill_z(z, S * D, 0.3);
  ck_assert_int_eq(mv.log_joint(mv.ctx, S, z, lv, gv), VI_SUCCESS);
  ck_assert_int_eq(mp.log_joint(mp.ctx, S, z, lpl, gp), VI_SUCCESS);
  double worst = 0;
  for (size_t s = 0; s < S; s++) {
    ck_assert_msg(isfinite(lv[s]), "%s: lp[%zu] = %g", what, s, lv[s]);
    worst = fmax(worst, rel(lv[s], lpl[s]));
    for (size_t d = 0; d < D; d++) worst = fmax(worst, rel(gv[s * D + d], gp[s * D + d]));
  }
  ck_assert_msg(worst <= 1e-12, "%s: vector and per-iteration paths differ by %g", what,
                worst);
  ck_assert_uint_eq(vi_program_vector_loops(pp), 0);
  size_t k = vi_program_vector_loops(pv);
  free(z); free(gv); free(gp);
  vi_program_free(pv);
  vi_program_free(pp);
  return k;
}

/* Max relative difference between the gradient and central differences (draw 0). */
static double fd_error(const char *src, const char *json)
{
  vi_model m;
  vi_program *p = make(src, json, 0, &m);
  size_t D = m.dim;
  double *z = malloc(D * sizeof *z), *g = malloc(D * sizeof *g), lp, a, b, worst = 0;
  fill_z(z, D, 1.1);
  ck_assert_int_eq(m.log_joint(m.ctx, 1, z, &lp, g), VI_SUCCESS);
  for (size_t d = 0; d < D; d++) {
    double h = 1e-6, z0 = z[d];
    z[d] = z0 + h; m.log_joint(m.ctx, 1, z, &a, NULL);
    z[d] = z0 - h; m.log_joint(m.ctx, 1, z, &b, NULL);
    z[d] = z0;
    worst = fmax(worst, fabs((a - b) / (2 * h) - g[d]) / fmax(1.0, fabs(g[d])));
  }
  ck_assert_uint_gt(vi_program_vector_loops(p), 0);
  free(z); free(g);
  vi_program_free(p);
  return worst;
}

/* Varying intercepts: N = 40 observations in J = 5 groups. */
static char *vi_json(void)
{
  char *j = malloc(4096);
  size_t o = (size_t)snprintf(j, 4096, "{\"N\": 40, \"J\": 5, \"g\": [");
  for (int i = 0; i < 40; i++) o += (size_t)snprintf(j + o, 4096 - o, "%s%d", i ? "," : "", 1 + (i * 7) % 5);
  o += (size_t)snprintf(j + o, 4096 - o, "], \"x\": [");
  for (int i = 0; i < 40; i++) o += (size_t)snprintf(j + o, 4096 - o, "%s%.6f", i ? "," : "", sin(i * 1.3));
  o += (size_t)snprintf(j + o, 4096 - o, "], \"y\": [");
  for (int i = 0; i < 40; i++) o += (size_t)snprintf(j + o, 4096 - o, "%s%.6f", i ? "," : "", 0.5 * ((i * 7) % 5) + cos(i * 0.7));
  o += (size_t)snprintf(j + o, 4096 - o, "], \"k\": [");
  for (int i = 0; i < 40; i++) o += (size_t)snprintf(j + o, 4096 - o, "%s%d", i ? "," : "", (i * 3) % 7);
  snprintf(j + o, 4096 - o, "]}");
  return j;
}

#define VI_DATA "data { int N; int J; array[N] int<lower=1, upper=J> g; vector[N] x; vector[N] y; array[N] int k; }\n"

static const char *M_ASSIGN =
    VI_DATA
    "parameters { vector[J] a; real beta; real<lower=0> sigma; }\n"
    "model { vector[N] m;\n"
    "  for (i in 1:N) m[i] = a[g[i]] + beta * x[i];\n"
    "  a ~ normal(0, 2); beta ~ normal(0, 1); sigma ~ exponential(1);\n"
    "  y ~ normal(m, sigma); }\n";

static const char *M_TILDE =
    VI_DATA
    "parameters { vector[J] a; real beta; real<lower=0> sigma; }\n"
    "model { a ~ normal(0, 2); beta ~ normal(0, 1); sigma ~ exponential(1);\n"
    "  for (i in 1:N) y[i] ~ normal(a[g[i]] + beta * x[i], sigma); }\n";

static const char *M_MIX =
    VI_DATA
    "parameters { real<lower=0, upper=1> theta; ordered[2] mu; vector<lower=0>[2] s; }\n"
    "model { mu ~ normal(0, 3); s ~ lognormal(0, 1);\n"
    "  for (n in 1:N)\n"
    "    target += log_mix(theta, normal_lpdf(y[n] | mu[1], s[1]),\n"
    "                      normal_lpdf(y[n] | mu[2], s[2])); }\n";

static const char *M_LSE =
    VI_DATA
    "parameters { real<lower=0, upper=1> theta; real mu1; real mu2; real<lower=0> s1; real<lower=0> s2; }\n"
    "model { mu1 ~ normal(-1, 2); mu2 ~ normal(1, 2); s1 ~ lognormal(0, 1); s2 ~ lognormal(0, 1);\n"
    "  for (n in 1:N) {\n"
    "    real l1 = log(theta) + normal_lpdf(y[n] | mu1, s1);\n"
    "    real l2;\n"
    "    l2 = log1m(theta);\n"
    "    l2 += normal_lpdf(y[n] | mu2, s2);\n"
    "    target += log_sum_exp(l1, l2);\n"
    "  } }\n";

/* an int expression as index, int / int, a matrix element, a transformed parameter
 * written in place and read back, poisson counts, a loop inside a loop */
static const char *M_MISC =
    VI_DATA
    "transformed data { matrix[J, 3] W; for (j in 1:J) for (c in 1:3) W[j, c] = j + 0.1 * c; }\n"
    "parameters { vector[J] a; real beta; real<lower=0> sigma; }\n"
    "transformed parameters { vector[N] eta;\n"
    "  for (i in 1:N) { eta[i] = a[(g[i] % J) + 1] * W[g[i], 1 + i % 3];\n"
    "                   eta[i] = eta[i] / 4 + beta * (i / 7) * 0.01; } }\n"
    "model { a ~ normal(0, 1); beta ~ normal(0, 1); sigma ~ exponential(1);\n"
    "  for (i in 1:N) k[i] ~ poisson_log(eta[i]);\n"
    "  for (j in 1:J) for (i in 1:N) target += -0.001 * square(a[j] - x[i] * sigma); }\n";

/* Multi-index writes (issue 16): HMM emissions x[k, t] = ... in a loop over the states
 * with t fixed, x[t, k] on a 2-d array, x[t][k] on an array of vectors, a compound
 * assignment reading the iteration's own element back */
static const char *M_MULTI =
    VI_DATA
    "parameters { ordered[3] mu; real<lower=0> s; }\n"
    "model { matrix[3, N] lo; array[N, 3] real lt; array[N] vector[3] lc;\n"
    "  mu ~ normal(0, 3); s ~ lognormal(0, 1);\n"
    "  for (t in 1:N) {\n"
    "    for (q in 1:3) lo[q, t] = normal_lpdf(y[t] | mu[q], s);\n"
    "    for (q in 1:3) { lt[t, q] = lo[q, t] * 0.5 + x[t]; lt[t, q] += mu[q] * s; }\n"
    "    for (q in 1:3) lc[t][q] = lt[t, q] - exp(mu[q] / 4);\n"
    "    target += log_sum_exp(lo[:, t]) + 0.01 * log_sum_exp(lc[t]);\n"
    "  } }\n";

/* Whole variables written by a loop (the folded value becomes the variable): one value
 * stored in two variables, then each written again in place after the loop (each must
 * keep its own copy); int arithmetic, int division, comparisons and a per-iteration
 * value (i) in the elementwise operators, with a plain operand on either side */
static const char *M_WHOLE =
    VI_DATA
    "parameters { vector[J] a; real beta; real<lower=0> sigma; }\n"
    "model { vector[N] m; array[N] real w; array[N] int c;\n"
    "  for (i in 1:N) { real u = a[g[i]] * x[i]; m[i] = u; w[i] = u; }\n"
    "  m[1] = 5; w[2] += beta; m[3] *= 2;\n"
    "  for (i in 1:N) c[i] = g[i] * 2 - i / 3 + (k[i] > 2) - (i % 4 == 0);\n"
    "  for (i in 1:N) w[i] = (x[i] > 0) * beta + w[i] * (2 - sigma) + (i < 20) / sigma + i;\n"
    "  a ~ normal(0, 2); beta ~ normal(0, 1); sigma ~ exponential(1);\n"
    "  y ~ normal(m + to_vector(w) * 0.01 + 0.1 * to_vector(c), sigma); }\n";

START_TEST(test_whole_writes)
{
  char *json = vi_json();
  ck_assert_uint_eq(compare(M_WHOLE, json, "whole writes, int and comparison ops"), 3);
  double e = fd_error(M_WHOLE, json);
  ck_assert_msg(e < 1e-6, "whole writes: gradient vs differences %g", e);
  free(json);
}
END_TEST

START_TEST(test_multi_index)
{
  char *json = vi_json();
  /* the three inner loops of each of the N = 40 outer iterations */
  ck_assert_uint_eq(compare(M_MULTI, json, "multi-index writes"), 3 * 40);
  double e = fd_error(M_MULTI, json);
  ck_assert_msg(e < 1e-6, "multi-index: gradient vs differences %g", e);
  free(json);
}
END_TEST

START_TEST(test_agree)
{
  char *json = vi_json();
  ck_assert_uint_eq(compare(M_ASSIGN, json, "m[i] = a[g[i]] + beta * x[i]"), 1);
  ck_assert_uint_eq(compare(M_TILDE, json, "y[i] ~ normal(a[g[i]] + beta * x[i], sigma)"), 1);
  ck_assert_uint_eq(compare(M_MIX, json, "log_mix"), 1);
  ck_assert_uint_eq(compare(M_LSE, json, "log_sum_exp of locals"), 1);
  /* tparams 1, model 1 + J inner loops (tdata's W[j, c] = ...: per iteration) */
  size_t k = compare(M_MISC, json, "misc");
  ck_assert_msg(k >= 2 + 5, "misc: %zu loops vectorised", k);
  free(json);
}
END_TEST

START_TEST(test_gradient_fd)
{
  char *json = vi_json();
  const char *m[] = {M_ASSIGN, M_MIX, M_LSE, M_MISC};
  for (int i = 0; i < 4; i++) {
    double e = fd_error(m[i], json);
    ck_assert_msg(e < 1e-6, "model %d: gradient vs differences %g", i, e);
  }
  free(json);
}
END_TEST

/* Loops that must stay per iteration: a running sum (a loop-carried dependence), a
 * read of another iteration's element, a write through a gather, control flow. */
START_TEST(test_not_vectorised)
{
  char *json = vi_json();
  const char *body[] = {
    "real acc = 0; for (i in 1:N) acc += y[i] - mu; target += -0.5 * square(acc);",
    "vector[N] m; m[1] = mu; for (i in 2:N) m[i] = m[i - 1] * 0.5 + mu; y ~ normal(m, 1);",
    "vector[J] m = rep_vector(0, J); for (i in 1:N) m[g[i]] = mu * x[i]; target += -dot_self(m);",
    "for (i in 1:N) if (x[i] > 0) y[i] ~ normal(mu, 1);",
    "for (i in 1:N) mu ~ normal(0, 10);",
    /* a read of the previous row of the array the loop writes */
    "array[N, 2] real m = rep_array(mu, N, 2); for (t in 2:N) for (q in 1:2) "
    "m[t, q] = m[t - 1, q] * 0.5 + x[t]; target += -square(m[N, 2]);",
    /* two indexes that are the loop variable (a diagonal: left per iteration) */
    "matrix[2, 2] m = rep_matrix(0, 2, 2); for (q in 1:2) m[q, q] = mu * q; target += -sum(m);",
    /* a fixed index that reads the array the loop writes */
    "array[3, 3] real m = rep_array(1.0, 3, 3); for (q in 1:3) m[1, q] = mu + m[1, 1]; "
    "target += -sum(m[1]);",
  };
  for (size_t b = 0; b < sizeof body / sizeof body[0]; b++) {
    char src[1024];
    snprintf(src, sizeof src, VI_DATA "parameters { real mu; }\nmodel { %s }\n", body[b]);
    ck_assert_uint_eq(compare(src, json, body[b]), 0);
  }
  free(json);
}
END_TEST

/* An index out of range in a vectorised loop: the per-iteration path's message. */
START_TEST(test_error_as_before)
{
  char *json = vi_json();
  const char *src =
      VI_DATA "parameters { vector[J] a; }\n"
      "model { for (i in 1:N) y[i] ~ normal(a[g[i] + k[i]], 1); }\n";
  char msg[2][1024];
  for (int plain = 0; plain < 2; plain++) {
    vi_model m;
    vi_program *p = make(src, json, plain, &m);
    double z[S * 5], lp[S];
    fill_z(z, S * 5, 0);
    ck_assert_int_ne(m.log_joint(m.ctx, S, z, lp, NULL), VI_SUCCESS);
    snprintf(msg[plain], sizeof msg[plain], "%s", vi_program_last_error(p));
    ck_assert_uint_eq(vi_program_vector_loops(p), 0);
    vi_program_free(p);
  }
  ck_assert_msg(strstr(msg[0], "out of range") != NULL, "%s", msg[0]);
  ck_assert_str_eq(msg[0], msg[1]);
  free(json);
}
END_TEST

int main(void)
{
  Suite *s = suite_create("loop_vec");
  TCase *tc = tcase_create("core");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, test_agree);
  tcase_add_test(tc, test_multi_index);
  tcase_add_test(tc, test_whole_writes);
  tcase_add_test(tc, test_gradient_fd);
  tcase_add_test(tc, test_not_vectorised);
  tcase_add_test(tc, test_error_as_before);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
