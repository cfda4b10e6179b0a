/* gnuplot.c: the plots' renderer.  gnuplot is an optional run-time dependency: found on
 * PATH (or named by $VI_GNUPLOT) when a plot is asked for, run as a child process on a
 * script we write, never linked.  Each plot writes its numbers as plain data files into a
 * work directory (a temporary one, or --keep-data DIR so the numbers can be checked) and
 * a script that reads them.  gnuplot renders into the work directory; the picture is then
 * copied to its place through an atomic file, so the target appears whole or not at all,
 * and an unwritable target is reported before gnuplot runs.  The terminal follows the
 * extension: .png or none (pngcairo, or the plain png terminal where cairo is missing),
 * .svg, .pdf (pdfcairo). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/plot.h"

extern char **environ;

/* Colour-blind-safe (Okabe & Ito), distinct in grey print. */
const char *const plot_colors[] = {"#0072B2", "#D55E00", "#009E73", "#CC79A7",
                                   "#E69F00", "#56B4E9", "#000000", "#F0E442"};
const size_t plot_n_colors = sizeof plot_colors / sizeof *plot_colors;

static const char *gnuplot_name(void)
{
  const char *g = getenv("VI_GNUPLOT");
  return g && g[0] ? g : "gnuplot";
}

static int executable_on_path(const char *name)
{
  if (strchr(name, '/'))
    return access(name, X_OK) == 0;
  const char *path = getenv("PATH");
  if (!path) path = "/usr/bin:/bin";
  while (*path) {
    size_t n = strcspn(path, ":");
    char *cand = malloc(n + strlen(name) + 2);
    if (!cand) return 0;
    sprintf(cand, "%.*s/%s", (int)n, n ? path : ".", name);
    int ok = access(cand, X_OK) == 0;
    free(cand);
    if (ok) return 1;
    path += n + (path[n] == ':');
  }
  return 0;
}

int plot_gnuplot_check(void)
{
  const char *g = gnuplot_name();
  if (executable_on_path(g))
    return CLI_EXIT_OK;
  cli_error("plots need gnuplot, and '%s' was not found%s (on Debian: apt-get install "
            "gnuplot-nox; or set VI_GNUPLOT to its path)", g, strchr(g, '/') ? "" : " on PATH");
  return CLI_EXIT_GNUPLOT;
}

typedef enum { FMT_NONE, FMT_PNG, FMT_SVG, FMT_PDF } plot_format;

static plot_format format_of(const char *path)
{
  const char *dot = strrchr(path, '.'), *slash = strrchr(path, '/');
  if (!dot || (slash && dot < slash)) return FMT_PNG;   /* no extension: the default */
  if (strcasecmp(dot, ".png") == 0) return FMT_PNG;
  if (strcasecmp(dot, ".svg") == 0) return FMT_SVG;
  if (strcasecmp(dot, ".pdf") == 0) return FMT_PDF;
  return FMT_NONE;
}

int plot_format_ok(const char *path)
{
  if (format_of(path) != FMT_NONE)
    return 1;
  cli_error("%s: the output's extension must be .png, .svg or .pdf (it chooses the format; "
            "none is PNG)", path);
  return 0;
}

