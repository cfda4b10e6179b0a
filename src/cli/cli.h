/* cli.h: what the files of the `vi` command share.  The command is a thin layer over the
 * public API (vi/lang.h compiles a model file and loads its data into a vi_model, vi/fit.h
 * fits it): it parses options, drives the fit with an observer that draws the live table,
 * then reports on stdout and writes the requested files.  Nothing here is part of libvi.
 * The exit codes are documented in --help (help.c) and in vi.1: keep the three in step. */
#ifndef VI_CLI_H
#define VI_CLI_H

#include <stddef.h>
#include <stdio.h>
#include <vi.h>

/* Exit codes of the command. */
enum cli_exit {
  CLI_EXIT_OK = 0,          /* converged (or a command that succeeded) */
  CLI_EXIT_NOT_CONVERGED = 1, /* stopped before convergence; the fit is still reported */
  CLI_EXIT_USAGE = 2,       /* bad command line */
  CLI_EXIT_MODEL = 3,       /* model file: syntax, type, unsupported feature */
  CLI_EXIT_DATA = 4,        /* data file: missing, malformed or invalid data */
  CLI_EXIT_NUMERICAL = 5,   /* numerical failure or runtime error in the model */
  CLI_EXIT_IO = 6,          /* a file could not be read or written */
  CLI_EXIT_GNUPLOT = 7,     /* plots: gnuplot is not installed, or failed */
  CLI_EXIT_INTERRUPTED = 130, /* SIGINT: 128 + 2, as shells report it */
  CLI_EXIT_TERMINATED = 143   /* SIGTERM: 128 + 15 (SIGHUP: 129) */
};

/* Modes listed in a report, and the ELBO gap under which two modes mean a multimodal
 * posterior (summary.c, summary_json.c). */
#define CLI_MODES_SHOWN 8
#define CLI_MULTIMODAL_NATS 3.0
/* A correlation at the mode above which the report says mean-field sds are too small
 * (two coordinates at 0.7: mean-field's sds are about 0.7 of the posterior's). */
#define CLI_CORRELATED 0.7

/* ---- options.c: the command line of `vi fit` and `vi check` ---- */
typedef struct cli_config {
  const char *model_path;
  const char *data_path;      /* NULL: no data */
  vi_options opt;             /* engine options, defaults resolved for the method */
  const char *output_path;    /* --output, NULL if none */
  const char *trace_path;     /* --trace */
  const char *json_path;      /* --summary-json */
  const char *plot_dir;       /* --plot DIR: the three plots at the end of the fit */
  size_t output_draws;        /* --output-draws (default 1000) */
  double finish_se;           /* --finish-se: the final diagnostics draw until the SEs of
                                 the ELBO and log p(X) are below it (default
                                 CLI_FINISH_SE; 0: always --eval-draws draws) */
  size_t print_every;         /* --print-every / --refresh: 0 = automatic */
  int no_progress;            /* --refresh 0 (or --print-every 0): no progress lines */
  const char *init_file;      /* --init FILE.json: initial values (CmdStan's init file) */
  int quiet;                  /* --quiet */
  size_t memory_limit;        /* --memory-limit in bytes; 0 = the library's default */
  size_t threads;             /* --threads, else VI_NUM_THREADS; 0 = the cores available */
  int lrvb;                   /* --covariance lrvb (0: meanfield) */
  int resample;               /* --resample psis (0: none) */
  int family_auto;            /* --family auto (the default): chosen by D, cli_family_choose */
  const char *shard_by;       /* --shard-by N: the data split over the MPI ranks, or NULL */
  /* --minibatch B (opt.minibatch): the rows of N, all ranks together, and the ranks
   * (cmd_fit.c fills them once the data are in), for the reports */
  size_t minibatch_of, minibatch_ranks;
} cli_config;
#define CLI_FINISH_SE 0.1
/* The final diagnostics' fewest draws (when --eval-draws allows as many): PSIS k-hat
 * and the forward KL need a tail to fit, whatever the SEs say. */
#define CLI_FINISH_MIN 1000

/* --family auto: a full-rank q up to this many unconstrained dimensions, mean-field
 * above.  On the 45 posteriordb reference posteriors (D <= 26) full rank gave sds
 * 0.85-1.05x the reference where mean-field gave 0.005-0.3x on correlated ones, at a
 * similar cost; above ~30 dimensions its D(D+1)/2 parameters cost 3-10x mean-field's
 * time (bench/README.md, "Which family by default"). */
#define CLI_AUTO_FULLRANK_MAX_DIM 32
void cli_family_choose(cli_config *cfg, size_t dim);

/* Parse the arguments of `vi fit` (fit = 1) or `vi check` (fit = 0); argv[0] is the
 * command name.  Returns CLI_EXIT_OK, or CLI_EXIT_USAGE after printing one line that
 * names the option; *help_shown is set when --help was asked for (and printed). */
