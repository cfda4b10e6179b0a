/* cmd_fit.c: `vi fit MODEL.stan [--data DATA.json] [options]`, the main job.
 *   compile -> load data -> vi_model -> open the output files (temporary) -> fit with the
 *   progress observer -> final diagnostics -> output draws -> report on stdout -> write
 *   and commit the files -> exit code.
 * A failure before the fit leaves every output file untouched; so does a failed fit.  A
 * fit that stops without converging (iteration cap, no progress) or by Ctrl-C or SIGTERM
 * is still reported and written, and says so in the exit code (1, 130, 143); so is a fit
 * whose fresh draws meet a non-finite log density or whose final ELBO, log p(X) or KL is
 * not finite (5: never "converged"). */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cli/cli.h"
#include "cli/plot.h"

/* --shard-by: this process's rank and the count (0 and 1 without MPI); sharded: every
 * step that may fail on one rank alone (its part of the data, the output files that rank
 * 0 alone opens) is agreed by all before the next collective step. */
static size_t g_rank, g_size = 1;
static int g_sharded;
static int agree(int rc)
{
#ifdef HAVE_MPI
  if (g_sharded) return cli_mpi_agree(rc);
#endif
  return rc;
}

static void print_to_stderr(void *ctx, const char *text)
{
  (void)ctx;
  fputs(text, stderr);
}

/* Where a failed fit failed, so a user can see which coordinate overflowed: one line after the error, with the coordinates'
 * names when the model has them (at most FAULT_SHOWN of them). */
#define FAULT_SHOWN 10
static void print_point(const char *where, double lp, const double *z, const vi_model *m,
                        size_t D)
{
  fflush(stdout);
  fprintf(stderr, "vi: %s: lp = %.6g at z = (", where, isnan(lp) ? fabs(lp) : lp);
  for (size_t j = 0; j < D && j < FAULT_SHOWN; j++) {
    if (j) fputs(", ", stderr);
    if (m && m->names && m->names[j]) fprintf(stderr, "%s = ", m->names[j]);
    fprintf(stderr, "%.6g", z[j]);
  }
  fputs(D > FAULT_SHOWN ? ", ...)\n" : ")\n", stderr);
}

/* Which statement makes the log density at z not finite, and with which arguments (the
 * language's explanation, with its source line and caret). */
static void explain_point(vi_program *p, const double *z)
{
  char why[2048];
  if (vi_program_explain(p, z, why, sizeof why) == VI_SUCCESS && why[0]) {
    fflush(stdout);
    fprintf(stderr, strstr(why, ": error: ") ? "%s\n" : "vi: %s\n", why);
  }
}

static void report_fault(const vi_fit *f, vi_program *p)
{
  const vi_fault *ft = vi_fit_fault(f);
  if (!ft) return;
  char where[96];
  snprintf(where, sizeof where, "at iteration %zu, draw %zu", ft->iter, ft->draw);
  print_point(where, ft->lp, ft->z, vi_fit_model(f), vi_fit_dim(f));
  if (ft->status == VI_ENONFINITE || !isfinite(ft->lp))
    explain_point(p, ft->z);
}

/* A start that failed has no fit to ask: show the log density at the centre of the
 * starting q (z = 0, the start of --init zero and of the Laplace mode search). */
static void report_start_point(const vi_model *m, vi_program *p)
{
  double *z = calloc(m->dim ? m->dim : 1, sizeof *z), lp = NAN;
  if (!z) return;
  if (m->log_joint(m->ctx, 1, z, &lp, NULL) == VI_SUCCESS) {
    print_point("at the start", lp, z, m, m->dim);
    if (!isfinite(lp))
      explain_point(p, z);
  }
  free(z);
}

/* A fit whose fresh draws from q meet a non-finite log density: how many, where the first
 * was, and the statement responsible. */
