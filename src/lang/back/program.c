/* program.c: the public face of the model language (vi/lang.h).  Compiles a model file
 * (parse, check, then the back end's own checks: supported transforms, truncation
 * densities), loads its data, lays the parameters out in the unconstrained space the way
 * Stan does (declaration order, each parameter's unconstrained values in its own order),
 * names the outputs the way CmdStan's CSV does ("Sigma.2.1", first index fastest), and
 * adapts the evaluator to the engine's vi_model callbacks.  The log-joint path
 * transposes z into the tape's draw-minor layout, runs one batched pass, one reverse
 * sweep, and transposes the gradient back; buffers are kept between calls, so after the
 * first call at a given n it allocates nothing.
 *
 * Threads (vi_program_set_threads, OpenMP): a log-joint or log-lik call over more than
 * PROG_CHUNK draws is cut into chunks of PROG_CHUNK draws, a size that does not depend on
 * the thread count, and the chunks are evaluated in parallel, each on the evaluation
 * state (tape, arena, slots, cache of data-only values) of the thread that takes it.  A
 * draw's values do not depend on the chunk it is in (every op is elementwise over the
 * draws, a GEMM's column does not depend on the other columns: checked on the example
 * fits), and errors and the batch-or-per-draw decision are settled in chunk order after
 * the parallel loop, so the results do not depend on the number of threads.  OpenBLAS
 * runs on one thread during every model callback, with one thread of ours or many: its
 * threaded GEMM rounds differently from its one-thread GEMM (a 10^5-row gradient differs
 * in the last bits), and several of our threads would oversubscribe the cores with its. */
#ifdef HAVE_CONFIG_H   /* not in the fuzz build, which runs no configure */
#include <config.h>
#endif
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <locale.h>
#ifdef _OPENMP
#include <omp.h>
#endif
#include <gsl/gsl_errno.h>
#include <gsl/gsl_rng.h>
#include <vi/lang.h>
#include <vi/status.h>
#include "lang/front/ast.h"
#include "lang/front/front.h"
#include "lang/lib/lib.h"
#include "lang/back/data.h"
#include "lang/back/shard.h"
#include "lang/back/minibatch.h"
#include "lang/back/back.h"
#include "lang/back/transforms.h"

/* One output variable: a parameter, transformed parameter or generated quantity. */
typedef struct prog_out {
  const vi_decl *decl;
  int ndims;
  size_t dims[AD_MAX_DIMS];
  size_t len;
} prog_out;

/* Caps on the unconstrained dimension and the number of output values: each gets a name
 * string, so an absurd size from the data must be an error, not an hour of strdup. */
#define PROG_MAX_DIM ((size_t)1 << 24)
#define PROG_MAX_OUT ((size_t)1 << 26)
/* Largest batch evaluated in one pass: bigger requests (final diagnostics over
 * thousands of draws) are cut into chunks so the arena stays proportionate. */
#define PROG_MAX_BATCH 128
/* Draws per chunk of a parallel evaluation (a divisor of PROG_MAX_BATCH): the default 32
 * draws make two chunks.  Fixed, so results do not depend on the thread count. */
#define PROG_CHUNK 16
/* Threads pay off when a chunk's work dwarfs a parallel region's cost (microseconds on
 * an idle machine, a scheduler's time slice on a busy one): only when a batched pass
 * takes at least this much tape memory per chunk (16 KB, 2000 values, per draw).
 * A speed decision only: the results are the same either way. */
#define PROG_PAR_MIN_BYTES ((size_t)1 << 18)
/* Most threads a program takes (a sanity bound on vi_program_set_threads). */
#define PROG_MAX_THREADS 1024

/* The outcome of one chunk of a parallel evaluation, settled in chunk order after it. */
typedef struct prog_chunk {
  int rc;
  int outcome;               /* of a batched pass: EV_OK or EV_REJECT */
  unsigned long long sig;    /* of a batched pass: its control flow (ev_ctx.sig) */
  char msg[2048];            /* the last error or rejection message, or "" */
} prog_chunk;

struct vi_program {
  vi_ast *ast;
  ad_tape *tape;
  ev_ctx ev;
  int loaded;
  gsl_rng *tdata_rng;
  /* parameters (ev.params) and their coordinate names */
  char **znames;
  /* outputs */
  prog_out *outs; size_t nouts;
  size_t n_out;
  char **out_names;
  size_t *out_var, *out_off;   /* output k: variable, internal element offset */
  size_t **out_path;           /* output k inside a tuple: {depth, (position, element)
                                  x depth} leading to the value holding it; else NULL */
  char last_error[2048];
  /* batched passes abandoned in a row: after a few, go draw by draw at once (the model
   * branches on parameters), trying a batch again now and then */
  unsigned diverged, since_try;
  /* threads: the count asked for (1: everything on the calling thread); wk[0] is &ev,
   * wk[1 .. nwk - 1] the other threads' evaluation states (made as a parallel call first
   * needs them, kept when the count changes, dropped when the data, the memory limit or
   * the print callback change); a parallel call uses wk[0 .. threads - 1] */
  size_t threads;
  ev_ctx **wk; size_t nwk;
  prog_chunk *chunks; size_t chunk_cap;
  size_t limit;                /* vi_program_set_memory_limit's bytes (0: default) */
  size_t draw_bytes;           /* tape memory per draw of the last batched pass */
  size_t par_calls;            /* batches evaluated on several threads */
  int has_print;               /* the model has print(): with a print callback, one
                                  thread (the output's order is the draws') */
  locale_t c_locale;           /* "C", for the worker threads (uselocale is per thread) */
};

static void workers_free(vi_program *p);

/* ---- compile ------------------------------------------------------------------------ */

static int walk_stmt(vi_program *p, const vi_stmt *st, vi_error *err);

static int resolve_trunc(vi_program *p, const vi_stmt *st, vi_error *err)
{
  vi_type types[32];
  int na = st->nargs + 1;
  if (na > 32) {
    front_error_at(err, VI_EUNSUPPORTED, p->ast, st->loc, "too many arguments for truncation");
    return VI_EUNSUPPORTED;
  }
  if (st->lhs->type.ndims > 0 || st->lhs->type.base != VT_INT) {
    if (type_rank(st->lhs->type) > 0) {
      front_error_at(err, VI_EUNSUPPORTED, p->ast, st->loc,
                  "truncation T[,] of a non-scalar variate is not supported");
      return VI_EUNSUPPORTED;
    }
  }
  const vi_expr *b = st->lo ? st->lo : st->hi;
  types[0] = b ? b->type : st->lhs->type;
  for (int i = 0; i < st->nargs; i++) types[i + 1] = st->args[i]->type;
  ev_trunc tr = {st, -1, -1};
  char name[256], why[512];
  vi_type ret;
  int need_lcdf = st->hi != NULL, need_lccdf = st->lo && !st->hi;
  if (need_lcdf) {
    snprintf(name, sizeof name, "%s_lcdf", st->name);
    tr.lcdf = builtin_resolve(name, types, na, &ret, why, sizeof why);
    if (tr.lcdf < 0) {
      front_error_at(err, VI_EUNSUPPORTED, p->ast, st->loc,
                  "truncation T[..] of '%s' needs %s, which vi does not support", st->name, name);
      return VI_EUNSUPPORTED;
    }
  }
  if (need_lccdf) {
    snprintf(name, sizeof name, "%s_lccdf", st->name);
    tr.lccdf = builtin_resolve(name, types, na, &ret, why, sizeof why);
    if (tr.lccdf < 0) {
      front_error_at(err, VI_EUNSUPPORTED, p->ast, st->loc,
                  "truncation T[..] of '%s' needs %s, which vi does not support", st->name, name);
      return VI_EUNSUPPORTED;
    }
  }
  ev_trunc *a = realloc(p->ev.trunc, (p->ev.ntrunc + 1) * sizeof *a);
  if (!a) return VI_ENOMEM;
  p->ev.trunc = a;
  a[p->ev.ntrunc++] = tr;
  return 0;
}

/* ---- data-only subexpressions evaluated once ------------------------------------------ */

/* Depends on data and transformed data only (no local, loop variable, parameter, _rng
 * or target()), so its value is the same in every pass. */
