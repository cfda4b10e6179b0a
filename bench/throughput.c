/* bench/throughput.c: how far one ELBO gradient is from the machine's limit.
 *
 * On a logistic regression with N observations and D = 100 predictors, it times one
 * batched log-joint-with-gradient at M = 32 points (the work of one ELBO gradient on M
 * draws) three ways: through the language (bench/models/logistic_throughput.stan
 * compiled by vi_program_*, data given as Stan JSON built in memory), through the
 * hand-written C model of the same density (cm_logreg, models/c_models.h), and as the
 * raw OpenBLAS GEMM work no gradient
 * can avoid: eta = X B (N x D times D x M) and G = X' R (D x N times N x M).  Each figure
 * is the median of several repetitions after a warm-up call; the ratios language / C,
 * language / GEMM and C / GEMM follow.  A fourth figure, the floor, adds to the two
 * products the one pass over the N x M linear predictors that a logistic likelihood
 * needs (an exp and a log1p each, from libm): a lower bound for a straightforward C
 * implementation, which a cheaper elementwise formula can beat.  The sizes N = 10^3 .. 10^6 show how the cost
 * grows (linearly, if the evaluator adds only O(N M) work around the two products).  Each
 * size is measured with one OpenBLAS thread and with OpenBLAS's default thread count.
 *
 *   throughput [--model FILE.stan] [--sizes 1000,10000,100000,1000000] [--dim 100]
 *              [--draws 32] [--lang-max N] [--threads 1|default|both]
 *              [--vmath scalar|libmvec|sleef]
 *
 * --vmath sets the language's elementwise transcendentals (src/lang/ad/vmath.c;
 * default: its own choice, named in the header), so one binary can time the scalar
 * libm path against the vector one.
 *
 * X[i][j] = k / 100 with k an integer near 100 N(0, 1), written to JSON as "k/100"
 * decimals, so the language and the C model read bit-identical doubles. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gsl/gsl_cblas.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <vi.h>

#include "c_models.h"
#include "lang/ad/vmath.h"

/* OpenBLAS's own thread control (declared in its cblas.h, which clashes with GSL's). */
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);

static double now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

typedef struct problem {
  size_t n, d, m;
  int *xk;         /* n x d integers: X = xk / 100 */
  double *x;       /* n x d row-major */
  int *y;          /* n */
  double *z;       /* m x d: beta at m points */
  double *lp, *grad;
  double *b, *eta, *r, *g;   /* GEMM buffers */
} problem;

static void problem_free(problem *p)
{
  free(p->xk);
  free(p->x);
  free(p->y);
  free(p->z);
  free(p->lp);
  free(p->grad);
  free(p->b);
  free(p->eta);
  free(p->r);
  free(p->g);
}

static int problem_init(problem *p, size_t n, size_t d, size_t m, gsl_rng *rng)
{
  size_t dim = d;
  memset(p, 0, sizeof *p);
  p->n = n;
  p->d = d;
  p->m = m;
  p->xk = malloc(n * d * sizeof *p->xk);
  p->x = malloc(n * d * sizeof *p->x);
  p->y = malloc(n * sizeof *p->y);
  p->z = malloc(m * dim * sizeof *p->z);
  p->lp = malloc(m * sizeof *p->lp);
  p->grad = malloc(m * dim * sizeof *p->grad);
  p->b = malloc(d * m * sizeof *p->b);
  p->eta = malloc(n * m * sizeof *p->eta);
  p->r = malloc(n * m * sizeof *p->r);
  p->g = malloc(d * m * sizeof *p->g);
  if (!p->xk || !p->x || !p->y || !p->z || !p->lp || !p->grad || !p->b || !p->eta ||
      !p->r || !p->g) {
    problem_free(p);
    return -1;
  }
  for (size_t i = 0; i < n; i++) {
    double eta = 0;
    for (size_t j = 0; j < d; j++) {
      int k = (int)lround(100 * gsl_ran_gaussian(rng, 1.0));
      p->xk[i * d + j] = k;
      p->x[i * d + j] = (double)k / 100;
      eta += p->x[i * d + j] * (j % 2 ? 0.1 : -0.1);
    }
    p->y[i] = gsl_rng_uniform(rng) < 1 / (1 + exp(-eta));
  }
  for (size_t k = 0; k < m * dim; k++)
    p->z[k] = gsl_ran_gaussian(rng, 0.1);
  for (size_t s = 0; s < m; s++)
    for (size_t j = 0; j < d; j++)
      p->b[j * m + s] = p->z[s * dim + j];
  for (size_t k = 0; k < n * m; k++)
    p->r[k] = gsl_ran_gaussian(rng, 0.5);
  return 0;
}

