/* plot_trace.c: `vi plot trace RUN.trace.csv ...`: the decomposition per iteration,
 * log p(X) = ELBO + KL(q || p).  Top panel: the ELBO and log p(X) as lines with the KL as
 * the band between them, and log p(X) +/- its standard error as a lighter band where it
 * is an estimate; bottom panel: the KL itself with the same error band, so its shrinking
 * stays visible when the ELBO's first steps dwarf it.  Several runs overlay, one colour
 * each; the iterations where adaptive M doubled the draws and the stop are marked.  The
 * x axis is iterations, gradient evaluations, model points or seconds. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli/plot.h"

static const char *x_column(plot_xaxis x)
{
  switch (x) {
  case PLOT_X_GRADIENTS: return "n_gevals";
  case PLOT_X_POINTS: return "n_points";
  case PLOT_X_SECONDS: return "seconds";
  default: return "iter";
  }
}

static const char *x_label(plot_xaxis x)
{
  switch (x) {
  case PLOT_X_GRADIENTS: return "gradient evaluations";
  case PLOT_X_POINTS: return "model points (log-joint evaluations, one per draw)";
  case PLOT_X_SECONDS: return "seconds";
  default: return "iteration";
  }
}

/* "label: fixed bfgs2, seed 1, M 32-64" from what the run's files say. */
static void run_legend(const plot_run *r, char *buf, size_t n)
{
  const plot_csv *tr = r->trace;
  long cm = plot_csv_col(tr, "draws");
  double m0 = plot_csv_at(tr, 0, (size_t)cm), m1 = plot_csv_at(tr, tr->n_rows - 1, (size_t)cm);
  char ms[64];
  if (m0 == m1) snprintf(ms, sizeof ms, "M %.0f", m0);
  else snprintf(ms, sizeof ms, "M %.0f-%.0f", m0, m1);
  const char *method = NULL, *opt = NULL, *seed = NULL;
  if (r->draws) {
    static const char *const km[] = {"vi_estimator", NULL}, *const ko[] = {"vi_optimizer", NULL},
                             *const ks[] = {"seed", NULL};
    method = plot_csv_meta(r->draws, km);
    opt = plot_csv_meta(r->draws, ko);
    seed = plot_csv_meta(r->draws, ks);
  }
  snprintf(buf, n, "%s: %s%s%s%s%s%s%s", r->label, method ? method : "", method ? " " : "",
           opt ? opt : "", opt ? ", " : "", seed ? "seed " : "", seed ? seed : "",
           seed ? ", " : "");
  size_t len = strlen(buf);
  snprintf(buf + len, n - len, "%s", ms);
}

/* One index of the bands file: the rows where the band is defined (log p(X) known, and
 * its standard error for the SE band), a blank line wherever it is not, so that gnuplot
 * fills each stretch on its own instead of across the gap. */
static void write_band(FILE *fp, const plot_csv *tr, size_t cx, size_t cl, long cs, int se_band)
{
  int open = 0;
  for (size_t row = 0; row < tr->n_rows; row++) {
    double xv = plot_csv_at(tr, row, cx), e = plot_csv_at(tr, row, 1),
           lp = plot_csv_at(tr, row, cl), se = cs >= 0 ? plot_csv_at(tr, row, (size_t)cs) : NAN;
    int ok = isfinite(xv) && isfinite(e) && isfinite(lp) && (!se_band || isfinite(se));
    if (ok && se_band)
      fprintf(fp, "%.12g %.12g %.12g %.12g %.12g\n", xv, lp - se, lp + se, lp - e - se,
              lp - e + se);
    else if (ok)
      fprintf(fp, "%.12g %.12g %.12g\n", xv, e, lp);
    else if (open)
      fputc('\n', fp);
    open = ok;
  }
  if (!open) fputs(se_band ? "NaN NaN NaN NaN NaN\n" : "NaN NaN NaN\n", fp);
}

/* WORK/trace.<i>.dat: x, elbo, log p(X), kl = log p(X) - elbo, and the error band of
 * log p(X) and of the KL (NaN where there is no standard error); WORK/trace.<i>.marks.dat:
 * where M doubled and the stop, on the ELBO line; WORK/trace.<i>.bands.dat: the KL band
 * (x, elbo, log p(X)) and the SE bands (x, log p(X) -/+ SE, KL -/+ SE) where defined. */
