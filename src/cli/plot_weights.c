/* plot_weights.c: `vi plot weights RUN.csv`: the log importance weights
 * log p(x, z_s) - log q(z_s) of the run's draws from q, sorted, against their rank on a
 * log axis (a Zipf plot: a Pareto tail of shape k falls as a line of slope -k), with the
 * generalized Pareto tail that PSIS fits to the largest ones (Vehtari et al., "Pareto
 * smoothed importance sampling", JMLR 2024) and its k-hat, in words, in the title.  The
 * weights and the fit come from the library's PSIS (engine/psis.c), as do the marginals'
 * reweighted histograms. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli/plot.h"

int plot_draw_weights(const plot_csv *draws, double *log_w, double *smoothed, double *w,
                      vi_psis_tail *tail)
{
  size_t n = draws->n_rows - 1, n_nan = 0;
  if (n < PLOT_MIN_DRAWS) {
    cli_error("%s: %zu draws; the importance weights need at least %d (vi fit "
              "--output-draws)", draws->name, n, PLOT_MIN_DRAWS);
    return CLI_EXIT_IO;
  }
  for (size_t s = 0; s < n; s++) {
    double lw = plot_csv_at(draws, s + 1, 1) - plot_csv_at(draws, s + 1, 2);
    if (isnan(lw)) {   /* a draw with no density (outside the support): weight 0 */
      lw = -INFINITY;
      n_nan++;
    }
    if (lw == INFINITY) {
      cli_error("%s:draw %zu: log_p__ - log_g__ is +inf: not an importance weight",
                draws->name, s + 1);
      return CLI_EXIT_IO;
    }
    log_w[s] = lw;
  }
  if (n_nan)
    fprintf(stderr, "vi: %s: %zu of %zu draws have no log weight (NaN); they get weight 0\n",
            draws->name, n_nan, n);
  if (vi_info_psis(log_w, n, smoothed, tail) != 0) {
    cli_error("out of memory");
    return CLI_EXIT_NUMERICAL;
  }
  double top = -INFINITY, sum = 0.0;
  for (size_t s = 0; s < n; s++) top = fmax(top, smoothed[s]);
  if (!isfinite(top)) {
    cli_error("%s: no draw has a finite importance weight (log_p__ - log_g__)", draws->name);
    return CLI_EXIT_IO;
  }
  for (size_t s = 0; s < n; s++) sum += w[s] = exp(smoothed[s] - top);
  for (size_t s = 0; s < n; s++) w[s] /= sum;
  return CLI_EXIT_OK;
}

static const char *khat_meaning(double k)
{
  if (isnan(k)) return "k-hat unknown (too few draws to fit a tail)";
  if (k < 0.5) return "good (< 0.5): q covers the posterior; importance sampling is reliable";
  if (k <= 0.7) return "ok (0.5-0.7): usable, the estimates converge more slowly";
  return "unreliable (> 0.7): q misses part of the posterior";
}

static int desc(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return (x < y) - (x > y);
}

int plot_weights(const plot_target *t, const plot_csv *draws)
{
  size_t n = draws->n_rows - 1;
  double *lw = malloc(4 * n * sizeof *lw);
  if (!lw) {
    cli_error("out of memory");
    return CLI_EXIT_NUMERICAL;
  }
  double *sm = lw + n, *w = sm + n, *sorted = w + n;
  vi_psis_tail tail;
  int rc = plot_draw_weights(draws, lw, sm, w, &tail);
  if (rc != CLI_EXIT_OK) {
    free(lw);
    return rc;
  }
  /* Ranks from the largest; the smoothed tail is sorted the same way (PSIS keeps the
   * order), so row i holds the i-th largest raw weight and its fitted value. */
  double ess = 0.0;
  for (size_t s = 0; s < n; s++) ess += w[s] * w[s];
  ess = 1.0 / ess;
  memcpy(sorted, lw, n * sizeof *lw);
  qsort(sorted, n, sizeof *sorted, desc);
  qsort(sm, n, sizeof *sm, desc);
  char *data = NULL;
  FILE *fp = plot_work_file(t->work, "weights.dat", &data);
  if (!fp) {
    free(lw);
    return CLI_EXIT_IO;
  }
  fprintf(fp, "# rank (1 = largest)  log weight - largest  fitted tail - largest "
              "(NaN outside the tail)\n");
  size_t finite = 0;
  for (size_t i = 0; i < n; i++) {
    if (!isfinite(sorted[i])) break;   /* zero weights cannot be drawn on a log scale */
    finite++;
    fprintf(fp, "%zu %.10g %.10g\n", i + 1, sorted[i] - tail.log_max,
            i < tail.n_tail ? sm[i] - tail.log_max : NAN);
  }
  int bad = ferror(fp);
  bad |= fclose(fp) != 0;
  if (bad) {
    cli_error("%s: cannot write", data);
    free(data);
    free(lw);
    return CLI_EXIT_IO;
  }

  char *body = NULL;
  size_t blen = 0;
  FILE *b = open_memstream(&body, &blen);
  if (!b) {
    free(data);
    free(lw);
    cli_error("out of memory");
    return CLI_EXIT_NUMERICAL;
  }
  static const char *const model_keys[] = {"model", NULL};
  const char *model = plot_csv_meta(draws, model_keys);
  char fam[128], title[512];
  plot_family(draws, fam, sizeof fam);
  snprintf(title, sizeof title, "Importance weights p(x, z) / q(z) of %zu draws from q%s%s%s",
           n, fam[0] ? " (" : "", fam, fam[0] ? ")" : "");
  size_t len = strlen(title);
  snprintf(title + len, sizeof title - len, "%s%s\nPSIS k-hat = %.2f, %s\n"
           "(the tail: the %zu largest weights; effective sample size %.0f of %zu)",
           model ? ", " : "", model ? model : "", tail.k, khat_meaning(tail.k),
           tail.n_tail, ess, n);
  fputs("set title ", b);
  plot_quote(b, title);
  fputs("\nset key bottom left box opaque\n"
        "set grid lc rgb '#dddddd'\n"
        "set logscale x\n"
        "set xlabel 'rank of the weight (1 = largest), log scale'\n"
        "set ylabel 'log weight - largest log weight'\n", b);
  if (tail.n_tail > 0 && tail.cutoff > 0)
    fprintf(b, "set arrow from graph 0, first %.10g to graph 1, first %.10g nohead "
               "dt 2 lc rgb '#777777'\n", log(tail.cutoff), log(tail.cutoff));
  fputs("plot ", b);
  plot_quote(b, data);
  fprintf(b, " using 1:2 with points pt 7 ps 0.5 lc rgb '%s' title 'log weights, sorted'",
          plot_colors[0]);
  if (tail.n_tail > 0) {
    fputs(", \\\n  ", b);
    plot_quote(b, data);
    fprintf(b, " using 1:3 with lines lw 2.5 lc rgb '%s' title 'fitted Pareto tail "
               "(k-hat %.2f)', \\\n  NaN with lines dt 2 lc rgb '#777777' title 'tail cut-off'",
            plot_colors[1], tail.k);
  }
  fputc('\n', b);
  fclose(b);
  rc = finite ? plot_render(t, "weights", body, 900, 600) : CLI_EXIT_IO;
  if (!finite)
    cli_error("%s: every importance weight is zero", draws->name);
  free(body);
  free(data);
  free(lw);
  return rc;
}