static int is_static(const vi_expr *e)
{
  if (!e) return 1;
  switch (e->kind) {
  case EX_INT_LIT: case EX_REAL_LIT: case EX_STRING_LIT: case EX_IMAG_LIT: return 1;
  case EX_VAR: return e->decl && (e->decl->block == BLK_DATA || e->decl->block == BLK_TDATA);
  case EX_CALL:
    if (e->builtin < 0 || builtin_kind(e->builtin) == BUILTIN_RNG) return 0;
    break;
  default: break;
  }
  for (int i = 0; i < e->nargs; i++) if (!is_static(e->args[i])) return 0;
  for (int i = 0; i < e->nindex; i++)
    if (!is_static(e->index[i].lo) || !is_static(e->index[i].hi)) return 0;
  return 1;
}

/* Register the largest static subexpressions of e that are worth keeping. */
static int cache_walk(vi_program *p, const vi_expr *e)
{
  int rc;
  if (!e || e->kind == EX_INT_LIT || e->kind == EX_REAL_LIT || e->kind == EX_STRING_LIT
      || e->kind == EX_IMAG_LIT || e->kind == EX_VAR)
    return 0;
  /* a tuple holds other values: its elements are cached, not the tuple */
  if (e->data_only && is_static(e) && e->type.base != VT_TUPLE && e->kind != EX_TUPLE)
    return ev_cache_add(&p->ev, e);
  for (int i = 0; i < e->nargs; i++) if ((rc = cache_walk(p, e->args[i]))) return rc;
  for (int i = 0; i < e->nindex; i++) {
    if ((rc = cache_walk(p, e->index[i].lo))) return rc;
    if ((rc = cache_walk(p, e->index[i].hi))) return rc;
  }
  return 0;
}

static int cache_stmt(vi_program *p, const vi_stmt *st)
{
  int rc = 0;
  if (!st) return 0;
  const vi_expr *ex[8] = {0};
  int k = 0;
  switch (st->kind) {
  case ST_DECL: {
    const vi_decl *d = st->decl;
    for (int i = 0; i < d->ndims; i++) if ((rc = cache_walk(p, d->dims[i]))) return rc;
    ex[k++] = d->size[0]; ex[k++] = d->size[1]; ex[k++] = d->lower; ex[k++] = d->upper;
    ex[k++] = d->offset; ex[k++] = d->multiplier; ex[k++] = d->init;
    break;
  }
  case ST_ASSIGN: ex[k++] = st->lhs; ex[k++] = st->rhs; break;
  case ST_TILDE:
    ex[k++] = st->lhs; ex[k++] = st->lo; ex[k++] = st->hi;
    for (int i = 0; i < st->nargs; i++) if ((rc = cache_walk(p, st->args[i]))) return rc;
    break;
  case ST_FOR: ex[k++] = st->lo; ex[k++] = st->hi; break;
  case ST_PRINT: case ST_REJECT: case ST_FATAL:
    for (int i = 0; i < st->nargs; i++) if ((rc = cache_walk(p, st->args[i]))) return rc;
    break;
  case ST_BLOCK:
    for (int i = 0; i < st->nstmts; i++) if ((rc = cache_stmt(p, st->stmts[i]))) return rc;
    break;
  default: ex[k++] = st->rhs; break;
  }
  for (int i = 0; i < k; i++) if ((rc = cache_walk(p, ex[i]))) return rc;
  if ((rc = cache_stmt(p, st->body))) return rc;
  return cache_stmt(p, st->els);
}

/* A parameter declaration (or one of a tuple's elements) whose transform vi lacks. */
static const vi_decl *unsupported_param(const vi_decl *d)
{
  if (d->type.base == VT_TUPLE) {
    for (int i = 0; i < d->ntel; i++) {
      const vi_decl *u = unsupported_param(d->tel[i]);
      if (u) return u;
    }
    return NULL;
  }
  return tr_supported(d->con) ? NULL : d;
}

static int walk_stmt(vi_program *p, const vi_stmt *st, vi_error *err)
{
  int rc;
  if (!st) return 0;
  switch (st->kind) {
  case ST_DECL: {
    const vi_decl *d = st->decl;
    const vi_decl *u = d->block == BLK_PARAMS ? unsupported_param(d) : NULL;
    if (u) {
      front_error_at(err, VI_EUNSUPPORTED, p->ast, u->loc,
                  "%s parameters are not supported yet%s%s%s", tr_name(u->con),
                  u != d ? " ('" : "", u != d ? u->name : "", u != d ? "')" : "");
      return VI_EUNSUPPORTED;
    }
    if (type_rank(d->type) > AD_MAX_DIMS) {
      front_error_at(err, VI_EUNSUPPORTED, p->ast, d->loc,
                  "more than %d dimensions are not supported", AD_MAX_DIMS);
      return VI_EUNSUPPORTED;
    }
    return 0;
  }
  case ST_TILDE:
    return st->truncated ? resolve_trunc(p, st, err) : 0;
  case ST_PRINT:
    p->has_print = 1;
    return 0;
  case ST_FOR: case ST_FOREACH: case ST_WHILE:
    return walk_stmt(p, st->body, err);
  case ST_IF:
    if ((rc = walk_stmt(p, st->body, err))) return rc;
    return walk_stmt(p, st->els, err);
  case ST_BLOCK:
    for (int i = 0; i < st->nstmts; i++)
      if ((rc = walk_stmt(p, st->stmts[i], err))) return rc;
    return 0;
  default: return 0;
  }
}

static void set_status(int *status, int st) { if (status) *status = st; }

static vi_program *program_compile(const char *source, size_t len, const char *name,
                               vi_error *err, int *status)
{
  vi_error dummy;
  if (!err) err = &dummy;
  memset(err, 0, sizeof *err);
  vi_ast *ast = front_parse(source, len, name, err);
  if (!ast) {
    if (!err->status) err->status = VI_EPARSE;
    set_status(status, err->status);
    return NULL;
  }
  int rc = front_check(ast, err);
  if (rc) {
    if (!err->status) err->status = rc;
    set_status(status, rc);
    front_ast_free(ast);
    return NULL;
  }
  vi_program *p = calloc(1, sizeof *p);
  if (!p) { front_ast_free(ast); set_status(status, VI_ENOMEM); return NULL; }
  p->ast = ast;
  p->threads = 1;
  p->tape = ad_tape_alloc();
  p->tdata_rng = gsl_rng_alloc(gsl_rng_mt19937);
  size_t ns = ast->nslots > 0 ? (size_t)ast->nslots : 1;
  p->ev.slot = calloc(ns, sizeof *p->ev.slot);
  p->ev.data = calloc(ns, sizeof *p->ev.data);
  if (!p->tape || !p->tdata_rng || !p->ev.slot || !p->ev.data || ev_reserve(&p->ev, 1)) {
    vi_program_free(p);
    snprintf(err->message, sizeof err->message, "out of memory");
    err->status = VI_ENOMEM;
    set_status(status, VI_ENOMEM);
    return NULL;
  }
  gsl_rng_set(p->tdata_rng, 20261125UL);
  p->ev.ast = ast;
  p->ev.shard_by = -1;
  p->ev.mb_scale = 1.0;
  p->ev.t = p->tape;
  {
    const char *nv = getenv("VI_NO_LOOP_VECTORIZE");
    p->ev.no_loop_vec = nv && *nv && strcmp(nv, "0") != 0;
  }
  /* the blocks and the function bodies (a truncated ~ in an _lp function) */
  for (int b = 0; b < BLK_COUNT + ast->nfuncs; b++)
    if ((rc = walk_stmt(p, b < BLK_COUNT ? ast->blocks[b] : ast->funcs[b - BLK_COUNT]->body,
                        err))) {
      vi_program_free(p);
      set_status(status, rc);
      return NULL;
    }
  for (int b = BLK_PARAMS; b <= BLK_GQ; b++)
    if (cache_stmt(p, ast->blocks[b])) {
      vi_program_free(p);
      snprintf(err->message, sizeof err->message, "out of memory");
      err->status = VI_ENOMEM;
      set_status(status, VI_ENOMEM);
      return NULL;
    }
  set_status(status, VI_SUCCESS);
  return p;
}

/* Every entry point into the language (these public calls and the model's callbacks)
 * runs in the "C" locale and with GSL's error handler off, and gives the caller's back
 * on return: a host that set a locale with a decimal comma (R, Python, GUI programs call
 * setlocale(LC_ALL, "")) would otherwise have strtod read "2.5" as 2 in the lexer, and
 * snprintf write "2,5" in messages and print(); a special function out of its domain
 * reports through its return value instead of aborting.  uselocale is per thread, so
 * other threads keep theirs (vi/lang.h).  jansson parses and prints JSON numbers in a
 * locale-independent way itself. */
