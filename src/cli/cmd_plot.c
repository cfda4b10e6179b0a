/* cmd_plot.c: `vi plot trace|marginals|weights FILE... -o OUT [options]`: pictures of a
 * saved run, drawn by gnuplot (plot.h).  Parses the command line, reads and checks every
 * input (the plots look for gnuplot only when they render), so a bad file or name is
 * reported as such wherever gnuplot is missing; then renders one picture. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/plot.h"

enum { OPT_SIZE = 256, OPT_KEEP, OPT_X, OPT_LABELS, OPT_PARAMS };

static const struct option plot_options[] = {
  {"output", required_argument, NULL, 'o'},
  {"size", required_argument, NULL, OPT_SIZE},
  {"keep-data", required_argument, NULL, OPT_KEEP},
  {"x", required_argument, NULL, OPT_X},
  {"labels", required_argument, NULL, OPT_LABELS},
  {"params", required_argument, NULL, OPT_PARAMS},
  {"help", no_argument, NULL, 'h'},
  {NULL, 0, NULL, 0}
};

typedef enum { KIND_TRACE, KIND_MARGINALS, KIND_WEIGHTS } plot_kind;

static void free_list(char **v, size_t n)
{
  for (size_t i = 0; v && i < n; i++) free(v[i]);
  free(v);
}

/* "a,b,c" -> a NULL-terminated list of strdup'ed names (empty names refused). */
static char **split_list(const char *opt, const char *s, size_t *n)
{
  size_t cap = 1;
  for (const char *c = s; *c; c++) cap += *c == ',';
  char **v = calloc(cap + 1, sizeof *v);
  *n = 0;
  if (!v) {
    cli_error("out of memory");
    return NULL;
  }
  for (const char *c = s;; c++) {
    size_t len = strcspn(c, ",");
    if (!len || !(v[*n] = strndup(c, len))) {
      if (len) cli_error("out of memory");
      else cli_error("--%s: an empty name in '%s'", opt, s);
      free_list(v, *n);
      return NULL;
    }
    (*n)++;
    c += len;
    if (!*c) return v;
  }
}

static int parse_size(const char *s, int *w, int *h)
{
  char *end;
  long a = strtol(s, &end, 10);
  if (end == s || (*end != 'x' && *end != 'X')) goto bad;
  const char *t = end + 1;
  long b = strtol(t, &end, 10);
  if (end == t || *end) goto bad;
  if (a < 200 || b < 150 || a > 10000 || b > 10000) {
    cli_error("--size: %s is out of range (width 200-10000, height 150-10000 pixels)", s);
    return -1;
  }
  *w = (int)a;
  *h = (int)b;
  return 0;
bad:
  cli_error("--size: expected WIDTHxHEIGHT in pixels (e.g. 1000x700), got '%s'", s);
  return -1;
}

/* The label of a run: its file name without the directory and .trace.csv / .csv. */
static char *run_label(const char *path)
{
  const char *base = strrchr(path, '/');
  base = base ? base + 1 : path;
  size_t len = strlen(base);
  const char *ends[] = {".trace.csv", ".csv"};
  for (int i = 0; i < 2; i++) {
    size_t e = strlen(ends[i]);
    if (len > e && strcmp(base + len - e, ends[i]) == 0) {
      len -= e;
      break;
    }
  }
  return strndup(base, len);
}

/* RUN.trace.csv's neighbour RUN.csv, when it is there and reads as a draws CSV. */
static int load_neighbour(const char *trace_path, plot_csv *d)
{
  size_t len = strlen(trace_path), e = strlen(".trace.csv");
  if (len <= e || strcmp(trace_path + len - e, ".trace.csv") != 0) return 0;
  char *p = malloc(len);
  if (!p) return 0;
  sprintf(p, "%.*s.csv", (int)(len - e), trace_path);
  int ok = access(p, R_OK) == 0;
  if (ok && plot_csv_load(p, PLOT_CSV_DRAWS, d) != CLI_EXIT_OK) {
    fprintf(stderr, "vi: (%s sits next to %s but was not read: the legend leaves out the "
                    "method and seed)\n", p, trace_path);
    ok = 0;
  }
  free(p);
  return ok;
}

static int draw_trace(const plot_target *t, char **files, size_t n, char **labels,
                      size_t n_labels, plot_xaxis x)
{
  plot_csv *tr = calloc(2 * n, sizeof *tr);
  plot_run *runs = calloc(n, sizeof *runs);
  char **own = calloc(n, sizeof *own);
  int rc = tr && runs && own ? CLI_EXIT_OK : CLI_EXIT_NUMERICAL;
  plot_csv *dr = tr ? tr + n : NULL;   /* the draws CSVs next to the traces */
  if (rc != CLI_EXIT_OK) cli_error("out of memory");
  if (rc == CLI_EXIT_OK && labels && n_labels != n) {
    cli_error("--labels: %zu labels for %zu traces", n_labels, n);
    rc = CLI_EXIT_USAGE;
  }
  for (size_t i = 0; i < n && rc == CLI_EXIT_OK; i++) {
    rc = plot_csv_load(files[i], PLOT_CSV_TRACE, &tr[i]);
    runs[i].trace = &tr[i];
    runs[i].label = labels ? labels[i] : (own[i] = run_label(files[i]));
    runs[i].draws = load_neighbour(files[i], &dr[i]) ? &dr[i] : NULL;
  }
  if (rc == CLI_EXIT_OK) rc = plot_trace(t, runs, n, x);
  for (size_t i = 0; tr && i < 2 * n; i++) plot_csv_free(&tr[i]);
  free_list(own, n);
  free(tr);
  free(runs);
  return rc;
}

