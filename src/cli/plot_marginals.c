/* plot_marginals.c: `vi plot marginals RUN.csv`: one panel per parameter with
 *   - q's marginal density: a Gaussian kernel density estimate of the run's raw draws
 *     from q (Silverman's bandwidth), so it is q's density whatever family or covariance
 *     drew them, on the constrained scale the CSV holds;
 *   - a histogram of the same draws reweighted by their PSIS-smoothed importance weights
 *     p(x, z) / q(z) (engine/psis.c): an estimate of the posterior marginal, which shows
 *     where q misses the posterior (as reliable as the k-hat in the title says).
 * Both span the central 99% of q's draws (0.5% to 99.5% quantiles); the histogram's bars
 * are densities of the whole weight, so mass outside that range is left out, not
 * squeezed in. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli/plot.h"

#define KDE_POINTS 200
#define SQRT_2PI 2.50662827463100050242

static int cmp_double(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Quantile p of n sorted values (linear interpolation). */
static double quantile(const double *s, size_t n, double p)
{
  double h = p * (double)(n - 1);
  size_t i = (size_t)floor(h);
  return i + 1 < n ? s[i] + (h - (double)i) * (s[i + 1] - s[i]) : s[n - 1];
}

/* The output columns the user named: a column, or NAME for NAME.1, NAME.2, ... */
static int select_params(const plot_csv *d, const char *out, char **names, size_t n_names,
                         size_t **cols, size_t *n_cols)
{
  size_t n_out = d->n_cols - 3, n = 0;
  *cols = malloc((n_names ? n_names * n_out : n_out) * sizeof **cols);
  if (!*cols) {
    cli_error("out of memory");
    return CLI_EXIT_NUMERICAL;
  }
  if (!names) {
    for (size_t j = 3; j < d->n_cols && n < PLOT_MAX_DEFAULT_PARAMS; j++) (*cols)[n++] = j;
    if (n_out > n)
      fprintf(stderr, "vi: %s: showing the first %zu of %zu outputs (vi plot marginals "
                      "--params chooses)\n", out, n, n_out);
  }
  for (size_t i = 0; names && i < n_names; i++) {
    size_t len = strlen(names[i]), found = 0;
    for (size_t j = 3; j < d->n_cols; j++) {
      const char *c = d->cols[j];
      if (strcmp(c, names[i]) == 0 || (strncmp(c, names[i], len) == 0 && c[len] == '.')) {
        (*cols)[n++] = j;
        found++;
      }
    }
    if (!found) {
      cli_error("--params: '%s' is not an output of %s (its outputs: %s, %s%s; a name "
                "before '.' selects all its elements)", names[i], d->name, d->cols[3],
                d->n_cols > 4 ? d->cols[4] : "", d->n_cols > 5 ? ", ..." : "");
      free(*cols);
      *cols = NULL;
      return CLI_EXIT_USAGE;
    }
  }
  *n_cols = n;
  return CLI_EXIT_OK;
}

/* The panel of column c: histogram block in hist, density curve block in kde.  Returns
 * 0 when the column has fewer than two finite draws (an empty panel). */
static int write_panel(FILE *hist, FILE *kde, const plot_csv *d, size_t c, const double *w,
                        double *x, double *sorted)
{
  size_t n = d->n_rows - 1;
  size_t ok = 0;
  for (size_t s = 0; s < n; s++) {
    x[s] = plot_csv_at(d, s + 1, c);
    if (isfinite(x[s])) sorted[ok++] = x[s];
  }
  fprintf(hist, "# %s: bin centre, reweighted density, bin width\n", d->cols[c]);
  fprintf(kde, "# %s: x, q's density (kernel estimate)\n", d->cols[c]);
  if (ok < 2) {   /* nothing to draw: an empty block keeps the indices in step */
    fputs("NaN NaN NaN\n\n\n", hist);
    fputs("NaN NaN\n\n\n", kde);
    return 0;
  }
  qsort(sorted, ok, sizeof *sorted, cmp_double);
  double lo = quantile(sorted, ok, 0.005), hi = quantile(sorted, ok, 0.995);
  double mean = 0.0, var = 0.0;
  for (size_t i = 0; i < ok; i++) mean += sorted[i];
  mean /= (double)ok;
  for (size_t i = 0; i < ok; i++) var += (sorted[i] - mean) * (sorted[i] - mean);
  double sd = sqrt(var / (double)(ok - 1));
  double iqr = quantile(sorted, ok, 0.75) - quantile(sorted, ok, 0.25);
  double spread = iqr > 0 ? fmin(sd, iqr / 1.34) : sd;
  if (!(hi > lo)) {   /* a constant: a narrow window around it */
    double half = fabs(lo) > 0 ? 0.01 * fabs(lo) : 0.01;
    lo -= half;
    hi += half;
    spread = spread > 0 ? spread : half / 3.0;
  }
  double h = 0.9 * spread * pow((double)ok, -0.2);
  size_t nb = (size_t)lround(2.0 * cbrt((double)ok));
  nb = nb < 10 ? 10 : nb > 40 ? 40 : nb;
  double bw = (hi - lo) / (double)nb;
  double *mass = calloc(nb, sizeof *mass);
  for (size_t s = 0; mass && s < n; s++)
    if (isfinite(x[s]) && x[s] >= lo && x[s] <= hi) {
      size_t b = (size_t)((x[s] - lo) / bw);
      mass[b < nb ? b : nb - 1] += w[s];
    }
  for (size_t b = 0; b < nb; b++)
    fprintf(hist, "%.10g %.10g %.10g\n", lo + ((double)b + 0.5) * bw,
            mass ? mass[b] / bw : NAN, bw);
  free(mass);
  for (size_t g = 0; g < KDE_POINTS; g++) {
    double at = lo + (hi - lo) * (double)g / (KDE_POINTS - 1), dens = 0.0;
    for (size_t i = 0; i < ok; i++) {
      double u = (at - sorted[i]) / h;
      dens += exp(-0.5 * u * u);
    }
    fprintf(kde, "%.10g %.10g\n", at, dens / ((double)ok * h * SQRT_2PI));
  }
  fputs("\n\n", hist);
  fputs("\n\n", kde);
  return 1;
}