typedef struct call_guard {
  gsl_error_handler_t *gsl;
  locale_t c, old;
} call_guard;

static void guard_enter(call_guard *g)
{
  g->gsl = gsl_set_error_handler_off();
  g->c = newlocale(LC_ALL_MASK, "C", (locale_t)0);
  g->old = g->c ? uselocale(g->c) : (locale_t)0;
}

static void guard_leave(call_guard *g)
{
  if (g->c) {
    uselocale(g->old);
    freelocale(g->c);
  }
  gsl_set_error_handler(g->gsl);
}

vi_program *vi_program_compile(const char *source, size_t len, const char *name,
                               vi_error *err, int *status)
{
  call_guard g;
  guard_enter(&g);
  vi_program *r = program_compile(source, len, name, err, status);
  guard_leave(&g);
  return r;
}

static char *read_file(const char *path, size_t *len)
{
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  size_t cap = 1 << 16, n = 0;
  char *buf = malloc(cap);
  while (buf) {
    size_t k = fread(buf + n, 1, cap - n, f);
    n += k;
    if (n < cap) break;
    char *nb = cap < ((size_t)1 << 34) ? realloc(buf, cap * 2) : NULL;
    if (!nb) { free(buf); buf = NULL; break; }
    buf = nb; cap *= 2;
  }
  if (buf && ferror(f)) { free(buf); buf = NULL; }
  fclose(f);
  *len = n;
  return buf;
}

static void io_error(vi_error *err, const char *path, const char *what)
{
  if (!err) return;
  memset(err, 0, sizeof *err);
  err->status = VI_EIO;
  snprintf(err->file, sizeof err->file, "%s", path ? path : "");
  snprintf(err->message, sizeof err->message, "%s: error: cannot read %s file", path ? path : "",
           what);
}

vi_program *vi_program_compile_file(const char *path, vi_error *err, int *status)
{
  size_t len;
  char *src = path ? read_file(path, &len) : NULL;
  if (!src) {
    io_error(err, path, "model");
    set_status(status, VI_EIO);
    return NULL;
  }
  vi_program *p = vi_program_compile(src, len, path, err, status);
  free(src);
  return p;
}

/* ---- layout of parameters and outputs ---------------------------------------------- */

static void free_names(char **names, size_t n)
{
  if (!names) return;
  for (size_t i = 0; i < n; i++) free(names[i]);
  free(names);
}

static void clear_layout(vi_program *p)
{
  free_names(p->znames, p->ev.dim);
  p->znames = NULL;
  for (size_t i = 0; i < p->ev.nparams; i++) free(p->ev.params[i].name);
  free(p->ev.params); p->ev.params = NULL; p->ev.nparams = 0; p->ev.dim = 0;
  free_names(p->out_names, p->n_out);
  p->out_names = NULL;
  free(p->outs); p->outs = NULL; p->nouts = 0;
  free(p->out_var); free(p->out_off); p->out_var = p->out_off = NULL;
  if (p->out_path)
    for (size_t i = 0; i < p->n_out; i++) free(p->out_path[i]);
  free(p->out_path); p->out_path = NULL;
  p->n_out = 0;
}

/* "name.i.j" from 1-based indices. */
static char *make_name(const char *name, const size_t *idx, int k)
{
  char buf[512];
  size_t o = (size_t)snprintf(buf, sizeof buf, "%s", name);
  for (int i = 0; i < k && o < sizeof buf; i++)
    o += (size_t)snprintf(buf + o, sizeof buf - o, ".%zu", idx[i]);
  return strdup(buf);
}

/* A bound as written when it is a number or a variable, else its role ("lower"). */
static void bound_text(const vi_expr *e, const char *role, char *buf, size_t n)
{
  int neg = e->kind == EX_UNARY && e->op == OP_NEG && e->nargs == 1;
  const vi_expr *v = neg ? e->args[0] : e;
  if (v->kind == EX_INT_LIT) snprintf(buf, n, "%s%ld", neg ? "-" : "", v->ival);
  else if (v->kind == EX_REAL_LIT) snprintf(buf, n, "%s%g", neg ? "-" : "", v->rval);
  else if (e->kind == EX_VAR) snprintf(buf, n, "%s", e->str);
  else snprintf(buf, n, "%s", role);
}

static int is_zero(const vi_expr *e)
{
  return (e->kind == EX_INT_LIT && e->ival == 0) || (e->kind == EX_REAL_LIT && e->rval == 0);
}

/* The name of an unconstrained coordinate: what q's mean and sd are about.  The element's
 * name (el, "tau", "v.2") under its transform: log(tau) for <lower=0>, log(x - L),
 * log(U - x), logit((x - L) / (U - L)), (x - offset) / multiplier; the coordinates of a
 * simplex, ordered, correlation ... are not elements: unconstrained(theta).k, k-th of
 * the array element el. */
static char *unconstrained_name(const vi_decl *d, const char *el, size_t k)
{
  char buf[640], lo[64] = "", hi[64] = "";
  switch (d->con) {
  case CON_NONE: return strdup(el);
  case CON_BOUNDS:
    if (d->lower) bound_text(d->lower, "lower", lo, sizeof lo);
    if (d->upper) bound_text(d->upper, "upper", hi, sizeof hi);
    if (d->lower && d->upper)
      snprintf(buf, sizeof buf, "logit((%s - %s) / (%s - %s))", el, lo, hi, lo);
    else if (d->lower && is_zero(d->lower))
      snprintf(buf, sizeof buf, "log(%s)", el);
    else if (d->lower)
      snprintf(buf, sizeof buf, "log(%s - %s)", el, lo);
    else
      snprintf(buf, sizeof buf, "log(%s - %s)", hi, el);
    return strdup(buf);
  case CON_OFFSET_MULT:
    if (d->offset) bound_text(d->offset, "offset", lo, sizeof lo);
    if (d->multiplier) bound_text(d->multiplier, "multiplier", hi, sizeof hi);
    if (d->offset && d->multiplier) snprintf(buf, sizeof buf, "(%s - %s) / %s", el, lo, hi);
    else if (d->offset) snprintf(buf, sizeof buf, "%s - %s", el, lo);
    else if (d->multiplier) snprintf(buf, sizeof buf, "%s / %s", el, hi);
    else snprintf(buf, sizeof buf, "%s", el);
    return strdup(buf);
  default:
    snprintf(buf, sizeof buf, "unconstrained(%s).%zu", el, k);
    return strdup(buf);
  }
}

static size_t internal_offset(const size_t *dims, int ndims, int arr, const size_t *idx0,
                              int cx)
{
  if (cx)   /* a complex value: the parts are the innermost dim */
    return 2 * internal_offset(dims, ndims - 1, arr, idx0, 0) + idx0[ndims - 1];
  size_t off = 0, inner = 1;
  for (int k = arr; k < ndims; k++) inner *= dims[k];
  for (int k = 0; k < arr; k++) off = off * dims[k] + idx0[k];
  off *= inner;
  if (ndims - arr == 1) off += idx0[arr];
  else if (ndims - arr == 2) off += idx0[arr] + idx0[arr + 1] * dims[arr];
  return off;
}

static int layout_error(vi_program *p, vi_error *err, int status)
{
  if (err) { *err = p->ev.err; err->status = status; }
  return status;
}

/* The outputs of one value that holds numbers (not a tuple) named name, of shape (ndims,
 * dims) with arr array dims: column-major over all dims, first index fastest; a complex
 * value's real and imaginary parts fastest of all, named z.real, z.imag as CmdStan does.
 * With names NULL only counts (*k += the number). */
static int plain_leaves(vi_program *p, const char *name, int ndims, const size_t *dims,
                        int arr, int cx, size_t var, const size_t *path, size_t *k,
                        int count)
{
  size_t len = 1;
  for (int q = 0; q < ndims; q++) len *= dims[q];
  if (count) { *k += len; return VI_SUCCESS; }
  size_t idx0[AD_MAX_DIMS] = {0}, idx1[AD_MAX_DIMS];
  for (size_t e = 0; e < len; e++) {
    for (int q = 0; q < ndims; q++) idx1[q] = idx0[q] + 1;
    char *nm = make_name(name, idx1, ndims - cx);
    if (nm && cx) {
      char *n2 = malloc(strlen(nm) + 6);
      if (n2) sprintf(n2, "%s.%s", nm, idx0[ndims - 1] ? "imag" : "real");
      free(nm);
      nm = n2;
    }
    if (!nm) return VI_ENOMEM;
    p->out_names[*k] = nm;
    p->out_var[*k] = var;
    p->out_off[*k] = internal_offset(dims, ndims, arr, idx0, cx);
    if (path) {
      size_t m = 1 + 2 * path[0];
      if (!(p->out_path[*k] = malloc(m * sizeof(size_t)))) return VI_ENOMEM;
      memcpy(p->out_path[*k], path, m * sizeof(size_t));
    }
    (*k)++;
    if (cx && ++idx0[ndims - 1] < 2) continue;
    if (cx) idx0[ndims - 1] = 0;
    for (int q = 0; q < ndims - cx; q++) {
      if (++idx0[q] < dims[q]) break;
      idx0[q] = 0;
    }
  }
  return VI_SUCCESS;
}