/* Append the decimal k / 100 to buf at *pos. */
static void put_centi(char *buf, size_t *pos, int k)
{
  char tmp[24];
  int len = 0;
  unsigned u = (unsigned)(k < 0 ? -k : k);
  if (k < 0)
    buf[(*pos)++] = '-';
  tmp[len++] = (char)('0' + u % 10);
  u /= 10;
  tmp[len++] = (char)('0' + u % 10);
  u /= 10;
  tmp[len++] = '.';
  do {
    tmp[len++] = (char)('0' + u % 10);
    u /= 10;
  } while (u);
  while (len)
    buf[(*pos)++] = tmp[--len];
}

/* Stan JSON for the logistic regression's data block; NULL on allocation failure. */
static char *problem_json(const problem *p, size_t *len)
{
  size_t cap = p->n * p->d * 12 + p->n * 4 + 256, pos = 0;
  char *buf = malloc(cap);
  if (!buf)
    return NULL;
  pos += (size_t)snprintf(buf, cap, "{\"N\": %zu, \"K\": %zu, \"X\": [", p->n, p->d);
  for (size_t i = 0; i < p->n; i++) {
    buf[pos++] = '[';
    for (size_t j = 0; j < p->d; j++) {
      if (j)
        buf[pos++] = ',';
      put_centi(buf, &pos, p->xk[i * p->d + j]);
    }
    buf[pos++] = ']';
    if (i + 1 < p->n)
      buf[pos++] = ',';
  }
  {
    static const char mid[] = "], \"y\": [";
    memcpy(buf + pos, mid, sizeof mid - 1);
    pos += sizeof mid - 1;
  }
  for (size_t i = 0; i < p->n; i++) {
    buf[pos++] = (char)('0' + p->y[i]);
    if (i + 1 < p->n)
      buf[pos++] = ',';
  }
  {
    static const char tail[] = "], \"tau\": 1}";
    memcpy(buf + pos, tail, sizeof tail);
    pos += sizeof tail - 1;
  }
  *len = pos;
  return buf;
}

/* The two products of the gradient: eta = X B and G = X' R (R: the N x M residuals). */
static void gemm_work(problem *p)
{
  cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)p->n, (int)p->m, (int)p->d,
              1.0, p->x, (int)p->d, p->b, (int)p->m, 0.0, p->eta, (int)p->m);
  cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)p->d, (int)p->m, (int)p->n, 1.0,
              p->x, (int)p->d, p->r, (int)p->m, 0.0, p->g, (int)p->m);
}

/* The least a logistic-regression gradient can do: the two products plus one pass over
 * the N x M linear predictors (log-likelihood terms and residuals y - logit^-1(eta)). */
static void floor_work(problem *p)
{
  size_t n = p->n, m = p->m;
  cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)n, (int)m, (int)p->d, 1.0,
              p->x, (int)p->d, p->b, (int)m, 0.0, p->eta, (int)m);
  for (size_t s = 0; s < m; s++)
    p->lp[s] = 0;
  for (size_t i = 0; i < n; i++) {
    const double *eta = p->eta + i * m;
    double *r = p->r + i * m, y = p->y[i];
    for (size_t s = 0; s < m; s++) {
      double e = exp(-fabs(eta[s]));
      double mu = eta[s] >= 0 ? 1 / (1 + e) : e / (1 + e);
      p->lp[s] += y * eta[s] - fmax(eta[s], 0) - log1p(e);
      r[s] = y - mu;
    }
  }
  cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)p->d, (int)m, (int)n, 1.0, p->x,
              (int)p->d, p->r, (int)m, 0.0, p->g, (int)m);
}