static int write_run(const plot_target *t, const plot_run *r, size_t i, plot_xaxis x,
                     char **data, char **marks, char **bands)
{
  const plot_csv *tr = r->trace;
  size_t cx = (size_t)plot_csv_col(tr, x_column(x)), ce = 1,
         cl = (size_t)plot_csv_col(tr, "log_evidence"),
         cm = (size_t)plot_csv_col(tr, "draws");
  long cs = plot_csv_col(tr, "log_evidence_se");
  char name[64];
  snprintf(name, sizeof name, "trace.%zu.dat", i + 1);
  FILE *fp = plot_work_file(t->work, name, data);
  if (!fp) return CLI_EXIT_IO;
  snprintf(name, sizeof name, "trace.%zu.marks.dat", i + 1);
  FILE *mp = plot_work_file(t->work, name, marks);
  snprintf(name, sizeof name, "trace.%zu.bands.dat", i + 1);
  FILE *bp = mp ? plot_work_file(t->work, name, bands) : NULL;
  if (!bp) {
    fclose(fp);
    if (mp) fclose(mp);
    return CLI_EXIT_IO;
  }
  fputs("# index 0: x elbo log_p_x; index 1: x log_p_x-se log_p_x+se kl-se kl+se\n", bp);
  write_band(bp, tr, cx, cl, cs, 0);
  fputs("\n\n", bp);
  write_band(bp, tr, cx, cl, cs, 1);
  fprintf(fp, "# %s: %s elbo log_p_x kl log_p_x-se log_p_x+se kl-se kl+se\n", tr->name,
          x_column(x));
  fputs("# x elbo label: index 0 where M doubled, index 1 the stop\n", mp);
  int doubled = 0;
  for (size_t row = 0; row < tr->n_rows; row++) {
    double xv = plot_csv_at(tr, row, cx), e = plot_csv_at(tr, row, ce),
           lp = plot_csv_at(tr, row, cl), se = cs >= 0 ? plot_csv_at(tr, row, (size_t)cs) : NAN;
    double kl = lp - e;
    if (!(se > 0) || !isfinite(se)) se = NAN;
    fprintf(fp, "%.12g %.12g %.12g %.12g %.12g %.12g %.12g %.12g\n", xv, e, lp, kl, lp - se,
            lp + se, kl - se, kl + se);
    double m = plot_csv_at(tr, row, cm);
    if (row > 0 && m != plot_csv_at(tr, row - 1, cm)) {
      fprintf(mp, "%.12g %.12g \"M = %.0f\"\n", xv, e, m);
      doubled = 1;
    }
  }
  if (!doubled) fputs("NaN NaN \"\"\n", mp);   /* keeps index 1 the stop */
  size_t last = tr->n_rows - 1;
  fprintf(mp, "\n\n%.12g %.12g \"stop\"\n", plot_csv_at(tr, last, cx),
          plot_csv_at(tr, last, ce));
  int bad = ferror(fp) || ferror(mp) || ferror(bp);
  bad |= fclose(fp) != 0;
  bad |= fclose(mp) != 0;
  bad |= fclose(bp) != 0;
  if (bad) {
    cli_error("%s: cannot write", *data);
    return CLI_EXIT_IO;
  }
  return CLI_EXIT_OK;
}

/* A panel's y range: autoscaled, unless the first tenth of the iterations spans over
 * four times what the rest does (a start far from the optimum): then it is fitted to the
 * rest, so the approach to the optimum stays readable and the first steps leave the
 * frame. */
typedef struct yrange {
  double lo, hi, tail_lo, tail_hi;
} yrange;

static void yrange_add(yrange *r, double v, int tail)
{
  if (!isfinite(v)) return;
  r->lo = fmin(r->lo, v);
  r->hi = fmax(r->hi, v);
  if (tail) {
    r->tail_lo = fmin(r->tail_lo, v);
    r->tail_hi = fmax(r->tail_hi, v);
  }
}

