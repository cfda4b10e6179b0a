/* csv_output.c: --output, the draws in CmdStan's CSV layout for variational output, so
 * the readers of CmdStan files (CmdStanPy, ArviZ's from_cmdstan, R's posterior and
 * cmdstanr) read ours the same way.  The layout (CmdStan guide, "Variational inference"
 * output; CmdStanPy's scan_variational_csv):
 *   - comment lines "# key = value" with the configuration, nested by indentation as
 *     CmdStan writes it (method = variational, algorithm = meanfield, iter, grad_samples,
 *     elbo_samples, eta, tol_rel_obj, eval_elbo, output_samples, data file, random seed);
 *     our own keys are prefixed vi_ (and an interrupted fit says so here);
 *   - the header row  lp__,log_p__,log_g__,<flattened output names, theta.1 ...>;
 *   - the first row: the mean of the approximation, with lp__ = log_p__ = log_g__ = 0;
 *   - then one row per output draw: lp__ = 0, log_p__ = log p(x, z) (with the Jacobian,
 *     all normalising constants kept), log_g__ = log q(z) on the unconstrained space.
 *     CmdStan drops q's normalising constant from log_g__; we keep it, so log_p__ -
 *     log_g__ are exactly the log importance weights behind log p(X) and k-hat.
 *     With --covariance lrvb the draws and log_g__ are those of N(mu, Sigma_LR).  With
 *     --resample psis the rows are the kept draws and log_p__ - log_g__ their raw
 *     (unsmoothed) log weights under the proposal they were drawn from; the rows are
 *     then (approximately) draws from p, not from g, so these are no longer weights to
 *     apply to them;
 *   - CmdStan's closing "# Elapsed Time" comment lines (the fit, the rest, the total). */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

/* The model's name as CmdStan writes it: the file's stem + "_model". */
static void model_name(const char *path, char *buf, size_t n)
{
  const char *base = strrchr(path, '/');
  base = base ? base + 1 : path;
  size_t len = strlen(base);
  if (len > 5 && strcmp(base + len - 5, ".stan") == 0)
    len -= 5;
  snprintf(buf, n, "%.*s_model", (int)(len < 200 ? len : 200), base);
}

static void put(FILE *fp, double x)
{
  fprintf(fp, "%.9g", x);
}