static int model_call(const vi_model *mod, problem *p)
{
  return mod->log_joint(mod->ctx, p->m, p->z, p->lp, p->grad);
}

/* Median seconds of one call over reps repetitions (after a warm-up); reps adapts so a
 * measurement takes about a second but at least 3 and at most 15 calls. */
typedef enum { W_LANG, W_C, W_GEMM, W_FLOOR } which;

static double time_it(which w, const vi_model *mod, problem *p, int *status)
{
  double t[15], t0, first;
  int reps;
  *status = 0;
  t0 = now();
  if (w == W_GEMM)
    gemm_work(p);
  else if (w == W_FLOOR)
    floor_work(p);
  else
    *status = model_call(mod, p);
  first = now() - t0;
  if (*status)
    return NAN;
  reps = first > 0.3 ? 3 : first > 0.05 ? 7 : 15;
  for (int k = 0; k < reps; k++) {
    t0 = now();
    if (w == W_GEMM)
      gemm_work(p);
    else if (w == W_FLOOR)
      floor_work(p);
    else
      *status = model_call(mod, p);
    t[k] = now() - t0;
    if (*status)
      return NAN;
  }
  qsort(t, (size_t)reps, sizeof t[0], cmp_double);
  return t[reps / 2];
}

static int parse_sizes(const char *s, size_t *out, int max)
{
  int n = 0;
  while (*s && n < max) {
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || v == 0)
      return -1;
    out[n++] = (size_t)v;
    s = *end == ',' ? end + 1 : end;
    if (*end && *end != ',')
      return -1;
  }
  return n;
}

