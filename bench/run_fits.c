/* bench/run_fits.c: one benchmark fit through the public API (vi.h), with the outputs
 * bench/run collects: a per-iteration trace CSV and a final summary JSON.
 *
 * It is the `vi fit MODEL --data DATA --trace T --summary-json S --quiet` of the
 * benchmark, written against libvi directly so the benchmark does not depend on the
 * command-line front end and can add what only the benchmark needs: for a model whose
 * posterior is Gaussian in closed form (--gaussian FILE.json with "mean", "precision"
 * and "log_evidence"), the exact KL(q || p) between the diagonal Gaussian q and the
 * posterior every iteration, 0.5 [tr(P S) + (mu - m)' P (mu - m) - D - log det S -
 * log det P], and the exact ELBO = log p(X) - KL.
 *
 * It also gives every run the same yardstick: the trace ELBO of a fixed-draw fit is the
 * optimiser's sample-average objective, optimistic at its own optimum (by more than a nat
 * on eight schools at M = 32), and Adam's is noisy.  So the observer keeps q (mu, sd) at
 * every iteration (a copy, not timed work), and after the fit the ELBO of q at
 * log-spaced checkpoints and at the end is estimated from one fixed set of K fresh
 * standard-normal draws shared by all runs (common random numbers, seed 20261125), as
 * the mean log-weight log p(x, z) - log q(z).  Runs of one model are then compared
 * without the objective's bias and with little noise between nearly equal q's.
 *
 *   run_fits MODEL.stan DATA.json
 *            [--optimizer bfgs2|cg-fr|cg-pr|steepest|bfgs2-plain|bfgs2-auto|adam]
 *            [--seed S] [--draws M] [--max-iter N] [--eval-draws N]
 *            [--trace FILE] [--summary-json FILE] [--gaussian FILE] [--crn-draws K]
 *            [--checkpoints PER_DECADE] [--lrvb 1]
 *
 * --lrvb 1: after the fit (fixed draws), the linear-response covariance (vi_fit_lrvb):
 * its status, cost in model points and seconds, and sds go into the summary.
 *
 * Methods: the four GSL optimisers run the library's default fixed-draw objective
 * (standardized draws) with M held fixed (--draws, default 32), so they are compared on
 * one objective; bfgs2-plain uses the draws as drawn (plain DADVI); bfgs2-auto is the
 * library's default as a whole (standardized draws, adaptive M from --draws up to
 * draws_max); adam uses fresh draws each step.
 *
 * Exit status: 0 converged, 1 stopped otherwise (cap, no progress), 2 usage or model
 * error, 3 numerical failure. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_errno.h>
#include <gsl/gsl_math.h>
#include <gsl/gsl_randist.h>
#include <jansson.h>
#include <vi.h>

typedef struct gaussian_ref {
  size_t dim;
  double *mean;       /* dim */
  double *prec;       /* dim x dim, row-major */
  double logdet_prec;
  double log_evidence;
} gaussian_ref;

/* One trace row, kept until the fit ends (the CRN ELBO is filled in afterwards). */
typedef struct row {
  vi_diag d;
  double kl_exact, elbo_exact, elbo_crn;
} row;

typedef struct trace_ctx {
  const gaussian_ref *g;
  double *tmp;        /* dim */
  size_t dim;
  row *rows;
  double *q;          /* per row: mu then sd (2 dim) */
  size_t n, cap;
  int oom;
} trace_ctx;

static void usage(void)
{
  fputs("usage: run_fits MODEL.stan DATA.json\n"
        "       [--optimizer bfgs2|cg-fr|cg-pr|steepest|bfgs2-plain|bfgs2-auto|adam]\n"
        "       [--seed S] [--draws M] [--max-iter N] [--eval-draws N]\n"
        "       [--trace FILE] [--summary-json FILE] [--gaussian FILE] [--crn-draws K]\n"
        "       [--checkpoints PER_DECADE] [--lrvb 1]\n", stderr);
}