/* The outputs of a value declared d named name: a tuple's array positions column-major
 * (as other containers), each position's elements in order, named name.i:1, name.i:2
 * and then the element's own indices (CmdStan's layout of tuples: "each tuple slot
 * delimited by a colon"); path leads from the variable to the value. */
static int decl_leaves(vi_program *p, const vi_decl *d, const char *name, size_t var,
                       size_t *path, size_t *k, int count)
{
  ev_ctx *c = &p->ev;
  int nd, rc;
  size_t dims[AD_MAX_DIMS];
  if ((rc = ev_decl_shape(c, d, &nd, dims, NULL, NULL, NULL))) return rc;
  if (d->type.base != VT_TUPLE)
    return plain_leaves(p, name, nd, dims, d->type.ndims, base_is_complex(d->type.base),
                        var, path[0] ? path : NULL, k, count);
  size_t len = 1, idx0[AD_MAX_DIMS] = {0}, idx1[AD_MAX_DIMS];
  for (int q = 0; q < nd; q++) len *= dims[q];
  size_t depth = path[0];
  if (depth >= 16) return VI_EUNSUPPORTED;
  for (size_t e = 0; e < len; e++) {
    size_t pos = 0;   /* row-major position of idx0 (the value's order) */
    for (int q = 0; q < nd; q++) { pos = pos * dims[q] + idx0[q]; idx1[q] = idx0[q] + 1; }
    char *base = make_name(name, idx1, nd);
    if (!base) return VI_ENOMEM;
    for (int j = 0; j < d->ntel; j++) {
      char nm[600];
      snprintf(nm, sizeof nm, "%s:%d", base, j + 1);
      path[0] = depth + 1;
      path[1 + 2 * depth] = pos;
      path[2 + 2 * depth] = (size_t)j;
      rc = decl_leaves(p, d->tel[j], nm, var, path, k, count);
      path[0] = depth;
      if (rc) { free(base); return rc; }
    }
    free(base);
    for (int q = 0; q < nd; q++) {
      if (++idx0[q] < dims[q]) break;
      idx0[q] = 0;
    }
  }
  return VI_SUCCESS;
}

/* The parameters with a transform that declaration d (a parameter, or an element of
 * tuple parameter root at path) brings, appended to the context's list: d itself, or a
 * tuple's elements in declaration order, array positions row-major before them (the
 * order Stan reads an array of tuples), each named as CmdStan names its columns. */
static int param_leaves(vi_program *p, vi_decl *d, const vi_decl *root, const char *name,
                        size_t *path, int depth, size_t *cap, size_t *off, vi_error *err)
{
  ev_ctx *c = &p->ev;
  int rc, nd;
  size_t dims[AD_MAX_DIMS], ne, rows, cols;
  if ((rc = ev_decl_shape(c, d, &nd, dims, &ne, &rows, &cols)))
    return layout_error(p, err, VI_EDATA);
  if (d->type.base == VT_TUPLE) {
    if (depth >= EV_PATH_MAX) {
      ev_error(c, VI_EUNSUPPORTED, d->loc, "parameter '%s': tuples nested more than %d "
               "deep are not supported", root->name, EV_PATH_MAX);
      return layout_error(p, err, VI_EUNSUPPORTED);
    }
    size_t len = 1, idx[AD_MAX_DIMS];
    for (int q = 0; q < nd; q++) len *= dims[q];
    for (size_t e = 0; e < len; e++) {
      size_t r = e;   /* row-major: the last index fastest */
      for (int q = nd - 1; q >= 0; q--) { idx[q] = r % dims[q] + 1; r /= dims[q]; }
      char *base = make_name(name, idx, nd);
      if (!base) return VI_ENOMEM;
      for (int j = 0; j < d->ntel; j++) {
        char nm[600];
        snprintf(nm, sizeof nm, "%s:%d", base, j + 1);
        path[2 * depth] = e;
        path[2 * depth + 1] = (size_t)j;
        if ((rc = param_leaves(p, d->tel[j], root, nm, path, depth + 1, cap, off, err))) {
          free(base);
          return rc;
        }
      }
      free(base);
    }
    return 0;
  }
  if (c->nparams == *cap) {
    size_t nc = *cap ? 2 * *cap : 8;
    ev_param *np = realloc(c->params, nc * sizeof *np);
    if (!np) return VI_ENOMEM;
    c->params = np;
    *cap = nc;
  }
  ev_param *q = &c->params[c->nparams];
  memset(q, 0, sizeof *q);
  q->decl = d;
  q->ndims = nd;
  memcpy(q->dims, dims, sizeof dims);
  q->root = root;
  q->depth = depth;
  memcpy(q->path, path, 2 * (size_t)depth * sizeof *path);
  if (root && !(q->name = strdup(name))) return VI_ENOMEM;
  c->nparams++;   /* clear_layout frees its name from here on */
  char why[256];
  if (tr_spec_init(&q->spec, d->con, d->lower || d->offset, d->upper || d->multiplier, ne,
                   rows, cols, why, sizeof why)) {
    ev_error(c, VI_EDATA, d->loc, "parameter '%s': %s", name, why);
    return layout_error(p, err, VI_EDATA);
  }
  q->off = *off;
  q->usize = ne * q->spec.usize;
  *off += q->usize;
  if (q->usize > PROG_MAX_DIM || *off > PROG_MAX_DIM) {
    ev_error(c, VI_EDATA, d->loc,
             "too many parameters: '%s' brings the unconstrained dimension above %zu",
             name, PROG_MAX_DIM);
    return layout_error(p, err, VI_EDATA);
  }
  return 0;
}

