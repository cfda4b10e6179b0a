/* back.h: src/lang/back/, the model language's back end: the program (vi_program_* of
 * vi/lang.h: compile, load data, the vi_model), the evaluator below, constraint
 * transforms (transforms.h), JSON data (data.h) and the ODE solvers (ode.h).  May
 * include: lang/types.h, front/ (the checked AST), lib/ (builtin_call), ad/, the public
 * vi/ headers.  The CLI and C users reach it only through vi/lang.h.
 *
 * The evaluator: the interpreter of a checked model AST on the batched AD tape.  Statements
 * are executed once for all n draws (values carry a draw axis, see ad.h); a branch,
 * loop bound or index whose value differs between draws stops the pass with EV_DIVERGE,
 * and the caller then evaluates draw by draw (n = 1).  Data and transformed data live in
 * persistent values (nd = 1) bound to their slots before every pass; everything else is
 * arena memory, reset per pass. */
#ifndef VI_LANG_BACK_H
#define VI_LANG_BACK_H

#include <stddef.h>
#include <gsl/gsl_rng.h>
#include <vi/lang.h>
#include "lang/front/ast.h"
#include "lang/ad/ad.h"
#include "lang/back/transforms.h"
#include "lang/back/ptr_map.h"

/* Outcomes of executing a statement: 0 ok, > 0 control flow, < 0 a vi_status error
 * (message in ev_ctx.err). */
enum { EV_OK = 0, EV_BREAK = 1, EV_CONTINUE = 2, EV_REJECT = 3, EV_DIVERGE = 4,
       EV_RETURN = 5 };

/* Deepest nesting of user-defined function calls (recursion included), and the most C
 * stack those calls may take together (a body with deeply nested expressions costs
 * more per level). */
#define EV_MAX_CALL_DEPTH 200
/* Most loop iterations in one evaluation: a loop that never ends and allocates nothing
 * (`while (flag) { }`) stops here; anything near it would take minutes per gradient. */
#define EV_MAX_LOOP_ITERS 1000000000L
#define EV_MAX_CALL_STACK ((size_t)2 << 20)

/* Largest number of elements of one declared value (data, parameter, local): 2^28
 * doubles is 2 GB per draw.  Beyond it a declaration is refused before anything is
 * allocated (with or without an address-space limit, sanitizers included). */
#define EV_MAX_ELEMS ((size_t)1 << 28)

/* One parameter: its shape (known once data is loaded), transform and place in z. */
/* One parameter with a transform: a declared parameter, or one element of a tuple
 * parameter (each keeps its own constraint; root is then the tuple's declaration and
 * path leads from root's value to the element, as (array position, element) pairs). */
#define EV_PATH_MAX 8
typedef struct ev_param {
  vi_decl *decl;
  int ndims;                   /* rank of the value */
  size_t dims[AD_MAX_DIMS];
  tr_spec spec;
  size_t off;                  /* first unconstrained coordinate */
  size_t usize;                /* spec.nelem * spec.usize */
  const vi_decl *root;         /* NULL, or the tuple parameter this is an element of */
  int depth;                   /* path's pairs */
  size_t path[2 * EV_PATH_MAX];
  char *name;                  /* an element's CmdStan name (p:1, p.2:1); NULL: decl's */
} ev_param;

static inline const char *ev_param_name(const ev_param *p)
{ return p->name ? p->name : p->decl->name; }

/* Truncated `~` statements: their _lcdf / _lccdf builtins (resolved at compile time). */
typedef struct ev_trunc {
  const vi_stmt *st;
  int lcdf, lccdf;             /* builtin ids or -1 */
} ev_trunc;

