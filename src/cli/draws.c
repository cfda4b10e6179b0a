/* draws.c: the output draws.  After the fit, z_1..z_N are drawn from q, or from
 * N(mu, Sigma_LR) with --covariance lrvb (with the fit's RNG, so the same seed gives the
 * same draws), log p(x, z_s) is evaluated in batches (one log_joint call over many
 * points, as the engine does), log g(z_s) of that proposal is computed, and each
 * z_s is mapped to the model's outputs: constrained parameters, transformed parameters and
 * generated quantities.  The outputs at q's mean come first, as CmdStan writes them.
 * Without --covariance lrvb the draws are the final diagnostics' own (vi_fit_finish_shared,
 * cmd_fit.c): z, log p and log q come from there, and only the outputs are computed here.
 * --resample psis draws CLI_RESAMPLE_FACTOR times as many proposal points and keeps N of
 * them by Pareto-smoothed importance resampling (psis.c), as Pathfinder does (Zhang et
 * al., JMLR 2022), unless k-hat > 0.7.
 * Each output column is then summarised (mean, sd, 5%, 50%, 95%: quantiles interpolated
 * linearly between order statistics, R's type 7). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_linalg.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>

#include "cli/cli.h"

enum { BATCH = 256 };   /* points per log_joint call */

void cli_draws_free(cli_draws *d)
{
  if (!d)
    return;
  if (d->owned_names) {
    for (size_t j = 0; j < d->n_out; j++)
      free(d->owned_names[j]);
    free(d->owned_names);
  }
  free(d->names);
  free(d->mean_out);
  free(d->out);
  free(d->log_p);
  free(d->log_g);
  free(d->summary);
  memset(d, 0, sizeof *d);
}

static void summarise(const double *x, size_t n, double *work, cli_column_summary *s)
{
  int finite = 1;
  for (size_t i = 0; i < n && finite; i++)
    finite = !isnan(x[i]);
  if (n == 0 || !finite) {
    s->mean = s->sd = s->q5 = s->q50 = s->q95 = NAN;
    return;
  }
  memcpy(work, x, n * sizeof *work);
  int inf = 0;
  double sum = 0;
  for (size_t i = 0; i < n; i++) { inf |= isinf(x[i]); sum += x[i]; }
  if (inf) {   /* GSL's running mean turns inf - inf into NaN: +-inf, or NaN if both */
    s->mean = sum;
    s->sd = NAN;
  } else {
    s->mean = gsl_stats_mean(work, 1, n);
    s->sd = n > 1 ? gsl_stats_sd_m(work, 1, n, s->mean) : NAN;
  }
  gsl_sort(work, 1, n);
  s->q5 = gsl_stats_quantile_from_sorted_data(work, 1, n, 0.05);
  s->q50 = gsl_stats_quantile_from_sorted_data(work, 1, n, 0.50);
  s->q95 = gsl_stats_quantile_from_sorted_data(work, 1, n, 0.95);
}

/* Where the draws come from: q itself, or N(mu, L L') with L the Cholesky factor of
 * Sigma_LR (--covariance lrvb). */
typedef struct {
  vi_fit *f;
  size_t dim;
  double *L;          /* dim x dim lower triangle, or NULL: q */
  double log_norm;    /* N(mu, L L'): -sum log L_jj - dim/2 log 2 pi */
  double *eps;        /* dim work */
} proposal;

static int proposal_init(proposal *g, vi_fit *f, const double *cov)
{
  size_t D = vi_fit_dim(f);
  memset(g, 0, sizeof *g);
  g->f = f;
  g->dim = D;
  if (!cov)
    return VI_SUCCESS;
  g->L = malloc(D * D * sizeof *g->L);
  g->eps = malloc(D * sizeof *g->eps);
  if (!g->L || !g->eps)
    return VI_ENOMEM;
  memcpy(g->L, cov, D * D * sizeof *g->L);
  gsl_matrix_view Lv = gsl_matrix_view_array(g->L, D, D);
  if (gsl_linalg_cholesky_decomp1(&Lv.matrix) != GSL_SUCCESS)
    return VI_ENOTPD;
  g->log_norm = -0.5 * (double)D * 1.8378770664093454836;   /* log 2 pi */
  for (size_t j = 0; j < D; j++)
    g->log_norm -= log(g->L[j * D + j]);
  return VI_SUCCESS;
}

static void proposal_clear(proposal *g)
{
  free(g->L);
  free(g->eps);
}