/* log det of a symmetric positive definite matrix by Cholesky (a copy); NaN if not SPD. */
static double logdet_spd(const double *a, size_t n)
{
  double *l = malloc(n * n * sizeof *l);
  double ld = 0;
  if (!l)
    return NAN;
  memcpy(l, a, n * n * sizeof *l);
  for (size_t j = 0; j < n; j++) {
    double s = l[j * n + j];
    for (size_t k = 0; k < j; k++)
      s -= l[j * n + k] * l[j * n + k];
    if (!(s > 0)) {
      free(l);
      return NAN;
    }
    l[j * n + j] = sqrt(s);
    ld += 2 * log(l[j * n + j]);
    for (size_t i = j + 1; i < n; i++) {
      double t = l[i * n + j];
      for (size_t k = 0; k < j; k++)
        t -= l[i * n + k] * l[j * n + k];
      l[i * n + j] = t / l[j * n + j];
    }
  }
  free(l);
  return ld;
}

static void gaussian_free(gaussian_ref *g)
{
  if (g) {
    free(g->mean);
    free(g->prec);
  }
}

static int gaussian_load(const char *path, gaussian_ref *g)
{
  json_error_t jerr;
  json_t *root = json_load_file(path, 0, &jerr);
  json_t *mean, *prec, *le;
  memset(g, 0, sizeof *g);
  if (!root) {
    fprintf(stderr, "run_fits: %s:%d: %s\n", path, jerr.line, jerr.text);
    return -1;
  }
  mean = json_object_get(root, "mean");
  prec = json_object_get(root, "precision");
  le = json_object_get(root, "log_evidence");
  if (!json_is_array(mean) || !json_is_array(prec) || !json_is_number(le) ||
      json_array_size(prec) != json_array_size(mean) || json_array_size(mean) == 0)
    goto bad;
  g->dim = json_array_size(mean);
  g->mean = malloc(g->dim * sizeof *g->mean);
  g->prec = malloc(g->dim * g->dim * sizeof *g->prec);
  if (!g->mean || !g->prec)
    goto bad;
  for (size_t i = 0; i < g->dim; i++) {
    json_t *row = json_array_get(prec, i);
    if (!json_is_number(json_array_get(mean, i)) || !json_is_array(row) ||
        json_array_size(row) != g->dim)
      goto bad;
    g->mean[i] = json_number_value(json_array_get(mean, i));
    for (size_t j = 0; j < g->dim; j++)
      g->prec[i * g->dim + j] = json_number_value(json_array_get(row, j));
  }
  g->log_evidence = json_number_value(le);
  g->logdet_prec = logdet_spd(g->prec, g->dim);
  if (!isfinite(g->logdet_prec))
    goto bad;
  json_decref(root);
  return 0;
bad:
  fprintf(stderr, "run_fits: %s: expected {\"mean\": [...], \"precision\": [[...]], "
          "\"log_evidence\": x} with a positive definite precision\n", path);
  json_decref(root);
  gaussian_free(g);
  return -1;
}

/* KL(N(mu, diag sd^2) || N(m, P^-1)). */
static double gaussian_kl(const gaussian_ref *g, const double *mu, const double *sd,
                          double *tmp)
{
  size_t n = g->dim;
  double tr = 0, quad = 0, logdet_s = 0;
  for (size_t i = 0; i < n; i++) {
    tr += g->prec[i * n + i] * sd[i] * sd[i];
    logdet_s += 2 * log(sd[i]);
    tmp[i] = mu[i] - g->mean[i];
  }
  for (size_t i = 0; i < n; i++) {
    double r = 0;
    for (size_t j = 0; j < n; j++)
      r += g->prec[i * n + j] * tmp[j];
    quad += tmp[i] * r;
  }
  return 0.5 * (tr + quad - (double)n - logdet_s - g->logdet_prec);
}

static int trace_write(const char *path, const trace_ctx *t)
{
  FILE *out = fopen(path, "w");
  if (!out) {
    fprintf(stderr, "run_fits: %s: %s\n", path, strerror(errno));
    return -1;
  }
  fputs("iter,elbo,kl,log_evidence,log_evidence_se,log_evidence_exact,grad_norm,"
        "n_fevals,n_gevals,seconds,kl_exact,elbo_exact,elbo_crn,draws,n_points\n", out);
  for (size_t i = 0; i < t->n; i++) {
    const row *r = &t->rows[i];
    const vi_diag *d = &r->d;
    fprintf(out, "%zu,%.10g,%.10g,%.10g,%.6g,%d,%.6g,%zu,%zu,%.6f,%.10g,%.10g,%.10g,%zu,%zu\n",
            d->iter, d->elbo, d->kl, d->log_evidence, d->log_evidence_se,
            d->log_evidence_exact, d->grad_norm, d->n_fevals, d->n_gevals, d->seconds,
            r->kl_exact, r->elbo_exact, r->elbo_crn, d->draws, d->n_points);
  }
  if (fclose(out)) {
    fprintf(stderr, "run_fits: %s: write failed\n", path);
    return -1;
  }
  return 0;
}

