/* bench/lang_overhead.c: the interpreter's overhead.  Times one batched log-joint +
 * gradient over 32 draws through the model language against the same model written by
 * hand in C: logistic regression with N = 10,000, D = 20 (models/c_models.h's
 * cm_logreg, and the language's `y ~ bernoulli_logit(X * beta)`; also the
 * `alpha + X * beta` form), and eight schools (non-centered; the C version is written
 * here); and a 3-state HMM over 200 points, the forward algorithm written in the
 * language in two forms (per iteration and with its loops as vector ops) against
 * hmm_marginal.  Reports the median over repetitions and the ratio.  Not a test: no
 * assertions on time. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <vi/lang.h>
#include <vi/model.h>
#include <vi/status.h>
#include "c_models.h"

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

#define NDRAWS 32

static double now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* Median seconds of one log_joint(NDRAWS draws, with gradient). */
static double time_model(const vi_model *m, int reps, double *lp_out)
{
  size_t D = m->dim;
  double *z = malloc(NDRAWS * D * sizeof *z), *g = malloc(NDRAWS * D * sizeof *g);
  double lp[NDRAWS], t[101];
  for (size_t i = 0; i < NDRAWS * D; i++) z[i] = 0.3 * sin((double)i);
  m->log_joint(m->ctx, NDRAWS, z, lp, g);   /* warm-up */
  if (reps > 101) reps = 101;
  for (int r = 0; r < reps; r++) {
    double t0 = now();
    m->log_joint(m->ctx, NDRAWS, z, lp, g);
    t[r] = now() - t0;
  }
  qsort(t, (size_t)reps, sizeof t[0], cmp);
  if (lp_out) *lp_out = lp[0];
  free(z); free(g);
  return t[reps / 2];
}

static vi_program *compile(const char *src, const char *json);

/* A loop model timed per iteration (the old path) and as vector ops, plus an optional
 * loop-free form of the same model; per gradient over NDRAWS draws and per model point
 * (the fastest of reps calls of each, interleaved). */
static int time_loops(const char *label, const char *loop_src, const char *flat_src,
                      const char *json, int reps)
{
  vi_model m[3];
  vi_program *p[3] = {NULL, NULL, NULL};
  double t[3] = {0, 0, 0}, lp[3] = {0, 0, 0};
  for (int k = 0; k < 3; k++) {
    const char *src = k < 2 ? loop_src : flat_src;
    if (!src) continue;
    if (k == 0) setenv("VI_NO_LOOP_VECTORIZE", "1", 1);
    vi_error err; int st;
    p[k] = vi_program_compile(src, strlen(src), "bench.stan", &err, &st);
    unsetenv("VI_NO_LOOP_VECTORIZE");
    if (!p[k] || vi_program_load_data(p[k], json, strlen(json), "bench.json", &err)) {
      fprintf(stderr, "%s\n", err.message);
      return 1;
    }
    vi_program_model(p[k], &m[k]);
  }
  /* the forms interleaved, the fastest of the repetitions of each: on a shared machine
     the other load comes and goes, and it hits all forms alike this way */
  for (int k = 0; k < 3; k++) t[k] = INFINITY;
  for (int q = 0; q < reps; q++)
    for (int k = 0; k < 3; k++)
      if (p[k]) {
        double tk = time_model(&m[k], 1, &lp[k]);
        if (tk < t[k]) t[k] = tk;
      }
  printf("  %-30s per iteration %8.3f ms (%6.2f us/point)   vector ops %8.3f ms (%6.2f us/point)"
         "   speed-up %5.1fx   (%zu loops vectorised; lp[0] %.12g vs %.12g)\n",
         label, 1e3 * t[0], 1e6 * t[0] / NDRAWS, 1e3 * t[1], 1e6 * t[1] / NDRAWS, t[0] / t[1],
         vi_program_vector_loops(p[1]), lp[0], lp[1]);
  if (p[2])
    printf("  %-30s without a loop %7.3f ms (%6.2f us/point)   loop as vector ops / this %.2f\n",
           "", 1e3 * t[2], 1e6 * t[2] / NDRAWS, t[1] / t[2]);
  for (int k = 0; k < 3; k++) vi_program_free(p[k]);
  return 0;
}