int main(int argc, char **argv)
{
  const char *model_path = "bench/models/logistic_throughput.stan";
  size_t sizes[16] = {1000, 10000, 100000, 1000000}, d = 100, m = 32;
  size_t lang_max = (size_t)-1;
  int nsizes = 4, thr_mode = 2, default_threads;
  char *env = getenv("top_srcdir");
  static char pathbuf[4096];
  gsl_rng *rng;

  gsl_set_error_handler_off();
  if (env) {
    snprintf(pathbuf, sizeof pathbuf, "%s/bench/models/logistic_throughput.stan", env);
    model_path = pathbuf;
  }
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (!v) {
      fprintf(stderr, "throughput: %s needs a value\n", a);
      return 2;
    }
    if (!strcmp(a, "--model"))
      model_path = v;
    else if (!strcmp(a, "--sizes")) {
      nsizes = parse_sizes(v, sizes, 16);
      if (nsizes <= 0) {
        fprintf(stderr, "throughput: bad --sizes %s\n", v);
        return 2;
      }
    } else if (!strcmp(a, "--dim"))
      d = strtoul(v, NULL, 10);
    else if (!strcmp(a, "--draws"))
      m = strtoul(v, NULL, 10);
    else if (!strcmp(a, "--lang-max"))
      lang_max = strtoul(v, NULL, 10);
    else if (!strcmp(a, "--vmath")) {
      if (vmath_select(v, 0)) {
        fprintf(stderr, "throughput: --vmath %s: not built in or not supported here\n", v);
        return 2;
      }
    } else if (!strcmp(a, "--threads"))
      thr_mode = !strcmp(v, "1") ? 0 : !strcmp(v, "default") ? 1 : 2;
    else {
      fprintf(stderr, "usage: throughput [--model FILE.stan] [--sizes N,N,..] [--dim D] "
                      "[--draws M] [--lang-max N] [--threads 1|default|both] "
                      "[--vmath scalar|libmvec|sleef]\n");
      return 2;
    }
    i++;
  }
  if (d == 0 || m == 0) {
    fprintf(stderr, "throughput: --dim and --draws must be positive\n");
    return 2;
  }
  default_threads = openblas_get_num_threads();
  rng = gsl_rng_alloc(gsl_rng_mt19937);
  if (!rng)
    return 1;
  gsl_rng_set(rng, 20261125);

  printf("# one log-joint gradient at M = %zu points, logistic regression D = %zu\n", m, d);
  printf("# language: %s; C: models/c_models.h; GEMM: X B and X' R (cblas_dgemm)\n",
         model_path);
  printf("# floor: GEMM plus one pass of exp/log1p over the N x M predictors\n");
  printf("# language's elementwise transcendentals: %s\n", vmath_describe());
  printf("# %8s %7s %11s %11s %11s %11s %8s %9s %8s %10s\n", "N", "threads", "language_s",
         "C_s", "GEMM_s", "floor_s", "lang/C", "lang/GEMM", "C/GEMM", "lang/floor");
  fflush(stdout);
  for (int k = 0; k < nsizes; k++) {
    problem p;
    vi_program *prog = NULL;
    vi_model lang, cm;
    cm_logreg *cl = NULL;
    vi_error err;
    int st, have_lang = 0;
    double maxdiff = 0;

    if (problem_init(&p, sizes[k], d, m, rng)) {
      fprintf(stderr, "throughput: out of memory at N = %zu\n", sizes[k]);
      break;
    }
    if (sizes[k] <= lang_max) {
      size_t len;
      char *json = problem_json(&p, &len);
      prog = json ? vi_program_compile_file(model_path, &err, &st) : NULL;
      if (!json)
        fprintf(stderr, "throughput: out of memory for the JSON at N = %zu\n", sizes[k]);
      else if (!prog)
        fprintf(stderr, "%s\n", err.message);
      else if ((st = vi_program_load_data(prog, json, len, "generated", &err)))
        fprintf(stderr, "%s\n", err.message);
      else if ((st = vi_program_model(prog, &lang)))
        fprintf(stderr, "throughput: %s\n", vi_strerror(st));
      else
        have_lang = 1;
      free(json);
    }
    cl = cm_logreg_alloc(p.x, p.y, p.n, p.d, 1.0);
    if (cl)
      cm_logreg_model(cl, &cm);
    if (!cl) {
      fprintf(stderr, "throughput: C model alloc failed at N = %zu\n", sizes[k]);
      vi_program_free(prog);
      problem_free(&p);
      break;
    }
    if (have_lang) {
      /* Both paths compute the same density: compare the log joints once. */
      double *lp2 = malloc(m * sizeof *lp2);
      if (lp2 && model_call(&lang, &p) == 0) {
        memcpy(lp2, p.lp, m * sizeof *lp2);
        if (model_call(&cm, &p) == 0)
          for (size_t s = 0; s < m; s++) {
            double r = fabs(lp2[s] - p.lp[s]) / fmax(1, fabs(p.lp[s]));
            maxdiff = fmax(maxdiff, r);
          }
      }
      free(lp2);
    }
    for (int t = 0; t < 2; t++) {
      double tl = NAN, tc, tg, tf;
      int threads = t == 0 ? 1 : default_threads;
      if ((thr_mode == 0 && t == 1) || (thr_mode == 1 && t == 0))
        continue;
      if (t == 1 && thr_mode == 2 && default_threads == 1)
        continue;
      openblas_set_num_threads(threads);
      if (have_lang)
        tl = time_it(W_LANG, &lang, &p, &st);
      tc = time_it(W_C, &cm, &p, &st);
      tg = time_it(W_GEMM, NULL, &p, &st);
      tf = time_it(W_FLOOR, NULL, &p, &st);
      printf("  %8zu %7d %11.6f %11.6f %11.6f %11.6f %8.2f %9.2f %8.2f %10.2f\n", p.n, threads,
             tl, tc, tg, tf, tl / tc, tl / tg, tc / tg, tl / tf);
      fflush(stdout);
    }
    if (have_lang)
      printf("# N = %zu: max relative difference of log p, language vs C: %.2g\n", p.n,
             maxdiff);
    openblas_set_num_threads(default_threads);
    cm_logreg_free(cl);
    vi_program_free(prog);
    problem_free(&p);
  }
  gsl_rng_free(rng);
  return 0;
}