static int draw_draws(const plot_target *t, plot_kind kind, const char *file, char **params,
                      size_t n_params)
{
  plot_csv d;
  int rc = plot_csv_load(file, PLOT_CSV_DRAWS, &d);
  if (rc != CLI_EXIT_OK) return rc;
  rc = kind == KIND_MARGINALS ? plot_marginals(t, &d, params, n_params) : plot_weights(t, &d);
  plot_csv_free(&d);
  return rc;
}

/* The command line of one `vi plot KIND ...`. */
typedef struct plot_args {
  plot_kind kind;
  const char *kname;       /* the kind as typed, for messages */
  plot_target t;
  const char *keep;        /* --keep-data */
  plot_xaxis x;
  int x_set;
  char **labels, **params;
  size_t n_labels, n_params;
  char **files;
  size_t n_files;
} plot_args;

/* Options and files after the kind (argv[0]).  Returns CLI_EXIT_OK, with *help set when
 * --help was printed, or CLI_EXIT_USAGE after a message. */
static int parse_args(int argc, char **argv, plot_args *a, int *help)
{
  opterr = 0;
  optind = 1;
  int c;
  while ((c = getopt_long(argc, argv, ":o:h", plot_options, NULL)) != -1) {
    switch (c) {
    case 'h':
      cli_help_plot(stdout);
      *help = 1;
      return CLI_EXIT_OK;
    case 'o': a->t.path = optarg; break;
    case OPT_SIZE:
      if (parse_size(optarg, &a->t.width, &a->t.height)) return CLI_EXIT_USAGE;
      break;
    case OPT_KEEP: a->keep = optarg; break;
    case OPT_X:
      a->x_set = 1;
      if (strcmp(optarg, "iter") == 0) a->x = PLOT_X_ITER;
      else if (strcmp(optarg, "gradients") == 0) a->x = PLOT_X_GRADIENTS;
      else if (strcmp(optarg, "points") == 0) a->x = PLOT_X_POINTS;
      else if (strcmp(optarg, "seconds") == 0) a->x = PLOT_X_SECONDS;
      else {
        cli_error("--x: expected iter, gradients, points or seconds, got '%s'", optarg);
        return CLI_EXIT_USAGE;
      }
      break;
    case OPT_LABELS:
      free_list(a->labels, a->n_labels);
      if (!(a->labels = split_list("labels", optarg, &a->n_labels))) return CLI_EXIT_USAGE;
      break;
    case OPT_PARAMS:
      free_list(a->params, a->n_params);
      if (!(a->params = split_list("params", optarg, &a->n_params))) return CLI_EXIT_USAGE;
      break;
    case ':':
      cli_error("plot %s: option '%s' needs a value", a->kname, argv[optind - 1]);
      return CLI_EXIT_USAGE;
    default:
      cli_error("plot %s: unknown option '%s' (try 'vi help plot')", a->kname,
                argv[optind - 1]);
      return CLI_EXIT_USAGE;
    }
  }
  a->files = argv + optind;
  a->n_files = (size_t)(argc - optind);
  return CLI_EXIT_OK;
}

/* What the options cannot say alone: the files and options fit the kind. */
static int check_args(const plot_args *a)
{
  const char *k = a->kname;
  if (a->n_files == 0)
    cli_error("plot %s: expected %s", k,
              a->kind == KIND_TRACE ? "one or more trace CSV files (vi fit --trace)"
                                    : "a draws CSV file (vi fit --output)");
  else if (a->kind != KIND_TRACE && a->n_files > 1)
    cli_error("plot %s: expected one draws CSV file, got %zu", k, a->n_files);
  else if (!a->t.path)
    cli_error("plot %s: -o FILE is required (FILE.png, .svg or .pdf)", k);
  else if (!plot_format_ok(a->t.path))
    return CLI_EXIT_USAGE;
  else if (a->kind != KIND_TRACE && (a->labels || a->x_set))
    cli_error("plot %s: --labels and --x are options of 'vi plot trace'", k);
  else if (a->kind != KIND_MARGINALS && a->params)
    cli_error("plot %s: --params is an option of 'vi plot marginals'", k);
  else
    return CLI_EXIT_OK;
  return CLI_EXIT_USAGE;
}

int cli_cmd_plot(int argc, char **argv)
{
  if (argc < 2 || argv[1][0] == '-') {
    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
      cli_help_plot(stdout);
      return CLI_EXIT_OK;
    }
    cli_error("plot: expected a kind: trace, marginals or weights (try 'vi help plot')");
    return CLI_EXIT_USAGE;
  }
  plot_work work = {0};
  plot_args a = {.kname = argv[1], .t = {.work = &work}, .x = PLOT_X_ITER};
  if (strcmp(argv[1], "trace") == 0) a.kind = KIND_TRACE;
  else if (strcmp(argv[1], "marginals") == 0) a.kind = KIND_MARGINALS;
  else if (strcmp(argv[1], "weights") == 0) a.kind = KIND_WEIGHTS;
  else {
    cli_error("plot: unknown kind '%s' (kinds: trace, marginals, weights)", argv[1]);
    return CLI_EXIT_USAGE;
  }
  int help = 0;
  int rc = parse_args(argc - 1, argv + 1, &a, &help);
  if (rc == CLI_EXIT_OK && !help) rc = check_args(&a);
  if (rc == CLI_EXIT_OK && !help) rc = plot_work_open(&work, a.keep);
  if (rc == CLI_EXIT_OK && !help)
    rc = a.kind == KIND_TRACE
         ? draw_trace(&a.t, a.files, a.n_files, a.labels, a.n_labels, a.x)
         : draw_draws(&a.t, a.kind, a.files[0], a.params, a.n_params);
  plot_work_close(&work);
  free_list(a.labels, a.n_labels);
  free_list(a.params, a.n_params);
  return rc;
}
