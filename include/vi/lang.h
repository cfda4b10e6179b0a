/* vi/lang.h: Stan-subset model files compiled to a vi_model.
 *
 *     vi_error err; int st;
 *     vi_program *p = vi_program_compile_file("model.stan", &err, &st);
 *     if (!p) { fputs(err.message, stderr); ... }
 *     st = vi_program_load_data_file(p, "data.json", &err);   (or NULL path: no data)
 *     vi_model m; st = vi_program_model(p, &m);                 then fit m (vi/fit.h)
 *     vi_program_free(p);
 *
 * Densities keep their normalising constants, `~` included (unlike Stan, which drops
 * them for `~`), so the ELBO and log p(X) are on the true scale.
 *
 * Ownership and threads.  A vi_program owns its model: the vi_model that
 * vi_program_model fills points into it (ctx, names, out_names) and is valid until
 * vi_program_free or the next vi_program_load_data.  A program evaluates with buffers of
 * its own, so one program must not be used by two threads at once (not even through two
 * fits); distinct programs may be.  A program may itself evaluate on several threads
 * (vi_program_set_threads): that is inside one call, invisible to the caller except for
 * OpenBLAS's process-wide thread count, which every model callback (log joint, log lik,
 * constrain) sets to 1 while it runs and then restores, with one thread or many: so
 * that the results depend neither on vi_program_set_threads nor on OpenBLAS's count
 * (its threaded GEMM rounds differently), and OpenBLAS's threads do not oversubscribe
 * the cores together with ours.  Strings returned (vi_program_last_error, the names of
 * vi_param_info) are valid until the next call on the program that changes them (an
 * evaluation, a data load) or its free.  GSL's error handler: as in vi/fit.h. */
#ifndef VI_LANG_H
#define VI_LANG_H

#include <stddef.h>
#include <vi/model.h>

