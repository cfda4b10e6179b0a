/* check_loop_vec.c: loops with independent iterations evaluated as vector ops
 * (src/lang/back/loop_vec.c).  Each model is compiled twice, once with
 * VI_NO_LOOP_VECTORIZE=1 (every loop per iteration, the interpreter as before), and the
 * log joint and its gradient over 7 draws must agree to 1e-12 (relative); the vector
 * path must have been taken (vi_program_vector_loops) where the loop qualifies and not
 * where it does not; the gradient of the vector path is checked against central
 * differences; an index out of range inside a vectorised loop gives the per-iteration
 * path's error, word for word.  The HMM forward algorithm (privatised temporaries, inner
 * loops folded or unrolled, reads of the previous row of the array written) and every
 * model of tests/lang/e2e are compared both ways too. */
#include <check.h>
#include <dirent.h>
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

/* the Stan User's Guide mixture: a vector local initialised from parameters (the same in
 * every iteration), filled in an inner loop, reduced by log_sum_exp; and one initialised
 * from the iteration's data (must stay per iteration: it depends on n) */
static const char *M_UG_MIX =
    VI_DATA
    "parameters { ordered[2] mu; vector<lower=0>[2] s; simplex[2] w; }\n"
    "model { mu ~ normal(0, 3); s ~ lognormal(0, 1);\n"
    "  for (n in 1:N) {\n"
    "    vector[2] lps = log(w);\n"
    "    for (q in 1:2) lps[q] += normal_lpdf(y[n] | mu[q], s[q]);\n"
    "    target += log_sum_exp(lps);\n"
    "  } }\n";
static const char *M_UG_MIX_DEP =
    VI_DATA
    "parameters { ordered[2] mu; vector<lower=0>[2] s; simplex[2] w; }\n"
    "model { mu ~ normal(0, 3); s ~ lognormal(0, 1);\n"
    "  for (n in 1:N) {\n"
    "    vector[2] lps = log(w) + x[n];\n"
    "    for (q in 1:2) lps[q] += normal_lpdf(y[n] | mu[q], s[q]);\n"
    "    target += log_sum_exp(lps);\n"
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
  ck_assert_uint_eq(compare(M_UG_MIX, json, "User's Guide mixture"), 1);
  /* the outer loop per iteration, its inner loop (2 steps) as vector ops each time */
  ck_assert_uint_eq(compare(M_UG_MIX_DEP, json, "mixture, local from the iteration's data"), 40);
  /* tparams 1, model 1 + J inner loops (tdata's W[j, c] = ...: per iteration) */
  size_t k = compare(M_MISC, json, "misc");
  ck_assert_msg(k >= 2 + 5, "misc: %zu loops vectorised", k);
  free(json);
}
END_TEST

START_TEST(test_gradient_fd)
{
  char *json = vi_json();
  const char *m[] = {M_ASSIGN, M_MIX, M_LSE, M_MISC, M_UG_MIX};
  for (int i = 0; i < 5; i++) {
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
    /* two indexes that are the loop variable (a diagonal: left per iteration) */
    "matrix[2, 2] m = rep_matrix(0, 2, 2); for (q in 1:2) m[q, q] = mu * q; target += -sum(m);",
    /* a fixed index that reads the array the loop writes */
    "array[3, 3] real m = rep_array(1.0, 3, 3); for (q in 1:3) m[1, q] = mu + m[1, 1]; "
    "target += -sum(m[1]);",
    /* the same read after a write in place of m (m[3, 3] = mu made it writable): the
     * fall back must find m as it was */
    "array[3, 3] real m = rep_array(1.0, 3, 3); vector[3] w; m[3, 3] = mu; "
    "for (q in 1:3) { m[1, q] = mu * q; w[q] = m[1, 3] * x[q]; } "
    "target += -sum(m[1]) - dot_self(w);",
  };
  for (size_t b = 0; b < sizeof body / sizeof body[0]; b++) {
    char src[1024];
    snprintf(src, sizeof src, VI_DATA "parameters { real mu; }\nmodel { %s }\n", body[b]);
    ck_assert_uint_eq(compare(src, json, body[b]), 0);
  }
  free(json);
}
END_TEST

/* The HMM forward algorithm (issue 16): the loop over the states k runs as vector ops
 * once per t, its temporary acc privatised (one copy per state), the inner loop over j
 * unrolled, log_sum_exp(acc) the library's kernel over the stacked copies, and
 * gamma[t - 1, j] read while gamma[t, k] is written (no element both). */