static int close_data(FILE *fp, const char *path)
{
  int bad = ferror(fp);
  bad |= fclose(fp) != 0;
  if (bad) cli_error("%s: cannot write", path);
  return bad;
}

int plot_marginals(const plot_target *t, const plot_csv *d, char **params, size_t n_params)
{
  size_t n = d->n_rows - 1, *cols = NULL, nc = 0;
  int rc = select_params(d, t->path, params, n_params, &cols, &nc);
  if (rc != CLI_EXIT_OK) return rc;
  double *lw = malloc(5 * n * sizeof *lw);
  char *drawable = NULL;
  char *hp = NULL, *kp = NULL, *wp = NULL, *body = NULL;
  FILE *hist = NULL, *kde = NULL, *wf = NULL, *b = NULL;
  if (!lw) {
    cli_error("out of memory");
    rc = CLI_EXIT_NUMERICAL;
    goto out;
  }
  double *sm = lw + n, *w = sm + n, *x = w + n, *sorted = x + n;
  vi_psis_tail tail;
  if ((rc = plot_draw_weights(d, lw, sm, w, &tail)) != CLI_EXIT_OK) goto out;

  hist = plot_work_file(t->work, "marginals.hist.dat", &hp);
  kde = plot_work_file(t->work, "marginals.kde.dat", &kp);
  wf = plot_work_file(t->work, "marginals.weights.dat", &wp);
  if (!hist || !kde || !wf) {
    rc = CLI_EXIT_IO;
    goto out;
  }
  fputs("# draw, log_p__ - log_g__, PSIS-smoothed, normalised weight\n", wf);
  for (size_t s = 0; s < n; s++)
    fprintf(wf, "%zu %.10g %.10g %.10g\n", s + 1, lw[s], sm[s], w[s]);
  drawable = malloc(nc ? nc : 1);
  if (!drawable) {
    cli_error("out of memory");
    rc = CLI_EXIT_NUMERICAL;
    goto out;
  }
  for (size_t i = 0; i < nc; i++) drawable[i] = (char)write_panel(hist, kde, d, cols[i], w, x, sorted);
  int bad = close_data(hist, hp);
  bad |= close_data(kde, kp);
  bad |= close_data(wf, wp);
  hist = kde = wf = NULL;
  if (bad) {
    rc = CLI_EXIT_IO;
    goto out;
  }

  size_t ncol = nc <= 1 ? 1 : nc <= 4 ? 2 : nc <= 9 ? 3 : 4, nrow = (nc + ncol - 1) / ncol;
  size_t blen = 0;
  if (!(b = open_memstream(&body, &blen))) {
    cli_error("out of memory");
    rc = CLI_EXIT_NUMERICAL;
    goto out;
  }
  static const char *const model_keys[] = {"model", NULL};
  const char *model = plot_csv_meta(d, model_keys);
  char fam[128], title[512];
  plot_family(d, fam, sizeof fam);
  snprintf(title, sizeof title, "%s%sq%s%s%s against the posterior\nline: q's density "
           "(kernel estimate from its %zu draws); bars: the same draws reweighted by PSIS "
           "(k-hat %.2f, %s)", model ? model : "", model ? ": " : "", fam[0] ? " (" : "", fam,
           fam[0] ? ")" : "", n, tail.k, cli_khat_word(tail.k));
  fprintf(b, "set multiplot layout %zu,%zu title ", nrow, ncol);
  plot_quote(b, title);
  fprintf(b, " font ',%d'\n", nc > 4 ? 12 : 11);
  fprintf(b, "set style fill solid 0.45 noborder\n"
             "unset key\n"
             "unset ytics\n"
             "set xtics nomirror out font ',11'\n"
             "set border 1\n"
             "set yrange [0:*]\n"
             "set offsets 0, 0, graph 0.08, 0\n");
  for (size_t i = 0; i < nc; i++) {
    fputs("set title ", b);
    plot_quote(b, d->cols[cols[i]]);
    if (!drawable[i]) {
      fputs("\nset label 1 'no finite draws' at graph 0.5, graph 0.5 center\n"
            "plot [0:1] [0:1] NaN notitle\nunset label 1\n", b);
      continue;
    }
    fputs("\nplot ", b);
    plot_quote(b, hp);
    fprintf(b, " index %zu using 1:2:3 with boxes lc rgb '%s' %s, ", i, plot_colors[4],
            i == 0 ? "title 'posterior (PSIS-reweighted draws)'" : "notitle");
    plot_quote(b, kp);
    fprintf(b, " index %zu using 1:2 with lines lw 2 lc rgb '%s' %s\n", i, plot_colors[0],
            i == 0 ? "title 'q'" : "notitle");
  }
  fputs("unset multiplot\n", b);
  fclose(b);
  b = NULL;
  int pw = (int)(ncol * 380), ph = (int)(nrow * 280 + 70);
  rc = plot_render(t, "marginals", body, pw < 700 ? 700 : pw, ph);
out:
  if (hist) fclose(hist);
  if (kde) fclose(kde);
  if (wf) fclose(wf);
  if (b) fclose(b);
  free(body);
  free(drawable);
  free(hp);
  free(kp);
  free(wp);
  free(lw);
  free(cols);
  return rc;
}
