/* csv_table.c: reads back the CSV files `vi fit` writes, for the plots: comment lines
 * "# key = value" (CmdStan's header, indented as CmdStan nests it; comments anywhere are
 * kept, as CmdStan also writes some at the end), one header row, then rows of numbers
 * ("nan" and "inf" included).  The header says which file it is: a draws file starts
 * lp__,log_p__,log_g__ (CmdStan's variational layout, so CmdStan's own output reads
 * too), a trace file starts iter,elbo.  Every row must have the header's field count and
 * end with a newline, and a draws file must hold the output_samples its header announces:
 * a file cut short is an error, not a smaller plot. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli/plot.h"

static const char *kind_word(plot_csv_kind k)
{
  return k == PLOT_CSV_DRAWS ? "draws CSV (vi fit --output)" : "trace CSV (vi fit --trace)";
}

void plot_csv_free(plot_csv *t)
{
  if (!t) return;
  for (size_t j = 0; j < t->n_cols; j++) free(t->cols[j]);
  for (size_t j = 0; j < t->n_meta; j++) {
    free(t->keys[j]);
    free(t->vals[j]);
  }
  free(t->cols);
  free(t->keys);
  free(t->vals);
  free(t->v);
  free(t->name);
  memset(t, 0, sizeof *t);
}

long plot_csv_col(const plot_csv *t, const char *name)
{
  for (size_t j = 0; j < t->n_cols; j++)
    if (strcmp(t->cols[j], name) == 0) return (long)j;
  return -1;
}

const char *plot_csv_meta(const plot_csv *t, const char *const *keys)
{
  for (; *keys; keys++)
    for (size_t j = 0; j < t->n_meta; j++)
      if (strcmp(t->keys[j], *keys) == 0) return t->vals[j];
  return NULL;
}

static char *trimmed(const char *s, size_t len)
{
  while (len && (*s == ' ' || *s == '\t')) s++, len--;
  while (len && (s[len - 1] == ' ' || s[len - 1] == '\t' || s[len - 1] == '\r')) len--;
  return strndup(s, len);
}

/* "#   key = value": both sides trimmed; a comment without '=' is not kept. */
static int add_meta(plot_csv *t, const char *line)
{
  const char *eq = strchr(line, '=');
  if (!eq) return 0;
  char **k = realloc(t->keys, (t->n_meta + 1) * sizeof *k);
  if (!k) return -1;
  t->keys = k;
  char **v = realloc(t->vals, (t->n_meta + 1) * sizeof *v);
  if (!v) return -1;
  t->vals = v;
  const char *key = line + 1;
  char *kk = trimmed(key, (size_t)(eq - key)), *vv = trimmed(eq + 1, strlen(eq + 1));
  if (!kk || !vv) { free(kk); free(vv); return -1; }
  t->keys[t->n_meta] = kk;
  t->vals[t->n_meta++] = vv;
  return 0;
}

static int add_header(plot_csv *t, char *line)
{
  size_t n = 1;
  for (char *c = line; *c; c++) n += *c == ',';
  t->cols = calloc(n, sizeof *t->cols);
  if (!t->cols) return -1;
  char *tok = line;
  for (size_t j = 0; j < n; j++) {
    char *comma = strchr(tok, ',');
    if (comma) *comma = '\0';
    if (!(t->cols[j] = trimmed(tok, strlen(tok)))) return -1;
    t->n_cols = j + 1;
    tok = comma ? comma + 1 : tok + strlen(tok);
  }
  return 0;
}

/* The header must be of the kind asked for; say what it is when it is not. */
static int check_kind(const plot_csv *t, plot_csv_kind kind)
{
  int draws = t->n_cols >= 3 && strcmp(t->cols[0], "lp__") == 0 &&
              strcmp(t->cols[1], "log_p__") == 0 && strcmp(t->cols[2], "log_g__") == 0;
  int trace = t->n_cols >= 2 && strcmp(t->cols[0], "iter") == 0 &&
              strcmp(t->cols[1], "elbo") == 0;
  if ((kind == PLOT_CSV_DRAWS && draws) || (kind == PLOT_CSV_TRACE && trace)) {
    if (kind == PLOT_CSV_DRAWS && t->n_cols < 4) {
      cli_error("%s: the draws CSV has no output columns to plot", t->name);
      return CLI_EXIT_USAGE;
    }
    const char *need[] = {"log_evidence", "kl", "draws", "n_gevals", "n_points", "seconds"};
    for (size_t i = 0; kind == PLOT_CSV_TRACE && i < sizeof need / sizeof *need; i++)
      if (plot_csv_col(t, need[i]) < 0) {
        cli_error("%s: the trace CSV has no column '%s'", t->name, need[i]);
        return CLI_EXIT_USAGE;
      }
    return CLI_EXIT_OK;
  }
  if (draws || trace)
    cli_error("%s: this is a %s; expected a %s", t->name,
              draws ? kind_word(PLOT_CSV_DRAWS) : kind_word(PLOT_CSV_TRACE), kind_word(kind));
  else
    cli_error("%s: not a CSV written by vi fit: its header starts '%s%s%s', expected a %s",
              t->name, t->cols[0], t->n_cols > 1 ? "," : "", t->n_cols > 1 ? t->cols[1] : "",
              kind_word(kind));
  return CLI_EXIT_USAGE;
}