static char *hmm_json(int K, int N)
{
  char *j = malloc(64 + 16 * (size_t)N);
  size_t o = (size_t)sprintf(j, "{\"K\": %d, \"N\": %d, \"y\": [", K, N);
  for (int t = 0; t < N; t++)
    o += (size_t)sprintf(j + o, "%s%.6f", t ? "," : "", 1.5 * ((t / 5) % K) + sin(0.9 * t));
  sprintf(j + o, "]}");
  return j;
}

#define HMM_HEAD                                                                     \
  "data { int K; int N; array[N] real y; }\n"                                        \
  "parameters { array[K] simplex[K] theta; positive_ordered[K] mu; }\n"
#define HMM_T1 "  for (k in 1:K) gamma[1, k] = normal_lpdf(y[1] | mu[k], 1);\n"

/* as users write it (bench/time_to_answer/hmm.stan): acc declared outside the loops */
static const char *M_HMM =
    HMM_HEAD "model { array[K] real acc; array[N, K] real gamma;\n"
    "  mu ~ normal(3, 5);\n" HMM_T1
    "  for (t in 2:N) for (k in 1:K) {\n"
    "    for (j in 1:K)\n"
    "      acc[j] = gamma[t - 1, j] + log(theta[j, k]) + normal_lpdf(y[t] | mu[k], 1);\n"
    "    gamma[t, k] = log_sum_exp(acc);\n"
    "  }\n"
    "  target += log_sum_exp(gamma[N]); }\n";

/* vector[K] acc declared in the body, a local summed in the inner loop, max */
static const char *M_HMM_VEC =
    HMM_HEAD "model { array[N, K] real gamma;\n"
    "  mu ~ normal(3, 5);\n" HMM_T1
    "  for (t in 2:N) for (k in 1:K) {\n"
    "    vector[K] acc;\n"
    "    real s = 0;\n"
    "    for (j in 1:K) {\n"
    "      acc[j] = gamma[t - 1, j] + log(theta[j, k]);\n"
    "      s += acc[j] * 1e-3;\n"
    "    }\n"
    "    gamma[t, k] = log_sum_exp(acc) + normal_lpdf(y[t] | mu[k], 1) + s - 1e-3 * max(acc);\n"
    "  }\n"
    "  target += log_sum_exp(gamma[N]); }\n";

/* acc[1] read before the iteration writes it: the previous state's value, a dependence
 * (each k loop falls back to the plain loop; only the t = 1 loop is vectorised) */
static const char *M_HMM_DEP =
    HMM_HEAD "model { array[K] real acc = rep_array(0.0, K); array[N, K] real gamma;\n"
    "  mu ~ normal(3, 5);\n" HMM_T1
    "  for (t in 2:N) for (k in 1:K) {\n"
    "    for (j in 1:K)\n"
    "      acc[j] = 0.25 * acc[1] + gamma[t - 1, j] + log(theta[j, k]) + normal_lpdf(y[t] | mu[k], 1);\n"
    "    gamma[t, k] = log_sum_exp(acc);\n"
    "  }\n"
    "  target += log_sum_exp(gamma[N]); }\n";

/* acc read after the loops: the last state's values, as the plain loop leaves them;
 * only part of it written (acc[K + 1] keeps its value from before); K = 3 */
static const char *M_HMM_AFTER =
    HMM_HEAD "model { array[K + 1] real acc = rep_array(0.5, K + 1); array[N, K] real gamma;\n"
    "  mu ~ normal(3, 5);\n" HMM_T1
    "  for (t in 2:N) for (k in 1:K) {\n"
    "    for (j in 1:K)\n"
    "      acc[j] = gamma[t - 1, j] + log(theta[j, k]) + normal_lpdf(y[t] | mu[k], 1);\n"
    "    gamma[t, k] = log_sum_exp(acc[1], acc[K]) + 0.1 * acc[2];\n"
    "  }\n"
    "  target += log_sum_exp(gamma[N]) + 0.1 * acc[1] + 0.01 * sum(acc) + acc[K + 1]; }\n";

