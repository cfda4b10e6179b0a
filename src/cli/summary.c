/* summary.c: the report on stdout at the end of `vi fit`.  In order: what was fitted;
 * why the fit stopped (which convergence test, the iteration cap, no further progress,
 * an interruption); the final decomposition log p(X) = ELBO + KL(q || p) from fresh draws,
 * each term with its Monte Carlo standard error and labelled exact or estimated; the
 * PSIS k-hat of the importance weights with its meaning in words (Vehtari et al.; Yao et
 * al. 2018: < 0.5 good, 0.5-0.7 ok, > 0.7 unreliable); and a table of every output
 * (constrained parameters, transformed parameters, generated quantities) over the output
 * draws, with the columns of CmdStan's stansummary that make sense for draws from q:
 * mean, sd, 5%, 50%, 95%. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

/* nats below zero of the KL(q || prior) estimate that no Monte Carlo error explains */
#define IMPROPER_KL 0.05

const char *cli_outcome_word(const cli_outcome *o)
{
  if (o->interrupted)
    return "interrupted";
  if (o->unreliable)
    return "unreliable";
  switch (o->reason) {
  case VI_STOP_GRAD:
  case VI_STOP_FLAT:
  case VI_STOP_RESOLUTION:
  case VI_STOP_REL_OBJ: return "converged";
  case VI_STOP_MAXITER: return "max_iter";
  case VI_STOP_NOPROGRESS: return "no_progress";
  case VI_STOP_FAILED: return "failed";
  case VI_STOP_NONE: break;
  }
  return o->run_status == VI_SUCCESS ? "converged" : "failed";
}

const char *cli_khat_word(double khat)
{
  if (isnan(khat))
    return "unknown";
  if (khat < 0.5)
    return "good";
  if (khat <= 0.7)
    return "ok";
  return "unreliable";
}

static const char *khat_meaning(double khat)
{
  if (isnan(khat))
    return "too few draws to fit the tail of the importance weights";
  if (khat < 0.5)
    return "(< 0.5): q covers the posterior well; the importance-sampling estimates of\n"
           "                 log p(X) and KL are reliable";
  if (khat <= 0.7)
    return "(0.5-0.7): q is usable as a proposal; the importance-sampling estimates\n"
           "                 converge slowly, treat their standard errors with care";
  return "(> 0.7): q misses part of the posterior; the importance-sampling estimates\n"
         "                 of log p(X) and KL are unreliable, and so may be q's sds";
}

/* "value +/- se" in a fixed layout; n/a for NaN. */
static void put_value(FILE *out, double v, double se)
{
  if (isnan(v))
    fprintf(out, "%12s %12s", "n/a", "");
  else if (isnan(se))
    fprintf(out, "%12.4f %12s", v, "");
  else
    fprintf(out, "%12.4f +/- %-8.2g", v, se);
}

static void print_stop(FILE *out, const cli_config *cfg, vi_fit *f, const cli_outcome *o)
{
  const vi_diag *d = vi_fit_diag(f);
  const vi_options *opt = vi_fit_options(f);
  size_t it = d ? d->iter : 0;
  fputs("Stopped:  ", out);
  if (o->interrupted) {
    fprintf(out, "interrupted (%s) at iteration %zu: the results are the current "
                 "approximation, not a converged fit\n", cli_signal_name(o->interrupted), it);
  } else {
    /* a fit whose fresh draws fail is not called converged, whatever its optimiser says */
    const char *conv = o->unreliable ? "not reliable, though the optimiser stopped" : "converged";
    switch (o->reason) {
    case VI_STOP_GRAD:
      fprintf(out, "%s: gradient norm %.3g < tol-grad %g\n", conv, d->grad_norm,
              opt->tol_grad);
      break;
    case VI_STOP_REL_OBJ:
      if (opt->estimator == VI_FRESH_DRAWS)   /* the engine compares running means */
        fprintf(out, "%s: relative change of the ELBO's running mean %.3g < tol-rel-obj "
                     "%g\n", conv, o->rel_obj, opt->tol_rel_obj);
      else
        fprintf(out, "%s: relative ELBO change %.3g < tol-rel-obj %g\n", conv, o->rel_obj,
                opt->tol_rel_obj);
      break;
    case VI_STOP_FLAT:
      fprintf(out, "%s: the ELBO rose by %.3g nats over the last %d iterations < "
                   "tol-abs-obj %g\n", conv, o->rel_obj, VI_FLAT_WINDOW, opt->tol_abs_obj);
      break;
    case VI_STOP_RESOLUTION:
      fprintf(out, "%s: the line search could not improve the ELBO further, and a Newton "
                   "step would gain %.3g nats,\n          less than the ELBO's Monte Carlo "
                   "error on the fit's %zu draws; gradient norm %.3g\n", conv, o->rel_obj,
              d->draws, d->grad_norm);
      break;
    case VI_STOP_MAXITER:
      fprintf(out, "not converged: reached the iteration cap (max-iter %zu); gradient norm "
                   "%.3g\n", opt->max_iter, d->grad_norm);
      break;
    case VI_STOP_NOPROGRESS:
      fprintf(out, "not converged: the line search could not improve the ELBO further; "
                   "gradient norm %.3g (tol-grad %g)\n", d->grad_norm, opt->tol_grad);
      break;
    case VI_STOP_FAILED:
    case VI_STOP_NONE:
    default:
      fprintf(out, "failed: %s\n", vi_strerror(o->run_status));
      break;
    }
  }
  if (d)
    fprintf(out, "          after %zu iterations, %zu gradient evaluations, %zu model "
                 "points, %.3f s\n", it, d->n_gevals, d->n_points, d->seconds);
  if (o->unreliable && o->have_final && o->nonfinite)
    fprintf(out, "Not reliable: %zu of %zu fresh draws from q (%.1f%%) have a non-finite log "
                 "density (see stderr)\n", o->nonfinite, o->final.draws,
            100.0 * (double)o->nonfinite / (double)o->final.draws);
  else if (o->unreliable)
    fputs("Not reliable: the final ELBO, log p(X) or KL is not finite\n", out);
  (void)cfg;
}