/* Observer: keep the diagnostics and q of every iteration (once each). */
static int trace_row(void *vctx, const vi_fit *f, const vi_diag *d)
{
  trace_ctx *t = vctx;
  row *r;
  if (t->oom || (t->n > 0 && d->iter <= t->rows[t->n - 1].d.iter))
    return 0;
  if (t->n == t->cap) {
    size_t cap = t->cap ? 2 * t->cap : 256;
    row *nr = realloc(t->rows, cap * sizeof *nr);
    double *nq;
    if (!nr) {
      t->oom = 1;
      return 0;
    }
    t->rows = nr;
    nq = realloc(t->q, cap * 2 * t->dim * sizeof *nq);
    if (!nq) {
      t->oom = 1;
      return 0;
    }
    t->q = nq;
    t->cap = cap;
  }
  r = &t->rows[t->n];
  r->d = *d;
  r->kl_exact = r->elbo_exact = r->elbo_crn = NAN;
  memcpy(t->q + t->n * 2 * t->dim, vi_fit_mean(f), t->dim * sizeof(double));
  memcpy(t->q + t->n * 2 * t->dim + t->dim, vi_fit_sd(f), t->dim * sizeof(double));
  if (t->g) {
    r->kl_exact = gaussian_kl(t->g, vi_fit_mean(f), vi_fit_sd(f), t->tmp);
    r->elbo_exact = t->g->log_evidence - r->kl_exact;
  }
  t->n++;
  return 0;
}

/* The common-random-numbers ELBO of q = N(mu, diag sd^2): the mean over the K shared
 * draws eps of log p(x, mu + sd eps) - log q(.), evaluated in batches; -inf when q puts
 * mass where the model has none.  *se gets the Monte Carlo standard error. */
typedef struct crn {
  size_t k, dim, batch;
  const double *eps;   /* k x dim */
  double *z, *lp;      /* batch x dim, batch */
} crn;

static double crn_elbo(const crn *c, const vi_model *m, const double *mu, const double *sd,
                       double *se)
{
  double s = 0, ss = 0, logdet = 0, c0 = 0.5 * (double)c->dim * log(2 * M_PI);
  double *lw = malloc(c->k * sizeof *lw);
  *se = NAN;
  if (!lw)
    return NAN;
  for (size_t j = 0; j < c->dim; j++)
    logdet += log(sd[j]);
  for (size_t s0 = 0; s0 < c->k; s0 += c->batch) {
    size_t b = c->k - s0 < c->batch ? c->k - s0 : c->batch;
    for (size_t i = 0; i < b; i++)
      for (size_t j = 0; j < c->dim; j++)
        c->z[i * c->dim + j] = mu[j] + sd[j] * c->eps[(s0 + i) * c->dim + j];
    if (m->log_joint(m->ctx, b, c->z, c->lp, NULL) != VI_SUCCESS) {
      free(lw);
      return NAN;
    }
    for (size_t i = 0; i < b; i++) {
      double e2 = 0;
      for (size_t j = 0; j < c->dim; j++)
        e2 += c->eps[(s0 + i) * c->dim + j] * c->eps[(s0 + i) * c->dim + j];
      lw[s0 + i] = c->lp[i] + logdet + c0 + 0.5 * e2;
      s += lw[s0 + i];
    }
  }
  s /= (double)c->k;
  if (!isfinite(s)) {
    free(lw);
    return -INFINITY;
  }
  for (size_t i = 0; i < c->k; i++)
    ss += (lw[i] - s) * (lw[i] - s);
  *se = sqrt(ss / (double)(c->k - 1) / (double)c->k);
  free(lw);
  return s;
}

/* Checkpoints: every iteration up to 10, then about per_decade per decade, and the
 * last. */
static int is_checkpoint(size_t i, size_t last, double per_decade)
{
  if (i <= 10 || i == last)
    return 1;
  /* i is the first iteration at or past 10^(k / per_decade) for some k */
  double t = pow(10, floor(per_decade * log10((double)i)) / per_decade);
  return (double)(i - 1) < t;
}

/* JSON numbers cannot be NaN or infinite: write null for those. */
static void jnum(FILE *o, const char *key, double v, int comma)
{
  if (isfinite(v))
    fprintf(o, "  \"%s\": %.12g%s\n", key, v, comma ? "," : "");
  else
    fprintf(o, "  \"%s\": null%s\n", key, comma ? "," : "");
}