static void report_unreliable(const vi_fit *f, vi_program *p, const cli_outcome *o)
{
  const vi_fault *ft = vi_fit_finish_fault(f, NULL);
  if (!o->have_final) {
    cli_error("the fit is not reliable: its final diagnostics failed");
  } else if (ft) {
    cli_error("the fit is not reliable: %zu of %zu fresh draws from q (%.1f%%) have a "
              "non-finite log density: q puts mass where the model has none (an "
              "unconstrained scale?) or the model breaks there", o->nonfinite,
              o->final.draws, 100.0 * (double)o->nonfinite / (double)o->final.draws);
    char where[96];
    snprintf(where, sizeof where, "first at fresh draw %zu", ft->draw);
    print_point(where, ft->lp, ft->z, vi_fit_model(f), vi_fit_dim(f));
    explain_point(p, ft->z);
  } else {
    cli_error("the fit is not reliable: its final ELBO, log p(X) or KL is not finite");
  }
}

/* A runtime error.  The model's own message, when it has one, is complete (it names the
 * statement by file:line:col, with a caret line, as a model error does): print it alone.
 * Otherwise say what failed and the status in words. */
static void report_runtime(const char *what, int st, const vi_program *p)
{
  const char *detail = p ? vi_program_last_error(p) : "";
#ifdef HAVE_MPI
  if (g_sharded && g_size > 1) detail = cli_mpi_error();   /* from the rank that failed */
#endif
  if (detail && detail[0]) {
    fflush(stdout);
    if (strstr(detail, ": error: "))
      fprintf(stderr, "%s\n", detail);
    else
      cli_error("%s: %s", what, detail);
  } else {
    cli_error("%s: %s", what, vi_strerror(st));
  }
}

/* The message of the last failed evaluation: with several ranks, the one all ranks
 * agreed on (a branch on it must go the same way everywhere: what follows may evaluate
 * the model, a collective step). */
static const char *last_error(const vi_program *p)
{
#ifdef HAVE_MPI
  if (g_sharded && g_size > 1) return cli_mpi_error();
#endif
  return vi_program_last_error(p);
}

/* --covariance lrvb: Sigma_LR into o; CLI_EXIT_OK, or the exit code after the error. */
static int lrvb_run(vi_fit *f, cli_outcome *o, const vi_program *p)
{
  size_t D = vi_fit_dim(f);
  o->lrvb_cov = malloc(D * D * sizeof *o->lrvb_cov);
  if (!o->lrvb_cov) {
    cli_error("--covariance lrvb: out of memory for the %zu x %zu covariance", D, D);
    return CLI_EXIT_NUMERICAL;
  }
  int st = vi_fit_lrvb(f, o->lrvb_cov, &o->lrvb_info);
  if (st == VI_ENOTPD) {
    cli_error("--covariance lrvb: the negative Hessian of the objective at q is not "
              "positive definite (%zu of its %zu eigenvalues <= 0, the smallest %.3g): q "
              "is not at a maximum of the ELBO, or the posterior is not log-concave "
              "there; nothing was written (--covariance meanfield reports q's own sds)",
              o->lrvb_info.n_negative, 2 * D, o->lrvb_info.min_eig);
    return CLI_EXIT_NUMERICAL;
  }
  if (st != VI_SUCCESS) {
    report_runtime("--covariance lrvb: the Hessian of the objective failed", st, p);
    return cli_exit_for_status(st);
  }
  o->have_lrvb = 1;
  return CLI_EXIT_OK;
}

/* The final diagnostics' draws, kept for the output (vi_fit_finish_shared). */
typedef struct shared_draws {
  cli_predrawn draws;
  double *z, *log_p, *log_g;   /* owned */
  int ok;
} shared_draws;

static void shared_draws_free(shared_draws *sh)
{
  free(sh->z);
  free(sh->log_p);
  free(sh->log_g);
  memset(sh, 0, sizeof *sh);
}

/* The final diagnostics from draws that the output reuses: as many as the output needs
 * (CLI_RESAMPLE_FACTOR times more with --resample psis), at least CLI_FINISH_MIN unless
 * --eval-draws is smaller, more until the SEs reach --finish-se, at most --eval-draws. */