/* One draw z from the proposal, and log g(z). */
static double proposal_draw(proposal *g, gsl_rng *rng, double *z)
{
  if (!g->L) {
    vi_fit_sample(g->f, rng, z);
    return vi_fit_log_q(g->f, z);
  }
  size_t D = g->dim;
  const double *mu = vi_fit_mean(g->f);
  double ss = 0.0;
  for (size_t j = 0; j < D; j++) {
    g->eps[j] = gsl_ran_gaussian_ziggurat(rng, 1.0);
    ss += g->eps[j] * g->eps[j];
  }
  for (size_t i = 0; i < D; i++) {
    double v = mu[i];
    for (size_t j = 0; j <= i; j++)
      v += g->L[i * D + j] * g->eps[j];
    z[i] = v;
  }
  return g->log_norm - 0.5 * ss;
}

/* Outputs of the b points z into out (b x n_out). */
static int draws_outputs(const vi_model *m, int use_constrain, size_t dim, size_t n_out,
                         size_t b, const double *z, gsl_rng *rng, double *out)
{
  if (use_constrain && m->constrain_n)
    return m->constrain_n(m->ctx, b, z, rng, out);
  for (size_t k = 0; k < b; k++) {
    if (!use_constrain) {
      memcpy(out + k * n_out, z + k * dim, dim * sizeof *out);
      continue;
    }
    int st = m->constrain(m->ctx, z + k * dim, rng, out + k * n_out);
    if (st != VI_SUCCESS)
      return st;
  }
  return VI_SUCCESS;
}

/* --resample psis: S = CLI_RESAMPLE_FACTOR n proposal draws, their log weights
 * log p - log g smoothed, n of them kept (or the first n when k-hat > 0.7), then mapped
 * to outputs.  log_p and log_g of the kept draws are the raw ones. */
static int draws_resampled(proposal *g, const vi_model *m, int use_constrain, size_t n,
                           gsl_rng *rng, const cli_predrawn *pre, cli_draws *d)
{
  size_t dim = g->dim, n_out = d->n_out, S = pre ? pre->n : n * CLI_RESAMPLE_FACTOR;
  double *Zo = NULL, *lpo = NULL, *lgo = NULL;   /* owned when not predrawn */
  if (!pre) {
    Zo = malloc(S * dim * sizeof *Zo);
    lpo = malloc(S * sizeof *lpo);
    lgo = malloc(S * sizeof *lgo);
  }
  const double *Z = pre ? pre->z : Zo, *lp = pre ? pre->log_p : lpo, *lg = pre ? pre->log_g : lgo;
  double *lw = malloc(S * sizeof *lw);
  double *zb = malloc((size_t)BATCH * dim * sizeof *zb);
  size_t *idx = malloc((n ? n : 1) * sizeof *idx);
  int st = VI_ENOMEM;
  if (!Z || !lp || !lg || !lw || !zb || !idx)
    goto done;
  for (size_t s = 0; !pre && s < S; s++)
    lgo[s] = proposal_draw(g, rng, Zo + s * dim);
  for (size_t s0 = 0; !pre && s0 < S; s0 += BATCH) {
    size_t b = S - s0 < BATCH ? S - s0 : BATCH;
    if ((st = m->log_joint(m->ctx, b, Zo + s0 * dim, lpo + s0, NULL)) != VI_SUCCESS)
      goto done;
  }
  for (size_t s = 0; s < S; s++)
    lw[s] = isnan(lp[s]) || lp[s] == INFINITY ? -INFINITY : lp[s] - lg[s];
  d->resample = 1;
  d->resample_from = S;
  d->resample_khat = vi_info_psis_smooth(lw, S);
  d->resampled = d->resample_khat <= 0.7;   /* NaN: not done */
  if (d->resampled) {
    if ((st = vi_info_resample(lw, S, n, rng, idx)) != VI_SUCCESS)
      goto done;
  } else {
    for (size_t s = 0; s < n; s++)
      idx[s] = s;
  }
  for (size_t s0 = 0; s0 < n; s0 += BATCH) {
    size_t b = n - s0 < BATCH ? n - s0 : BATCH;
    for (size_t k = 0; k < b; k++) {
      size_t i = idx[s0 + k];
      memcpy(zb + k * dim, Z + i * dim, dim * sizeof *zb);
      d->log_p[s0 + k] = lp[i];
      d->log_g[s0 + k] = lg[i];
    }
    st = draws_outputs(m, use_constrain, dim, n_out, b, zb, rng, d->out + s0 * n_out);
    if (st != VI_SUCCESS)
      goto done;
  }
  st = VI_SUCCESS;
done:
  free(Zo); free(lpo); free(lgo); free(lw); free(zb); free(idx);
  return st;
}