static void yrange_set(FILE *b, const yrange *r)
{
  if (!(r->lo <= r->hi)) {   /* nothing finite to show: fixed ranges keep gnuplot drawing */
    fputs("set yrange [-1:1]\n", b);
    return;
  }
  double span = r->tail_hi - r->tail_lo;
  if (span > 0 && r->hi - r->lo > 4.0 * span)
    fprintf(b, "set yrange [%.12g:%.12g]\n", r->tail_lo - 0.1 * span, r->tail_hi + 0.1 * span);
  else
    fputs("set autoscale y\n", b);
}

/* The ranges of the top (ELBO, log p(X) +/- SE) and bottom (KL +/- SE) panels, and of
 * the x axis (lo, hi) they share. */
static void yranges(const plot_run *runs, size_t n, plot_xaxis x, yrange *top,
                    yrange *bottom, yrange *xr)
{
  *top = *bottom = *xr = (yrange){INFINITY, -INFINITY, INFINITY, -INFINITY};
  for (size_t i = 0; i < n; i++) {
    const plot_csv *tr = runs[i].trace;
    size_t cx = (size_t)plot_csv_col(tr, x_column(x));
    for (size_t row = 0; row < tr->n_rows; row++) yrange_add(xr, plot_csv_at(tr, row, cx), 1);
    size_t cl = (size_t)plot_csv_col(tr, "log_evidence");
    long cs = plot_csv_col(tr, "log_evidence_se");
    for (size_t row = 0; row < tr->n_rows; row++) {
      int tail = row >= tr->n_rows / 10;
      double e = plot_csv_at(tr, row, 1), lp = plot_csv_at(tr, row, cl),
             se = cs >= 0 ? plot_csv_at(tr, row, (size_t)cs) : 0.0;
      se = isfinite(se) ? se : 0.0;
      yrange_add(top, e, tail);
      yrange_add(top, lp - se, tail);
      yrange_add(top, lp + se, tail);
      yrange_add(bottom, lp - e - se, tail);
      yrange_add(bottom, lp - e + se, tail);
    }
  }
}