static int build_layout(vi_program *p, vi_error *err)
{
  vi_ast *ast = p->ast;
  ev_ctx *c = &p->ev;
  int rc;
  clear_layout(p);
  ev_begin(c, 1, 0);
  /* parameters; a tuple's elements each with their own transform */
  const vi_stmt *pb = ast->blocks[BLK_PARAMS];
  size_t off = 0, cap = 0, path[2 * EV_PATH_MAX];
  for (int i = 0; pb && i < pb->nstmts; i++) {
    if (pb->stmts[i]->kind != ST_DECL) continue;
    vi_decl *d = pb->stmts[i]->decl;
    if ((rc = param_leaves(p, d, d->type.base == VT_TUPLE ? d : NULL, d->name, path, 0,
                           &cap, &off, err)))
      return rc;
  }
  if (!c->params && !(c->params = calloc(1, sizeof *c->params))) return VI_ENOMEM;
  c->dim = off;
  p->znames = calloc(off ? off : 1, sizeof *p->znames);
  if (!p->znames) return VI_ENOMEM;
  for (size_t i = 0; i < c->nparams; i++) {
    const ev_param *q = &c->params[i];
    int arr = q->decl->type.ndims;
    for (size_t a = 0; a < q->spec.nelem; a++)
      for (size_t u = 0; u < q->spec.usize; u++) {
        size_t idx[AD_MAX_DIMS], k = 0;
        int elementwise = q->spec.con == CON_NONE || q->spec.con == CON_BOUNDS ||
                          q->spec.con == CON_OFFSET_MULT;
        if (elementwise) {
          ev_elem_index(q->dims, q->ndims, arr, a * q->spec.usize + u, idx);
          k = (size_t)q->ndims;
        } else {   /* the array element's name, the coordinate's number after it */
          ev_elem_index(q->dims, arr, arr, a, idx);
          k = (size_t)arr;
        }
        char *el = make_name(ev_param_name(q), idx, (int)k);
        if (!el) return VI_ENOMEM;
        char *nm = unconstrained_name(q->decl, el, u + 1);
        free(el);
        if (!nm) return VI_ENOMEM;
        p->znames[q->off + a * q->spec.usize + u] = nm;
      }
  }
  /* outputs: parameters, transformed parameters, generated quantities */
  size_t nv = 0;
  const int blocks[3] = {BLK_PARAMS, BLK_TPARAMS, BLK_GQ};
  for (int b = 0; b < 3; b++) {
    const vi_stmt *blk = ast->blocks[blocks[b]];
    for (int i = 0; blk && i < blk->nstmts; i++) if (blk->stmts[i]->kind == ST_DECL) nv++;
  }
  p->outs = calloc(nv ? nv : 1, sizeof *p->outs);
  if (!p->outs) return VI_ENOMEM;
  size_t total = 0;
  for (int b = 0; b < 3; b++) {
    const vi_stmt *blk = ast->blocks[blocks[b]];
    for (int i = 0; blk && i < blk->nstmts; i++) {
      if (blk->stmts[i]->kind != ST_DECL) continue;
      prog_out *o = &p->outs[p->nouts];
      o->decl = blk->stmts[i]->decl;
      if ((rc = ev_decl_shape(c, o->decl, &o->ndims, o->dims, NULL, NULL, NULL)))
        return layout_error(p, err, VI_EDATA);
      o->len = 1;
      for (int k = 0; k < o->ndims; k++) o->len *= o->dims[k];
      if (o->decl->type.base == VT_TUPLE) {
        size_t path[33] = {0}, n = 0;
        if ((rc = decl_leaves(p, o->decl, o->decl->name, 0, path, &n, 1)))
          return layout_error(p, err, rc == VI_EUNSUPPORTED ? rc : VI_EDATA);
        o->len = n;
      }
      total += o->len;
      if (o->len > PROG_MAX_OUT || total > PROG_MAX_OUT) {
        ev_error(c, VI_EDATA, o->decl->loc, "too many output values: '%s' brings them above %zu",
                 o->decl->name, PROG_MAX_OUT);
        return layout_error(p, err, VI_EDATA);
      }
      p->nouts++;
    }
  }
  p->out_names = calloc(total ? total : 1, sizeof *p->out_names);
  p->out_var = calloc(total ? total : 1, sizeof *p->out_var);
  p->out_off = calloc(total ? total : 1, sizeof *p->out_off);
  if (!p->out_names || !p->out_var || !p->out_off) return VI_ENOMEM;
  p->out_path = calloc(total ? total : 1, sizeof *p->out_path);
  if (!p->out_path) return VI_ENOMEM;
  size_t k = 0;
  p->n_out = total;   /* clear_layout frees what was made (calloc'd: NULL beyond) */
  for (size_t v = 0; v < p->nouts; v++) {
    const prog_out *o = &p->outs[v];
    size_t path[33] = {0};
    if (o->decl->type.base == VT_TUPLE)
      rc = decl_leaves(p, o->decl, o->decl->name, v, path, &k, 0);
    else
      rc = plain_leaves(p, o->decl->name, o->ndims, o->dims, o->decl->type.ndims,
                        base_is_complex(o->decl->type.base), v, NULL, &k, 0);
    if (rc) return rc == VI_ENOMEM ? rc : layout_error(p, err, VI_EDATA);
  }
  p->n_out = total;
  return VI_SUCCESS;
}

/* ---- data ------------------------------------------------------------------------------ */

static int program_load_data(vi_program *p, const char *json, size_t len, const char *name,
                             int release, vi_error *err)
{
  vi_error dummy;
  if (!err) err = &dummy;
  memset(err, 0, sizeof *err);
  if (!p) return VI_EINVAL;
  p->loaded = 0;
  p->diverged = p->since_try = 0;
  workers_free(p);          /* their caches, slots and parameters are the old data's */
  ev_cache_clear(&p->ev);   /* cached values came from the old data */
  mb_clear(&p->ev);         /* the whole data, to be freed */
  data_free_values(&p->ev);
  clear_layout(p);
  int rc = data_load_shard(&p->ev, json, json ? len : 0, name, release, err);
  if (rc == 0) rc = data_transformed(&p->ev, p->tdata_rng, err);
  ev_print_flush(&p->ev);
  if (rc == 0) rc = build_layout(p, err);
  if (rc) {
    if (rc == VI_ENOMEM && !err->message[0]) {
      err->status = VI_ENOMEM;
      snprintf(err->message, sizeof err->message, "out of memory");
    }
    data_free_values(&p->ev);
    clear_layout(p);
    return rc;
  }
  if ((rc = ev_reserve(&p->ev, PROG_MAX_BATCH))) return rc;
  p->loaded = 1;
  return VI_SUCCESS;
}

int vi_program_load_data(vi_program *p, const char *json, size_t len, const char *name,
                         vi_error *err)
{
  call_guard g;
  guard_enter(&g);
  int r = program_load_data(p, json, len, name, 0, err);
  guard_leave(&g);
  return r;
}

int vi_program_load_data_file(vi_program *p, const char *path, vi_error *err)
{
  if (!path) return vi_program_load_data(p, NULL, 0, NULL, err);
  size_t len;
  /* a regular file is mapped and parsed in chunks whose pages are given back, so the
   * whole text is never resident (sharded: the process holds only its part of the
   * data); a pipe or a device is read whole */
  const char *map = shard_map(path, &len);
  if (map) {
    call_guard g;
    guard_enter(&g);
    int rc = program_load_data(p, map, len, path, 1, err);
    guard_leave(&g);
    shard_unmap(map, len);
    return rc;
  }
  if (p && p->ev.shard_by >= 0) { io_error(err, path, "data"); return VI_EIO; }
  char *buf = read_file(path, &len);
  if (!buf) { io_error(err, path, "data"); return VI_EIO; }
  int rc = vi_program_load_data(p, buf, len, path, err);
  free(buf);
  return rc;
}

/* ---- the model callbacks ------------------------------------------------------------- */

static void note_error(vi_program *p)
{
  snprintf(p->last_error, sizeof p->last_error, "%s", p->ev.err.message);
}

/* One pass of evaluation state c over n draws at z; lp (and grad, ll) out.  The message
 * of an error or rejection goes to msg (PROG_MSG bytes).  EV_DIVERGE is passed up. */
#define PROG_MSG 2048
static int pass(ev_ctx *c, size_t n, const double *z, double *lp, double *grad,
                double *ll, char *msg, int *outcome)
{
  size_t D = c->dim, s, j;
  ad_val *zv = NULL;
  int rc = ev_run(c, n, z, grad != NULL, BLK_MODEL, &zv);
  if (outcome) *outcome = rc;
  if (rc == EV_DIVERGE) { ev_print_discard(c); return rc; }
  ev_print_flush(c);
  if (rc < 0) { snprintf(msg, PROG_MSG, "%s", c->err.message); return rc; }
  if (rc == 0 && grad && ad_tape_error(c->t)) {
    /* an op could not record its backward node (out of memory) but the pass went on:
     * the gradient would be silently wrong */
    snprintf(msg, PROG_MSG, "%s", ad_tape_error(c->t));
    return strstr(msg, "memory") ? VI_ENOMEM : VI_ERUNTIME;
  }
  if (rc == EV_REJECT) {
    snprintf(msg, PROG_MSG, "%s", c->err.message);
    for (s = 0; s < n; s++) { lp[s] = -INFINITY; if (ll) ll[s] = -INFINITY; }
    if (grad) memset(grad, 0, n * D * sizeof *grad);
    return 0;
  }
  int any_rej = 0;
  for (s = 0; s < n; s++) {
    lp[s] = c->rej[s] ? -INFINITY : c->lp[s];
    if (ll) ll[s] = c->rej[s] ? -INFINITY : c->ll[s];
    any_rej |= c->rej[s];
  }
  if (any_rej) snprintf(msg, PROG_MSG, "%s", c->err.message);
  if (grad) {
    ad_tape_backward(c->t);
    if ((rc = ev_tape_status(c))) { snprintf(msg, PROG_MSG, "%s", c->err.message); return rc; }
    for (s = 0; s < n; s++)
      for (j = 0; j < D; j++)
        grad[s * D + j] = c->rej[s] || !zv->adj ? 0 : zv->adj[j * n + s];
  }
  return 0;
}

static int run_batch(vi_program *p, size_t n, const double *z, double *lp, double *grad,
                     double *ll);
static int run_parallel(vi_program *p, size_t n, const double *z, double *lp, double *grad,
                        double *ll);

static int parallel_ok(const vi_program *p, size_t n)
{
  return p->threads > 1 && n > PROG_CHUNK && !(p->has_print && p->ev.print) &&
         p->draw_bytes * PROG_CHUNK >= PROG_PAR_MIN_BYTES;
}

