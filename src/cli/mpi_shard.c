/* mpi_shard.c: `vi fit --shard-by N` over MPI ranks (a build --with-mpi).  Each rank
 * holds its part of the data (vi_program_set_shard), and its model's log joint, gradient
 * and log lik are its share of the whole; the model the fit sees here sums the shares
 * over the ranks, so every rank gets the same values, runs the same optimiser on them and
 * takes the same steps (DESIGN.md, "Scale-out": with fixed draws and a fixed seed the fit
 * is deterministic, no state is broadcast).
 *
 * The sum: an all-gather of every rank's values, then each rank adds them in rank order
 * 0, 1, ..., R-1 itself.  An MPI_Allreduce would do the same work, but MPI lets its
 * algorithms (and so the rounding) change with the message size and need not give every
 * rank the same bits; ranks whose values differed in the last bit could take different
 * line-search decisions and part ways.  A failed evaluation on any rank fails it on all,
 * with the status and message of the lowest such rank.  Errors found before the fit (a
 * rank's part of the data is invalid) are agreed on the same way (cli_mpi_agree); the
 * other ranks' stderr is held back so that each error is printed once.  A rank that dies
 * takes the job with it: MPI's default error handler (MPI_ERRORS_ARE_FATAL) and mpirun
 * stop the others, none waits forever. */
#include "config.h"
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

static int g_rank, g_size, g_on;
static FILE *g_stderr;           /* rank > 0: the real stderr, while stderr is held */
static char *g_held;             /* rank > 0: what was written to stderr meanwhile */
static size_t g_held_len;
static char g_err[2048];         /* the message of the last failed evaluation */

typedef struct shard_model {
  vi_model inner;
  vi_program *p;
  double *mine, *all;
  size_t cap;
} shard_model;
static shard_model g_sm;

static void hold_stderr(void)
{
  g_held = NULL;
  g_held_len = 0;
  FILE *m = open_memstream(&g_held, &g_held_len);
  if (m) stderr = m;
}

static void drop_held(int show)
{
  if (!g_stderr) return;
  fflush(stderr);
  if (show && g_held_len) fwrite(g_held, 1, g_held_len, g_stderr);
  fclose(stderr);
  free(g_held);
  stderr = g_stderr;
}

int cli_mpi_begin(size_t *rank, size_t *size)
{
  int ok = 0;
  MPI_Initialized(&ok);
  if (!ok && MPI_Init(NULL, NULL) != MPI_SUCCESS) {
    cli_error("--shard-by: MPI_Init failed");
    return CLI_EXIT_USAGE;
  }
  MPI_Comm_rank(MPI_COMM_WORLD, &g_rank);
  MPI_Comm_size(MPI_COMM_WORLD, &g_size);
  g_on = 1;
  if (g_rank > 0) {
    g_stderr = stderr;
    hold_stderr();
  }
  *rank = (size_t)g_rank;
  *size = (size_t)g_size;
  return CLI_EXIT_OK;
}