int cli_csv_write(FILE *fp, const cli_config *cfg, vi_fit *f, const cli_outcome *o,
                  const cli_draws *d)
{
  const vi_options *opt = vi_fit_options(f);
  const vi_diag *diag = vi_fit_diag(f);
  char name[256];
  model_name(cfg->model_path, name, sizeof name);

  fprintf(fp, "# vi_version = %s\n", PACKAGE_VERSION);
  fprintf(fp, "# model = %s\n", name);
  fprintf(fp, "# method = variational\n");
  fprintf(fp, "#   variational\n");
  /* CmdStan's names (meanfield, fullrank); lowrank is ours, with its rank */
  const char *alg = vi_family_name(vi_fit_family(f));
  fprintf(fp, "#     algorithm = %s\n", alg);
  fprintf(fp, "#       %s\n", alg);
  if (vi_family_ranked(vi_fit_family(f)))
    fprintf(fp, "#         rank = %zu\n", vi_fit_family_rank(f));
  fprintf(fp, "#     iter = %zu\n", opt->max_iter);
  /* the M that ran at the end (adaptive M doubles it); where it started below */
  fprintf(fp, "#     grad_samples = %zu\n", diag ? diag->draws : opt->draws);
  fprintf(fp, "#     elbo_samples = %zu\n", opt->eval_draws);
  fprintf(fp, "#     eta = %g\n", opt->step_size);
  fprintf(fp, "#     tol_rel_obj = %g\n", opt->tol_rel_obj);
  fprintf(fp, "#     eval_elbo = %zu\n", opt->eval_every > 0 ? opt->eval_every : (size_t)1);
  fprintf(fp, "#     output_samples = %zu\n", d->n);
  fprintf(fp, "#     vi_estimator = %s\n", cli_method_name(opt->estimator));
  fprintf(fp, "#     vi_starts = %zu\n", vi_fit_start_searches(f));
  fprintf(fp, "#     vi_modes =");
  for (size_t k = 0; k < vi_fit_modes(f); k++)
    fprintf(fp, "%s %.6g (%zu)", k ? "," : "", vi_fit_mode(f, k)->elbo, vi_fit_mode(f, k)->starts);
  fprintf(fp, "\n");
  fprintf(fp, "#     vi_optimizer = %s\n", cli_optimizer_name(opt->optimizer));
  fprintf(fp, "#     vi_tol_grad = %g\n", opt->tol_grad);
  fprintf(fp, "#     vi_draws_start = %zu\n", opt->draws);
  fprintf(fp, "#     vi_draws_max = %zu\n", opt->draws_max);
  /* the start taken, and the one asked for (a Laplace start may lose to zero's) */
  vi_init ik = vi_fit_init_kind(f);
  fprintf(fp, "#     vi_init = %s\n", cli_init_name(ik));
  fprintf(fp, "#     vi_init_requested = %s\n", opt->init_mu ? "file" : cli_init_name(opt->init));
  fprintf(fp, "#     vi_standardize_draws = %d\n", opt->standardize_draws ? 1 : 0);
  if (opt->minibatch)   /* rows per step (per rank), of vi_minibatch_of */
    fprintf(fp, "#     vi_minibatch = %zu\n#     vi_minibatch_of = %zu\n", opt->minibatch,
            cfg->minibatch_of);
  fprintf(fp, "#     covariance = %s\n", cfg->lrvb ? "lrvb" : "meanfield");
  fprintf(fp, "#     resample = %s\n", cfg->resample ? "psis" : "none");
  fprintf(fp, "# id = 1\n");
  fprintf(fp, "# data\n");
  fprintf(fp, "#   file = %s\n", cfg->data_path ? cfg->data_path : "");
  fprintf(fp, "# init = %s\n", ik == VI_INIT_RANDOM ? "2" : "0");
  fprintf(fp, "# random\n");
  fprintf(fp, "#   seed = %lu\n", opt->seed);
  fprintf(fp, "# output\n");
  fprintf(fp, "#   file = %s\n", cfg->output_path ? cfg->output_path : "");
  fprintf(fp, "# vi_stop_reason = %s\n", cli_outcome_word(o));
  fprintf(fp, "# vi_interrupted = %d\n", o->interrupted ? 1 : 0);
  if (o->interrupted)
    fprintf(fp, "# Interrupted (%s) at iteration %zu: these draws come from the current "
                "approximation, not a converged fit.\n", cli_signal_name(o->interrupted),
            diag ? diag->iter : (size_t)0);
  fprintf(fp, "# vi_iterations = %zu\n", diag ? diag->iter : (size_t)0);
  if (o->have_final) {
    fprintf(fp, "# vi_elbo = %.10g\n", o->final.elbo);
    fprintf(fp, "# vi_log_p_x = %.10g\n", o->final.log_evidence);
    fprintf(fp, "# vi_kl = %.10g\n", o->final.kl);
    fprintf(fp, "# vi_khat = %.4g\n", o->final.khat);
  }
  if (o->have_lrvb)
    fprintf(fp, "# vi_lrvb_points = %zu\n", o->lrvb_info.n_points);
  if (d->resample) {
    fprintf(fp, "# vi_resample_from = %zu\n", d->resample_from);
    fprintf(fp, "# vi_resample_khat = %.4g\n", d->resample_khat);
    fprintf(fp, "# vi_resampled = %d\n", d->resampled);
  }

  /* Header row. */
  fputs("lp__,log_p__,log_g__", fp);
  for (size_t j = 0; j < d->n_out; j++)
    fprintf(fp, ",%s", d->names[j]);
  fputc('\n', fp);

  /* Mean of q, then the draws. */
  fputs("0,0,0", fp);
  for (size_t j = 0; j < d->n_out; j++) {
    fputc(',', fp);
    put(fp, d->mean_out[j]);
  }
  fputc('\n', fp);
  for (size_t s = 0; s < d->n; s++) {
    fputs("0,", fp);
    put(fp, d->log_p[s]);
    fputc(',', fp);
    put(fp, d->log_g[s]);
    const double *row = d->out + s * d->n_out;
    for (size_t j = 0; j < d->n_out; j++) {
      fputc(',', fp);
      put(fp, row[j]);
    }
    fputc('\n', fp);
  }
  /* CmdStan ends its CSV files with these comment lines; readers look for them */
  double fit_s = diag ? diag->seconds : 0.0;
  fprintf(fp, "# \n#  Elapsed Time: %.6f seconds (Fit)\n#                %.6f seconds (Final "
              "diagnostics and draws)\n#                %.6f seconds (Total)\n# \n",
          fit_s, o->seconds_total > fit_s ? o->seconds_total - fit_s : 0.0, o->seconds_total);
  return ferror(fp) ? -1 : 0;
}