/* One data row; lineno for messages. */
static int add_row(plot_csv *t, const char *line, size_t lineno, size_t *cap)
{
  if (t->n_rows == *cap) {
    size_t nc = *cap ? 2 * *cap : 64;
    double *v = realloc(t->v, nc * t->n_cols * sizeof *v);
    if (!v) return CLI_EXIT_NUMERICAL;
    t->v = v;
    *cap = nc;
  }
  double *row = t->v + t->n_rows * t->n_cols;
  const char *c = line;
  for (size_t j = 0; j < t->n_cols; j++) {
    char *end;
    errno = 0;
    row[j] = strtod(c, &end);
    while (*end == ' ' || *end == '\t' || *end == '\r') end++;
    int last = j + 1 == t->n_cols;
    if (end == c || (last ? *end != '\0' : *end != ',')) {
      if (*end == '\0' && !last)
        cli_error("%s:%zu: %zu fields, expected %zu (the file is truncated or not one "
                  "CSV)", t->name, lineno, j + (end != c), t->n_cols);
      else
        cli_error("%s:%zu: field %zu ('%s'): expected a number", t->name, lineno, j + 1,
                  t->cols[j]);
      return CLI_EXIT_IO;
    }
    c = end + 1;
  }
  t->n_rows++;
  return CLI_EXIT_OK;
}

int plot_csv_read(FILE *fp, const char *name, plot_csv_kind kind, plot_csv *t)
{
  memset(t, 0, sizeof *t);
  t->name = strdup(name);
  char *line = NULL;
  size_t len = 0, lineno = 0, cap = 0;
  ssize_t got;
  int rc = t->name ? CLI_EXIT_OK : CLI_EXIT_NUMERICAL, header = 0;
  while (rc == CLI_EXIT_OK && (got = getline(&line, &len, fp)) >= 0) {
    lineno++;
    if (got == 0 || line[got - 1] != '\n') {
      cli_error("%s:%zu: the last line ends without a newline: the file is truncated",
                name, lineno);
      rc = CLI_EXIT_IO;
      break;
    }
    line[--got] = '\0';
    if (got && line[got - 1] == '\r') line[--got] = '\0';
    if (memchr(line, '\0', (size_t)got)) {
      cli_error("%s:%zu: a NUL byte: not a text CSV file", name, lineno);
      rc = CLI_EXIT_IO;
    } else if (line[0] == '#') {
      if (add_meta(t, line) != 0) rc = CLI_EXIT_NUMERICAL;
    } else if (line[0] == '\0') {
      continue;
    } else if (!header) {
      header = 1;
      if (add_header(t, line) != 0) rc = CLI_EXIT_NUMERICAL;
      else rc = check_kind(t, kind);
    } else {
      rc = add_row(t, line, lineno, &cap);
    }
  }
  if (rc == CLI_EXIT_OK && ferror(fp)) {
    cli_error("%s: read error: %s", name, strerror(errno));
    rc = CLI_EXIT_IO;
  }
  free(line);
  if (rc == CLI_EXIT_NUMERICAL)
    cli_error("%s: out of memory", name);
  if (rc == CLI_EXIT_OK && !header) {
    cli_error("%s: empty: no CSV header, expected a %s", name, kind_word(kind));
    rc = CLI_EXIT_IO;
  }
  const char *keys[] = {"output_samples", NULL};
  const char *ns = rc == CLI_EXIT_OK ? plot_csv_meta(t, keys) : NULL;
  size_t min_rows = kind == PLOT_CSV_DRAWS ? 2 : 1;
  if (rc == CLI_EXIT_OK && kind == PLOT_CSV_DRAWS && ns &&
      strtoul(ns, NULL, 10) + 1 != t->n_rows) {
    cli_error("%s: %zu draws, but its header says output_samples = %s: the file is "
              "truncated", name, t->n_rows ? t->n_rows - 1 : 0, ns);
    rc = CLI_EXIT_IO;
  } else if (rc == CLI_EXIT_OK && t->n_rows < min_rows) {
    cli_error("%s: no %s rows after the header", name,
              kind == PLOT_CSV_DRAWS ? "draw" : "iteration");
    rc = CLI_EXIT_IO;
  }
  if (rc != CLI_EXIT_OK) plot_csv_free(t);
  return rc;
}

int plot_csv_load(const char *path, plot_csv_kind kind, plot_csv *t)
{
  memset(t, 0, sizeof *t);
  FILE *fp = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
  if (!fp) {
    cli_error("%s: cannot read: %s", path, strerror(errno));
    return CLI_EXIT_IO;
  }
  int rc = plot_csv_read(fp, strcmp(path, "-") == 0 ? "(stdin)" : path, kind, t);
  if (fp != stdin) fclose(fp);
  return rc;
}