#ifdef __cplusplus
extern "C" {
#endif

/* An error with its location.  message is the whole report, ready to print:
 *   model.stan:3:12: error: expected ';' but found 'real'
 *       real x
 *              ^
 * (data errors name the variable instead of a position). */
typedef struct vi_error {
  int status;          /* VI_EPARSE, VI_ECHECK, VI_EUNSUPPORTED, VI_EDATA, ... */
  char file[256];      /* file name as given ("" if none) */
  int line, col;       /* 1-based; 0 when not a source position */
  char message[2048];  /* full report, may span lines, ends without newline */
} vi_error;

typedef struct vi_program vi_program;

/* Compile model source text (name is used in messages).  NULL on error, with *err. */
vi_program *vi_program_compile(const char *source, size_t len, const char *name,
                               vi_error *err, int *status);
vi_program *vi_program_compile_file(const char *path, vi_error *err, int *status);
/* Load and validate data (Stan's JSON data format, as CmdStan reads it) against the data
 * block, then run transformed data.  Must be called once, even for a model without data
 * (json NULL or path NULL: no data). */
int vi_program_load_data(vi_program *p, const char *json, size_t len, const char *name,
                         vi_error *err);
int vi_program_load_data_file(vi_program *p, const char *path, vi_error *err);
/* Fill m with callbacks into p (valid while p lives).  Data must be loaded. */
int vi_program_model(vi_program *p, vi_model *m);
/* Runtime error text of the last failed evaluation (index out of range, reject), "" if
 * none. */
const char *vi_program_last_error(const vi_program *p);
/* The compiler's warnings (the model compiles; exit statuses are not affected), each
 * one line, "model.stan:3:8: warning: parameter 'sigma' has no prior: the posterior may
 * be improper", in declaration order.  Today one check makes them, after Stan's
 * pedantic mode: a parameter that no prior term involves (no `~` or `target +=` term
 * other than a likelihood term on data, following transformed parameters, model
 * locals and _lp functions), unless its constraint is proper on its own (both bounds,
 * simplex, unit_vector, corr_matrix, cholesky_factor_corr).  vi_program_warning
 * returns NULL for i out of range; the strings live as long as p. */
size_t vi_program_n_warnings(const vi_program *p);
const char *vi_program_warning(const vi_program *p, size_t i);
/* Initial values, as CmdStan's init files hold them: Stan's JSON with the constrained
 * value of some or all parameters ({"mu": 1.5, "tau": 2, "theta": [...]}), mapped to
 * the unconstrained point z (dim values; a parameter not in the JSON gets 0 for its
 * coordinates), ready for vi_options.init_mu.  Data must be loaded.  Errors: VI_EDATA
 * with err naming the parameter (a wrong shape, a value outside its constraint), VI_EIO
 * for a file that cannot be read. */
int vi_program_unconstrain(vi_program *p, const char *json, size_t len, const char *name,
                           double *z, vi_error *err);
int vi_program_unconstrain_file(vi_program *p, const char *path, double *z, vi_error *err);
/* Why the log density is not finite at the unconstrained point z (dim values): into buf
 * (len bytes, always terminated), the first statement of the model whose term is not
 * finite, with the source line and a caret.  A `~` statement with an argument outside
 * the domain Stan checks it against reads as Stan's message, "file:line:col: error:
 * normal_lpdf: Scale parameter is -1, but must be positive finite!" (an element of a
 * container as "Scale parameter[2]"); otherwise "the log density is -inf here; the
 * arguments of normal: y = 1.2, mu = 0, Scale parameter = 1" (variables by name, other
 * arguments by Stan's name).  Or the message of the reject() or constraint that
 * rejected the point.  Returns VI_SUCCESS (buf "" when the log density
 * is finite there), or the status of an evaluation error (its message in buf). */
int vi_program_explain(vi_program *p, const double *z, char *buf, size_t len);
/* The most memory one evaluation of the model may use (its AD arena), in bytes; beyond
 * it the evaluation fails with VI_ENOMEM and a message naming the statement, so a loop
 * that never ends stops instead of exhausting the machine.  Default (and 0): half the
 * physical memory. */
void vi_program_set_memory_limit(vi_program *p, size_t bytes);
/* Threads for the model's evaluations (OpenMP): a log-joint or log-lik call over more
 * than 16 points evaluates chunks of 16 points on n threads at once, when the model is
 * big enough to gain (a batched pass takes at least 16 KB of tape memory per point,
 * some 2000 values; smaller models stay on one thread, where a parallel region would
 * cost more than it saves).  The results do not depend on n: a fit is bit-identical with
 * any n.  n = 0: the cores available (omp_get_num_procs); default 1.  Returns the count
 * in use: always 1 in a build without OpenMP.  With a print callback (vi_program_set_print), a model that has
 * print() statements evaluates on one thread, so that its output keeps the draws' order.
 * Each thread has its own evaluation memory, each up to the memory limit below.  Calls of
 * constrain (generated quantities, which draw from one RNG in order) stay on one thread.
 * vi_program_threads: the count set. */
size_t vi_program_set_threads(vi_program *p, size_t n);
size_t vi_program_threads(const vi_program *p);
/* The number of batches (of up to 128 points) evaluated on several threads so far. */
size_t vi_program_parallel_calls(const vi_program *p);
/* The number of `for` loops run so far as vector ops over their whole index range (their
 * iterations shown independent; README, "The model language"), all threads together.  Setting
 * VI_NO_LOOP_VECTORIZE=1 before compiling a program runs every loop per iteration. */
size_t vi_program_vector_loops(const vi_program *p);
/* Where print() output goes; default: nowhere. */
typedef void (*vi_print_fn)(void *ctx, const char *text);
void vi_program_set_print(vi_program *p, vi_print_fn fn, void *ctx);

/* Data parallelism (one process of `size`, this one `rank`, 0-based; the processes are
 * the caller's, MPI ranks in `vi fit --shard-by`).  Call before loading the data: every
 * data variable whose first dimension is the data int `by` (array[N] ..., vector[N],
 * matrix[N, K]) is split into `size` contiguous parts, this process keeping only part
 * `rank` (read from the file alone, never the whole), and `by` reads as its count.  The
 * model's log joint on each process is then its share: the terms on sharded data (and
 * those in loops over 1:N) on its rows; every other term and the Jacobians on rank 0
 * only.  So the sum of the processes' log joints (and gradients, and log liks) is the
 * model's on the whole data: a caller all-reduces them.  Errors: VI_EINVAL when `by` is
 * not a data int, VI_EUNSUPPORTED with err naming the statement when the model cannot
 * be split soundly (transformed data or generated quantities reading sharded data, a
 * reduction over the observations, a parameter sized by N, N used as a value, target());
 * at the data load, VI_EDATA when N < size.  vi_program_shard_rows: this process's rows
 * [lo, hi) of total, once the data are loaded (VI_EINVAL if not sharded). */
int vi_program_set_shard(vi_program *p, const char *by, size_t rank, size_t size,
                         vi_error *err);
int vi_program_shard_rows(const vi_program *p, size_t *lo, size_t *hi, size_t *total);
/* Minibatches (stochastic variational inference: Hoffman, Blei, Wang & Paisley, JMLR
 * 2013).  With the data sharded (vi_program_set_shard; one process is rank 0 of 1), the
 * model's evaluations from here on see b of this process's n = hi - lo rows: rows holds b
 * 0-based indices into them (< n; repeats allowed), every sharded variable is gathered to
 * those rows, N reads b, and the terms that vi_program_set_shard evaluates on a
 * process's rows (the likelihood over the observations) count n / b times, in the log
 * joint, its gradient and the log lik.  So for rows drawn uniformly at random their
 * expectation is the whole data's.  Priors, Jacobians, terms on data not sized by N and
 * generated quantities are exact.  b = 0 (rows NULL): the whole data again.  Errors:
 * VI_EINVAL (not sharded, no data loaded, b > n, an index >= n; the data are then the
 * whole data, the message in vi_program_last_error), VI_EUNSUPPORTED (a sharded tuple).
 * vi_program_minibatch: the same as a vi_minibatch_fn of vi/fit.h (ctx the program), for
 * vi_options.minibatch_fn. */
int vi_program_set_minibatch(vi_program *p, size_t b, const size_t *rows);
int vi_program_minibatch(void *program, size_t b, const size_t *rows);

/* Parameters, for `vi check`: in declaration order. */
size_t vi_program_n_params(const vi_program *p);
typedef struct vi_param_info {
  const char *name;
  size_t constrained_size;    /* number of constrained values (e.g. K for simplex[K]) */
  size_t unconstrained_size;  /* its share of dim (K - 1 for simplex[K]) */
  const char *type;           /* declared type as written, e.g. "simplex[3]" */
} vi_param_info;
int vi_program_param_info(const vi_program *p, size_t i, vi_param_info *info);

void vi_program_free(vi_program *p);

#ifdef __cplusplus
}
#endif
#endif