static void print_decomposition(FILE *out, const cli_config *cfg, const cli_outcome *o)
{
  const vi_final *fin = &o->final;
  if (!o->have_final) {
    fputs("Decomposition: not available (the final diagnostics failed)\n", out);
    return;
  }
  fprintf(out, "Decomposition  log p(X) = ELBO + KL(q || p), from %zu fresh draws from q:\n",
          fin->draws);
  if (cfg->opt.minibatch)   /* the finish always has the whole data */
    fprintf(out, "  (on the whole data; the progress lines estimate these on minibatches of %zu "
                 "of the\n   %zu rows%s, the likelihood scaled up, and from the optimiser's "
                 "own M draws)\n", cfg->opt.minibatch, cfg->minibatch_of,
            cfg->minibatch_ranks > 1 ? " per rank" : "");
  else
    fputs("  (the progress lines estimate these from the optimiser's own M draws, which q is\n"
          "   fitted to: their KL is usually smaller, and their log p(X) noisier)\n", out);
  fputs("  log p(X)        = ", out);
  put_value(out, fin->log_evidence, fin->log_evidence_exact ? NAN : fin->log_evidence_se);
  fputs(fin->log_evidence_exact ? "  exact (closed form)\n"
                                : "  estimated (importance sampling, q as proposal)\n",
        out);
  fputs("  ELBO            = ", out);
  put_value(out, fin->elbo, fin->elbo_se);
  fputs("  estimated (Monte Carlo over q)\n", out);
  fputs("  KL(q || p)      = ", out);
  put_value(out, fin->kl, fin->kl_se);
  fputs(fin->log_evidence_exact ? "  estimated (exact log p(X) - ELBO)\n"
                                : "  estimated (log p(X) - ELBO)\n",
        out);
  if (!isnan(fin->expected_log_lik)) {
    fputs("  E_q[log p(X|Z)] = ", out);
    put_value(out, fin->expected_log_lik, NAN);
    fputs("  estimated (expected log-likelihood)\n", out);
    fputs("  KL(q || prior)  = ", out);
    put_value(out, fin->kl_prior, NAN);
    fputs("  estimated (ELBO = E_q[log p(X|Z)] - KL(q || prior))\n", out);
    if (fin->kl_prior < -IMPROPER_KL)   /* a KL between proper densities is >= 0 */
      fputs("  (negative: the prior is improper, some parameter has none on its\n"
            "   unconstrained scale (a flat prior); KL(q || prior) and E_q[log p(X|Z)]\n"
            "   then mean little, log p(X) too: give every parameter a proper prior)\n",
            out);
  }
  fputs("  KL(p || q)      = ", out);
  put_value(out, fin->kl_forward, NAN);
  fputs(fin->kl_forward_reliable ? "  estimated (self-normalised importance sampling)\n"
                                 : "  estimated, unreliable (k-hat > 0.7)\n",
        out);
  if (o->unreliable)   /* the weights of the failed draws are 0: k-hat cannot see them */
    fprintf(out, "PSIS k-hat:      %.2f  unreliable\n                 (some draws of q have a "
                 "non-finite log density: the estimates above cannot be trusted)\n",
            fin->khat);
  else
    fprintf(out, "PSIS k-hat:      %.2f  %s\n                 %s\n", fin->khat,
            cli_khat_word(fin->khat), khat_meaning(fin->khat));
}