typedef struct ev_ctx {
  vi_ast *ast;
  ad_tape *t;
  ad_val **slot;               /* nslots: current values */
  ad_val **data;               /* nslots: persistent data / transformed data, or NULL */
  ev_param *params; size_t nparams, dim;
  ev_trunc *trunc; size_t ntrunc;
  size_t n;                    /* draws in this pass */
  size_t cap;                  /* capacity of lp, ll, rej */
  double *lp, *ll;             /* per draw: target, likelihood part */
  unsigned char *rej;          /* per draw: rejected (constraint of a transformed param) */
  int block;                   /* block being executed */
  int rc;                      /* pending outcome of an expression (error or DIVERGE) */
  vi_error err;                /* message of the last error / reject */
  vi_print_fn print; void *print_ctx;
  char pbuf[4096];
  /* print output of the current pass, held back until the pass is known to stand (a
   * pass abandoned for the per-draw fallback must not print twice): '\0'-separated */
  char *pout; size_t pout_len, pout_cap;
  /* data-only subexpressions of the per-pass blocks (bounds, transformed parameters,
   * model, generated quantities): evaluated once, kept as persistent values.  An open
   * addressing table keyed by the expression; the value (ad_val *) NULL until first
   * evaluated. */
  ptr_map cache;
  /* user-defined functions: the one running, its return value, the call depth */
  const vi_func *fn; ad_val *ret; int depth; const char *stack_base;
  long loop_iters;             /* loop iterations in this evaluation */
  /* explain mode (one draw, vi_program_explain): the first target term that is not
   * finite, with its location and arguments, in nf_err */
  int explain, nf_set;
  vi_error nf_err;
  /* a tape of its own for user functions evaluated off the main tape (the algebraic
   * solvers' systems, integrate_1d's integrand: hof.c); busy while one runs (a nested
   * call takes a fresh one) */
  ad_tape *sub; int sub_busy;
  /* the pass's control flow: a hash of every branch, loop bound and index it took (all
   * the points where draws could part ways), so that chunks of a batch evaluated apart
   * can tell whether the whole batch would have stayed together (program.c's threads) */
  unsigned long long sig;
  int used_ode;                /* an ODE solver ran (its steps are shared by the batch) */
  /* loops with independent iterations run as vector ops (loop_vec.c) unless
   * no_loop_vec (VI_NO_LOOP_VECTORIZE=1 at compile time); loops_vec counts those run so */
  int no_loop_vec;
  long loops_vec;
  /* loop_vec.c's scans of the loops run so far, by statement (syntax only, so done once;
   * per context, as threads do not share it): freed by lv_cache_free */
  ptr_map lv_cache;
  /* a branch run under a mask (predicate.c): per draw 1 where it is taken, NULL outside
   * one; writes to variables other than mask_loc (declared inside) keep the old value
   * where the mask is 0 */
  const double *mask;
  const vi_decl *const *mask_loc; int nmask_loc;

  /* data parallelism (shard.c): this process holds observations [shard_lo, shard_hi) of
   * shard_total, those of the data sharded by the int in slot shard_by (-1: no
   * sharding); sharded[slot] marks them.  shard_rest: a rank other than the first, whose
   * passes add only the terms on its shard (the others count once, on rank 0). */
  int shard_by;
  const unsigned char *sharded;
  size_t shard_rank, shard_size, shard_total, shard_lo, shard_hi;
  int shard_rest;
  /* minibatches (minibatch.c): while mb_b > 0, data points to mb_view, where the sharded
   * variables hold mb_b of this process's rows and N reads mb_b; mb_full is the whole
   * data; the terms on sharded data count mb_scale = (shard_hi - shard_lo) / mb_b times.
   * The views (of mb_view_b rows) are kept while the data are the whole data again. */
  ad_val **mb_full, **mb_view;
  size_t mb_b, mb_view_b;
  double mb_scale;
} ev_ctx;

/* Make lp / ll / rej hold n draws (allocates only when n grows).  VI_ENOMEM on failure. */
int ev_reserve(ev_ctx *c, size_t n);
void ev_release(ev_ctx *c);

/* Reset for a pass over n draws: tape, accumulators, slots (data bound, the rest NULL). */
void ev_begin(ev_ctx *c, size_t n, int grad);

ad_val *ev_expr(ev_ctx *c, const vi_expr *e);
int ev_stmt(ev_ctx *c, const vi_stmt *s);
/* Execute a block's statements; block-level declarations of data and parameters are
 * skipped (bound by the caller). */