int plot_work_open(plot_work *w, const char *keep_dir)
{
  memset(w, 0, sizeof *w);
  if (keep_dir) {
    struct stat st;
    if (mkdir(keep_dir, 0777) != 0 && errno != EEXIST) {
      cli_error("--keep-data: %s: cannot create the directory: %s", keep_dir, strerror(errno));
      return CLI_EXIT_IO;
    }
    if (stat(keep_dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
      cli_error("--keep-data: %s: not a directory", keep_dir);
      return CLI_EXIT_IO;
    }
    w->dir = strdup(keep_dir);
    w->keep = 1;
  } else {
    const char *tmp = getenv("TMPDIR");
    if (!tmp || !tmp[0]) tmp = "/tmp";
    w->dir = malloc(strlen(tmp) + 20);
    if (w->dir) {
      sprintf(w->dir, "%s/vi-plot.XXXXXX", tmp);
      if (!mkdtemp(w->dir)) {
        cli_error("%s: cannot make a temporary directory: %s", w->dir, strerror(errno));
        free(w->dir);
        w->dir = NULL;
        return CLI_EXIT_IO;
      }
    }
  }
  if (!w->dir) {
    cli_error("out of memory");
    return CLI_EXIT_NUMERICAL;
  }
  return CLI_EXIT_OK;
}

void plot_work_close(plot_work *w)
{
  if (!w->dir) return;
  if (!w->keep) {
    DIR *d = opendir(w->dir);
    struct dirent *e;
    while (d && (e = readdir(d))) {
      if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
      char *p = malloc(strlen(w->dir) + strlen(e->d_name) + 2);
      if (p) {
        sprintf(p, "%s/%s", w->dir, e->d_name);
        unlink(p);
        free(p);
      }
    }
    if (d) closedir(d);
    rmdir(w->dir);
  }
  free(w->dir);
  w->dir = NULL;
}

static char *work_path(const plot_work *w, const char *name)
{
  char *p = malloc(strlen(w->dir) + strlen(name) + 2);
  if (p) sprintf(p, "%s/%s", w->dir, name);
  return p;
}

FILE *plot_work_file(plot_work *w, const char *name, char **path_out)
{
  char *p = work_path(w, name);
  FILE *fp = p ? fopen(p, "w") : NULL;
  if (!fp)
    cli_error("%s: cannot write: %s", p ? p : name, p ? strerror(errno) : "out of memory");
  if (fp && path_out)
    *path_out = p;
  else
    free(p);
  return fp;
}

void plot_quote(FILE *fp, const char *s)
{
  fputc('"', fp);
  for (; *s; s++) {
    if (*s == '\n') fputs("\\n", fp);
    else if (*s == '"' || *s == '\\') fprintf(fp, "\\%c", *s);
    else fputc(*s, fp);
  }
  fputc('"', fp);
}

void plot_family(const plot_csv *draws, char *buf, size_t n)
{
  static const char *const fam[] = {"vi_family", "family", "algorithm", NULL};
  static const char *const cov[] = {"vi_covariance", "covariance", NULL};
  const char *f = plot_csv_meta(draws, fam), *c = plot_csv_meta(draws, cov);
  /* the covariance is worth naming only when it is not the family's own */
  int show = f && c && strcmp(c, "none") && strcmp(c, "meanfield");
  snprintf(buf, n, "%s%s%s", f ? f : "", show ? ", covariance " : "", show ? c : "");
}

/* The terminal for the target's format and size. */
static void write_terminal(FILE *fp, plot_format fmt, int w, int h)
{
  /* Fonts scale with the picture's width so a small picture stays legible. */
  int fs = w >= 1400 ? 14 : w >= 1000 ? 13 : 12;
  switch (fmt) {
  case FMT_PNG:
    fprintf(fp, "if (strstrt(GPVAL_TERMINALS, 'pngcairo') > 0) {\n"
                "  set terminal pngcairo size %d,%d noenhanced font 'Sans,%d' linewidth 1.5\n"
                "} else {\n"
                "  set terminal png size %d,%d noenhanced font 'Sans,%d' linewidth 1.5\n"
                "}\n", w, h, fs, w, h, fs);
    break;
  case FMT_SVG:
    fprintf(fp, "set terminal svg size %d,%d noenhanced font 'Sans,%d' linewidth 1.5 "
                "background '#ffffff'\n", w, h, fs);
    break;
  default:
    fprintf(fp, "set terminal pdfcairo size %.2fin,%.2fin noenhanced font 'Sans,%d' "
                "linewidth 1.5\n", w / 100.0, h / 100.0, fs - 2);
    break;
  }
}

/* The first lines of gnuplot's messages, after ours. */
static void show_log(const char *log_path)
{
  FILE *fp = fopen(log_path, "r");
  if (!fp) return;
  char line[512];
  for (int i = 0; i < 12 && fgets(line, sizeof line, fp); i++)
    fprintf(stderr, "  gnuplot: %s%s", line, strchr(line, '\n') ? "" : "\n");
  fclose(fp);
}

static int run_gnuplot(const char *script, const char *log_path)
{
  posix_spawn_file_actions_t fa;
  if (posix_spawn_file_actions_init(&fa) != 0) return -1;
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, log_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_adddup2(&fa, 1, 2);
  char *argv[] = {(char *)gnuplot_name(), (char *)script, NULL};
  pid_t pid;
  int err = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
  posix_spawn_file_actions_destroy(&fa);
  if (err != 0) {
    cli_error("cannot run %s: %s", argv[0], strerror(err));
    return -1;
  }
  int ws;
  while (waitpid(pid, &ws, 0) < 0)
    if (errno != EINTR) return -1;
  return WIFEXITED(ws) && WEXITSTATUS(ws) == 0 ? 0 : 1;
}

/* Copy the rendered file into the open target. */
static int copy_into(const char *from, FILE *to)
{
  FILE *in = fopen(from, "rb");
  if (!in) return -1;
  char buf[65536];
  size_t n, total = 0;
  while ((n = fread(buf, 1, sizeof buf, in)) > 0) {
    if (fwrite(buf, 1, n, to) != n) break;
    total += n;
  }
  int bad = ferror(in) || ferror(to) || total == 0;
  fclose(in);
  return bad ? -1 : 0;
}

int plot_render(const plot_target *t, const char *stem, const char *body, int def_width,
                int def_height)
{
  plot_format fmt = format_of(t->path);
  int w = t->width > 0 ? t->width : def_width, h = t->height > 0 ? t->height : def_height;
  int rc = plot_gnuplot_check();
  if (rc != CLI_EXIT_OK)
    return rc;
  cli_atomic_file af;
  if (cli_atomic_open(&af, t->path) != 0)
    return CLI_EXIT_IO;
  char name[64];
  snprintf(name, sizeof name, "%s.gp", stem);
  char *script = NULL;
  FILE *fp = plot_work_file(t->work, name, &script);
  snprintf(name, sizeof name, "%s.out", stem);
  char *out = work_path(t->work, name);
  snprintf(name, sizeof name, "%s.log", stem);
  char *log = work_path(t->work, name);
  if (!fp || !out || !log) {
    rc = fp ? CLI_EXIT_NUMERICAL : CLI_EXIT_IO;
    goto done;
  }
  write_terminal(fp, fmt, w, h);
  fputs("set output ", fp);
  plot_quote(fp, out);
  fprintf(fp, "\n%s\nunset output\n", body);
  if (fclose(fp) != 0) {
    fp = NULL;
    cli_error("%s: cannot write", script);
    rc = CLI_EXIT_IO;
    goto done;
  }
  fp = NULL;
  int g = run_gnuplot(script, log);
  if (g != 0) {
    cli_error("%s: gnuplot failed to draw the plot%s", t->path, g > 0 ? ":" : "");
    if (g > 0) show_log(log);
    rc = CLI_EXIT_GNUPLOT;
  } else if (copy_into(out, af.fp) != 0) {
    cli_error("%s: gnuplot wrote no picture", t->path);
    rc = CLI_EXIT_GNUPLOT;
  } else if (cli_atomic_commit(&af) != 0) {
    rc = CLI_EXIT_IO;
  }
done:
  if (fp) fclose(fp);
  cli_atomic_abort(&af);
  if (out) unlink(out);
  if (log) unlink(log);
  free(script);
  free(out);
  free(log);
  return rc;
}