/* The modes the Laplace start's searches found, when there was more than one search or
 * more than one mode, and a warning when the best two are close: then the posterior is
 * multimodal and q, one Gaussian, describes one mode of it. */
static void print_modes(FILE *out, const vi_fit *f)
{
  size_t n = vi_fit_modes(f), searches = vi_fit_start_searches(f);
  if (searches <= 1 && n <= 1)
    return;
  fprintf(out, "Modes:    %zu distinct from %zu mode search%s:", n, searches,
          searches == 1 ? "" : "es");
  for (size_t k = 0; k < n && k < CLI_MODES_SHOWN; k++) {
    const vi_mode *m = vi_fit_mode(f, k);
    fprintf(out, "%s ELBO %.2f (%zu)", k ? "," : "", m->elbo, m->starts);
  }
  if (n > CLI_MODES_SHOWN)
    fprintf(out, ", ...");
  fprintf(out, "%s\n", n == 0 ? " none converged" : "");
  if (n > 1)
    fprintf(out, "          ELBO of each mode's Gaussian on the fit's draws (searches ending "
                 "there); %s\n", vi_fit_init_kind(f) == VI_INIT_LAPLACE
                                   ? "the fit started from the best"
                                   : "the default start beat them");
  if (n > 1 && vi_fit_mode(f, 0)->elbo - vi_fit_mode(f, 1)->elbo < CLI_MULTIMODAL_NATS)
    fprintf(out, "          warning: the two best modes are %.2f nats apart: the posterior "
                 "is multimodal, and q (one Gaussian) describes only one of its modes\n",
            vi_fit_mode(f, 0)->elbo - vi_fit_mode(f, 1)->elbo);
}

/* --covariance lrvb: what it cost, and how much it widened q's sds. */
static void print_covariance(FILE *out, vi_fit *f, const cli_outcome *o)
{
  if (!o->have_lrvb)
    return;
  size_t D = vi_fit_dim(f);
  const double *sd = vi_fit_sd(f);
  double lo = INFINITY, hi = 0.0;
  for (size_t j = 0; j < D; j++) {
    double r = sqrt(o->lrvb_cov[j * D + j]) / sd[j];
    lo = fmin(lo, r);
    hi = fmax(hi, r);
  }
  const vi_lrvb_info *li = &o->lrvb_info;
  fprintf(out, "Covariance: linear response (LRVB, Giordano et al. 2018): the Hessian of the "
               "objective at q\n            over its M = %zu draws, %zu model points, %.3f s; "
               "sd ratio LRVB / mean-field %.3g .. %.3g\n",
          li->draws, li->n_points, li->seconds, lo, hi);
  if (strcmp(cli_outcome_word(o), "converged") != 0)
    fputs("            (the fit did not converge: the linear response assumes q at the "
          "objective's maximum)\n", out);
}

/* --resample psis: done, or why not. */
static void print_resample(FILE *out, const cli_outcome *o, const cli_draws *d)
{
  if (!d->resample)
    return;
  const char *from = o->have_lrvb ? "N(mu, Sigma_LR)" : "q";
  if (d->resampled)
    fprintf(out, "Resampling: PSIS, %zu of %zu draws from %s kept in proportion to their "
                 "smoothed\n            importance weights (k-hat %.2f, %s)\n",
            d->n, d->resample_from, from, d->resample_khat, cli_khat_word(d->resample_khat));
  else if (isnan(d->resample_khat))
    fprintf(out, "Resampling: not done: no k-hat (%zu draws: fewer than 5, or no positive "
                 "importance weight); the draws are %s's own\n", d->resample_from, from);
  else
    fprintf(out, "Resampling: not done: k-hat %.2f > 0.7 over %zu draws from %s; the smoothed "
                 "importance\n            weights are unreliable, so resampling would not "
                 "correct the draws: they are %s's own\n",
            d->resample_khat, d->resample_from, from, from);
}