int ev_block(ev_ctx *c, const vi_stmt *blk, int block);

/* The shape of a declaration (array dims, then rows / cols) from its size expressions.
 * Sizes must be ints >= 0 and the total at most EV_MAX_ELEMS; errors VI_ERUNTIME (the
 * caller may relabel).  *nelem: the product of the array dims. */
int ev_decl_shape(ev_ctx *c, const vi_decl *d, int *ndims, size_t *dims, size_t *nelem,
                  size_t *rows, size_t *cols);
/* The same with another cap on the total (data: the JSON bounds the real size, so only
 * overflow matters there). */
int ev_decl_shape_cap(ev_ctx *c, const vi_decl *d, int *ndims, size_t *dims, size_t *nelem,
                      size_t *rows, size_t *cols, size_t cap);

/* Check the block-level declarations of block (tparams, gq, tdata) against their
 * constraints.  Violations: per draw rej[s] = 1 (and the message in err) if per_draw,
 * else the error status.  */
int ev_check_block(ev_ctx *c, const vi_stmt *blk, int per_draw, int status);
/* Check one value against decl d's constraint for draw s: -1 if fine, else the element. */
long ev_check_value(ev_ctx *c, const vi_decl *d, const ad_val *v, size_t s, char *why,
                    size_t whylen, int *rc);

/* The bounds of parameter p (lower / upper, or offset / multiplier), NULL where absent,
 * evaluated in the current pass (earlier parameters in their slots).  0 or the error. */
int ev_param_bounds(ev_ctx *c, const ev_param *p, ad_val **lb, ad_val **ub);
/* The values of the tuple parameters, elements not yet set (nested tuples made), into
 * their slots; then ev_param_set puts each parameter's constrained value in place. */
int ev_param_tuples(ev_ctx *c);
void ev_param_set(ev_ctx *c, const ev_param *p, ad_val *v);

/* A full pass: parameters from z (n points, row-major n x dim), transformed parameters,
 * then the model block (upto BLK_MODEL) or generated quantities (upto BLK_GQ).  Returns
 * EV_OK, EV_REJECT, EV_DIVERGE or an error.  *zval: the tape value of z (for gradients). */
int ev_run(ev_ctx *c, size_t n, const double *z, int grad, int upto, ad_val **zval);

/* The cache of data-only subexpressions: register e (compile time), drop the values
 * (data reloaded), free the table. */
int ev_cache_add(ev_ctx *c, const vi_expr *e);
void ev_cache_clear(ev_ctx *c);
void ev_cache_free(ev_ctx *c);

/* Send the held-back print output to the print callback / drop it. */
void ev_print_flush(ev_ctx *c);
void ev_print_discard(ev_ctx *c);

/* 0, or the error (VI_ENOMEM for an exhausted arena) of an op that failed silently
 * during the pass (its message in err). */
int ev_tape_status(ev_ctx *c);

/* What hof.c needs of the evaluator (a call of a user-defined function with evaluated
 * arguments, NULL with c->rc set on an error, reject or divergence inside; ev_error),
 * handed over by eval.c: hof.c calling eval.c directly would make the two files a
 * cycle. */
typedef struct hof_ops {
  ad_val *(*call_user)(ev_ctx *c, const vi_func *f, ad_val **args, int nargs, vi_loc loc);
  int (*error)(ev_ctx *c, int status, vi_loc loc, const char *fmt, ...)
      __attribute__((format(printf, 4, 5)));
} hof_ops;

/* The higher-order builtins of hof.c, args evaluated (args[0] unused): the algebraic
 * solvers (VI_CALL_SOLVE), integrate_1d and map_rect.  NULL with c->rc set on failure. */
ad_val *ev_solve(ev_ctx *c, const hof_ops *ops, const vi_expr *e, ad_val **args);
ad_val *ev_integrate_1d(ev_ctx *c, const hof_ops *ops, const vi_expr *e, ad_val **args);
ad_val *ev_map_rect(ev_ctx *c, const hof_ops *ops, const vi_expr *e, ad_val **args);