static vi_program *compile(const char *src, const char *json)
{
  vi_error err; int st;
  unsetenv("VI_NO_LOOP_VECTORIZE");
  vi_program *p = vi_program_compile(src, strlen(src), "bench.stan", &err, &st);
  if (!p) { fprintf(stderr, "%s\n", err.message); return NULL; }
  if ((st = vi_program_load_data(p, json, strlen(json), "bench.json", &err))) {
    fprintf(stderr, "%s\n", err.message);
    vi_program_free(p);
    return NULL;
  }
  return p;
}

/* ---- hand-written eight schools, non-centered ---------------------------------------- */
static const double es_y[8] = {28, 8, -3, 7, -1, 1, 18, 12};
static const double es_s[8] = {15, 10, 16, 11, 9, 11, 10, 18};

static int es_log_joint(void *ctx, size_t n, const double *z, double *lp, double *grad)
{
  const double L2PI = log(2 * M_PI);
  for (size_t s = 0; s < n; s++) {
    const double *q = z + s * 10;
    double *g = grad ? grad + s * 10 : NULL;
    double mu = q[0], ltau = q[1], tau = exp(ltau), acc = 0, gmu = 0, gtau = 0;
    acc += -0.5 * L2PI - log(5.0) - 0.5 * (mu / 5) * (mu / 5);
    gmu += -mu / 25;
    acc += -log(M_PI) - log(5.0) - log1p((tau / 5) * (tau / 5)) + ltau;
    gtau += -2 * tau / 25 / (1 + (tau / 5) * (tau / 5));
    double gl = 1;
    for (int j = 0; j < 8; j++) {
      double tt = q[2 + j], th = mu + tau * tt, r = (es_y[j] - th) / es_s[j];
      acc += -0.5 * L2PI - 0.5 * tt * tt;
      acc += -0.5 * L2PI - log(es_s[j]) - 0.5 * r * r;
      double dth = r / es_s[j];
      gmu += dth; gtau += dth * tt;
      if (g) g[2 + j] = -tt + dth * tau;
    }
    lp[s] = acc;
    if (g) { g[0] = gmu; g[1] = gtau * tau + gl; }
  }
  return 0;
}

