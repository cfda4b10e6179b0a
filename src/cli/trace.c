/* trace.c: --trace, one CSV row per iteration (iteration 0 is the starting point) with
 * every field of vi_diag, for plotting how ELBO, KL(q || p) and log p(X) move against
 * iterations, gradient evaluations, model points and seconds (draws: M, which changes
 * with adaptive M; with --minibatch B a last column, minibatch = B: the row's values are
 * estimates on B rows of the data).  Unavailable values are written as nan
 * (CSV readers in Python and R read it as not-a-number). */
#include <stdio.h>

#include "cli/cli.h"

int cli_trace_write(FILE *fp, const vi_fit *f)
{
  fputs("iter,elbo,expected_log_joint,entropy,expected_log_lik,kl_prior,log_evidence,"
        "log_evidence_se,log_evidence_exact,kl,grad_norm,step,n_fevals,n_gevals,seconds,draws,n_points,draws_shift",
        fp);
  /* --minibatch B: the rows each row's values were estimated on (a column only then, so
   * the whole-data layout stays as it was) */
  size_t mb = vi_fit_options(f)->minibatch;
  fputs(mb ? ",minibatch\n" : "\n", fp);
  size_t n = vi_fit_history_len(f);
  for (size_t i = 0; i < n; i++) {
    const vi_diag *d = vi_fit_history(f, i);
    if (!d)
      continue;
    fprintf(fp, "%zu,%.12g,%.12g,%.12g,%.12g,%.12g,%.12g,%.6g,%d,%.12g,%.6g,%.6g,%zu,%zu,%.6f,%zu,%zu,%.6g",
            d->iter, d->elbo, d->expected_log_joint, d->entropy, d->expected_log_lik,
            d->kl_prior, d->log_evidence, d->log_evidence_se, d->log_evidence_exact, d->kl,
            d->grad_norm, d->step, d->n_fevals, d->n_gevals, d->seconds,
            d->draws, d->n_points, d->draws_shift);
    if (mb)
      fprintf(fp, ",%zu", mb);
    fputc('\n', fp);
  }
  return ferror(fp) ? -1 : 0;
}
