/* plot_fit.c: `vi fit --plot DIR`: the three plots of `vi plot` at the end of a fit.  The
 * fit's trace and draws are written as the --trace and --output files would be, into
 * memory, and read back by the same reader, so a picture made here is the picture
 * `vi plot` makes from the saved files. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/plot.h"

int plot_fit_ready(const char *dir)
{
  int rc = plot_gnuplot_check();
  if (rc != CLI_EXIT_OK) return rc;
  struct stat st;
  if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
    cli_error("--plot: %s: cannot create the directory: %s", dir, strerror(errno));
    return CLI_EXIT_IO;
  }
  if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
    cli_error("--plot: %s: not a directory", dir);
    return CLI_EXIT_IO;
  }
  if (access(dir, W_OK | X_OK) != 0) {
    cli_error("--plot: %s: cannot write there: %s", dir, strerror(errno));
    return CLI_EXIT_IO;
  }
  return CLI_EXIT_OK;
}

/* Write with writer into memory, read back as a plot_csv of the kind given. */
static int reread(const char *what, plot_csv_kind kind, plot_csv *t, const cli_config *cfg,
                  vi_fit *f, const cli_outcome *o, const cli_draws *d)
{
  char *buf = NULL;
  size_t len = 0;
  FILE *w = open_memstream(&buf, &len);
  if (!w) {
    cli_error("--plot: out of memory");
    return CLI_EXIT_NUMERICAL;
  }
  int bad = kind == PLOT_CSV_TRACE ? cli_trace_write(w, f) : cli_csv_write(w, cfg, f, o, d);
  bad |= fclose(w) != 0;
  FILE *r = bad ? NULL : fmemopen(buf, len, "r");
  int rc = r ? plot_csv_read(r, what, kind, t) : CLI_EXIT_NUMERICAL;
  if (!r) cli_error("--plot: out of memory");
  else fclose(r);
  free(buf);
  return rc;
}

static char *in_dir(const char *dir, const char *name)
{
  char *p = malloc(strlen(dir) + strlen(name) + 2);
  if (p) sprintf(p, "%s/%s", dir, name);
  return p;
}

int plot_fit_write(const char *dir, const cli_config *cfg, vi_fit *f, const cli_outcome *o,
                   const cli_draws *d)
{
  plot_csv trace, draws;
  memset(&trace, 0, sizeof trace);
  memset(&draws, 0, sizeof draws);
  plot_work work = {0};
  int rc = reread("(the fit's trace)", PLOT_CSV_TRACE, &trace, cfg, f, o, d);
  if (rc == CLI_EXIT_OK) rc = reread("(the fit's draws)", PLOT_CSV_DRAWS, &draws, cfg, f, o, d);
  if (rc == CLI_EXIT_OK) rc = plot_work_open(&work, NULL);
  char *paths[3] = {in_dir(dir, "trace.png"), in_dir(dir, "marginals.png"),
                    in_dir(dir, "weights.png")};
  if (rc == CLI_EXIT_OK && (!paths[0] || !paths[1] || !paths[2])) {
    cli_error("--plot: out of memory");
    rc = CLI_EXIT_NUMERICAL;
  }
  static const char *const model_keys[] = {"model", NULL};
  const char *model = rc == CLI_EXIT_OK ? plot_csv_meta(&draws, model_keys) : NULL;
  plot_run run = {&trace, model ? model : "fit", &draws};
  for (int i = 0; i < 3 && rc == CLI_EXIT_OK; i++) {
    plot_target t = {paths[i], 0, 0, &work};
    rc = i == 0 ? plot_trace(&t, &run, 1, PLOT_X_ITER)
         : i == 1 ? plot_marginals(&t, &draws, NULL, 0)
                  : plot_weights(&t, &draws);
  }
  for (int i = 0; i < 3; i++) free(paths[i]);
  plot_work_close(&work);
  plot_csv_free(&trace);
  plot_csv_free(&draws);
  return rc;
}