int plot_trace(const plot_target *t, const plot_run *runs, size_t n, plot_xaxis x)
{
  char **data = calloc(3 * n, sizeof *data);
  char *body = NULL;
  size_t blen = 0;
  int rc = CLI_EXIT_OK;
  FILE *b = data ? open_memstream(&body, &blen) : NULL;
  if (!b) {
    cli_error("out of memory");
    free(data);
    return CLI_EXIT_NUMERICAL;
  }
  char **marks = data + n, **bands = data + 2 * n;
  for (size_t i = 0; i < n && rc == CLI_EXIT_OK; i++)
    rc = write_run(t, &runs[i], i, x, &data[i], &marks[i], &bands[i]);
  if (rc != CLI_EXIT_OK) {
    fclose(b);
    goto out;
  }

  fputs("set multiplot\n"
        "set grid lc rgb '#dddddd'\n"
        "set lmargin 12\n"
        "set rmargin 4\n", b);
  yrange top, bottom, xr;
  yranges(runs, n, x, &top, &bottom, &xr);
  /* Without a single finite KL the bottom panel is empty: its x axis is then set from
   * the data, as gnuplot cannot autoscale an axis without points. */
  int no_kl = !(bottom.lo <= bottom.hi);
  /* Top: the decomposition. */
  yrange_set(b, &top);
  /* The title (what each line and band is) at the top, then the runs' legend, then
   * the panel: the legend never hides a curve. */
  int height = t->height > 0 ? t->height : 700;
  double line = 20.0 / height;   /* a text line, as a fraction of the picture */
  fprintf(b, "set label 1 'log p(X) = ELBO + KL(q || p)' at screen 0.5, screen %.4f center "
             "font ',14'\n", 1.0 - 1.2 * line);
  fprintf(b, "set label 2 'solid: ELBO    dashed: log p(X)    dark band: KL(q || p)    "
             "light band: log p(X) +/- SE' at screen 0.5, screen %.4f center font ',11'\n",
          1.0 - 2.4 * line);
  size_t key_rows = n <= 4 ? n : (n + 1) / 2;   /* two columns past four runs */
  fprintf(b, "set key at screen 0.5, screen %.4f center top vertical maxrows %zu Left "
             "reverse font ',11' samplen 3 spacing 1.1\n", 1.0 - 3.2 * line, key_rows);
  fprintf(b, "set size 1, 0.64\nset origin 0, 0.36\nset bmargin 1\nset tmargin at screen %.4f\n",
          1.0 - (3.8 + 1.15 * (double)key_rows) * line);
  fputs("set format x ''\nset ylabel 'nats'\nunset title\n"
        "plot ", b);
  const char *sep = "";
  for (size_t i = 0; i < n; i++) {
    const char *col = plot_colors[i % plot_n_colors];
    char leg[256];
    run_legend(&runs[i], leg, sizeof leg);
    fputs(sep, b);
    plot_quote(b, bands[i]);
    fprintf(b, " index 1 using 1:2:3 with filledcurves fs transparent solid 0.12 noborder "
               "lc rgb '%s' notitle, \\\n  ", col);
    plot_quote(b, bands[i]);
    fprintf(b, " index 0 using 1:2:3 with filledcurves fs transparent solid 0.25 noborder "
               "lc rgb '%s' notitle, \\\n  ", col);
    plot_quote(b, data[i]);
    /* points as well as lines, so a fit that stopped at its start still shows */
    size_t pi = runs[i].trace->n_rows / 40 + 1;
    fprintf(b, " using 1:3 with linespoints pt 6 ps 0.7 pi %zu lw 2 dt 2 lc rgb '%s' "
               "notitle, \\\n  ", pi, col);
    plot_quote(b, data[i]);
    fprintf(b, " using 1:2 with linespoints pt 7 ps 0.6 pi %zu lw 2.5 lc rgb '%s' title ",
            pi, col);
    plot_quote(b, leg);
    fputs(", \\\n  ", b);
    plot_quote(b, marks[i]);
    fprintf(b, " index 0 using 1:2:3 with labels point pt 7 ps 1.2 lc rgb '%s' left "
               "offset 0.5,0.8 font ',10' notitle, \\\n  ", col);
    plot_quote(b, marks[i]);
    fprintf(b, " index 1 using 1:2:3 with labels point pt 7 ps 1.2 lc rgb '%s' right "
               "offset -0.5,-0.8 font ',10' notitle", col);
    sep = ", \\\n  ";
  }
  fputs("\nunset label 1\nunset label 2\n", b);
  /* Bottom: the KL alone. */
  fputs("set size 1, 0.36\nset origin 0, 0\nset tmargin 0.5\nset bmargin 3.5\n"
        "unset title\nset format x '% h'\n", b);
  yrange_set(b, &bottom);
  if (no_kl && xr.lo <= xr.hi)
    fprintf(b, "set xrange [%.12g:%.12g]\nset label 3 'log p(X) was not estimated: no KL "
               "to show' at graph 0.5, graph 0.5 center\n", xr.lo, xr.hi > xr.lo ? xr.hi : xr.lo + 1);
  fprintf(b, "set xlabel '%s'\nset ylabel 'KL(q || p), nats'\nunset key\nplot ", x_label(x));
  sep = "";
  for (size_t i = 0; i < n; i++) {
    const char *col = plot_colors[i % plot_n_colors];
    fputs(sep, b);
    plot_quote(b, bands[i]);
    fprintf(b, " index 1 using 1:4:5 with filledcurves fs transparent solid 0.15 noborder "
               "lc rgb '%s', \\\n  ", col);
    plot_quote(b, data[i]);
    fprintf(b, " using 1:4 with linespoints pt 7 ps 0.6 pi %zu lw 2.5 lc rgb '%s'",
            runs[i].trace->n_rows / 40 + 1, col);
    sep = ", \\\n  ";
  }
  fputs("\nunset multiplot\n", b);
  fclose(b);
  rc = plot_render(t, "trace", body, 1000, 700);
out:
  for (size_t i = 0; i < 3 * n; i++) free(data[i]);
  free(data);
  free(body);
  return rc;
}