static int run_all(vi_program *p, size_t n, const double *z, double *lp, double *grad,
                   double *ll)
{
  if (!p->loaded) return VI_EINVAL;
  size_t D = p->ev.dim;
  for (size_t s0 = 0; s0 < n; s0 += PROG_MAX_BATCH) {
    size_t m = n - s0 < PROG_MAX_BATCH ? n - s0 : PROG_MAX_BATCH;
    int rc = (parallel_ok(p, m) ? run_parallel : run_batch)(p, m, z + s0 * D, lp + s0,
                                                            grad ? grad + s0 * D : NULL,
                                                            ll ? ll + s0 : NULL);
    if (rc) return rc;
  }
  return VI_SUCCESS;
}

static int run_batch(vi_program *p, size_t n, const double *z, double *lp, double *grad,
                     double *ll)
{
  if (n == 0) return VI_SUCCESS;
  int rc = ev_reserve(&p->ev, n);
  if (rc) return rc;
  if (n > 1 && p->diverged >= 3 && ++p->since_try < 16) {
    rc = EV_DIVERGE;
  } else {
    p->since_try = 0;
    rc = pass(&p->ev, n, z, lp, grad, ll, p->last_error, NULL);
    if (n > 1) p->diverged = rc == EV_DIVERGE ? p->diverged + 1 : 0;
    /* per draw from batches as large as those the threads would take: in a small one the
     * draws' share of the data-only work inflates it (a few mode searches' points, then
     * M = 64 draws on two threads in chunks of 16, each paying the interpretation) */
    if (n > PROG_CHUNK && rc == 0) p->draw_bytes = ad_tape_used_bytes(p->ev.t) / n;
  }
  if (rc != EV_DIVERGE) return rc;
  /* a branch, bound or index differs between draws: one draw at a time */
  size_t D = p->ev.dim;
  for (size_t s = 0; s < n; s++) {
    rc = pass(&p->ev, 1, z + s * D, lp + s, grad ? grad + s * D : NULL, ll ? ll + s : NULL,
              p->last_error, NULL);
    if (rc) return rc == EV_DIVERGE ? VI_ERUNTIME : rc;
  }
  p->draw_bytes = ad_tape_used_bytes(p->ev.t);
  return VI_SUCCESS;
}

/* ---- threads --------------------------------------------------------------------------- */

static void worker_free(ev_ctx *w)
{
  if (!w) return;
  ev_release(w);            /* its cache (values and table), print buffer, accumulators */
  free(w->slot);
  ad_tape_free(w->t);
  free(w);
}

/* Another thread's evaluation state: the program's shared, read-only parts (AST, data,
 * parameters, truncations) and its own tape, slots, accumulators and cache table (the
 * same keys; values filled at its first use, as the program's own). */
static ev_ctx *worker_alloc(vi_program *p)
{
  ev_ctx *w = malloc(sizeof *w);
  if (!w) return NULL;
  *w = p->ev;
  w->t = NULL; w->slot = NULL;
  w->lp = w->ll = NULL; w->rej = NULL; w->cap = 0;
  w->pout = NULL; w->pout_len = w->pout_cap = 0;
  memset(&w->cache, 0, sizeof w->cache);
  w->fn = NULL; w->ret = NULL; w->depth = 0; w->stack_base = NULL;
  w->sub = NULL; w->sub_busy = 0;   /* the off-tape solvers' tape: its own, made when used */
  w->explain = w->nf_set = 0;
  w->loops_vec = 0;
  memset(&w->lv_cache, 0, sizeof w->lv_cache);   /* its own, filled as its loops run */
  memset(&w->err, 0, sizeof w->err);
  memset(&w->nf_err, 0, sizeof w->nf_err);
  size_t ns = p->ast->nslots > 0 ? (size_t)p->ast->nslots : 1;
  w->t = ad_tape_alloc();
  w->slot = calloc(ns, sizeof *w->slot);
  if (!w->t || !w->slot || ev_reserve(w, PROG_CHUNK)) { worker_free(w); return NULL; }
  ad_tape_set_limit(w->t, p->limit);
  /* the same data-only expressions, its own values */
  if (ptr_map_copy_keys(&w->cache, &p->ev.cache)) { worker_free(w); return NULL; }
  return w;
}

static void workers_free(vi_program *p)
{
  for (size_t k = 1; k < p->nwk; k++) worker_free(p->wk[k]);
  free(p->wk);
  p->wk = NULL;
  p->nwk = 0;
}

static int workers_ready(vi_program *p)
{
  if (p->nwk >= p->threads) return VI_SUCCESS;
  ev_ctx **wk = realloc(p->wk, p->threads * sizeof *wk);
  if (!wk) return VI_ENOMEM;
  p->wk = wk;
  if (p->nwk == 0) p->wk[p->nwk++] = &p->ev;
  while (p->nwk < p->threads) {
    ev_ctx *w = worker_alloc(p);
    if (!w) return VI_ENOMEM;
    p->wk[p->nwk++] = w;
  }
  return VI_SUCCESS;
}

/* One chunk on state c: one batched pass (batched), or its draws one at a time. */
static int run_chunk(ev_ctx *c, int batched, size_t m, const double *z, double *lp,
                     double *grad, double *ll, prog_chunk *k)
{
  size_t D = c->dim;
  int rc;
  k->msg[0] = '\0';
  k->outcome = EV_OK;
  k->sig = 0;
  if ((rc = ev_reserve(c, m))) return rc;
  if (batched) {
    rc = pass(c, m, z, lp, grad, ll, k->msg, &k->outcome);
    k->sig = c->sig;
    return rc;
  }
  for (size_t s = 0; s < m; s++) {
    rc = pass(c, 1, z + s * D, lp + s, grad ? grad + s * D : NULL, ll ? ll + s : NULL,
              k->msg, NULL);
    if (rc) return rc == EV_DIVERGE ? VI_ERUNTIME : rc;
  }
  return VI_SUCCESS;
}

/* n draws in chunks of PROG_CHUNK over the threads, each chunk in one batched pass or
 * draw by draw; the chunks' outcomes in p->chunks. */
static void run_chunks(vi_program *p, int batched, size_t n, const double *z, double *lp,
                       double *grad, double *ll)
{
  size_t D = p->ev.dim, nch = (n + PROG_CHUNK - 1) / PROG_CHUNK;
#ifdef _OPENMP
#pragma omp parallel num_threads((int)p->threads)
#endif
  {
#ifdef _OPENMP
    ev_ctx *c = p->wk[omp_get_thread_num()];
#else
    ev_ctx *c = p->wk[0];
#endif
    locale_t old = p->c_locale ? uselocale(p->c_locale) : (locale_t)0;
#ifdef _OPENMP
#pragma omp for schedule(dynamic, 1)
#endif
    for (long i = 0; i < (long)nch; i++) {
      size_t s0 = (size_t)i * PROG_CHUNK, m = n - s0 < PROG_CHUNK ? n - s0 : PROG_CHUNK;
      prog_chunk *k = &p->chunks[i];
      k->rc = run_chunk(c, batched, m, z + s0 * D, lp + s0, grad ? grad + s0 * D : NULL,
                        ll ? ll + s0 : NULL, k);
    }
    if (p->c_locale) uselocale(old);
  }
  for (size_t k = 0; k < p->threads; k++) p->ev.used_ode |= p->wk[k]->used_ode;
}

/* The chunks' messages and first error, in chunk order: what one thread running them in
 * order would have left. */
static int settle_chunks(vi_program *p, size_t nch)
{
  for (size_t i = 0; i < nch; i++) {
    const prog_chunk *k = &p->chunks[i];
    if (k->msg[0]) snprintf(p->last_error, sizeof p->last_error, "%s", k->msg);
    if (k->rc) return k->rc;
  }
  return VI_SUCCESS;
}

/* One batch of run_all (at most PROG_MAX_BATCH draws) on the threads, with the results of
 * run_batch on one thread to the bit.  A draw's value in a batched pass does not depend
 * on the other draws of the pass (every op is elementwise over the draws, a GEMM's column
 * does not depend on the other columns), but it may differ from the value of the same
 * draw evaluated alone (OpenBLAS takes other kernels for one column).  So the batch-or-
 * per-draw decision must be the one run_batch takes: the chunks' batched passes stand
 * only when the whole batch would have stayed together, that is when no chunk parted
 * ways and all took the same branches, loop bounds and indices (their signatures);
 * otherwise the batch is redone draw by draw, as run_batch does.  ODE solvers share
 * their step sequence across a batch: a model that uses one evaluates on one thread. */
