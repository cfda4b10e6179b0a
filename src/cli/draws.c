/* draws.c: the output draws.  After the fit, z_1..z_N are drawn from q (with the fit's
 * RNG, so the same seed gives the same draws), log p(x, z_s) is evaluated in batches (one
 * log_joint call over many points, as the engine does), log q(z_s) is computed, and each
 * z_s is mapped to the model's outputs: constrained parameters, transformed parameters and
 * generated quantities.  The outputs at q's mean come first, as CmdStan writes them.
 * Each output column is then summarised (mean, sd, 5%, 50%, 95%: quantiles interpolated
 * linearly between order statistics, R's type 7). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

int cli_draws_make(vi_fit *f, size_t n, cli_draws *d)
{
  const vi_model *m = vi_fit_model(f);
  size_t dim = vi_fit_dim(f);
  int use_constrain = m->constrain != NULL && m->n_out > 0;
  size_t n_out = use_constrain ? m->n_out : dim;
  const char *const *given = use_constrain ? m->out_names : m->names;
  gsl_rng *rng = vi_fit_rng(f);
  int st = VI_SUCCESS;

  memset(d, 0, sizeof *d);
  d->n = n;
  d->n_out = n_out;
  d->names = calloc(n_out, sizeof *d->names);
  d->mean_out = calloc(n_out, sizeof *d->mean_out);
  d->out = calloc(n * n_out, sizeof *d->out);
  d->log_p = calloc(n, sizeof *d->log_p);
  d->log_g = calloc(n, sizeof *d->log_g);
  d->summary = calloc(n_out, sizeof *d->summary);
  double *z = calloc((size_t)BATCH * dim, sizeof *z);
  double *work = calloc(n > 0 ? n : 1, sizeof *work);
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

  /* The draws, a batch at a time. */
  for (size_t s0 = 0; s0 < n; s0 += BATCH) {
    size_t b = n - s0 < BATCH ? n - s0 : BATCH;
    for (size_t k = 0; k < b; k++) {
      vi_fit_sample(f, rng, z + k * dim);
      d->log_g[s0 + k] = vi_fit_log_q(f, z + k * dim);
    }
    st = m->log_joint(m->ctx, b, z, d->log_p + s0, NULL);
    if (st != VI_SUCCESS)
      goto done;
    if (use_constrain && m->constrain_n) {
      st = m->constrain_n(m->ctx, b, z, rng, d->out + s0 * n_out);
      if (st != VI_SUCCESS)
        goto done;
      continue;
    }
    for (size_t k = 0; k < b; k++) {
      double *row = d->out + (s0 + k) * n_out;
      if (use_constrain) {
        st = m->constrain(m->ctx, z + k * dim, rng, row);
        if (st != VI_SUCCESS)
          goto done;
      } else {
        memcpy(row, z + k * dim, dim * sizeof *row);
      }
    }
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
  free(z);
  free(work);
  if (st != VI_SUCCESS)
    cli_draws_free(d);
  return st;
}