static int finish_shared(vi_fit *f, const cli_config *cfg, vi_final *fin, shared_draws *sh)
{
  size_t D = vi_fit_dim(f), cap = vi_fit_options(f)->eval_draws;
  size_t keep = cfg->resample ? cfg->output_draws * CLI_RESAMPLE_FACTOR : cfg->output_draws;
  size_t lo = cap < CLI_FINISH_MIN ? cap : CLI_FINISH_MIN;
  size_t n_min = keep > lo ? keep : lo;
  memset(sh, 0, sizeof *sh);
  sh->z = malloc((keep ? keep : 1) * D * sizeof *sh->z);
  sh->log_p = malloc((keep ? keep : 1) * sizeof *sh->log_p);
  sh->log_g = malloc((keep ? keep : 1) * sizeof *sh->log_g);
  if (!sh->z || !sh->log_p || !sh->log_g) {
    shared_draws_free(sh);
    return VI_ENOMEM;
  }
  int st = vi_fit_finish_shared(f, n_min, cap, cfg->finish_se, keep, sh->z, sh->log_p,
                                sh->log_g, fin);
  if (st != VI_SUCCESS) {
    shared_draws_free(sh);
    return st;
  }
  sh->draws = (cli_predrawn){keep, sh->z, sh->log_p, sh->log_g};
  sh->ok = 1;
  return VI_SUCCESS;
}

static int exit_for_outcome(const cli_outcome *o)
{
  if (o->interrupted)
    return 128 + o->interrupted;   /* 130 SIGINT, 143 SIGTERM, 129 SIGHUP */
  if (o->unreliable)
    return CLI_EXIT_NUMERICAL;
  switch (o->reason) {
  case VI_STOP_GRAD:
  case VI_STOP_FLAT:
  case VI_STOP_RESOLUTION:
  case VI_STOP_REL_OBJ: return CLI_EXIT_OK;
  case VI_STOP_MAXITER:
  case VI_STOP_NOPROGRESS: return CLI_EXIT_NOT_CONVERGED;
  default: break;
  }
  if (o->run_status == VI_SUCCESS)
    return CLI_EXIT_OK;
  if (o->run_status == VI_EMAXITER)
    return CLI_EXIT_NOT_CONVERGED;
  return cli_exit_for_status(o->run_status);
}

/* An output file must not be one of the inputs: a successful run would replace it. */
static int overwrites_input(const cli_config *cfg)
{
  const char *outs[3] = {cfg->output_path, cfg->trace_path, cfg->json_path};
  const char *opts[3] = {"--output", "--trace", "--summary-json"};
  const char *ins[2] = {cfg->model_path, cfg->data_path};
  const char *what[2] = {"the model file", "the data file"};
  for (int i = 0; i < 3; i++) {
    struct stat so;
    if (!outs[i] || stat(outs[i], &so) != 0 || !S_ISREG(so.st_mode))
      continue;
    for (int j = 0; j < 2; j++) {
      struct stat si;
      if (ins[j] && stat(ins[j], &si) == 0 && si.st_dev == so.st_dev &&
          si.st_ino == so.st_ino) {
        cli_error("%s: '%s' is %s; refusing to overwrite an input", opts[i], outs[i],
                  what[j]);
        return 1;
      }
    }
  }
  return 0;
}

static double seconds_since(const struct timespec *t0)
{
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)(t.tv_sec - t0->tv_sec) + 1e-9 * (double)(t.tv_nsec - t0->tv_nsec);
}