int main(int argc, char **argv)
{
  int reps = argc > 1 ? atoi(argv[1]) : 31;
  size_t N = 10000, K = 20;
  double *X = malloc(N * K * sizeof *X);
  int *y = malloc(N * sizeof *y);
  cm_logreg_simulate(7, N, K, X, y, NULL);
  /* JSON data */
  size_t cap = N * K * 26 + N * 3 + 256, o = 0;
  char *json = malloc(cap);
  o += (size_t)snprintf(json + o, cap - o, "{\"N\": %zu, \"K\": %zu, \"X\": [", N, K);
  for (size_t i = 0; i < N; i++) {
    o += (size_t)snprintf(json + o, cap - o, "%s[", i ? "," : "");
    for (size_t j = 0; j < K; j++)
      o += (size_t)snprintf(json + o, cap - o, "%s%.17g", j ? "," : "", X[i * K + j]);
    o += (size_t)snprintf(json + o, cap - o, "]");
  }
  o += (size_t)snprintf(json + o, cap - o, "], \"y\": [");
  for (size_t i = 0; i < N; i++) o += (size_t)snprintf(json + o, cap - o, "%s%d", i ? "," : "", y[i]);
  snprintf(json + o, cap - o, "]}");

  const char *lr_src =
      "data { int N; int K; matrix[N, K] X; array[N] int<lower=0, upper=1> y; }\n"
      "parameters { vector[K] beta; }\n"
      "model { beta ~ normal(0, 1); y ~ bernoulli_logit(X * beta); }\n";
  const char *lr2_src =
      "data { int N; int K; matrix[N, K] X; array[N] int<lower=0, upper=1> y; }\n"
      "parameters { real alpha; vector[K] beta; }\n"
      "model { alpha ~ normal(0, 1); beta ~ normal(0, 1);\n"
      "        y ~ bernoulli_logit(alpha + X * beta); }\n";
  cm_logreg *c = cm_logreg_alloc(X, y, N, K, 1.0);
  vi_model mc, ml, ml2;
  cm_logreg_model(c, &mc);
  vi_program *p = compile(lr_src, json), *p2 = compile(lr2_src, json);
  if (!c || !p || !p2) return 1;
  vi_program_model(p, &ml);
  vi_program_model(p2, &ml2);
  double lpc, lpl, lpl2;
  double tc = time_model(&mc, reps, &lpc);
  double tl = time_model(&ml, reps, &lpl);
  double tl2 = time_model(&ml2, reps, &lpl2);
  printf("logistic regression N=%zu D=%zu, %d draws, gradient included (median of %d)\n",
         N, K, NDRAWS, reps);
  printf("  hand-written C (cm_logreg)       %9.3f ms\n", 1e3 * tc);
  printf("  language  X * beta               %9.3f ms   ratio %.2f   (lp[0] C %.10g, lang %.10g)\n",
         1e3 * tl, tl / tc, lpc, lpl);
  printf("  language  alpha + X * beta       %9.3f ms   ratio %.2f\n", 1e3 * tl2, tl2 / tc);

  const char *es_src =
      "data { int<lower=0> J; vector[J] y; vector<lower=0>[J] sigma; }\n"
      "parameters { real mu; real<lower=0> tau; vector[J] theta_tilde; }\n"
      "transformed parameters { vector[J] theta = mu + tau * theta_tilde; }\n"
      "model { mu ~ normal(0, 5); tau ~ cauchy(0, 5); theta_tilde ~ normal(0, 1);\n"
      "        y ~ normal(theta, sigma); }\n";
  const char *es_json = "{\"J\": 8, \"y\": [28, 8, -3, 7, -1, 1, 18, 12],"
                        " \"sigma\": [15, 10, 16, 11, 9, 11, 10, 18]}";
  vi_program *pe = compile(es_src, es_json);
  if (!pe) return 1;
  vi_model me, mh = {0};
  vi_program_model(pe, &me);
  mh.dim = 10; mh.log_joint = es_log_joint;
  double lpe, lph;
  double th = time_model(&mh, reps * 10, &lph);
  double te = time_model(&me, reps * 10, &lpe);
  printf("eight schools (non-centered), %d draws, gradient included\n", NDRAWS);
  printf("  hand-written C                   %9.3f us\n", 1e6 * th);
  printf("  language                         %9.3f us   ratio %.2f   (lp[0] C %.10g, lang %.10g)\n",
         1e6 * te, te / th, lph, lpe);

  /* a 3-state Gaussian HMM over T = 200 points: the builtin against the forward
     algorithm written in the language */
  const size_t T = 200;
  char *hj = malloc(T * 32 + 64);
  size_t ho = (size_t)sprintf(hj, "{\"N\": %zu, \"y\": [", T);
  for (size_t t = 0; t < T; t++)
    ho += (size_t)sprintf(hj + ho, "%s%.6f", t ? "," : "", 2.0 * ((t / 17) % 3) + sin(0.9 * (double)t));
  sprintf(hj + ho, "]}");
#define HMM_HEAD \
  "data { int N; array[N] real y; }\n" \
  "parameters { simplex[3] rho; array[3] simplex[3] theta; ordered[3] mu; }\n" \
  "model {\n" \
  "  matrix[3, N] log_omega;\n" \
  "  for (k in 1:3) for (t in 1:N) log_omega[k, t] = normal_lpdf(y[t] | mu[k], 1);\n" \
  "  mu ~ normal(0, 3);\n"
  const char *hmm_builtin = HMM_HEAD
    "  matrix[3, 3] Gamma;\n"
    "  for (k in 1:3) Gamma[k] = theta[k]';\n"
    "  target += hmm_marginal(log_omega, Gamma, rho);\n"
    "}\n";
  const char *hmm_by_hand = HMM_HEAD
    "  vector[3] alpha = log(rho) + log_omega[, 1];\n"
    "  for (t in 2:N) {\n"
    "    vector[3] next;\n"
    "    for (j in 1:3) {\n"
    "      vector[3] acc;\n"
    "      for (i in 1:3) acc[i] = alpha[i] + log(theta[i, j]);\n"
    "      next[j] = log_sum_exp(acc) + log_omega[j, t];\n"
    "    }\n"
    "    alpha = next;\n"
    "  }\n"
    "  target += log_sum_exp(alpha);\n"
    "}\n";
  const char *hmm_gamma = HMM_HEAD
    "  array[3] real acc;\n"
    "  array[N, 3] real gamma;\n"
    "  for (k in 1:3) gamma[1, k] = log(rho[k]) + log_omega[k, 1];\n"
    "  for (t in 2:N) {\n"
    "    for (k in 1:3) {\n"
    "      for (j in 1:3)\n"
    "        acc[j] = gamma[t - 1, j] + log(theta[j, k]) + log_omega[k, t];\n"
    "      gamma[t, k] = log_sum_exp(acc);\n"
    "    }\n"
    "  }\n"
    "  target += log_sum_exp(gamma[N]);\n"
    "}\n";
#undef HMM_HEAD
  /* per iteration (VI_NO_LOOP_VECTORIZE=1) and with the state loop as vector ops,
     interleaved; hmm_marginal as the loop-free form */
  printf("HMM, 3 states, %zu points, %d draws, gradient included (hmm_marginal: without a loop)\n",
         T, NDRAWS);
  if (time_loops("forward, acc in the j loop", hmm_by_hand, hmm_builtin, hj, reps)
      || time_loops("forward, acc outside, gamma", hmm_gamma, NULL, hj, reps))
    return 1;
  free(hj);

  /* loops with independent iterations: N = 1000 observations, J = 20 groups */
  const size_t NL = 1000, JL = 20;
  char *lj = malloc(NL * 40 + 128);
  size_t lo = (size_t)sprintf(lj, "{\"N\": %zu, \"J\": %zu, \"g\": [", NL, JL);
  for (size_t i = 0; i < NL; i++) lo += (size_t)sprintf(lj + lo, "%s%zu", i ? "," : "", 1 + (i * 7) % JL);
  lo += (size_t)sprintf(lj + lo, "], \"x\": [");
  for (size_t i = 0; i < NL; i++) lo += (size_t)sprintf(lj + lo, "%s%.6f", i ? "," : "", sin(1.3 * (double)i));
  lo += (size_t)sprintf(lj + lo, "], \"y\": [");
  for (size_t i = 0; i < NL; i++)
    lo += (size_t)sprintf(lj + lo, "%s%.6f", i ? "," : "",
                          (i % 3 ? 2.0 : -1.0) + 0.1 * (double)((i * 7) % JL) + 0.5 * cos(0.7 * (double)i));
  sprintf(lj + lo, "]}");
#define LOOP_HEAD \
  "data { int N; int J; array[N] int<lower=1, upper=J> g; vector[N] x; vector[N] y; }\n"
#define VI_PARAMS "parameters { vector[J] a; real beta; real<lower=0> sigma; }\n"
#define VI_PRIORS "  a ~ normal(0, 2); beta ~ normal(0, 1); sigma ~ exponential(1);\n"
  printf("loops with independent iterations, N = %zu, J = %zu, %d draws, gradient included\n",
         NL, JL, NDRAWS);
  if (time_loops("m[i] = a[g[i]] + beta * x[i]",
                 LOOP_HEAD VI_PARAMS "model { vector[N] m;\n" VI_PRIORS
                 "  for (i in 1:N) m[i] = a[g[i]] + beta * x[i];\n  y ~ normal(m, sigma); }\n",
                 LOOP_HEAD VI_PARAMS "model {\n" VI_PRIORS
                 "  y ~ normal(a[g] + beta * x, sigma); }\n", lj, reps))
    return 1;
  if (time_loops("y[i] ~ normal(a[g[i]] + ..)",
                 LOOP_HEAD VI_PARAMS "model {\n" VI_PRIORS
                 "  for (i in 1:N) y[i] ~ normal(a[g[i]] + beta * x[i], sigma); }\n",
                 NULL, lj, reps))
    return 1;
#define MIX_PARAMS "parameters { real<lower=0, upper=1> theta; ordered[2] mu; vector<lower=0>[2] s; }\n"
#define MIX_PRIORS "  mu ~ normal(0, 3); s ~ lognormal(0, 1);\n"
  if (time_loops("mixture, log_mix",
                 LOOP_HEAD MIX_PARAMS "model {\n" MIX_PRIORS
                 "  for (n in 1:N) target += log_mix(theta, normal_lpdf(y[n] | mu[1], s[1]),\n"
                 "                                  normal_lpdf(y[n] | mu[2], s[2])); }\n",
                 NULL, lj, reps))
    return 1;
  if (time_loops("mixture, log_sum_exp of locals",
                 LOOP_HEAD MIX_PARAMS "model {\n" MIX_PRIORS
                 "  for (n in 1:N) {\n"
                 "    real l1 = log(theta) + normal_lpdf(y[n] | mu[1], s[1]);\n"
                 "    real l2 = log1m(theta) + normal_lpdf(y[n] | mu[2], s[2]);\n"
                 "    target += log_sum_exp(l1, l2);\n  } }\n",
                 NULL, lj, reps))
    return 1;
  /* the Stan User's Guide's form: a vector local filled in an inner loop */
  if (time_loops("mixture, User's Guide lps",
                 LOOP_HEAD "parameters { simplex[2] w; ordered[2] mu; vector<lower=0>[2] s; }\n"
                 "model {\n" MIX_PRIORS
                 "  for (n in 1:N) {\n"
                 "    vector[2] lps = log(w);\n"
                 "    for (k in 1:2) lps[k] += normal_lpdf(y[n] | mu[k], s[k]);\n"
                 "    target += log_sum_exp(lps);\n  } }\n",
                 NULL, lj, reps))
    return 1;
#undef LOOP_HEAD
#undef VI_PARAMS
#undef VI_PRIORS
#undef MIX_PARAMS
#undef MIX_PRIORS
  /* a recurrence written into a tuple's element against the same into a vector variable
   * (each write in place: before, the element was copied at every write) */
  {
    const char *tj = "{\"N\": 4000}";
    vi_program *pt = compile(
        "data { int N; }\nparameters { real x; }\n"
        "model { tuple(vector[N], real) t = (rep_vector(0, N), 0);\n  t.1[1] = x;\n"
        "  for (i in 2:N) t.1[i] = 0.9 * t.1[i - 1] + x;\n"
        "  x ~ normal(sum(t.1) / N, 1); }\n", tj);
    vi_program *pv = compile(
        "data { int N; }\nparameters { real x; }\n"
        "model { vector[N] t1 = rep_vector(0, N);\n  t1[1] = x;\n"
        "  for (i in 2:N) t1[i] = 0.9 * t1[i - 1] + x;\n"
        "  x ~ normal(sum(t1) / N, 1); }\n", tj);
    if (!pt || !pv) return 1;
    vi_model mt, mv;
    vi_program_model(pt, &mt);
    vi_program_model(pv, &mv);
    double lt, lv, tt = time_model(&mt, reps, &lt), tv = time_model(&mv, reps, &lv);
    printf("writes t.1[i] = 0.9 * t.1[i - 1] + x, N = 4000, %d draws, gradient included\n",
           NDRAWS);
    printf("  into a vector variable            %9.3f ms\n", 1e3 * tv);
    printf("  into a tuple's element            %9.3f ms   ratio %.2f   (lp[0] %.10g, %.10g)\n",
           1e3 * tt, tt / tv, lv, lt);
    vi_program_free(pt);
    vi_program_free(pv);
  }
  free(lj);
  vi_program_free(p); vi_program_free(p2); vi_program_free(pe);
  cm_logreg_free(c);
  free(X); free(y); free(json);
  return 0;
}