/* Tuple values (tuple.c): a tuple of type ty with array dims (elements NULL, for the
 * caller to fill); a new tuple with the same elements (marked shared); array-of-tuples
 * indexing and assignment through indexes (ad_ix as for ad_index; NULL with
 * ad_tape_error on a size mismatch); a persistent deep copy (NULL if an element varies
 * by draw or on OOM); does any element vary by draw? */
ad_val *tup_new(ad_tape *t, vi_type ty, int ndims, const size_t *dims);
ad_val *tup_copy(ad_tape *t, const ad_val *v);
ad_val *tup_index(ad_tape *t, const ad_val *v, const ad_ix *ix, int nix);
ad_val *tup_assign_index(ad_tape *t, const ad_val *v, const ad_ix *ix, int nix,
                         const ad_val *rhs);
ad_val *tup_persistent(const ad_val *v);
int tup_varying(const ad_val *v);

/* What loop_vec.c needs of the evaluator (the plain evaluation of an expression, the
 * addition of a target term), handed over as hof_ops is. */
typedef struct lv_ops {
  ad_val *(*expr)(ev_ctx *c, const vi_expr *e);
  int (*add_term)(ev_ctx *c, ad_val *v, int lik, int sharded, vi_loc loc);
} lv_ops;
/* ev_for_vector's answer when the loop is left to the per-iteration path. */
#define EV_LOOP_PLAIN 100
/* `for (i in lo:hi) body` evaluated once over all iterations when they provably do not
 * depend on each other (loop_vec.c): 0 done (or an error of adding its target terms),
 * EV_LOOP_PLAIN when not (nothing of the attempt remains: run the plain loop). */
int ev_for_vector(ev_ctx *c, const lv_ops *ops, const vi_stmt *st, long lo, long hi);
void lv_cache_free(ev_ctx *c);

/* What predicate.c needs of the evaluator, handed over as lv_ops is. */
typedef struct pc_ops {
  ad_val *(*expr)(ev_ctx *c, const vi_expr *e);
  int (*stmt)(ev_ctx *c, const vi_stmt *st);
} pc_ops;
/* `if` whose condition cond differs between draws, in a pass that records no gradient:
 * both branches run under masks (predicate.c).  0 done; else EV_DIVERGE (c->rc set):
 * not possible here, or a branch failed, and the pass must go draw by draw. */
int ev_if_convert(ev_ctx *c, const pc_ops *ops, const vi_stmt *st, const ad_val *cond);
/* Must a write to d inside the current masked branch keep old values (1) or not (0)? */
int ev_masked(const ev_ctx *c, const vi_decl *d);
/* mask ? v : old per draw, shaped as old (v the same shape or a scalar); NULL when the
 * values cannot be selected so (tuples, complex). */
ad_val *ev_mask_select(ev_ctx *c, ad_val *v, const ad_val *old);
/* e = a[i1, ..., ik] down to a scalar with indexes that differ between draws, in a pass
 * that records no gradient: one element per draw.  NULL when not possible (c->rc as it
 * was: the caller's EV_DIVERGE stands). */
ad_val *ev_index_by_draw(ev_ctx *c, const pc_ops *ops, const vi_expr *e, const ad_val *a);

/* cond ? a : b (e) with cond differing between draws: may both arms be evaluated for
 * every draw (no gradient recorded, arms without side effects or random numbers)? */
int ev_ternary_ok(const ev_ctx *c, const vi_expr *e, const ad_val *cond);
/* Per draw cond ? a : b, a and b of one shape; NULL when they are not. */
ad_val *ev_select(ev_ctx *c, const ad_val *cond, const ad_val *a, const ad_val *b);

/* Format an error at loc into c->err and return status. */
int ev_error(ev_ctx *c, int status, vi_loc loc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* The 1-based index tuple of internal element e of a value with rank ndims, of which
 * arrdims are array dims (row-major) and the rest vector / matrix (column-major). */
void ev_elem_index(const size_t *dims, int ndims, int arrdims, size_t e, size_t *idx);

#endif