static void jvec(FILE *o, const char *key, const double *v, size_t n, int comma)
{
  fprintf(o, "  \"%s\": [", key);
  for (size_t i = 0; i < n; i++) {
    if (isfinite(v[i]))
      fprintf(o, "%s%.12g", i ? ", " : "", v[i]);
    else
      fprintf(o, "%snull", i ? ", " : "");
  }
  fprintf(o, "]%s\n", comma ? "," : "");
}

static int parse_opt(const char *s, vi_options *o)
{
  /* std: standardized draws; adaptive: keep the library's adaptive M (draws_max). */
  static const struct { const char *name; vi_optimizer opt; int std, adaptive; } tab[] = {
    {"bfgs2", VI_OPT_BFGS2, 1, 0}, {"cg-fr", VI_OPT_CG_FR, 1, 0},
    {"cg-pr", VI_OPT_CG_PR, 1, 0}, {"steepest", VI_OPT_STEEPEST, 1, 0},
    {"bfgs2-plain", VI_OPT_BFGS2, 0, 0}, {"bfgs2-auto", VI_OPT_BFGS2, 1, 1},
    {"adam", VI_OPT_ADAM, 0, 0}};
  for (size_t i = 0; i < sizeof tab / sizeof tab[0]; i++)
    if (strcmp(s, tab[i].name) == 0) {
      o->optimizer = tab[i].opt;
      o->estimator = tab[i].opt == VI_OPT_ADAM ? VI_FRESH_DRAWS : VI_FIXED_DRAWS;
      o->standardize_draws = tab[i].std;
      o->draws_max = tab[i].adaptive ? 1 : 0;   /* resolved in main */
      return 0;
    }
  return -1;
}

static int parse_size(const char *s, size_t *out)
{
  char *end;
  unsigned long long v;
  errno = 0;
  v = strtoull(s, &end, 10);
  if (errno || *end || end == s || v == 0)
    return -1;
  *out = (size_t)v;
  return 0;
}