static int run_parallel(vi_program *p, size_t n, const double *z, double *lp, double *grad,
                        double *ll)
{
  size_t nch = (n + PROG_CHUNK - 1) / PROG_CHUNK;
  if (p->ev.used_ode) return run_batch(p, n, z, lp, grad, ll);
  int rc = workers_ready(p);
  if (rc) return rc;
  p->par_calls++;
  if (nch > p->chunk_cap) {
    prog_chunk *ch = realloc(p->chunks, nch * sizeof *ch);
    if (!ch) return VI_ENOMEM;
    p->chunks = ch;
    p->chunk_cap = nch;
  }
  if (p->diverged >= 3 && ++p->since_try < 16) {
    run_chunks(p, 0, n, z, lp, grad, ll);
    return settle_chunks(p, nch);
  }
  unsigned since = p->since_try;
  p->since_try = 0;
  run_chunks(p, 1, n, z, lp, grad, ll);
  if (p->ev.used_ode) {   /* found out now: start again on one thread */
    p->since_try = since;
    return run_batch(p, n, z, lp, grad, ll);
  }
  int together = 1;
  for (size_t i = 0; i < nch; i++) {
    const prog_chunk *k = &p->chunks[i];
    if (k->rc < 0) { p->diverged = 0; return settle_chunks(p, nch); }
    if (k->rc == EV_DIVERGE || k->outcome != p->chunks[0].outcome ||
        k->sig != p->chunks[0].sig)
      together = 0;
  }
  if (together) {
    p->diverged = 0;
    return settle_chunks(p, nch);
  }
  p->diverged++;
  run_chunks(p, 0, n, z, lp, grad, ll);
  return settle_chunks(p, nch);
}

size_t vi_program_set_threads(vi_program *p, size_t n)
{
  if (!p) return 0;
#ifdef _OPENMP
  if (n == 0) n = (size_t)omp_get_num_procs();
  if (n > PROG_MAX_THREADS) n = PROG_MAX_THREADS;
  if (n < 1) n = 1;
#else
  n = 1;
#endif
  p->threads = n;
  if (n > 1 && !p->c_locale) p->c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0);
  return n;
}

size_t vi_program_threads(const vi_program *p)
{
  return p ? p->threads : 0;
}

size_t vi_program_parallel_calls(const vi_program *p)
{
  return p ? p->par_calls : 0;
}

size_t vi_program_vector_loops(const vi_program *p)
{
  if (!p) return 0;
  long k = p->ev.loops_vec;
  for (size_t i = 1; p->wk && i < p->nwk; i++)   /* wk[0] is ev */
    if (p->wk[i]) k += p->wk[i]->loops_vec;
  return (size_t)k;
}

static int log_joint_(void *ctx, size_t n, const double *z, double *lp, double *grad)
{
  return run_all(ctx, n, z, lp, grad, NULL);
}

static int prog_log_joint(void *ctx, size_t n, const double *z, double *lp, double *grad)
{
  call_guard g;
  guard_enter(&g);
  int blas = ad_blas_threads_set(1);
  int r = log_joint_(ctx, n, z, lp, grad);
  if (blas > 0) ad_blas_threads_set(blas);
  guard_leave(&g);
  return r;
}

static int log_lik_(void *ctx, size_t n, const double *z, double *ll)
{
  vi_program *p = ctx;
  int rc;
  if (!p->loaded) return VI_EINVAL;
  /* the joint is computed on the way: a stack buffer for it, chunk by chunk */
  double lpbuf[PROG_MAX_BATCH];
  for (size_t s0 = 0; s0 < n; s0 += PROG_MAX_BATCH) {
    size_t m = n - s0 < PROG_MAX_BATCH ? n - s0 : PROG_MAX_BATCH;
    rc = run_all(p, m, z + s0 * p->ev.dim, lpbuf, NULL, ll + s0);
    if (rc) return rc;
  }
  return VI_SUCCESS;
}

static int prog_log_lik(void *ctx, size_t n, const double *z, double *ll)
{
  call_guard g;
  guard_enter(&g);
  int blas = ad_blas_threads_set(1);
  int r = log_lik_(ctx, n, z, ll);
  if (blas > 0) ad_blas_threads_set(blas);
  guard_leave(&g);
  return r;
}

/* The outputs of draw s of the last pass into out (n_out values). */
static void read_outputs(const vi_program *p, size_t s, double *out)
{
  const ev_ctx *c = &p->ev;
  for (size_t k = 0; k < p->n_out; k++) {
    const prog_out *o = &p->outs[p->out_var[k]];
    const ad_val *v = c->slot[o->decl->slot];
    size_t e = p->out_off[k];
    const size_t *path = p->out_path ? p->out_path[k] : NULL;
    for (size_t q = 0; v && path && q < path[0]; q++) {
      size_t n = (size_t)v->type.tup->n, at = path[1 + 2 * q] * n + path[2 + 2 * q];
      v = v->type.base == VT_TUPLE && at < v->len * n ? v->el[at] : NULL;
    }
    out[k] = v && e < v->len ? v->x[e * v->nd + (v->nd == 1 ? 0 : s)] : NAN;
  }
}

static int constrain_(void *ctx, const double *z, gsl_rng *rng, double *out)
{
  vi_program *p = ctx;
  ev_ctx *c = &p->ev;
  if (!p->loaded) return VI_EINVAL;
  ad_tape_set_rng(c->t, rng);
  int rc = ev_run(c, 1, z, 0, BLK_GQ, NULL);
  ad_tape_set_rng(c->t, NULL);
  ev_print_flush(c);
  if (rc) {
    note_error(p);
    for (size_t k = 0; k < p->n_out; k++) out[k] = NAN;
    return rc < 0 ? rc : VI_ERUNTIME;
  }
  read_outputs(p, 0, out);
  return VI_SUCCESS;
}

static int prog_constrain(void *ctx, const double *z, gsl_rng *rng, double *out)
{
  call_guard g;
  guard_enter(&g);
  int blas = ad_blas_threads_set(1);
  int r = constrain_(ctx, z, rng, out);
  if (blas > 0) ad_blas_threads_set(blas);
  guard_leave(&g);
  return r;
}

/* n points in batched passes; a batch that fails or whose draws part ways (a branch on
 * a parameter) is redone one point at a time, which also names a failing draw. */
static int constrain_n_(void *ctx, size_t n, const double *z, gsl_rng *rng, double *out)
{
  vi_program *p = ctx;
  ev_ctx *c = &p->ev;
  if (!p->loaded) return VI_EINVAL;
  size_t D = c->dim;
  for (size_t s0 = 0; s0 < n; s0 += PROG_MAX_BATCH) {
    size_t m = n - s0 < PROG_MAX_BATCH ? n - s0 : PROG_MAX_BATCH;
    int rc = ev_reserve(c, m);
    if (rc) return rc;
    ad_tape_set_rng(c->t, rng);
    rc = m > 1 ? ev_run(c, m, z + s0 * D, 0, BLK_GQ, NULL) : EV_DIVERGE;
    ad_tape_set_rng(c->t, NULL);
    if (rc == 0) {
      ev_print_flush(c);
      for (size_t s = 0; s < m; s++) read_outputs(p, s, out + (s0 + s) * p->n_out);
      continue;
    }
    ev_print_discard(c);
    for (size_t s = 0; s < m; s++)
      if ((rc = prog_constrain(ctx, z + (s0 + s) * D, rng, out + (s0 + s) * p->n_out)))
        return rc;
  }
  return VI_SUCCESS;
}

static int prog_constrain_n(void *ctx, size_t n, const double *z, gsl_rng *rng, double *out)
{
  call_guard g;
  guard_enter(&g);
  int blas = ad_blas_threads_set(1);
  int r = constrain_n_(ctx, n, z, rng, out);
  if (blas > 0) ad_blas_threads_set(blas);
  guard_leave(&g);
  return r;
}