START_TEST(test_hmm_forward)
{
  const int Ks[] = {2, 3, 5}, N = 12;
  for (int i = 0; i < 3; i++) {
    char *json = hmm_json(Ks[i], N), what[64];
    snprintf(what, sizeof what, "forward algorithm, K = %d", Ks[i]);
    /* the t = 1 loop and the state loop of each t = 2..N */
    ck_assert_uint_eq(compare(M_HMM, json, what), (size_t)N);
    snprintf(what, sizeof what, "forward algorithm, vector acc, K = %d", Ks[i]);
    ck_assert_uint_eq(compare(M_HMM_VEC, json, what), (size_t)N);
    free(json);
  }
  char *json = hmm_json(3, N);
  ck_assert_uint_eq(compare(M_HMM_DEP, json, "acc read before written"), 1);
  ck_assert_uint_eq(compare(M_HMM_AFTER, json, "acc read after the loop"), (size_t)N);
  double e = fd_error(M_HMM, json);
  ck_assert_msg(e < 1e-6, "forward algorithm: gradient vs differences %g", e);
  e = fd_error(M_HMM_AFTER, json);
  ck_assert_msg(e < 1e-6, "acc after the loop: gradient vs differences %g", e);
  free(json);
  /* a read of the previous row of the array the loop writes (the q loop of every t) */
  json = vi_json();
  ck_assert_uint_eq(compare(VI_DATA "parameters { real mu; }\nmodel { array[N, 2] real m = "
                            "rep_array(mu, N, 2); for (t in 2:N) for (q in 1:2) m[t, q] = "
                            "m[t - 1, q] * 0.5 + x[t]; target += -square(m[N, 2]); }\n",
                            json, "previous row"), 40 - 1);
  free(json);
}
END_TEST

static char *slurp(const char *path)
{
  FILE *f = fopen(path, "rb");
  ck_assert_msg(f != NULL, "cannot open %s", path);
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *b = malloc((size_t)n + 1);
  ck_assert_uint_eq(fread(b, 1, (size_t)n, f), (size_t)n);
  b[n] = 0;
  fclose(f);
  return b;
}

/* Every model of tests/lang/e2e both ways: log joint and gradient over 3 draws at two
 * points agree to 1e-12 (relative).  Skipped under valgrind (whole models, real data). */
START_TEST(test_e2e_both_ways)
{
  if (getenv("VALGRIND")) return;
  const char *top = getenv("top_srcdir");
  char dir[4096], path[4200];
  snprintf(dir, sizeof dir, "%s/tests/lang/e2e", top ? top : ".");
  DIR *dh = opendir(dir);
  ck_assert_msg(dh != NULL, "cannot open %s", dir);
  struct dirent *de;
  int models = 0;
  size_t vec = 0;
  while ((de = readdir(dh))) {
    size_t len = strlen(de->d_name);
    if (len < 6 || strcmp(de->d_name + len - 5, ".stan")) continue;
    snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
    char *src = slurp(path);
    snprintf(path, sizeof path, "%s/%.*s.data.json", dir, (int)(len - 5), de->d_name);
    char *json = slurp(path);
    vi_model mv, mp;
    vi_program *pv = make(src, json, 0, &mv), *pp = make(src, json, 1, &mp);
    size_t D = mv.dim, n = 3;
    double *z = malloc(n * D * sizeof *z), *gv = malloc(n * D * sizeof *gv),
           *gp = malloc(n * D * sizeof *gp), lv[3], lpl[3], worst = 0;
    for (int pt = 0; pt < 2; pt++) {
      for (size_t i = 0; i < n * D; i++) z[i] = 0.3 * sin(0.9 * (double)i + pt);
      ck_assert_int_eq(mv.log_joint(mv.ctx, n, z, lv, gv), VI_SUCCESS);
      ck_assert_int_eq(mp.log_joint(mp.ctx, n, z, lpl, gp), VI_SUCCESS);
      for (size_t q = 0; q < n; q++) {
        if (!isfinite(lv[q]) || !isfinite(lpl[q])) {
          ck_assert_msg(lv[q] == lpl[q] || (isnan(lv[q]) && isnan(lpl[q])), "%s: lp %g vs %g",
                        de->d_name, lv[q], lpl[q]);
          continue;
        }
        worst = fmax(worst, rel(lv[q], lpl[q]));
        for (size_t d = 0; d < D; d++) worst = fmax(worst, rel(gv[q * D + d], gp[q * D + d]));
      }
    }
    ck_assert_msg(worst <= 1e-12, "%s: vector and per-iteration paths differ by %g",
                  de->d_name, worst);
    ck_assert_uint_eq(vi_program_vector_loops(pp), 0);
    vec += vi_program_vector_loops(pv);
    models++;
    free(z); free(gv); free(gp); free(src); free(json);
    vi_program_free(pv);
    vi_program_free(pp);
  }
  closedir(dh);
  ck_assert_int_gt(models, 20);
  ck_assert_uint_gt(vec, 0);
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
  tcase_add_test(tc, test_hmm_forward);
  tcase_add_test(tc, test_e2e_both_ways);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