static void print_table(FILE *out, const cli_outcome *o, const cli_draws *d)
{
  int w = 8;
  for (size_t j = 0; j < d->n_out; j++) {
    int l = (int)strlen(d->names[j]);
    if (l > w)
      w = l;
  }
  const char *from = o->have_lrvb ? "N(mu, Sigma_LR)" : "q";
  fprintf(out, "Outputs (%zu draws from %s", d->n, from);
  if (d->resample && d->resampled)
    fprintf(out, ", PSIS-resampled from %zu", d->resample_from);
  fputs(o->have_lrvb ? "; sd: linear response (LRVB)):\n" : "):\n", out);
  fprintf(out, "%-*s %11s %11s %11s %11s %11s\n", w, "", "mean", "sd", "5%", "50%", "95%");
  for (size_t j = 0; j < d->n_out; j++) {
    const cli_column_summary *s = &d->summary[j];
    /* fabs: a NaN prints as nan, never -nan */
    double v[5] = {s->mean, s->sd, s->q5, s->q50, s->q95};
    for (int k = 0; k < 5; k++) if (isnan(v[k])) v[k] = fabs(v[k]);
    fprintf(out, "%-*s %11.4g %11.4g %11.4g %11.4g %11.4g\n", w, d->names[j], v[0], v[1],
            v[2], v[3], v[4]);
  }
}

void cli_summary_print(FILE *out, const cli_config *cfg, vi_fit *f, const cli_outcome *o,
                       const cli_draws *d)
{
  const vi_options *opt = vi_fit_options(f);
  fprintf(out, "Model:    %s", cfg->model_path);
  if (cfg->data_path)
    fprintf(out, "  (data: %s)", cfg->data_path);
  fputc('\n', out);
  const vi_diag *cur = vi_fit_diag(f);
  fprintf(out, "Fit:      %s", cli_family_description(f));
  fprintf(out, " over D = %zu unconstrained dimension%s; %s draws (M = %zu", vi_fit_dim(f),
          vi_fit_dim(f) == 1 ? "" : "s", cli_method_name(opt->estimator),
          cur ? cur->draws : opt->draws);
  if (opt->draws_max)   /* adaptive M */
    fprintf(out, ", adaptive from %zu up to %zu", opt->draws, opt->draws_max);
  fprintf(out, "%s), %s, seed %lu",
          opt->estimator == VI_FIXED_DRAWS && opt->standardize_draws ? ", standardized" : "",
          cli_optimizer_name(opt->optimizer), opt->seed);
  if (opt->minibatch)
    fprintf(out, ";\n          minibatches of %zu of the %zu rows of %s per step%s (the "
                 "likelihood scaled by N/%zu)", opt->minibatch, cfg->minibatch_of,
            cfg->shard_by, cfg->minibatch_ranks > 1 ? " on each rank, of its own" : "",
            opt->minibatch);
  fputc('\n', out);
  /* the start actually taken (a Laplace start that lost to zero's says zero) */
  vi_init ik = vi_fit_init_kind(f);
  if (opt->init_mu && cfg->init_file)
    fprintf(out, "Start:    %s (the initial values as q's mean)\n", cfg->init_file);
  else if (ik == VI_INIT_LAPLACE)
    fprintf(out, "Start:    Laplace (mode search%s %zu iterations%s)\n",
            vi_fit_start_searches(f) > 1 ? "es:" : "", vi_fit_init_iterations(f),
            vi_fit_start_searches(f) > 1 ? " in all" : "");
  else if (opt->init == VI_INIT_LAPLACE && !opt->init_mu && vi_fit_modes(f) == 0)
    fprintf(out, "Start:    zero (the Laplace start was tried and not kept: its mode searches, "
                 "%zu iterations in all, found no proper mode)\n", vi_fit_init_iterations(f));
  else if (opt->init == VI_INIT_LAPLACE && !opt->init_mu)
    fprintf(out, "Start:    zero (the Laplace start was tried and not kept: the best mode's "
                 "Gaussian had a lower ELBO than zero's)\n");
  else
    fprintf(out, "Start:    %s\n", ik == VI_INIT_RANDOM ? "random" : "zero");
  print_modes(out, f);
  double rho = vi_fit_mode_correlation(f);
  if (vi_fit_family(f) == vi_family_meanfield && !o->have_lrvb && rho > CLI_CORRELATED)
    fprintf(out, "Note:     at the mode two coordinates are correlated at %.3g: mean-field sds\n"
                 "          understate the posterior's there (--covariance lrvb, or --family\n"
                 "          fullrank or lowrank:K)\n",
            rho);
  print_stop(out, cfg, f, o);
  fputc('\n', out);
  print_decomposition(out, cfg, o);
  print_covariance(out, f, o);
  if (d)
    print_resample(out, o, d);
  if (d && d->n > 0) {
    fputc('\n', out);
    print_table(out, o, d);
  }
  fflush(out);
}