int cli_mpi_agree(int rc)
{
  if (!g_on) return rc;
  int me = rc != CLI_EXIT_OK ? g_rank : g_size, first = g_size;
  MPI_Allreduce(&me, &first, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
  if (first == g_size) return CLI_EXIT_OK;
  MPI_Bcast(&rc, 1, MPI_INT, first, MPI_COMM_WORLD);
  if (g_rank > 0) {   /* the first rank that failed prints its error; the rest are quiet */
    drop_held(g_rank == first);
    hold_stderr();
  }
  return rc;
}

int cli_mpi_max(int v)
{
  if (!g_on) return v;
  int out = v;
  MPI_Allreduce(&v, &out, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  return out;
}

void cli_mpi_end(void)
{
  if (!g_on) return;
  if (g_rank > 0) drop_held(0);
  free(g_sm.mine);
  free(g_sm.all);
  memset(&g_sm, 0, sizeof g_sm);
  g_on = 0;
  MPI_Finalize();
}

const char *cli_mpi_error(void)
{
  return g_err;
}

/* vals (len doubles) summed over the ranks in rank order, in place; st is this rank's
 * status.  Returns the status of the lowest rank that failed, or VI_SUCCESS. */
static int sum_ranks(size_t len, double *vals, int st)
{
  size_t w = len + 1;
  if (w * (size_t)g_size > g_sm.cap) {
    size_t cap = w * (size_t)g_size;
    double *a = realloc(g_sm.mine, cap * sizeof *a);
    if (a) g_sm.mine = a;
    double *b = a ? realloc(g_sm.all, cap * sizeof *b) : NULL;
    if (!b) {   /* the ranks can no longer agree on anything: stop them all */
      fprintf(g_stderr ? g_stderr : stderr, "vi: rank %d: out of memory summing the "
              "ranks' values (%zu doubles); stopping every rank\n", g_rank, cap);
      MPI_Abort(MPI_COMM_WORLD, CLI_EXIT_NUMERICAL);
    }
    g_sm.all = b;
    g_sm.cap = cap;
  }
  g_sm.mine[0] = (double)st;
  memcpy(g_sm.mine + 1, vals, len * sizeof *vals);
  MPI_Allgather(g_sm.mine, (int)w, MPI_DOUBLE, g_sm.all, (int)w, MPI_DOUBLE, MPI_COMM_WORLD);
  for (int r = 0; r < g_size; r++)
    if (g_sm.all[(size_t)r * w] != 0) {
      if (r == g_rank)
        snprintf(g_err, sizeof g_err, "%s", g_sm.p ? vi_program_last_error(g_sm.p) : "");
      MPI_Bcast(g_err, (int)sizeof g_err, MPI_CHAR, r, MPI_COMM_WORLD);
      return (int)g_sm.all[(size_t)r * w];
    }
  for (size_t i = 0; i < len; i++) {
    double s = g_sm.all[1 + i];
    for (int r = 1; r < g_size; r++) s += g_sm.all[(size_t)r * w + 1 + i];
    vals[i] = s;
  }
  return VI_SUCCESS;
}

static int shard_log_joint(void *ctx, size_t n, const double *z, double *lp, double *grad)
{
  shard_model *sm = ctx;
  size_t D = sm->inner.dim;
  int st = sm->inner.log_joint(sm->inner.ctx, n, z, lp, grad);
  /* one gather for values and gradients: lp and grad laid out back to back */
  size_t len = n + (grad ? n * D : 0);
  double *tmp = malloc((len ? len : 1) * sizeof *tmp);
  if (!tmp) {
    fprintf(g_stderr ? g_stderr : stderr, "vi: rank %d: out of memory; stopping every "
            "rank\n", g_rank);
    MPI_Abort(MPI_COMM_WORLD, CLI_EXIT_NUMERICAL);
  }
  memcpy(tmp, lp, n * sizeof *lp);
  if (grad) memcpy(tmp + n, grad, n * D * sizeof *grad);
  int rc = sum_ranks(len, tmp, st);
  if (rc == VI_SUCCESS) {
    memcpy(lp, tmp, n * sizeof *lp);
    if (grad) memcpy(grad, tmp + n, n * D * sizeof *grad);
  }
  free(tmp);
  return rc;
}

static int shard_log_lik(void *ctx, size_t n, const double *z, double *ll)
{
  shard_model *sm = ctx;
  int st = sm->inner.log_lik(sm->inner.ctx, n, z, ll);
  return sum_ranks(n, ll, st);
}

static int shard_constrain(void *ctx, const double *z, gsl_rng *rng, double *out)
{
  shard_model *sm = ctx;
  return sm->inner.constrain(sm->inner.ctx, z, rng, out);
}

static int shard_constrain_n(void *ctx, size_t n, const double *z, gsl_rng *rng,
                             double *out)
{
  shard_model *sm = ctx;
  return sm->inner.constrain_n(sm->inner.ctx, n, z, rng, out);
}

void cli_mpi_wrap(vi_model *m, vi_program *p)
{
  if (!g_on) return;
  g_sm.inner = *m;
  g_sm.p = p;
  m->ctx = &g_sm;
  m->log_joint = shard_log_joint;
  if (m->log_lik) m->log_lik = shard_log_lik;
  /* constrain stays local: what it reads (parameters, transformed parameters,
   * generated quantities) is the same on every rank (shard.c refuses models where not) */
  if (m->constrain) m->constrain = shard_constrain;
  if (m->constrain_n) m->constrain_n = shard_constrain_n;
}

/* The fit's observer on every rank: stop together when any rank was signalled. */
int cli_mpi_observer(void *ctx, const vi_fit *f, const vi_diag *d)
{
  int stop = cli_progress_observer(ctx, f, d);
  return cli_mpi_max(stop != 0);
}
