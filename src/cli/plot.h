/* plot.h: what the files of `vi plot` (and `vi fit --plot`) share.  Each plot reads the
 * files `vi fit` writes (csv_table.c), computes what it shows, writes it as plain data
 * files and a gnuplot script in a work directory, and has gnuplot render it (gnuplot.c):
 * gnuplot is found on PATH at run time, never linked.  Functions return a cli_exit code
 * after printing their own error. */
#ifndef VI_CLI_PLOT_H
#define VI_CLI_PLOT_H

#include <stddef.h>
#include <stdio.h>

#include "cli/cli.h"

/* ---- csv_table.c: a CSV file written by vi fit (or CmdStan) ---- */
typedef enum plot_csv_kind {
  PLOT_CSV_DRAWS,   /* --output: lp__,log_p__,log_g__,<outputs>; row 1 is q's mean */
  PLOT_CSV_TRACE    /* --trace: iter,elbo,...,log_evidence,...,kl,... */
} plot_csv_kind;

typedef struct plot_csv {
  char *name;            /* the file name, for messages */
  size_t n_cols, n_rows;
  char **cols;           /* the header's names */
  double *v;             /* n_rows x n_cols, row-major */
  size_t n_meta;
  char **keys, **vals;   /* the "# key = value" comment lines, trimmed, in order */
} plot_csv;

/* Read the file at path ("-": stdin) and check it is of the kind expected.  Returns
 * CLI_EXIT_OK, CLI_EXIT_IO (missing, unreadable, truncated or malformed) or
 * CLI_EXIT_USAGE (a CSV of the other kind, or not vi's) after printing an error. */
int plot_csv_load(const char *path, plot_csv_kind kind, plot_csv *t);
/* The same from an open stream (name only for messages). */
int plot_csv_read(FILE *fp, const char *name, plot_csv_kind kind, plot_csv *t);
void plot_csv_free(plot_csv *t);
/* The column named name, or -1. */
long plot_csv_col(const plot_csv *t, const char *name);
/* The value of the first comment line "key = value" among the keys given (NULL-ended
 * list, first found wins), or NULL. */
const char *plot_csv_meta(const plot_csv *t, const char *const *keys);
static inline double plot_csv_at(const plot_csv *t, size_t row, size_t col)
{
  return t->v[row * t->n_cols + col];
}

/* ---- gnuplot.c: the work directory and the renderer ---- */
typedef struct plot_work {
  char *dir;      /* where the data files and scripts go */
  int keep;       /* --keep-data: the directory is the user's and stays */
} plot_work;

/* What every plot needs to know about its output. */
typedef struct plot_target {
  const char *path;     /* FILE.png (or no extension), .svg or .pdf */
  int width, height;    /* pixels (PDF: at 100 pixels to the inch); 0: the plot's default */
  plot_work *work;
} plot_target;

/* The name of the gnuplot program: $VI_GNUPLOT, or "gnuplot".  Returns CLI_EXIT_OK when
 * it is found (a path, or a name on PATH), else prints how to install it and returns
 * CLI_EXIT_GNUPLOT. */
int plot_gnuplot_check(void);
/* Whether path names a format we render (.png or no extension, .svg, .pdf); prints an
 * error if not. */
int plot_format_ok(const char *path);
/* A fresh temporary directory, or keep_dir (created if missing) when given. */
int plot_work_open(plot_work *w, const char *keep_dir);
/* Remove the temporary directory and what is in it (a kept one stays). */
void plot_work_close(plot_work *w);
/* Open WORK/name for writing (prints an error and returns NULL on failure). */
FILE *plot_work_file(plot_work *w, const char *name, char **path_out);
/* Render: check gnuplot is there, write WORK/<stem>.gp (the terminal for the target's
 * extension and size, then body), run gnuplot on it, and put its output at t->path whole
 * or not at all.  The plots call it last, after every check of their input. */
int plot_render(const plot_target *t, const char *stem, const char *body,
                int def_width, int def_height);
/* Write s as a gnuplot string literal (double-quoted: a newline in s breaks the line). */
void plot_quote(FILE *fp, const char *s);
/* The run's family from a draws CSV header ("meanfield", "fullrank", "lowrank:3", with
 * the covariance when one is named), into buf; "" when the header says nothing. */
void plot_family(const plot_csv *draws, char *buf, size_t n);
/* The colours of successive runs/series, readable on white and in grey print. */
extern const char *const plot_colors[];
extern const size_t plot_n_colors;

/* ---- the plots ---- */
typedef enum plot_xaxis {
  PLOT_X_ITER, PLOT_X_GRADIENTS, PLOT_X_POINTS, PLOT_X_SECONDS
} plot_xaxis;

/* One run for the trace plot: its trace, a label, and its draws CSV when known (for
 * the method, optimizer and seed in the legend; may be NULL). */
typedef struct plot_run {
  const plot_csv *trace;
  const char *label;
  const plot_csv *draws;
} plot_run;

int plot_trace(const plot_target *t, const plot_run *runs, size_t n, plot_xaxis x);
/* params: n_params names (a column, or a prefix before '.' for all its elements); NULL
 * for the default (the first PLOT_MAX_DEFAULT_PARAMS outputs). */
#define PLOT_MAX_DEFAULT_PARAMS 16
int plot_marginals(const plot_target *t, const plot_csv *draws, char **params,
                   size_t n_params);
int plot_weights(const plot_target *t, const plot_csv *draws);

/* The fewest draws the weights are computed from (PSIS fits no tail below it). */
#define PLOT_MIN_DRAWS 5

/* The normalised PSIS weights of a draws CSV's draws (row 1, q's mean, is not a draw):
 * log_w[s] = log_p__ - log_g__, smoothed[s] and w[s] (summing to 1), tail filled from
 * the fit.  Arrays of n_rows - 1; returns CLI_EXIT_OK or an error code after printing. */
struct vi_psis_tail;
int plot_draw_weights(const plot_csv *draws, double *log_w, double *smoothed, double *w,
                      struct vi_psis_tail *tail);

/* ---- plot_fit.c: vi fit --plot DIR ---- */
/* Before the fit: gnuplot is there and DIR exists or can be made. */
int plot_fit_ready(const char *dir);
/* After the fit: DIR/trace.png, DIR/marginals.png, DIR/weights.png from the fit's trace
 * and draws, through the same readers as vi plot. */
int plot_fit_write(const char *dir, const cli_config *cfg, vi_fit *f, const cli_outcome *o,
                   const cli_draws *d);

#endif