static int fit_main(int argc, char **argv)
{
  struct timespec t0;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  cli_config cfg;
  int help = 0;
  int rc = cli_options_parse(argc, argv, 1, &cfg, &help);
  if (rc != CLI_EXIT_OK || help)
    return rc;
  if (overwrites_input(&cfg))
    return CLI_EXIT_USAGE;
  if (g_rank > 0) {
    /* rank 0 writes the outputs and the progress; the others only compute */
    cfg.output_path = cfg.trace_path = cfg.json_path = cfg.plot_dir = NULL;
    cfg.no_progress = 1;
  }
  if (g_size > 1 && cfg.threads == 0)
    cfg.threads = 1;   /* ranks share the cores: threads only on request */

  vi_error err;
  memset(&err, 0, sizeof err);
  int st = VI_SUCCESS;
  vi_fit *f = NULL;
  double *init_z = NULL;
  cli_draws draws;
  memset(&draws, 0, sizeof draws);
  shared_draws pre;
  memset(&pre, 0, sizeof pre);
  cli_outcome o;
  memset(&o, 0, sizeof o);
  cli_atomic_file files[3];
  memset(files, 0, sizeof files);
  const char *paths[3] = {cfg.output_path, cfg.trace_path, cfg.json_path};

  vi_program *p = vi_program_compile_file(cfg.model_path, &err, &st);
  if (!p)
    return cli_report_lang_error(&err, st);
  vi_program_set_memory_limit(p, cfg.memory_limit);
  /* the compiler's warnings, --quiet or not: they are about the model, not progress */
  for (size_t i = 0; i < vi_program_n_warnings(p); i++)
    fprintf(stderr, "%s\n", vi_program_warning(p, i));
  vi_program_set_threads(p, cfg.threads);
  if (!cfg.quiet && g_rank == 0)
    vi_program_set_print(p, print_to_stderr, NULL);
  if (cfg.shard_by) {
    memset(&err, 0, sizeof err);
    st = vi_program_set_shard(p, cfg.shard_by, g_rank, g_size, &err);
    if (st != VI_SUCCESS) {
      if (st == VI_EINVAL && err.message[0]) {
        cli_error("--shard-by: %s", strstr(err.message, "cannot shard")
                  ? strstr(err.message, "cannot shard") : err.message);
        rc = CLI_EXIT_USAGE;
      } else {
        rc = cli_report_lang_error(&err, st);
      }
      goto out;
    }
  }
  memset(&err, 0, sizeof err);
  st = vi_program_load_data_file(p, cfg.data_path, &err);
  rc = st != VI_SUCCESS ? cli_report_lang_error(&err, st) : CLI_EXIT_OK;
  if ((rc = agree(rc)) != CLI_EXIT_OK)   /* each rank read its own part */
    goto out;
  vi_model m;
  memset(&m, 0, sizeof m);
  st = vi_program_model(p, &m);
  if (st != VI_SUCCESS) {
    report_runtime("cannot build the model", st, p);
    /* EINVAL here is the model's own fault (no parameters, say), not the command line */
    rc = st == VI_EINVAL ? CLI_EXIT_MODEL : cli_exit_for_status(st);
    goto out;
  }
#ifdef HAVE_MPI
  if (g_sharded && g_size > 1)
    cli_mpi_wrap(&m, p);   /* the sum over the ranks of their shares */
#endif
  /* --minibatch B: each rank draws its B rows from its own part of the data */
  if (cfg.opt.minibatch) {
    size_t lo = 0, hi = 0, total = 0;
    vi_program_shard_rows(p, &lo, &hi, &total);
    rc = CLI_EXIT_OK;
    if (cfg.opt.minibatch > hi - lo) {
      if (g_size > 1)
        cli_error("--minibatch: %zu rows is more than rank %zu's %zu rows (%s = %zu over "
                  "%zu ranks)", cfg.opt.minibatch, g_rank, hi - lo, cfg.shard_by, total,
                  g_size);
      else
        cli_error("--minibatch: %zu rows is more than the data's %s = %zu",
                  cfg.opt.minibatch, cfg.shard_by, total);
      rc = CLI_EXIT_USAGE;
    }
    if ((rc = agree(rc)) != CLI_EXIT_OK)
      goto out;
    cfg.opt.minibatch_rows = hi - lo;
    cfg.opt.minibatch_fn = vi_program_minibatch;
    cfg.opt.minibatch_ctx = p;
    cfg.opt.minibatch_stream = g_rank;
    cfg.minibatch_of = total;
    cfg.minibatch_ranks = g_size;
  }

  cli_family_choose(&cfg, m.dim);
  if (vi_family_ranked(cfg.opt.family) && cfg.opt.family_rank > m.dim) {
    cli_error("--family: rank %zu exceeds the model's %zu unconstrained dimension%s "
              "(use %s:K with K <= %zu, or fullrank)", cfg.opt.family_rank, m.dim,
              m.dim == 1 ? "" : "s", vi_family_name(cfg.opt.family), m.dim);
    rc = CLI_EXIT_USAGE;
    goto out;
  }
  if (cfg.lrvb && m.dim > VI_LRVB_MAX_DIM) {
    cli_error("--covariance lrvb: not available for D = %zu unconstrained dimensions (at "
              "most %d: its Hessian takes 4 D^2 doubles); use --covariance meanfield",
              m.dim, VI_LRVB_MAX_DIM);
    rc = CLI_EXIT_USAGE;
    goto out;
  }

  /* --init FILE.json: the parameters' values as q's starting mean (unconstrained) */
  if (cfg.init_file) {
    if (!(init_z = malloc(m.dim * sizeof *init_z))) {
      cli_error("out of memory");
      rc = CLI_EXIT_NUMERICAL;
      goto out;
    }
    memset(&err, 0, sizeof err);
    st = vi_program_unconstrain_file(p, cfg.init_file, init_z, &err);
    if (st != VI_SUCCESS) {
      rc = cli_report_lang_error(&err, st);
      goto out;
    }
    cfg.opt.init_mu = init_z;
  }

  /* Temporary files now: an unwritable place is reported before the fit runs.  The
   * signal handlers first, so that a second signal removes them; a first one stops the fit
   * at its first iteration (the start may take a while: the Laplace search).  They stay
   * until the end so that a first signal during the final diagnostics does not lose the
   * report. */
  cli_signals_install();
  for (int i = 0; i < 3 && rc == CLI_EXIT_OK; i++)
    if (paths[i] && cli_atomic_open(&files[i], paths[i]) != 0)
      rc = CLI_EXIT_IO;
  if (rc == CLI_EXIT_OK && cfg.plot_dir)
    rc = plot_fit_ready(cfg.plot_dir);
  if ((rc = agree(rc)) != CLI_EXIT_OK)   /* rank 0 alone opens them */
    goto out;

  f = vi_fit_alloc(&m, &cfg.opt, &st);
  if (!f) {
    if (st == VI_EINVAL) {
      cli_error("invalid combination of options: %s", vi_strerror(st));
      rc = CLI_EXIT_USAGE;
    } else if (st == VI_ENONFINITE && !last_error(p)[0]) {
      cli_error("cannot start the fit: the log density is not finite at the starting "
                "draws; the statement responsible is named below (--init random helps "
                "only when the start lies outside the model's support)");
      if (cfg.opt.init != VI_INIT_RANDOM && !cfg.opt.init_mu)
        report_start_point(&m, p);
      rc = CLI_EXIT_NUMERICAL;
    } else {
      report_runtime("cannot start the fit", st, p);
      rc = cli_exit_for_status(st);
    }
    goto out;
  }

  /* The fit, with the live table; a signal stops it at the end of an iteration. */
  cli_progress prog;
  cli_progress_init(&prog, stderr, cfg.quiet || cfg.no_progress, cfg.print_every);
  prog.minibatch_of = cfg.minibatch_of;
  prog.ranks = cfg.minibatch_ranks ? cfg.minibatch_ranks : 1;
  o.rel_obj = NAN;
  vi_observer_fn observer = cli_progress_observer;
#ifdef HAVE_MPI
  if (g_sharded && g_size > 1)
    observer = cli_mpi_observer;   /* a signal on any rank stops them all, together */
#endif
  if (observer(&prog, f, vi_fit_diag(f)) != 0)
    o.run_status = VI_EINTERRUPTED;
  else
    o.run_status = vi_fit_run(f, observer, &prog);
  cli_progress_finish(&prog, f);
  o.reason = vi_fit_stop_reason(f);
  o.interrupted = o.run_status == VI_EINTERRUPTED ? cli_signals_interrupted() : 0;
#ifdef HAVE_MPI
  if (g_sharded && g_size > 1 && o.run_status == VI_EINTERRUPTED)
    o.interrupted = cli_mpi_max(o.interrupted);
#endif
  o.rel_obj = o.reason == VI_STOP_REL_OBJ || o.reason == VI_STOP_FLAT ||
              o.reason == VI_STOP_RESOLUTION ? vi_fit_stop_value(f) : NAN;
  o.exit_code = exit_for_outcome(&o);
  if (o.exit_code != CLI_EXIT_OK && o.exit_code != CLI_EXIT_NOT_CONVERGED &&
      !o.interrupted) {
    const vi_diag *d = vi_fit_diag(f);
    char what[64];
    snprintf(what, sizeof what, "fit failed at iteration %zu", d ? d->iter : (size_t)0);
    report_runtime(what, o.run_status, p);
    report_fault(f, p);
    rc = o.exit_code;
    goto out;
  }

  /* Final decomposition from fresh draws, then the output draws: the same draws, unless
   * the output comes from another proposal (--covariance lrvb). */
  if (cfg.lrvb)
    st = vi_fit_finish(f, &o.final);
  else
    st = finish_shared(f, &cfg, &o.final, &pre);
  o.have_final = st == VI_SUCCESS;
  if (!o.have_final)
    report_runtime("final diagnostics unavailable", st, p);
  vi_fit_finish_fault(f, &o.nonfinite);
  o.unreliable = !o.have_final || o.nonfinite > 0 || !isfinite(o.final.elbo) ||
                 !isfinite(o.final.log_evidence) || !isfinite(o.final.kl);
  if (o.unreliable) {
    report_unreliable(f, p, &o);
    o.exit_code = exit_for_outcome(&o);
  }
  if (cfg.lrvb && (rc = lrvb_run(f, &o, p)) != CLI_EXIT_OK)
    goto out;
  st = cli_draws_make(f, cfg.output_draws, o.lrvb_cov, cfg.resample,
                      pre.ok ? &pre.draws : NULL, &draws);
  if (st != VI_SUCCESS) {
    report_runtime("cannot make the output draws", st, p);
    rc = cli_exit_for_status(st);
    goto out;
  }

  o.seconds_total = seconds_since(&t0);
  if (g_rank == 0)
    cli_summary_print(stdout, &cfg, f, &o, &draws);

  rc = o.exit_code;
  int bad[3] = {
    files[0].fp && cli_csv_write(files[0].fp, &cfg, f, &o, &draws) != 0,
    files[1].fp && cli_trace_write(files[1].fp, f) != 0,
    files[2].fp && cli_summary_json_write(files[2].fp, &cfg, p, f, &o, &draws) != 0};
  for (int i = 0; i < 3; i++)
    if (bad[i]) {
      cli_error("%s: cannot write (disk full?); existing files were left as they were",
                paths[i]);
      rc = CLI_EXIT_IO;
    }
  if (rc == CLI_EXIT_IO)
    goto out;
  for (int i = 0; i < 3; i++)
    if (files[i].fp && cli_atomic_commit(&files[i]) != 0)
      rc = CLI_EXIT_IO;
  /* The plots last: a failed plot keeps the files, and the fit's own exit code when that
   * already says something went wrong. */
  if (cfg.plot_dir) {
    int prc = plot_fit_write(cfg.plot_dir, &cfg, f, &o, &draws);
    if (rc == CLI_EXIT_OK)
      rc = prc;
  }

out:
  for (int i = 0; i < 3; i++)
    cli_atomic_abort(&files[i]);
  cli_signals_restore();
  cli_draws_free(&draws);
  shared_draws_free(&pre);
  free(o.lrvb_cov);
  vi_fit_free(f);
  free(init_z);
  vi_program_free(p);
  return rc;
}

int cli_cmd_fit(int argc, char **argv)
{
  g_rank = 0;
  g_size = 1;
  g_sharded = 0;
  for (int i = 1; i < argc && strcmp(argv[i], "--"); i++)
    if (!strncmp(argv[i], "--shard-by", 10)) g_sharded = 1;
#ifdef HAVE_MPI
  if (g_sharded) {
    int rc = cli_mpi_begin(&g_rank, &g_size);
    if (rc != CLI_EXIT_OK) return rc;
  }
#endif
  int rc = fit_main(argc, argv);
#ifdef HAVE_MPI
  if (g_sharded) cli_mpi_end();
#endif
  return rc;
}