int cli_options_parse(int argc, char **argv, int fit, cli_config *cfg, int *help_shown);
const char *cli_optimizer_name(vi_optimizer o);
const char *cli_method_name(vi_estimator e);
/* "mean-field Gaussian", "full-rank Gaussian", "low-rank Gaussian (diagonal + rank K)" */
const char *cli_family_description(const vi_fit *f);
const char *cli_init_name(vi_init i);   /* "zero", "random", "laplace" */

/* ---- mpi_shard.c (a build --with-mpi, HAVE_MPI): --shard-by over MPI ranks ---- */
/* MPI_Init; this rank and the count.  Ranks > 0 hold their stderr back (one message per
 * error, rank 0's progress only).  CLI_EXIT_OK or the exit code after the error. */
int cli_mpi_begin(size_t *rank, size_t *size);
/* Collective: every rank passes its exit code so far; all get the code of the lowest
 * rank that failed (whose error alone is printed), or CLI_EXIT_OK. */
int cli_mpi_agree(int rc);
int cli_mpi_max(int v);           /* collective: the largest v over the ranks */
/* m (rank p's share of the model) becomes the model on the whole data: its log joint,
 * gradient and log lik summed over the ranks in rank order. */
void cli_mpi_wrap(vi_model *m, vi_program *p);
int cli_mpi_observer(void *ctx, const vi_fit *f, const vi_diag *d);
const char *cli_mpi_error(void);  /* the message of the last evaluation that failed */
void cli_mpi_end(void);           /* MPI_Finalize (after the last collective) */

/* ---- help.c ---- */
void cli_help_main(FILE *out);
void cli_help_fit(FILE *out);
void cli_help_check(FILE *out);
void cli_help_plot(FILE *out);
void cli_version(FILE *out);