int vi_program_model(vi_program *p, vi_model *m)
{
  if (!p || !m) return VI_EINVAL;
  memset(m, 0, sizeof *m);
  if (!p->loaded) {
    snprintf(p->last_error, sizeof p->last_error, "data not loaded (call vi_program_load_data)");
    return VI_EINVAL;
  }
  if (p->ev.dim == 0) {
    snprintf(p->last_error, sizeof p->last_error,
             "%s: error: the model has no parameters: nothing to fit",
             p->ast->name ? p->ast->name : "<model>");
    return VI_EINVAL;
  }
  m->dim = p->ev.dim;
  m->names = (const char *const *)p->znames;
  m->log_joint = prog_log_joint;
  m->ctx = p;
  m->has_log_evidence = 0;
  m->log_evidence = NAN;
  /* the likelihood / prior split only when every target term could be classified */
  m->log_lik = p->ast->no_split ? NULL : prog_log_lik;
  m->n_out = p->n_out;
  m->out_names = (const char *const *)p->out_names;
  m->constrain = prog_constrain;
  m->constrain_n = prog_constrain_n;
  return VI_SUCCESS;
}

static int program_unconstrain(vi_program *p, const char *json, size_t len, const char *name,
                               double *z, vi_error *err)
{
  vi_error dummy;
  if (!err) err = &dummy;
  memset(err, 0, sizeof *err);
  if (!p || !json || !z) return VI_EINVAL;
  if (!p->loaded) return VI_EINVAL;
  int rc = ev_reserve(&p->ev, 1);
  if (rc) return rc;
  rc = data_unconstrain(&p->ev, json, len, name, z, err);
  return rc < 0 ? rc : rc ? VI_EDATA : VI_SUCCESS;
}

int vi_program_unconstrain(vi_program *p, const char *json, size_t len, const char *name,
                           double *z, vi_error *err)
{
  call_guard g;
  guard_enter(&g);
  int r = program_unconstrain(p, json, len, name, z, err);
  guard_leave(&g);
  return r;
}

int vi_program_unconstrain_file(vi_program *p, const char *path, double *z, vi_error *err)
{
  size_t len;
  char *buf = read_file(path, &len);
  if (!buf) { io_error(err, path, "initial values"); return VI_EIO; }
  int rc = vi_program_unconstrain(p, buf, len, path, z, err);
  free(buf);
  return rc;
}

static int program_explain(vi_program *p, const double *z, char *buf, size_t len)
{
  if (!p || !z || !buf || len == 0) return VI_EINVAL;
  buf[0] = '\0';
  if (!p->loaded) return VI_EINVAL;
  ev_ctx *c = &p->ev;
  int rc = ev_reserve(c, 1);
  if (rc) return rc;
  double lp = NAN;
  p->last_error[0] = '\0';
  c->explain = 1;
  c->nf_set = 0;
  rc = pass(c, 1, z, &lp, NULL, NULL, p->last_error, NULL);
  c->explain = 0;
  if (rc == EV_DIVERGE) rc = VI_ERUNTIME;   /* one draw cannot part ways */
  if (rc < 0 || isfinite(lp)) {
    if (rc < 0) snprintf(buf, len, "%s", p->last_error);
    return rc < 0 ? rc : VI_SUCCESS;
  }
  if (c->nf_set)
    snprintf(buf, len, "%s", c->nf_err.message);
  else if (p->last_error[0])   /* reject() or a constraint of a transformed parameter */
    snprintf(buf, len, "%s", p->last_error);
  else
    snprintf(buf, len, "the log density is %s, though every term of target is finite "
                       "(their sum overflows)", isnan(lp) ? "nan" : lp > 0 ? "+inf" : "-inf");
  return VI_SUCCESS;
}

int vi_program_explain(vi_program *p, const double *z, char *buf, size_t len)
{
  call_guard g;
  guard_enter(&g);
  int r = program_explain(p, z, buf, len);
  guard_leave(&g);
  return r;
}

const char *vi_program_last_error(const vi_program *p)
{
  return p ? p->last_error : "";
}

size_t vi_program_n_warnings(const vi_program *p)
{
  return p ? (size_t)p->ast->nwarnings : 0;
}

const char *vi_program_warning(const vi_program *p, size_t i)
{
  return p && i < (size_t)p->ast->nwarnings ? p->ast->warnings[i] : NULL;
}

void vi_program_set_memory_limit(vi_program *p, size_t bytes)
{
  if (!p) return;
  ad_tape_set_limit(p->tape, bytes);
  p->limit = bytes;
  workers_free(p);          /* made again, with this limit, at the next parallel call */
}

void vi_program_set_print(vi_program *p, vi_print_fn fn, void *ctx)
{
  if (!p) return;
  p->ev.print = fn;
  p->ev.print_ctx = ctx;
  workers_free(p);          /* they copied the old callback */
}

size_t vi_program_n_params(const vi_program *p)
{
  if (!p) return 0;
  const vi_stmt *pb = p->ast->blocks[BLK_PARAMS];
  size_t n = 0;
  for (int i = 0; pb && i < pb->nstmts; i++) if (pb->stmts[i]->kind == ST_DECL) n++;
  return n;
}

int vi_program_param_info(const vi_program *p, size_t i, vi_param_info *info)
{
  if (!p || !info || i >= vi_program_n_params(p)) return VI_EINVAL;
  const vi_stmt *pb = p->ast->blocks[BLK_PARAMS];
  size_t k = 0;
  const vi_decl *d = NULL;
  for (int j = 0; j < pb->nstmts; j++)
    if (pb->stmts[j]->kind == ST_DECL && k++ == i) { d = pb->stmts[j]->decl; break; }
  memset(info, 0, sizeof *info);
  info->name = d->name;
  info->type = d->type_text ? d->type_text : "";
  if (p->loaded)   /* a tuple's: the sums over its elements */
    for (size_t j = 0; j < p->ev.nparams; j++) {
      const ev_param *q = &p->ev.params[j];
      if (q->decl != d && q->root != d) continue;
      info->constrained_size += q->spec.nelem * q->spec.csize;
      info->unconstrained_size += q->usize;
    }
  return VI_SUCCESS;
}

int vi_program_set_shard(vi_program *p, const char *by, size_t rank, size_t size,
                         vi_error *err)
{
  vi_error dummy;
  if (!err) err = &dummy;
  memset(err, 0, sizeof *err);
  if (!p || !by || size == 0 || rank >= size) return VI_EINVAL;
  if (p->loaded) {
    snprintf(err->message, sizeof err->message, "vi_program_set_shard: call it before the "
             "data are loaded");
    err->status = VI_EINVAL;
    return VI_EINVAL;
  }
  int rc = shard_plan(&p->ev, by, err);
  if (rc) return rc;
  p->ev.shard_rank = rank;
  p->ev.shard_size = size;
  p->ev.shard_rest = rank > 0;
  return VI_SUCCESS;
}

int vi_program_shard_rows(const vi_program *p, size_t *lo, size_t *hi, size_t *total)
{
  if (!p || p->ev.shard_by < 0 || !p->loaded) return VI_EINVAL;
  if (lo) *lo = p->ev.shard_lo;
  if (hi) *hi = p->ev.shard_hi;
  if (total) *total = p->ev.shard_total;
  return VI_SUCCESS;
}

int vi_program_set_minibatch(vi_program *p, size_t b, const size_t *rows)
{
  if (!p || !p->loaded) return VI_EINVAL;
  if (b == 0 && !p->ev.mb_b) return VI_SUCCESS;   /* the whole data already */
  int rc = mb_set(&p->ev, b, rows);
  if (rc) note_error(p);
  /* the other threads' states read the same data through their own pointer, and every
   * state's cached data-only values may have come from other rows */
  ev_cache_clear(&p->ev);
  for (size_t k = 1; k < p->nwk; k++) {
    ev_cache_clear(p->wk[k]);
    p->wk[k]->data = p->ev.data;
    p->wk[k]->mb_b = p->ev.mb_b;
    p->wk[k]->mb_scale = p->ev.mb_scale;
  }
  return rc;
}

int vi_program_minibatch(void *program, size_t b, const size_t *rows)
{
  return vi_program_set_minibatch(program, b, rows);
}

void vi_program_free(vi_program *p)
{
  if (!p) return;
  workers_free(p);
  free(p->chunks);
  if (p->c_locale) freelocale(p->c_locale);
  if (p->ev.ast) mb_clear(&p->ev);
  if (p->ev.ast) data_free_values(&p->ev);   /* ev.ast is set once compile got that far */
  clear_layout(p);
  free(p->ev.slot);
  free(p->ev.data);
  free(p->ev.trunc);
  free((void *)p->ev.sharded);
  ev_release(&p->ev);
  ad_tape_free(p->tape);
  gsl_rng_free(p->tdata_rng);
  front_ast_free(p->ast);
  free(p);
}
