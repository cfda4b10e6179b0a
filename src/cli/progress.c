/* progress.c: the live view of a fit on stderr, one row per shown iteration.  On a
 * terminal it is a table whose columns read as the identity the fit is driving,
 *     KL(q||p)  +  ELBO  =  log p(X)
 * (the ELBO rises, the KL falls, their sum stays at the evidence); elsewhere (a pipe, a
 * log file) it is one plain key=value line per row, easy to grep.  Long runs show every
 * iteration up to 10, then every 10th to 100, every 100th to 1000, every 1000th beyond
 * (or every K-th with --print-every K); the last iteration is always shown.  M (the draws
 * of the objective) is shown, since the ELBO on the draws jumps when adaptive M doubles
 * them.  The observer
 * also carries the SIGINT flag back to vi_fit_run (signals.c). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

#include "cli/cli.h"

void cli_progress_init(cli_progress *p, FILE *out, int quiet, size_t every)
{
  p->out = out;
  p->tty = isatty(fileno(out));
  p->quiet = quiet;
  p->every = every;
  p->last_printed = SIZE_MAX;
  p->header_done = 0;
  p->minibatch_of = 0;
  p->ranks = 1;
}

static int due(const cli_progress *p, size_t it)
{
  if (p->every > 0)
    return it % p->every == 0;
  if (it <= 10)
    return 1;
  size_t step = it <= 100 ? 10 : it <= 1000 ? 100 : 1000;
  return it % step == 0;
}

/* A number in a fixed width: fixed point while it reads well, else scientific. */
static void put_num(FILE *out, int width, double x)
{
  if (isnan(x))
    fprintf(out, "%*s", width, "-");
  else if (x != 0 && (fabs(x) >= 1e7 || fabs(x) < 1e-3))
    fprintf(out, "%*.3e", width, x);
  else
    fprintf(out, "%*.4f", width, x);
}

static void print_row(cli_progress *p, const vi_fit *f, const vi_diag *d)
{
  FILE *out = p->out;
  if (p->tty) {
    if (!p->header_done) {
      const vi_options *opt = vi_fit_options(f);
      if (d->log_evidence_exact)
        fputs("log p(X) is exact; KL(q||p) = log p(X) - ELBO\n", out);
      else if (opt->eval_every > 0)
        fprintf(out, "log p(X): importance-sampling estimate from %zu fresh draws every %zu "
                     "iterations (q as proposal)\n", opt->eval_draws, opt->eval_every);
      else
        fprintf(out, "log p(X): importance-sampling estimate from the optimiser's %zu draws "
                     "(q as proposal)\n", opt->draws);
      if (opt->minibatch && p->ranks > 1)
        fprintf(out, "ELBO, log p(X), KL: minibatch estimates (the likelihood on %zu random "
                     "rows per step on each of %zu ranks, of N = %zu, scaled up); the final "
                     "decomposition uses the whole data\n", opt->minibatch, p->ranks,
                p->minibatch_of);
      else if (opt->minibatch)
        fprintf(out, "ELBO, log p(X), KL: minibatch estimates (the likelihood on %zu random "
                     "rows of N = %zu per step, scaled by N/%zu); the final decomposition "
                     "uses the whole data\n", opt->minibatch, opt->minibatch_rows,
                opt->minibatch);
      fprintf(out, "%6s  %12s + %12s = %12s  %10s  %9s %5s %7s %8s\n", "iter", "KL(q||p)",
              "ELBO", "log p(X)", "+/- se", "|grad|", "M", "evals", "sec");
      p->header_done = 1;
    }
    fprintf(out, "%6zu  ", d->iter);
    put_num(out, 12, d->kl);
    fputs(" + ", out);
    put_num(out, 12, d->elbo);
    fputs(" = ", out);
    put_num(out, 12, d->log_evidence);
    if (d->log_evidence_exact)
      fprintf(out, "  %10s", "(exact)");
    else if (isnan(d->log_evidence_se))
      fprintf(out, "  %10s", "-");
    else
      fprintf(out, "  %10.2e", d->log_evidence_se);
    fprintf(out, "  %9.2e %5zu %7zu %8.3f\n", d->grad_norm, d->draws, d->n_gevals, d->seconds);
  } else {
    fprintf(out,
            "iter=%zu elbo=%.10g kl=%.6g log_p_x=%.10g log_p_x_se=%.3g log_p_x_exact=%d "
            "grad_norm=%.6g draws=%zu evals=%zu seconds=%.3f",
            d->iter, d->elbo, d->kl, d->log_evidence, d->log_evidence_se,
            d->log_evidence_exact, d->grad_norm, d->draws, d->n_gevals, d->seconds);
    /* the values above are then estimates on B rows (progress header, README) */
    if (vi_fit_options(f)->minibatch)
      fprintf(out, " minibatch=%zu", vi_fit_options(f)->minibatch);
    fputc('\n', out);
  }
  fflush(out);
  p->last_printed = d->iter;
}

int cli_progress_observer(void *ctx, const vi_fit *f, const vi_diag *d)
{
  cli_progress *p = ctx;
  /* (the starting point may be observed twice: by us and by vi_fit_run) */
  if (!p->quiet && d && d->iter != p->last_printed && due(p, d->iter))
    print_row(p, f, d);
  return cli_signals_interrupted();
}

void cli_progress_finish(cli_progress *p, const vi_fit *f)
{
  const vi_diag *d = vi_fit_diag(f);
  if (!p->quiet && d && p->last_printed != d->iter)
    print_row(p, f, d);
  if (!p->quiet && p->tty && p->header_done)
    fputc('\n', p->out);   /* a gap before the report */
}