int main(int argc, char **argv)
{
  const char *model_path = NULL, *data_path = NULL, *trace_path = NULL;
  const char *summary_path = NULL, *gauss_path = NULL, *opt_name = "bfgs2";
  size_t draws = 0, max_iter = 0, eval_draws = 0, seed = 1, crn_k = 1000, per_decade = 20;
  size_t want_lrvb = 0;
  crn c = {0, 0, 0, NULL, NULL, NULL};
  double *eps = NULL, crn_final = NAN, crn_final_se = NAN;
  vi_options opt;
  vi_error err;
  vi_program *prog = NULL;
  vi_model model;
  vi_fit *fit = NULL;
  vi_final fin;
  gaussian_ref g, *gp = NULL;
  trace_ctx tc = {NULL, NULL, 0, NULL, NULL, 0, 0, 0};
  int st, rc = 2, run_st;
  const char *stage = "";

  gsl_set_error_handler_off();
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    int bad = 0;
    if (a[0] != '-' || a[1] != '-') {
      if (!model_path)
        model_path = a;
      else if (!data_path)
        data_path = a;
      else
        bad = 1;
      if (bad) {
        usage();
        return 2;
      }
      continue;
    }
    if (!v) {
      usage();
      return 2;
    }
    if (!strcmp(a, "--optimizer"))
      opt_name = v;
    else if (!strcmp(a, "--seed"))
      bad = parse_size(v, &seed);
    else if (!strcmp(a, "--draws"))
      bad = parse_size(v, &draws);
    else if (!strcmp(a, "--max-iter"))
      bad = parse_size(v, &max_iter);
    else if (!strcmp(a, "--eval-draws"))
      bad = parse_size(v, &eval_draws);
    else if (!strcmp(a, "--trace"))
      trace_path = v;
    else if (!strcmp(a, "--summary-json"))
      summary_path = v;
    else if (!strcmp(a, "--gaussian"))
      gauss_path = v;
    else if (!strcmp(a, "--crn-draws"))
      bad = parse_size(v, &crn_k) || crn_k < 2;
    else if (!strcmp(a, "--checkpoints"))
      bad = parse_size(v, &per_decade);
    else if (!strcmp(a, "--lrvb"))
      bad = parse_size(v, &want_lrvb);
    else
      bad = 1;
    if (bad) {
      fprintf(stderr, "run_fits: bad option %s %s\n", a, v);
      usage();
      return 2;
    }
    i++;
  }
  if (!model_path) {
    usage();
    return 2;
  }

  vi_options_default(&opt);
  if (parse_opt(opt_name, &opt)) {
    fprintf(stderr, "run_fits: unknown optimizer '%s'\n", opt_name);
    return 2;
  }
  /* Re-read the defaults of the chosen estimator (the cap and the tolerance differ). */
  int adaptive_row = opt.draws_max != 0;
  {
    vi_optimizer o = opt.optimizer;
    vi_estimator e = opt.estimator;
    int sd = opt.standardize_draws;
    size_t adaptive = opt.draws_max;
    vi_options_default(&opt);
    opt.optimizer = o;
    opt.estimator = e;
    opt.standardize_draws = sd;
    if (!adaptive)
      opt.draws_max = 0;   /* M fixed: the controlled comparison */
    if (e == VI_FRESH_DRAWS) {
      opt.max_iter = 10000;
      opt.tol_rel_obj = 1e-3;
    }
  }
  opt.seed = seed;
  if (draws)
    opt.draws = draws;
  if (draws && adaptive_row)   /* an explicit M alone is fixed: adaptive from it */
    opt.draws_max = 512;
  if (max_iter)
    opt.max_iter = max_iter;
  if (eval_draws)
    opt.eval_draws = eval_draws;

  prog = vi_program_compile_file(model_path, &err, &st);
  if (!prog) {
    fprintf(stderr, "%s\n", err.message);
    return 2;
  }
  st = vi_program_load_data_file(prog, data_path, &err);
  if (st != VI_SUCCESS) {
    fprintf(stderr, "%s\n", err.message);
    goto done;
  }
  st = vi_program_model(prog, &model);
  if (st != VI_SUCCESS) {
    fprintf(stderr, "run_fits: %s\n", vi_strerror(st));
    goto done;
  }
  if (gauss_path) {
    if (gaussian_load(gauss_path, &g))
      goto done;
    gp = &g;
    if (g.dim != model.dim) {
      fprintf(stderr, "run_fits: %s has dimension %zu, the model %zu\n", gauss_path, g.dim,
              model.dim);
      goto done;
    }
    tc.g = gp;
    tc.tmp = malloc(g.dim * sizeof *tc.tmp);
    if (!tc.tmp)
      goto done;
  }
  tc.dim = model.dim;

  fit = vi_fit_alloc(&model, &opt, &st);
  if (!fit) {
    fprintf(stderr, "run_fits: %s\n", vi_strerror(st));
    rc = 3;
    goto done;
  }
  /* The starting point (iteration 0) is in the history before the first step. */
  if (vi_fit_history_len(fit) > 0)
    trace_row(&tc, fit, vi_fit_history(fit, 0));
  run_st = vi_fit_run(fit, trace_row, &tc);
  stage = vi_stop_reason_string(vi_fit_stop_reason(fit));
  if (tc.oom) {
    fprintf(stderr, "run_fits: out of memory for the trace\n");
    goto done;
  }
  /* The shared yardstick: K standard-normal draws from a fixed seed (see above). */
  {
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    c.k = crn_k;
    c.dim = model.dim;
    c.batch = 256;
    eps = malloc(crn_k * model.dim * sizeof *eps);
    c.z = malloc(c.batch * model.dim * sizeof *c.z);
    c.lp = malloc(c.batch * sizeof *c.lp);
    if (!r || !eps || !c.z || !c.lp) {
      gsl_rng_free(r);
      fprintf(stderr, "run_fits: out of memory\n");
      goto done;
    }
    gsl_rng_set(r, 20261125);
    for (size_t i = 0; i < crn_k * model.dim; i++)
      eps[i] = gsl_ran_gaussian_ziggurat(r, 1.0);
    c.eps = eps;
    gsl_rng_free(r);
    for (size_t i = 0; i < tc.n; i++) {
      double se;
      if (!is_checkpoint(i, tc.n - 1, (double)per_decade))
        continue;
      tc.rows[i].elbo_crn = crn_elbo(&c, &model, tc.q + i * 2 * model.dim,
                                     tc.q + i * 2 * model.dim + model.dim, &se);
      if (i == tc.n - 1) {
        crn_final = tc.rows[i].elbo_crn;
        crn_final_se = se;
      }
    }
  }
  if (trace_path && trace_write(trace_path, &tc))
    goto done;
  st = vi_fit_finish(fit, &fin);
  if (st != VI_SUCCESS) {
    fprintf(stderr, "run_fits: final diagnostics: %s\n", vi_strerror(st));
    memset(&fin, 0, sizeof fin);
    fin.elbo = fin.elbo_se = fin.khat = fin.kl = fin.log_evidence = NAN;
  }
  if (summary_path) {
    FILE *o = fopen(summary_path, "w");
    const vi_diag *d = vi_fit_diag(fit);
    double kx = NAN;
    if (!o) {
      fprintf(stderr, "run_fits: %s: %s\n", summary_path, strerror(errno));
      goto done;
    }
    if (gp)
      kx = gaussian_kl(gp, vi_fit_mean(fit), vi_fit_sd(fit), tc.tmp);
    fprintf(o, "{\n  \"model\": \"%s\",\n  \"optimizer\": \"%s\",\n", model_path, opt_name);
    fprintf(o, "  \"estimator\": \"%s\",\n  \"seed\": %zu,\n  \"draws\": %zu,\n",
            opt.estimator == VI_FIXED_DRAWS ? "fixed" : "stochastic", seed,
            vi_fit_options(fit)->draws);
    fprintf(o, "  \"status\": \"%s\",\n  \"stop_reason\": \"%s\",\n", vi_strerror(run_st),
            stage);
    fprintf(o, "  \"dim\": %zu,\n  \"iterations\": %zu,\n  \"n_fevals\": %zu,\n"
               "  \"n_gevals\": %zu,\n  \"final_draws\": %zu,\n  \"n_points\": %zu,\n",
            model.dim, d->iter, d->n_fevals, d->n_gevals, d->draws, d->n_points);
    jnum(o, "seconds", d->seconds, 1);
    jnum(o, "elbo", fin.elbo, 1);
    jnum(o, "elbo_se", fin.elbo_se, 1);
    jnum(o, "log_evidence", fin.log_evidence, 1);
    jnum(o, "log_evidence_se", fin.log_evidence_se, 1);
    fprintf(o, "  \"log_evidence_exact\": %d,\n", fin.log_evidence_exact);
    jnum(o, "kl", fin.kl, 1);
    jnum(o, "khat", fin.khat, 1);
    jnum(o, "kl_exact", kx, 1);
    jnum(o, "elbo_crn", crn_final, 1);
    jnum(o, "elbo_crn_se", crn_final_se, 1);
    fprintf(o, "  \"crn_draws\": %zu,\n", crn_k);
    jvec(o, "mean", vi_fit_mean(fit), model.dim, 1);
    jvec(o, "sd", vi_fit_sd(fit), model.dim, 0);
    if (want_lrvb && opt.estimator == VI_FIXED_DRAWS) {
      double *cov = malloc(model.dim * model.dim * sizeof *cov);
      vi_lrvb_info li = {0};
      int ls = cov ? vi_fit_lrvb(fit, cov, &li) : VI_ENOMEM;
      fprintf(o, "  ,\n  \"lrvb_status\": \"%s\",\n", ls == VI_SUCCESS ? "ok" : vi_strerror(ls));
      fprintf(o, "  \"lrvb_points\": %zu,\n  \"lrvb_draws\": %zu,\n", li.n_points, li.draws);
      jnum(o, "lrvb_seconds", li.seconds, 1);
      if (ls == VI_SUCCESS)
        for (size_t j = 0; j < model.dim; j++) cov[j] = sqrt(cov[j * model.dim + j]);
      else
        for (size_t j = 0; j < model.dim && cov; j++) cov[j] = NAN;
      if (cov)
        jvec(o, "lrvb_sd", cov, model.dim, 0);
      else
        fputs("  \"lrvb_sd\": null\n", o);
      free(cov);
    }
    fputs("}\n", o);
    if (fclose(o)) {
      fprintf(stderr, "run_fits: %s: write failed\n", summary_path);
      goto done;
    }
  }
  rc = run_st == VI_SUCCESS ? 0 : run_st == VI_EMAXITER || run_st == VI_ENOPROG ? 1 : 3;

done:
  vi_fit_free(fit);
  free(eps);
  free(c.z);
  free(c.lp);
  free(tc.rows);
  free(tc.q);
  vi_program_free(prog);
  if (gp)
    gaussian_free(gp);
  free(tc.tmp);
  return rc;
}