int cli_draws_make(vi_fit *f, size_t n, const double *cov, int resample,
                   const cli_predrawn *pre, cli_draws *d)
{
  const vi_model *m = vi_fit_model(f);
  size_t dim = vi_fit_dim(f);
  int use_constrain = m->constrain != NULL && m->n_out > 0;
  size_t n_out = use_constrain ? m->n_out : dim;
  const char *const *given = use_constrain ? m->out_names : m->names;
  gsl_rng *rng = vi_fit_rng(f);
  proposal g;
  int st = proposal_init(&g, f, cov);

  memset(d, 0, sizeof *d);
  d->n = n;
  d->n_out = n_out;
  d->resample_khat = NAN;
  d->names = calloc(n_out, sizeof *d->names);
  d->mean_out = calloc(n_out, sizeof *d->mean_out);
  d->out = calloc(n * n_out, sizeof *d->out);
  d->log_p = calloc(n, sizeof *d->log_p);
  d->log_g = calloc(n, sizeof *d->log_g);
  d->summary = calloc(n_out, sizeof *d->summary);
  double *z = calloc((size_t)BATCH * dim, sizeof *z);
  double *work = calloc(n > 0 ? n : 1, sizeof *work);
  if (st != VI_SUCCESS)
    goto done;
  if (!d->names || !d->mean_out || !d->out || !d->log_p || !d->log_g || !d->summary ||
      !z || !work) {
    st = VI_ENOMEM;
    goto done;
  }

  /* Names: the model's, or z.1 ... when it has none. */
  if (given) {
    for (size_t j = 0; j < n_out; j++)
      d->names[j] = given[j];
  } else {
    d->owned_names = calloc(n_out, sizeof *d->owned_names);
    if (!d->owned_names) {
      st = VI_ENOMEM;
      goto done;
    }
    for (size_t j = 0; j < n_out; j++) {
      char buf[32];
      snprintf(buf, sizeof buf, "z.%zu", j + 1);
      d->owned_names[j] = strdup(buf);
      if (!d->owned_names[j]) {
        st = VI_ENOMEM;
        goto done;
      }
      d->names[j] = d->owned_names[j];
    }
  }

  /* The mean row. */
  const double *mu = vi_fit_mean(f);
  if (use_constrain)
    st = m->constrain(m->ctx, mu, rng, d->mean_out);
  else
    memcpy(d->mean_out, mu, dim * sizeof *mu);
  if (st != VI_SUCCESS)
    goto done;

  if (resample) {
    st = draws_resampled(&g, m, use_constrain, n, rng, pre, d);
    if (st != VI_SUCCESS)
      goto done;
  }
  /* The draws, a batch at a time. */
  for (size_t s0 = 0; s0 < n && !resample; s0 += BATCH) {
    size_t b = n - s0 < BATCH ? n - s0 : BATCH;
    if (pre) {   /* the finish's draws: log p and log q known, only the outputs to make */
      memcpy(z, pre->z + s0 * dim, b * dim * sizeof *z);
      memcpy(d->log_p + s0, pre->log_p + s0, b * sizeof *d->log_p);
      memcpy(d->log_g + s0, pre->log_g + s0, b * sizeof *d->log_g);
    } else {
      for (size_t k = 0; k < b; k++)
        d->log_g[s0 + k] = proposal_draw(&g, rng, z + k * dim);
      st = m->log_joint(m->ctx, b, z, d->log_p + s0, NULL);
      if (st != VI_SUCCESS)
        goto done;
    }
    st = draws_outputs(m, use_constrain, dim, n_out, b, z, rng, d->out + s0 * n_out);
    if (st != VI_SUCCESS)
      goto done;
  }

  /* Column summaries. */
  double *col = calloc(n > 0 ? n : 1, sizeof *col);
  if (!col) {
    st = VI_ENOMEM;
    goto done;
  }
  for (size_t j = 0; j < n_out; j++) {
    for (size_t s = 0; s < n; s++)
      col[s] = d->out[s * n_out + j];
    summarise(col, n, work, &d->summary[j]);
  }
  free(col);

done:
  proposal_clear(&g);
  free(z);
  free(work);
  if (st != VI_SUCCESS)
    cli_draws_free(d);
  return st;
}