/* ---- errors.c: one place that maps status codes to exit codes and prints errors ---- */
int cli_exit_for_status(int status);
/* "vi: <fmt>" on stderr, one line. */
void cli_error(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;
/* Print a vi_error from the language (model or data) and return its exit code. */
int cli_report_lang_error(const vi_error *err, int status);

/* ---- signals.c: SIGINT, SIGTERM, SIGHUP stop the fit at the end of the current
 * iteration; a second one removes the tracked temporary files and ends the program ---- */
void cli_signals_install(void);
void cli_signals_restore(void);
/* The number of the first signal caught, 0 if none. */
int cli_signals_interrupted(void);
const char *cli_signal_name(int sig);
/* Remove path if the program dies by a second signal.  Returns a slot for
 * cli_signals_untrack, or -1 (not tracked: too many or too long). */
int cli_signals_track(const char *path);
void cli_signals_untrack(int slot);

/* ---- atomic_file.c: a file that appears whole or not at all ---- */
typedef struct cli_atomic_file {
  char *path;   /* final name (a symbolic link resolved) */
  char *tmp;    /* temporary name in the same directory */
  FILE *fp;     /* write here */
  int direct;   /* target is a device or FIFO: buffered in memory, written at commit */
  char *buf;    /* direct mode: the buffer of open_memstream */
  size_t buflen;
  int track;    /* slot of tmp in signals.c (-1: none) */
} cli_atomic_file;
/* Create the temporary file.  Returns 0, or -1 after printing an error naming path. */
int cli_atomic_open(cli_atomic_file *af, const char *path);
/* Flush, sync, close and rename over path.  Returns 0, or -1 after printing an error (the
 * temporary file is removed and path left as it was). */
int cli_atomic_commit(cli_atomic_file *af);
/* Remove the temporary file; path is left as it was.  Safe on a never-opened file. */
void cli_atomic_abort(cli_atomic_file *af);

/* ---- draws.c: output draws from q (or N(mu, Sigma_LR)), and their column summaries ---- */
/* --resample psis: draws made from the proposal per output draw */
#define CLI_RESAMPLE_FACTOR 10
typedef struct cli_column_summary {
  double mean, sd, q5, q50, q95;
} cli_column_summary;

typedef struct cli_draws {
  size_t n;              /* number of draws */
  size_t n_out;          /* output columns (names below) */
  const char **names;    /* n_out names (owned strings when generated) */
  char **owned_names;    /* names we generated ("z.1", ...), or NULL */
  double *mean_out;      /* n_out outputs at q's mean */
  double *out;           /* n * n_out outputs, draw s at out[s * n_out] */
  double *log_p;         /* n values of log p(x, z_s) */
  double *log_g;         /* n values of log q(z_s) */
  cli_column_summary *summary; /* n_out summaries */
  int resample;          /* PSIS resampling was asked for */
  size_t resample_from;  /* ... from this many proposal draws */
  double resample_khat;  /* k-hat of their importance weights (NaN: not asked) */
  int resampled;         /* 1: done; 0: the raw draws were kept (k-hat > 0.7) */
} cli_draws;

/* Draw n points with the fit's RNG from q, or, when cov (D x D, Sigma_LR) is not NULL,
 * from N(mu, cov), and map them to outputs.  With resample, draw CLI_RESAMPLE_FACTOR n
 * instead, Pareto-smooth their importance weights p / g and keep n of them drawn without
 * replacement in proportion to the smoothed weights, unless k-hat > 0.7 (then the first
 * n, as drawn).  Returns VI_SUCCESS or the failing status (the model's runtime error text
 * is in the program; VI_ENOTPD when cov has no Cholesky factor).  pre (not NULL, only
 * with cov NULL): the proposal draws were made already (the finish's draws from q,
 * vi_fit_finish_shared): n of them, or CLI_RESAMPLE_FACTOR n with resample, with their
 * log p and log q; they are used instead of drawing. */
typedef struct cli_predrawn {
  size_t n;
  const double *z, *log_p, *log_g;   /* n x dim, n, n */
} cli_predrawn;
int cli_draws_make(vi_fit *f, size_t n, const double *cov, int resample,
                   const cli_predrawn *pre, cli_draws *d);
void cli_draws_free(cli_draws *d);

/* ---- the outcome of a fit, shared by the reporters ---- */
typedef struct cli_outcome {
  int run_status;          /* what vi_fit_run returned */
  vi_stop_reason reason;   /* the engine's stop reason */
  int interrupted;         /* stopped by a signal: its number (SIGINT, SIGTERM, SIGHUP) */
  int exit_code;           /* what the command will return */
  int have_final;          /* final diagnostics available */
  vi_final final;          /* vi_fit_finish */
  int have_lrvb;           /* --covariance lrvb: lrvb_cov and lrvb_info hold the result */
  double *lrvb_cov;        /* D x D Sigma_LR, unconstrained */
  vi_lrvb_info lrvb_info;
  double rel_obj;          /* the stop's value: the last relative ELBO change
                              (VI_STOP_REL_OBJ), the rise over the window
                              (VI_STOP_FLAT) or the predicted gain
                              (VI_STOP_RESOLUTION); NaN otherwise */
  int unreliable;          /* the final diagnostics failed, or their ELBO, log p(X) or KL
                              is not finite, or some fresh draws had a non-finite log
                              density: never reported as converged, never exit 0 */
  size_t nonfinite;        /* those fresh draws (vi_fit_finish_fault) */
  double seconds_total;    /* from the start of the command to the report */
} cli_outcome;

/* A word for the outcome: "converged", "max_iter", "no_progress", "interrupted",
 * "unreliable", "failed". */
const char *cli_outcome_word(const cli_outcome *o);
/* The meaning of a PSIS k-hat in words: "good", "ok", "unreliable", "unknown". */
const char *cli_khat_word(double khat);

/* ---- progress.c: the live table on stderr ---- */
typedef struct cli_progress {
  FILE *out;
  int tty;               /* draw the aligned table */
  int quiet;
  size_t every;          /* 0 = automatic */
  size_t last_printed;   /* iteration last shown (SIZE_MAX before the first) */
  int header_done;
  size_t minibatch_of, ranks;   /* --minibatch: N, all ranks' rows, and the ranks */
} cli_progress;

void cli_progress_init(cli_progress *p, FILE *out, int quiet, size_t every);
/* The vi_fit_run observer: prints the row when due, returns non-zero after SIGINT. */
int cli_progress_observer(void *ctx, const vi_fit *f, const vi_diag *d);
/* Print the last row if it was skipped. */
void cli_progress_finish(cli_progress *p, const vi_fit *f);

/* ---- summary.c: the report on stdout ---- */
void cli_summary_print(FILE *out, const cli_config *cfg, vi_fit *f, const cli_outcome *o,
                       const cli_draws *d);

/* ---- csv_output.c, trace.c, summary_json.c: the files ---- */
int cli_csv_write(FILE *fp, const cli_config *cfg, vi_fit *f, const cli_outcome *o,
                  const cli_draws *d);
int cli_trace_write(FILE *fp, const vi_fit *f);
/* p: the compiled model (its warnings go in "warnings") */
int cli_summary_json_write(FILE *fp, const cli_config *cfg, const vi_program *p,
                           vi_fit *f, const cli_outcome *o, const cli_draws *d);

/* ---- commands ---- */
int cli_cmd_fit(int argc, char **argv);
int cli_cmd_check(int argc, char **argv);
int cli_cmd_plot(int argc, char **argv);

#endif
