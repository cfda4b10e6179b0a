/* loop_vec.c: a `for` loop whose iterations are independent, evaluated once over the
 * whole index range instead of once per iteration (issue 16).  The loop variable is
 * bound to the vector lo..hi, indexing by it becomes gathers (`x[i]`, `a[g[i]]`) and
 * scatters (`m[i] = ...`), and every scalar op and builtin runs once, elementwise: the
 * iteration axis is folded into the tape's draw axis (element e of draw s at
 * x[e * n + s] is a scalar value with nd = L * n, the same memory as a length-L vector
 * over n draws), so each op and density kernel of the library computes exactly what the
 * per-iteration pass computes, once per iteration and draw (the same kernels, the same
 * rounding).  `~` and `target +=` terms are summed over the iterations in index order.
 *
 * A scan proves independence before anything runs: the body holds only declarations of
 * scalar locals, assignments to those locals or to `v[i]` (i itself; v declared outside
 * the loop and read in it only as `v[i]`), or to an element of a many-dimensional v with
 * one index i itself and the others fixed in the loop (`x[k, t]`, `x[t, k]`, `x[t][k]`
 * in a loop over k: every write and read of x names the same element, so iterations
 * touch disjoint elements), `~` and `target +=`; every value that
 * depends on i is a real or int scalar; no user-defined function, _rng, target() or
 * control flow but inner `for` loops, which are folded as a second axis or unrolled
 * (each step over all iterations).  A 1-d temporary that every iteration fills before reading it is
 * privatised (one copy per iteration, `acc` of the HMM forward algorithm), and an element
 * of a written variable that no iteration writes may be read (gamma[t - 1, j] while
 * gamma[t, k] is written): see "private containers and inner loops" below.  Anything else, and anything that goes wrong while the loop runs (an
 * index out of range, an index that differs between draws, an error in an op), falls
 * back to the per-iteration loop: the tape is rewound to before the attempt, target is
 * untouched (the terms are added only once the whole loop stood), and the per-iteration
 * pass then does what it always did, errors and messages included (but for running out
 * of memory, which is reported as it is).  This is the
 * vectorisation of loops with provably independent iterations that compilers do (a
 * loop-carried dependence test, then strip the loop into vector ops; Allen & Kennedy,
 * "Optimizing compilers for modern architectures", ch. 2), restricted to the shapes
 * whose independence is evident from the syntax. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <vi/status.h>
#include "lang/front/front.h"
#include "lang/lib/lib.h"
#include "lang/ad/ad_kernels.h"
#include "lang/back/back.h"
#include "lang/back/loop_vec_kernels.h"

/* Most scalar locals and written outer variables one loop may have (more: not tried). */
#define LV_MAX 32
/* Inner loops this short are always unrolled (lv_inner). */
#define LV_UNROLL_MIN 8

typedef struct lv_scan {
  const vi_decl *var;                      /* the loop variable */
  const vi_decl *loc[LV_MAX]; int nloc;    /* scalar locals declared in the body */
  const vi_decl *out[LV_MAX]; int nout;    /* outer variables written as v[i] */
  const vi_expr *pat[LV_MAX];              /* out[k]'s element as first written */
  /* private containers (loop_nest below): 1-d containers written at an index that is
   * the same in every iteration, one copy per iteration; priv_body: declared in the
   * body (else outside it, privatised) */
  const vi_decl *priv[LV_MAX]; int npriv;
  unsigned char priv_body[LV_MAX];
  const vi_decl *inner[LV_MAX]; int ninner; /* variables of inner loops (unrolled) */
} lv_scan;

static int in_set(const vi_decl *const *set, int n, const vi_decl *d)
{
  for (int i = 0; i < n; i++) if (set[i] == d) return 1;
  return 0;
}

static int is_scalar(vi_type ty)
{
  return ty.ndims == 0 && (ty.base == VT_INT || ty.base == VT_REAL);
}

/* The variable at the root of a chain of indexes (v in v[a][b, c]), or NULL. */
static const vi_decl *root_decl(const vi_expr *e)
{
  while (e->kind == EX_INDEX) e = e->args[0];
  return e->kind == EX_VAR ? e->decl : NULL;
}

/* The single indexes of a chain v[a][b, c] in the order of v's dims (a, b, c); -1 when
 * one is not single or there are more than AD_MAX_DIMS. */
static int flat_index(const vi_expr *e, const vi_expr **ix)
{
  const vi_expr *lv[AD_MAX_DIMS];
  int nl = 0, n = 0;
  for (; e->kind == EX_INDEX; e = e->args[0]) {
    if (nl == AD_MAX_DIMS) return -1;
    lv[nl++] = e;
  }
  for (int l = nl - 1; l >= 0; l--)
    for (int k = 0; k < lv[l]->nindex; k++) {
      if (lv[l]->index[k].kind != IX_SINGLE || n == AD_MAX_DIMS) return -1;
      ix[n++] = lv[l]->index[k].lo;
    }
  return n;
}

/* Do a and b compute the same value, by their syntax (variables, literals, operators,
 * builtin calls, indexes)?  Conservative: 0 when unsure. */
static int same_expr(const vi_expr *a, const vi_expr *b)
{
  if (a->kind != b->kind || a->nargs != b->nargs) return 0;
  switch (a->kind) {
  case EX_INT_LIT: return a->ival == b->ival;
  case EX_REAL_LIT: return a->rval == b->rval;
  case EX_VAR: return a->decl && a->decl == b->decl;
  case EX_UNARY: case EX_BINARY: if (a->op != b->op) return 0; break;
  case EX_CALL: if (a->builtin < 0 || a->builtin != b->builtin) return 0; break;
  case EX_INDEX:
    if (a->nindex != b->nindex) return 0;
    for (int k = 0; k < a->nindex; k++)
      if (a->index[k].kind != IX_SINGLE || b->index[k].kind != IX_SINGLE
          || !same_expr(a->index[k].lo, b->index[k].lo))
        return 0;
    break;
  default: return 0;
  }
  for (int i = 0; i < a->nargs; i++)
    if (!same_expr(a->args[i], b->args[i])) return 0;
  return 1;
}

static int scan_expr(const lv_scan *s, const vi_expr *e);
static int priv_at(const lv_scan *s, const vi_decl *d);
static int priv_elem(const lv_scan *s, const vi_expr *e);
static int foreign_ok(const lv_scan *s, const vi_expr *e, int w);
static int priv_call(const lv_scan *s, const vi_expr *e);

/* An element of v that iteration i owns: v[i], or v[.., i, ..] / v[..][i] with exactly
 * one single index the loop variable itself and every other single index independent of
 * the iteration (x[k, t] = ... in a loop over k: the iterations write disjoint
 * elements). */
static int own_elem(const lv_scan *s, const vi_expr *e)
{
  const vi_expr *ix[AD_MAX_DIMS];
  int n, nvar = 0;
  if (e->kind != EX_INDEX || !root_decl(e) || (n = flat_index(e, ix)) < 1) return 0;
  for (int k = 0; k < n; k++) {
    if (ix[k]->kind == EX_VAR && ix[k]->decl == s->var) nvar++;
    else if (scan_expr(s, ix[k]) != 0) return 0;
  }
  return nvar == 1;
}

/* e is own_elem and the element first written of its variable (pattern pat): reads and
 * writes of a written variable all name the same element of the iteration's own. */
static int own_same(const lv_scan *s, const vi_expr *e, const vi_expr *pat)
{
  const vi_expr *a[AD_MAX_DIMS], *b[AD_MAX_DIMS];
  int na, nb;
  if (!own_elem(s, e) || (na = flat_index(e, a)) != (nb = flat_index(pat, b))) return 0;
  for (int k = 0; k < na; k++)
    if (!same_expr(a[k], b[k])) return 0;
  return 1;
}

static int out_at(const lv_scan *s, const vi_decl *d)
{
  for (int i = 0; i < s->nout; i++) if (s->out[i] == d) return i;
  return -1;
}

static int ends_with(const char *s, const char *suf)
{
  size_t a = s ? strlen(s) : 0, b = strlen(suf);
  return a >= b && !strcmp(s + a - b, suf);
}

/* -1: not allowed in a vectorised loop; 0: independent of the iteration (evaluated once,
 * as usual); 1: depends on the iteration (a real or int scalar per iteration). */
static int scan_expr(const lv_scan *s, const vi_expr *e)
{
  int any = 0, q;
  switch (e->kind) {
  case EX_INT_LIT: case EX_REAL_LIT: case EX_IMAG_LIT: case EX_STRING_LIT:
    return 0;
  case EX_VAR:
    if (e->decl == s->var || in_set(s->loc, s->nloc, e->decl)) { any = 1; break; }
    if (in_set(s->out, s->nout, e->decl)) return -1;   /* whole v while v[i] is written */
    if (priv_at(s, e->decl) >= 0) return -1;           /* only as a builtin's argument */
    return 0;
  case EX_INDEX: {
    if (root_decl(e) && priv_at(s, root_decl(e)) >= 0) {
      if (!priv_elem(s, e)) return -1;
      any = 1;
      break;
    }
    int w = root_decl(e) ? out_at(s, root_decl(e)) : -1;
    if (w >= 0) {
      /* another element than the iteration's own: checked against the written ones
       * when it runs (lv_foreign) */
      if (!own_same(s, e, s->pat[w]) && !foreign_ok(s, e, w)) return -1;
      any = 1;
      break;
    }
  }
    if (scan_expr(s, e->args[0]) != 0) return -1;
    for (int k = 0; k < e->nindex; k++) {
      const vi_index *x = &e->index[k];
      const vi_expr *lim[2] = {x->lo, x->hi};
      for (int j = 0; j < 2; j++) {
        if (!lim[j]) continue;
        if ((q = scan_expr(s, lim[j])) < 0) return -1;
        if (q && x->kind != IX_SINGLE) return -1;
        any |= q;
      }
    }
    break;
  case EX_UNARY: case EX_BINARY:
    for (int i = 0; i < e->nargs; i++) {
      if ((q = scan_expr(s, e->args[i])) < 0) return -1;
      any |= q;
    }
    /* short-circuit evaluation is per iteration */
    if (any && (e->op == OP_AND || e->op == OP_OR)) return -1;
    break;
  case EX_TERNARY: case EX_ROW_VECTOR: case EX_ARRAY:
    for (int i = 0; i < e->nargs; i++)
      if (scan_expr(s, e->args[i]) != 0) return -1;
    return 0;
  case EX_CALL:
    /* user functions (side effects: target, print, reject), target(), the solvers;
     * _rng draws in per-iteration order */
    if (e->builtin < 0 || ends_with(e->str, "_rng")) return -1;
    if ((q = priv_call(s, e)) != 0) return q;
    for (int i = 0; i < e->nargs; i++) {
      if ((q = scan_expr(s, e->args[i])) < 0) return -1;
      any |= q;
    }
    if (any)
      for (int i = 0; i < e->nargs; i++)
        if (!is_scalar(e->args[i]->type)) return -1;
    break;
  default:   /* tuples, and any kind added later: per iteration */
    return -1;
  }
  if (any && !is_scalar(e->type)) return -1;
  return any;
}

/* ---- private containers and inner loops: the scan ----------------------------------
 * A temporary container acc that each iteration fills before it reads it (the forward
 * algorithm's `for (j in 1:K) acc[j] = ...; gamma[t, k] = log_sum_exp(acc);` in a loop
 * over the states k) is privatised (Allen & Kennedy, ch. 5.2, scalar and array
 * privatisation): every iteration gets its own copy, held as one folded scalar per
 * element.  It is written and read only as acc[j] with j the same in every iteration (an
 * inner loop's variable, a literal) and read whole only as a builtin's argument (stacked
 * into a container over iterations x draws for the library's kernel).  That each element
 * is written in the iteration before it is read is checked as the loop runs (control flow
 * is the same in every iteration, so one check holds for all): a read of an element not
 * yet written would see the previous iteration's value, so it falls back.  A container
 * declared outside the loop keeps the last iteration's values afterwards, as the plain
 * loop leaves it.  Inner `for` loops (their range the same in every iteration) are
 * unrolled: each step runs its body once over all iterations, and within an iteration
 * the steps keep their order, so a dependence inside the inner loop is kept.  One that
 * only fills private containers at its own index from values of neither the body's
 * locals nor the iteration's own elements has independent iterations too and is folded
 * instead (lv_fold: iterations (j, e) at once).  A read of
 * an element of a variable the loop writes other than the iteration's own (gamma[t - 1, j]
 * while gamma[t, k] is written) is allowed when, as it runs, none of the elements it
 * reads is one the loop writes. */

static int is_vec1(vi_type ty)
{
  if (ty.ndims == 1) return ty.base == VT_INT || ty.base == VT_REAL;
  return ty.ndims == 0 && (ty.base == VT_VECTOR || ty.base == VT_ROW_VECTOR);
}

static int priv_at(const lv_scan *s, const vi_decl *d)
{
  for (int i = 0; i < s->npriv; i++) if (s->priv[i] == d) return i;
  return -1;
}

/* e is acc[j] of a private acc with j the same in every iteration */
static int priv_elem(const lv_scan *s, const vi_expr *e)
{
  return e->kind == EX_INDEX && e->args[0]->kind == EX_VAR && priv_at(s, e->args[0]->decl) >= 0
         && e->nindex == 1 && e->index[0].kind == IX_SINGLE
         && scan_expr(s, e->index[0].lo) == 0;
}

/* Does e read one of the n variables in set? */
static int mentions(const vi_expr *e, const vi_decl *const *set, int n)
{
  if (!e) return 0;
  if (e->kind == EX_VAR) return in_set(set, n, e->decl);
  for (int i = 0; i < e->nargs; i++) if (mentions(e->args[i], set, n)) return 1;
  if (e->kind == EX_INDEX)
    for (int k = 0; k < e->nindex; k++)
      if (mentions(e->index[k].lo, set, n) || mentions(e->index[k].hi, set, n)) return 1;
  return 0;
}

/* A read v[a, b, ..] of a written variable at another element than the iteration's own:
 * single indexes down to a scalar, and the written elements known before the loop runs
 * (the first written pattern's fixed indexes read no inner loop variable). */
static int foreign_ok(const lv_scan *s, const vi_expr *e, int w)
{
  const vi_expr *ix[AD_MAX_DIMS];
  int n;
  if (e->args[0]->kind != EX_VAR || !is_scalar(e->type) || (n = flat_index(e, ix)) != e->nindex)
    return 0;
  for (int k = 0; k < n; k++)
    if (scan_expr(s, ix[k]) < 0) return 0;
  return !mentions(s->pat[w], s->inner, s->ninner) && !mentions(s->pat[w], s->loc, s->nloc);
}

/* A builtin call with a private container as an argument: 1 when allowed (the others
 * scalars, the result a scalar), 0 when it has none, -1 else. */
static int priv_call(const lv_scan *s, const vi_expr *e)
{
  int has = 0;
  for (int i = 0; i < e->nargs; i++)
    if (e->args[i]->kind == EX_VAR && priv_at(s, e->args[i]->decl) >= 0) has = 1;
  if (!has) return 0;
  if (!is_scalar(e->type)) return -1;
  for (int i = 0; i < e->nargs; i++) {
    const vi_expr *a = e->args[i];
    if (a->kind == EX_VAR && priv_at(s, a->decl) >= 0) continue;
    if (scan_expr(s, a) < 0 || !is_scalar(a->type)) return -1;
  }
  return 1;
}

/* acc[j] = ... of a 1-d container declared outside the loop (not its own element):
 * privatised; the index is checked by scan_stmt. */
static int collect_priv(lv_scan *s, const vi_expr *l)
{
  if (l->kind != EX_INDEX || l->args[0]->kind != EX_VAR || l->nindex != 1) return -1;
  const vi_decl *d = l->args[0]->decl;
  if (!d || !is_vec1(d->type) || d == s->var || in_set(s->loc, s->nloc, d)
      || in_set(s->out, s->nout, d) || in_set(s->inner, s->ninner, d))
    return -1;
  if (priv_at(s, d) >= 0) return 0;
  if (s->npriv == LV_MAX) return -1;
  s->priv_body[s->npriv] = 0;
  s->priv[s->npriv++] = d;
  return 0;
}

/* a container declared in the body: its size, and its initial value if any (`vector[K]
 * lps = log(w)` of a mixture), the same in every iteration */
static int scan_priv_decl(const lv_scan *s, const vi_decl *d)
{
  const vi_expr *sz = d->type.ndims == 1 ? (d->ndims == 1 ? d->dims[0] : NULL) : d->size[0];
  return sz && scan_expr(s, sz) == 0 && (!d->init || scan_expr(s, d->init) == 0) ? 0 : -1;
}

/* First pass: collect the body's scalar locals and the outer variables written as v[i];
 * refuse any other statement. */
static int scan_collect(lv_scan *s, const vi_stmt *st)
{
  switch (st->kind) {
  case ST_DECL:
    if (is_vec1(st->decl->type) && s->npriv < LV_MAX) {
      s->priv_body[s->npriv] = 1;
      s->priv[s->npriv++] = st->decl;
      return 0;
    }
    if (!is_scalar(st->decl->type) || st->decl->ndims || s->nloc == LV_MAX) return -1;
    s->loc[s->nloc++] = st->decl;
    return 0;
  case ST_ASSIGN: {
    const vi_expr *l = st->lhs;
    if (l->kind == EX_VAR) return in_set(s->loc, s->nloc, l->decl) ? 0 : -1;
    if (!own_elem(s, l) || !is_scalar(l->type)) return collect_priv(s, l);
    const vi_decl *d = root_decl(l);
    if (!d || in_set(s->loc, s->nloc, d) || d == s->var || priv_at(s, d) >= 0
        || in_set(s->inner, s->ninner, d))
      return -1;
    int w = out_at(s, d);
    if (w >= 0) return own_same(s, l, s->pat[w]) ? 0 : -1;
    if (s->nout == LV_MAX) return -1;
    s->pat[s->nout] = l;
    s->out[s->nout++] = d;
    return 0;
  }
  case ST_TILDE: case ST_TARGET: case ST_EMPTY:
    return 0;
  case ST_FOR:   /* an inner loop: unrolled, its variable the same in every iteration */
    if (s->ninner == LV_MAX) return -1;
    s->inner[s->ninner++] = st->decl;
    return scan_collect(s, st->body);
  case ST_BLOCK:
    for (int i = 0; i < st->nstmts; i++)
      if (scan_collect(s, st->stmts[i])) return -1;
    return 0;
  default:
    return -1;
  }
}

/* Second pass: every expression allowed; `~` and `target +=` depend on the iteration
 * (a term independent of it would be added L times: left to the plain loop). */
static int scan_stmt(const lv_scan *s, const vi_stmt *st)
{
  int q;
  switch (st->kind) {
  case ST_DECL:
    if (priv_at(s, st->decl) >= 0) return scan_priv_decl(s, st->decl);
    return st->decl->init && scan_expr(s, st->decl->init) < 0 ? -1 : 0;
  case ST_ASSIGN:
    if (st->lhs->kind == EX_INDEX && priv_at(s, root_decl(st->lhs)) >= 0)
      return priv_elem(s, st->lhs) && scan_expr(s, st->rhs) >= 0 ? 0 : -1;
    /* the fixed indexes of a written element, now that every local and written
     * variable is known (one that reads a variable the loop writes is refused) */
    if (st->lhs->kind == EX_INDEX) {
      int w = out_at(s, root_decl(st->lhs));
      if (w < 0 || !own_same(s, st->lhs, s->pat[w])) return -1;
    }
    return scan_expr(s, st->rhs) < 0 ? -1 : 0;
  case ST_TILDE: {
    if (st->truncated || st->func || st->builtin < 0) return -1;
    int any = 0;
    if ((q = scan_expr(s, st->lhs)) < 0 || !is_scalar(st->lhs->type)) return -1;
    any |= q;
    for (int i = 0; i < st->nargs; i++) {
      if ((q = scan_expr(s, st->args[i])) < 0 || !is_scalar(st->args[i]->type)) return -1;
      any |= q;
    }
    return any ? 0 : -1;
  }
  case ST_TARGET:
    return scan_expr(s, st->rhs) == 1 ? 0 : -1;
  case ST_EMPTY:
    return 0;
  case ST_FOR:   /* the range the same in every iteration */
    if (scan_expr(s, st->lo) != 0 || scan_expr(s, st->hi) != 0) return -1;
    return scan_stmt(s, st->body);
  case ST_BLOCK:
    for (int i = 0; i < st->nstmts; i++)
      if (scan_stmt(s, st->stmts[i])) return -1;
    return 0;
  default:
    return -1;
  }
}

/* ---- the scans, once per loop statement ---------------------------------------------
 * The scan reads the syntax only, so its outcome for a statement never changes: it is
 * kept per evaluation context (each thread has its own, so nothing is shared or written
 * into the AST), with a memo of scan_expr for the expressions the evaluation asks about
 * (lv_eval asks at every node, which would rescan every subtree).  Filled as the loops
 * first run; malloc'd, freed with the context (lv_cache_free).  Without memory for it the
 * scan is simply done again. */

typedef struct lv_plan lv_plan;
struct lv_plan {
  const vi_stmt *st;
  lv_scan s;
  int ok;
  ptr_map memo;   /* scan_expr by expression, its value + 2 (never NULL) */
  /* its inner loops' folds (lv_fold): ok whether foldable, s with the inner variable
   * among the locals */
  lv_plan *sub[LV_MAX]; int nsub;
};

static void plan_free(lv_plan *pl)
{
  for (int j = 0; j < pl->nsub; j++) plan_free(pl->sub[j]);
  ptr_map_clear(&pl->memo);
  free(pl);
}

/* The scan of loop st, done now if not yet; NULL without memory.  (c->lv_cache: the
 * plans by statement.) */
static lv_plan *plan_of(ev_ctx *c, const vi_stmt *st)
{
  void **slot = ptr_map_slot(&c->lv_cache, st);
  if (!slot) return NULL;
  if (*slot) return *slot;
  lv_plan *pl = calloc(1, sizeof *pl);
  if (!pl) return NULL;
  pl->st = st;
  pl->s.var = st->decl;
  pl->ok = !scan_collect(&pl->s, st->body) && !scan_stmt(&pl->s, st->body);
  *slot = pl;
  return pl;
}

void lv_cache_free(ev_ctx *c)
{
  for (size_t i = 0; i < c->lv_cache.cap; i++)
    if (c->lv_cache.val[i]) plan_free(c->lv_cache.val[i]);
  ptr_map_clear(&c->lv_cache);
}

/* ---- evaluation ------------------------------------------------------------------- */

typedef struct lv_term {
  ad_val *v; int lik, sharded; vi_loc loc;
  struct lv_term *next;
} lv_term;

typedef struct lv_run {
  ev_ctx *c;
  const lv_ops *ops;
  const lv_scan *s;
  lv_plan *plan;           /* the scan's memo of scan_expr (NULL: none) */
  size_t n, L, N;          /* draws, iterations, N = L * n */
  long lo;
  lv_term *terms, **tail;
  /* private container k's elements, each a folded scalar (NULL: not written yet in
   * this pass), pm[k] of them; iters: inner loop steps x iterations so far */
  ad_val **pel[LV_MAX]; size_t pm[LV_MAX];
  long iters;
  struct lv_run *outer;    /* a folded inner loop's run: the loop's own (lv_fold) */
} lv_run;

/* The tape's draw count is N while the loop runs (the library's ops make folded
 * values); plain values are evaluated with n (plain_expr). */
static ad_val *plain_expr(lv_run *r, const vi_expr *e)
{
  ad_tape_set_n(r->c->t, r->n);
  ad_val *v = r->ops->expr(r->c, e);
  ad_tape_set_n(r->c->t, r->N);
  return v;
}

/* out[e, s] = u[s] (or u[0] when u does not vary): a value independent of the iteration
 * used in every iteration; its adjoint is the sum over iterations. */
static void bcast_backward(ad_tape *t, ad_node *nd)
{
  (void)t;
  const ad_val *o = nd->out;
  ad_val *u = nd->in[0];
  size_t n = (size_t)nd->iarg[0], L = (size_t)nd->iarg[1];
  for (size_t e = 0; e < L; e++)
    for (size_t s = 0; s < n; s++) u->adj[u->nd == 1 ? 0 : s] += o->adj[e * n + s];
}

static ad_val *bcast(lv_run *r, ad_val *u)
{
  ad_tape *t = r->c->t;
  ad_val *o = ad_new_nd(t, (vi_type){u->type.base, 0, NULL}, 0, NULL, r->N, u->adj != NULL);
  if (!o) return NULL;
  for (size_t e = 0; e < r->L; e++)
    for (size_t s = 0; s < r->n; s++) o->x[e * r->n + s] = u->x[u->nd == 1 ? 0 : s];
  ad_val *in[1] = {u};
  ad_node *nd = ad_push_keep(t, bcast_backward, o, 1, in);
  if (nd) { nd->iarg[0] = (long)r->n; nd->iarg[1] = (long)r->L; }
  return o;
}

/* out[e, s] = v[e]: a value that depends on the iteration only (nd L: data) repeated
 * for every draw, for the library's ops (they take nd 1 or N). */
static void widen_backward(ad_tape *t, ad_node *nd)
{
  (void)t;
  const ad_val *o = nd->out;
  ad_val *v = nd->in[0];
  size_t n = (size_t)nd->iarg[0], L = (size_t)nd->iarg[1];
  for (size_t e = 0; e < L; e++)
    for (size_t s = 0; s < n; s++) v->adj[e] += o->adj[e * n + s];
}

static ad_val *widen(lv_run *r, ad_val *v)
{
  ad_tape *t = r->c->t;
  ad_val *o = ad_new_nd(t, (vi_type){v->type.base, 0, NULL}, 0, NULL, r->N, v->adj != NULL);
  if (!o) return NULL;
  for (size_t e = 0; e < r->L; e++)
    for (size_t s = 0; s < r->n; s++) o->x[e * r->n + s] = v->x[e];
  ad_val *in[1] = {v};
  ad_node *nd = ad_push_keep(t, widen_backward, o, 1, in);
  if (nd) { nd->iarg[0] = (long)r->n; nd->iarg[1] = (long)r->L; }
  return o;
}

/* An operand of the library's ops on folded values (nd 1 or N).  A value that depends
 * on the iteration: as it is, or widened from nd L.  One independent of it: a scalar
 * that does not vary broadcasts as it is; one that varies by draw is repeated per
 * iteration. */
static ad_val *as_operand(lv_run *r, ad_val *u, int lifted)
{
  if (!u) return u;
  if (lifted) return u->nd == 1 || u->nd == r->N ? u : widen(r, u);
  if (type_rank(u->type) != 0 || base_is_complex(u->type.base) || u->len != 1) return NULL;
  return u->nd == 1 || u->nd == r->N ? u : bcast(r, u);
}

static ad_val *lv_eval(lv_run *r, const vi_expr *e, int *lifted);

/* e evaluated as an operand of a folded op */
static ad_val *operand(lv_run *r, const vi_expr *e)
{
  int lf = 0;
  ad_val *v = lv_eval(r, e, &lf);
  return as_operand(r, v, lf);
}

/* A folded value with all N entries (a constant one repeated). */
static ad_val *full(lv_run *r, ad_val *v)
{
  v = as_operand(r, v, 1);
  return v && v->nd != r->N ? bcast(r, v) : v;
}

/* out[e, s] = base[off[e], s]: a gather from a value independent of the iteration;
 * from one that does not vary by draw (data), out[e] only (nd L). */
static void gather_backward(ad_tape *t, ad_node *nd)
{
  (void)t;
  const ad_val *o = nd->out;
  ad_val *b = nd->in[0];
  const size_t *off = nd->ptr;
  size_t n = (size_t)nd->iarg[0], L = (size_t)nd->iarg[1];
  for (size_t e = 0; e < L; e++) {
    double *ba = b->adj + off[e] * b->nd;
    const double *oa = o->adj + e * n;
    if (b->nd == 1) for (size_t s = 0; s < n; s++) ba[0] += oa[s];
    else for (size_t s = 0; s < n; s++) ba[s] += oa[s];
  }
}

static ad_val *gather(lv_run *r, ad_val *b, size_t *off, vi_basetype base)
{
  ad_tape *t = r->c->t;
  size_t ns = b->nd == 1 ? 1 : r->n;
  ad_val *o = ad_new_nd(t, (vi_type){base, 0, NULL}, 0, NULL, r->L * ns, b->adj != NULL);
  if (!o) return NULL;
  if (ns == 1) for (size_t e = 0; e < r->L; e++) o->x[e] = b->x[off[e]];
  else
    for (size_t e = 0; e < r->L; e++) memcpy(o->x + e * ns, b->x + off[e] * ns, ns * sizeof *o->x);
  ad_val *in[1] = {b};
  ad_node *nd = ad_push_keep(t, gather_backward, o, 1, in);
  if (nd) { nd->ptr = off; nd->iarg[0] = (long)ns; nd->iarg[1] = (long)r->L; }
  return o;
}

static size_t *index_off(lv_run *r, const vi_expr *e, ad_val **bp);

/* Mix a decision into the pass's control-flow signature (as eval.c's sig_mix). */
static void sig_mix(ev_ctx *c, unsigned long long v)
{
  c->sig = (c->sig ^ v) * 0x100000001b3ULL + 0x9E3779B97F4A7C15ULL;
}

/* The integer of iteration e of index value v (folded or not): the same in every draw
 * and within 1..size, else -1 (the plain loop then reports it or diverges).  An index
 * of data only (the checker's data_only) is the same in every draw by construction. */
static long index_at(lv_run *r, const ad_val *v, int lf, int data_only, size_t e, size_t size)
{
  /* folded (nd N): row e; per iteration only (nd L): element e; else element 0 */
  size_t nd = v->nd, base = nd == r->N ? e * r->n : nd == 1 || !lf ? 0 : e;
  size_t m = nd == 1 || data_only || (lf && nd != r->N) ? 1 : r->n;
  double x = v->x[base];
  for (size_t s = 1; s < m; s++) if (v->x[base + s] != x) return -1;
  if (data_only) return x >= 1 && x <= (double)size ? (long)x : -1;
  if (!(x >= 1 && x <= (double)size)) return -1;
  sig_mix(r->c, (unsigned long long)x);
  return (long)x;
}

/* base[i1, ..., ik] with indexes that depend on the iteration: full indexing down to a
 * scalar of a value independent of it. */
static ad_val *lv_index(lv_run *r, const vi_expr *e)
{
  ad_val *b;
  size_t *off = index_off(r, e, &b);
  return off ? gather(r, b, off, e->type.base) : NULL;
}

/* lv_index's base (*bp) and the offsets of the elements its iterations read */
static size_t *index_off(lv_run *r, const vi_expr *e, ad_val **bp)
{
  ev_ctx *c = r->c;
  ad_val *b = *bp = plain_expr(r, e->args[0]);
  if (!b || base_is_complex(b->type.base) || b->ndims != e->nindex) return NULL;
  ad_val *ix[AD_MAX_DIMS];
  int lf[AD_MAX_DIMS];
  for (int k = 0; k < e->nindex; k++)
    if (!(ix[k] = lv_eval(r, e->index[k].lo, &lf[k]))) return NULL;
  size_t *off = ad_alloc(c->t, (r->L ? r->L : 1) * sizeof *off);
  if (!off) return NULL;
  int arr = b->type.ndims, rank = b->ndims;
  size_t inner = 1;
  for (int k = arr; k < rank; k++) inner *= b->dims[k];
  for (size_t el = 0; el < r->L; el++) {
    size_t o = 0;
    long p[AD_MAX_DIMS];
    for (int k = 0; k < rank; k++)
      if ((p[k] = index_at(r, ix[k], lf[k], e->index[k].lo->data_only, lf[k] ? el : 0,
                           b->dims[k])) < 0)
        return NULL;
    for (int k = 0; k < arr; k++) o = o * b->dims[k] + (size_t)(p[k] - 1);
    o *= inner;
    if (rank - arr == 1) o += (size_t)(p[arr] - 1);
    else if (rank - arr == 2) o += (size_t)(p[arr] - 1) + (size_t)(p[arr + 1] - 1) * b->dims[arr];
    off[el] = o;
  }
  return off;
}

/* The element an iteration owns (own_elem) of written variable b: per dimension of b,
 * the fixed index's value (the same in every draw) or, at the loop variable's
 * dimension, lo..lo+L-1 (ix; *vdim that dimension); offsets of the L elements in off
 * (NULL: not wanted).  -1 when an index is out of range or differs between draws (the
 * plain loop then reports it). */
static int own_ix(lv_run *r, const vi_expr *e, const ad_val *b, ad_ix *ix, size_t *off)
{
  const vi_expr *fx[AD_MAX_DIMS];
  int n = flat_index(e, fx), vdim = -1;
  if (!b || n != b->ndims || base_is_complex(b->type.base) || b->type.base == VT_TUPLE)
    return -1;
  size_t p[AD_MAX_DIMS];
  for (int k = 0; k < n; k++) {
    memset(&ix[k], 0, sizeof ix[k]);
    if (fx[k]->kind == EX_VAR && fx[k]->decl == r->s->var) {
      if (r->lo < 1 || (size_t)r->lo - 1 + r->L > b->dims[k]) return -1;
      vdim = k;
      p[k] = (size_t)r->lo - 1;
      continue;
    }
    ad_val *v = plain_expr(r, fx[k]);
    if (!v || v->len != 1) return -1;
    long q = index_at(r, v, 0, fx[k]->data_only, 0, b->dims[k]);
    if (q < 0) return -1;
    p[k] = (size_t)q - 1;
    ix[k].pos0 = p[k];
  }
  size_t *pos = ad_alloc(r->c->t, (r->L ? r->L : 1) * sizeof *pos);
  if (vdim < 0 || !pos) return -1;
  for (size_t el = 0; el < r->L; el++) pos[el] = (size_t)r->lo - 1 + el;
  ix[vdim].multi = 1; ix[vdim].pos = pos; ix[vdim].npos = r->L;
  if (!off) return 0;
  /* element order (ad.h): array dims row-major, then vector / matrix column-major */
  int arr = b->type.ndims;
  size_t inner = 1;
  for (int k = arr; k < n; k++) inner *= b->dims[k];
  for (size_t el = 0; el < r->L; el++) {
    size_t o = 0;
    p[vdim] = (size_t)r->lo - 1 + el;
    for (int k = 0; k < arr; k++) o = o * b->dims[k] + p[k];
    o *= inner;
    if (n - arr == 1) o += p[arr];
    else if (n - arr == 2) o += p[arr] + p[arr + 1] * b->dims[arr];
    off[el] = o;
  }
  return 0;
}

/* The elements the iterations own of an outer variable written in the loop, from its
 * current value. */
static ad_val *lv_own(lv_run *r, const vi_expr *e)
{
  ad_val *b = r->c->slot[root_decl(e)->slot];
  ad_ix ix[AD_MAX_DIMS];
  size_t *off = ad_alloc(r->c->t, (r->L ? r->L : 1) * sizeof *off);
  if (!off || own_ix(r, e, b, ix, off)) return NULL;
  return gather(r, b, off, e->type.base);
}

/* An operand as the library's densities take it: a folded value as a length-L vector
 * (int array; as_array: real array) over n draws (nd N) or over none (nd L: the same in
 * every draw), the same memory; a plain scalar as it is. */
static ad_val *unfold(lv_run *r, ad_val *v, int lf, int as_array)
{
  if (!lf || v->nd == 1) return v;   /* the same in every iteration: broadcast */
  ad_val *view = ad_alloc(r->c->t, sizeof *view);
  if (!view) return NULL;
  *view = *v;
  view->type = v->type.base == VT_INT ? (vi_type){VT_INT, 1, NULL}
               : as_array ? (vi_type){VT_REAL, 1, NULL} : (vi_type){VT_VECTOR, 0, NULL};
  view->ndims = 1;
  view->dims[0] = r->L;
  view->len = r->L;
  view->nd = v->nd == r->N ? r->n : 1;
  return view;
}

/* The AD's result over unfolded operands as a folded value: a length-L result over n
 * draws as nd N, over none as nd L (the same memory); a scalar that varies by draw
 * (from operands the same in every iteration) repeated per iteration. */
static ad_val *refold(lv_run *r, ad_val *y)
{
  if (!y) return NULL;
  if (y->ndims == 1 && y->len == r->L) {
    ad_val *view = ad_alloc(r->c->t, sizeof *view);
    if (!view) return NULL;
    *view = *y;
    view->type = (vi_type){y->type.base == VT_INT ? VT_INT : VT_REAL, 0, NULL};
    view->ndims = 0;
    view->len = 1;
    view->nd = y->nd == 1 ? r->L : r->N;
    return view;
  }
  if (y->len != 1) return NULL;
  return y->nd == 1 || y->nd == r->N ? y : bcast(r, y);
}

/* a op b of scalars, folded or plain: the AD's elementwise arithmetic on the unfolded
 * operands (a plain operand broadcasts over the iterations, one that does not vary by
 * draw is read once per iteration), so the same operations as per iteration. */
static ad_val *lv_binary(lv_run *r, vi_op op, ad_val **a, const int *lf)
{
  ad_val *u[2];
  for (int i = 0; i < 2; i++) {
    if (!lf[i] && (type_rank(a[i]->type) != 0 || base_is_complex(a[i]->type.base)
                   || a[i]->len != 1))
      return NULL;
    if (!(u[i] = unfold(r, a[i], lf[i], 1))) return NULL;
  }
  ad_tape_set_n(r->c->t, r->n);
  ad_val *y = ad_elementwise(r->c->t, op, u[0], u[1]);
  ad_tape_set_n(r->c->t, r->N);
  return refold(r, y);
}

/* A density summed over the iterations: the library's vectorised kernel on the
 * unfolded operands (its sum over elements is the sum over iterations, in index
 * order), so per-draw work (log sigma) is done once per draw. */
static ad_val *lv_density(lv_run *r, int id, ad_val **a, const int *lf, int na)
{
  ad_val *u[9];
  int any = 0;
  for (int i = 0; i < na; i++) {
    if (!lf[i] && (type_rank(a[i]->type) != 0 || base_is_complex(a[i]->type.base)
                   || a[i]->len != 1))
      return NULL;   /* scalars only */
    if (lf[i] && a[i]->nd != 1) any = 1;
    if (!(u[i] = unfold(r, a[i], lf[i], 0))) return NULL;
  }
  if (!any) return NULL;
  /* only through a signature that takes these containers (its kernel then does) */
  vi_type ty[9], ret;
  for (int i = 0; i < na; i++) ty[i] = u[i]->type;
  const char *sig = builtin_signature(id);
  if (!sig || builtin_sig_match(sig, ty, na, &ret) != 1 || !is_scalar(ret)) return NULL;
  ad_tape_set_n(r->c->t, r->n);
  ad_val *v = builtin_call(r->c->t, id, u, na);
  ad_tape_set_n(r->c->t, r->N);
  /* a density without a vectorised signature: the elementwise path instead */
  if (!v) ad_tape_clear_error(r->c->t);
  return v;
}

/* builtin id on operands (lf: folded or plain): the kernels above where they apply,
 * else the library's on folded operands. */
static ad_val *lv_call(lv_run *r, int id, ad_val **a, int *lf, int na)
{
  const char *name = builtin_kernel_name(id);
  if (na == 3 && name) {
    int sg_plain = !lf[2] && type_rank(a[2]->type) == 0 && a[2]->len == 1
                   && !base_is_complex(a[2]->type.base);
    int th_plain = !lf[0] && type_rank(a[0]->type) == 0 && a[0]->len == 1
                   && !base_is_complex(a[0]->type.base);
    if (sg_plain && (!strcmp(name, "normal_lpdf") || !strcmp(name, "normal_lupdf")))
      return lvk_normal(r->c->t, r->n, r->L, a, lf);
    if (th_plain && !strcmp(name, "log_mix") && lf[1] && lf[2]) return lvk_log_mix(r->c->t, r->n, r->L, a, lf);
  }
  for (int i = 0; i < na; i++)
    if (!(a[i] = as_operand(r, a[i], lf[i]))) return NULL;
  return builtin_call(r->c->t, id, a, na);
}

/* ---- private containers and inner loops: evaluation -------------------------------- */

static ad_val *lv_value(lv_run *r, const vi_expr *e, vi_basetype want);
static int lv_stmt(lv_run *r, const vi_stmt *st);

/* A plain int (the same in every draw), e.g. an inner loop's bound. */
static int plain_int(lv_run *r, const vi_expr *e, long *out)
{
  ad_val *v = plain_expr(r, e);
  if (!v || v->len != 1 || v->type.base != VT_INT) return -1;
  for (size_t s = 1; s < v->nd; s++) if (v->x[s] != v->x[0]) return -1;
  *out = (long)v->x[0];
  sig_mix(r->c, (unsigned long long)*out);
  return 0;
}

/* The position 0..pm-1 of acc[j] in private container k; -1 when out of range (the plain
 * loop reports it). */
static long priv_pos(lv_run *r, const vi_expr *e, int k)
{
  long j;
  if (!r->pel[k] || plain_int(r, e->index[0].lo, &j) || j < 1 || (size_t)j > r->pm[k]) return -1;
  return j - 1;
}

/* acc[j]: the element as this pass wrote it; NULL (fall back) when not written yet */
static ad_val *lv_priv_get(lv_run *r, const vi_expr *e)
{
  int k = priv_at(r->s, root_decl(e));
  long j = priv_pos(r, e, k);
  return j < 0 ? NULL : r->pel[k][j];
}

/* acc[j] = v, acc[j] op= v */
static int lv_priv_assign(lv_run *r, const vi_stmt *st)
{
  const vi_decl *d = root_decl(st->lhs);
  int k = priv_at(r->s, d);
  long j = priv_pos(r, st->lhs, k);
  ad_val *v;
  if (j < 0 || !(v = lv_value(r, st->rhs, VT_INT))) return -1;
  if (st->op != OP_NONE) {
    ad_val *old = as_operand(r, r->pel[k][j], 1);
    if (!old || !(v = ad_binary(r->c->t, st->op, old, v))) return -1;
  }
  if (v->type.base == VT_INT && d->type.base != VT_INT && !(v = ad_to_real(r->c->t, v)))
    return -1;
  r->pel[k][j] = v;
  return 0;
}

/* A container declared in the body: pm elements, NaN as the plain declaration makes, or
 * the elements of its initial value (the same in every iteration). */
static int lv_priv_decl(lv_run *r, const vi_decl *d)
{
  ad_tape *t = r->c->t;
  int k = priv_at(r->s, d);
  long m;
  /* its one size (scan_priv_decl); a bad one is the plain loop's to report */
  if (plain_int(r, d->type.ndims == 1 ? d->dims[0] : d->size[0], &m) || m < 0
      || (size_t)m > EV_MAX_ELEMS)
    return -1;
  ad_val *nan = ad_scalar(t, NAN, d->type.base == VT_INT);
  r->pm[k] = (size_t)m;
  if (!nan || !(r->pel[k] = ad_alloc(t, (m ? (size_t)m : 1) * sizeof *r->pel[k])))
    return -1;
  for (long q = 0; q < m; q++) r->pel[k][q] = nan;
  if (!d->init) return 0;
  ad_val *v = plain_expr(r, d->init);
  if (!v || v->ndims != 1 || v->len != (size_t)m || base_is_complex(v->type.base)
      || v->type.base == VT_TUPLE)
    return -1;   /* a size mismatch: the plain loop reports it */
  for (long q = 0; q < m; q++) {
    ad_ix ix = {0, (size_t)q, NULL, 0};
    ad_tape_set_n(t, r->n);
    ad_val *el = ad_index(t, v, &ix, 1);
    if (el && el->type.base == VT_INT && d->type.base != VT_INT) el = ad_to_real(t, el);
    ad_tape_set_n(t, r->N);
    if (!(r->pel[k][q] = as_operand(r, el, 0))) return -1;
  }
  return 0;
}

/* Entry q (iteration x draw, or the last iteration's draw s) of a folded element. */
static inline size_t fold_k(const lv_run *r, const ad_val *v, size_t q)
{
  return v->nd == 1 ? 0 : v->nd == r->N ? q : q / r->n;
}

/* The private container's elements stacked as a container of pm elements over the N
 * folded draws (element m of folded draw q at x[m * N + q]), as the library's kernels
 * take a container. */
static void stack_backward(ad_tape *t, ad_node *nd)
{
  (void)t;
  const ad_val *o = nd->out;
  ad_val **el = nd->ptr;
  size_t M = (size_t)nd->iarg[0], N = (size_t)nd->iarg[1], n = (size_t)nd->iarg[2];
  for (size_t m = 0; m < M; m++) {
    ad_val *v = el[m];
    if (!v->adj) continue;
    const double *g = o->adj + m * N;
    if (v->nd == 1) for (size_t q = 0; q < N; q++) v->adj[0] += g[q];
    else if (v->nd == N) for (size_t q = 0; q < N; q++) v->adj[q] += g[q];
    else for (size_t q = 0; q < N; q++) v->adj[q / n] += g[q];
  }
}

static ad_val *lv_stack(lv_run *r, int k)
{
  ad_tape *t = r->c->t;
  const vi_decl *d = r->s->priv[k];
  size_t M = r->pm[k], N = r->N;
  ad_val **el = r->pel[k];
  int adj = 0;
  if (!el) return NULL;
  for (size_t m = 0; m < M; m++) {
    if (!el[m]) return NULL;   /* read before it was written */
    if (el[m]->adj) adj = 1;
  }
  vi_type ty = d->type.ndims == 1 ? (vi_type){d->type.base, 1, NULL}
                                  : (vi_type){d->type.base, 0, NULL};
  ad_val *o = ad_new(t, ty, 1, &M, 1, adj);
  if (!o || o->nd != N) return NULL;
  for (size_t m = 0; m < M; m++)
    for (size_t q = 0; q < N; q++) o->x[m * N + q] = el[m]->x[fold_k(r, el[m], q)];
  ad_node *nd = ad_push_keep(t, stack_backward, o, (int)M, el);
  if (nd) {
    nd->ptr = el;
    nd->iarg[0] = (long)M; nd->iarg[1] = (long)N; nd->iarg[2] = (long)r->n;
  }
  return o;
}

/* f(.., acc, ..): the library's builtin on the stacked container (its kernel and its
 * rounding, once per iteration and draw). */
static ad_val *lv_priv_call(lv_run *r, const vi_expr *e)
{
  ad_val *a[16];
  if (e->nargs > 16) return NULL;
  for (int i = 0; i < e->nargs; i++) {
    const vi_expr *x = e->args[i];
    int k = x->kind == EX_VAR ? priv_at(r->s, x->decl) : -1;
    if (!(a[i] = k >= 0 ? lv_stack(r, k) : operand(r, x))) return NULL;
  }
  return builtin_call(r->c->t, e->builtin, a, e->nargs);
}

static int cmp_size(const void *a, const void *b)
{
  size_t x = *(const size_t *)a, y = *(const size_t *)b;
  return x < y ? -1 : x > y;
}

/* v[a, b] of a variable the loop writes, at another element than the iteration's own:
 * a gather as lv_index, once none of the elements read is one the loop writes (their
 * value is then the one before the loop, whatever the order of the iterations). */
static ad_val *lv_foreign(lv_run *r, const vi_expr *e)
{
  int w = out_at(r->s, root_decl(e));
  ad_val *b, *cur = r->c->slot[root_decl(e)->slot];
  ad_ix ix[AD_MAX_DIMS];
  /* the elements the loop writes (in a folded inner loop: the loop's own iterations) */
  lv_run *ro = r->outer ? r->outer : r;
  size_t *woff = ad_alloc(r->c->t, (ro->L ? ro->L : 1) * sizeof *woff), *off;
  int rc = !woff ? -1 : own_ix(ro, r->s->pat[w], cur, ix, woff);
  ad_tape_set_n(r->c->t, r->N);
  if (rc || !(off = index_off(r, e, &b))) return NULL;
  /* (woff ascends with the iteration; sorted anyway, it costs little) */
  qsort(woff, ro->L, sizeof *woff, cmp_size);
  for (size_t el = 0; el < r->L; el++)
    if (bsearch(&off[el], woff, ro->L, sizeof *woff, cmp_size)) return NULL;
  return gather(r, b, off, e->type.base);
}

/* An expression a folded inner loop may compute: no scalar local or private container
 * of the loop's body (their values are per iteration of the loop only), no element of a
 * written variable but another than the iteration's own (lv_foreign). */
static int fold_expr_ok(const lv_scan *s, const vi_expr *e)
{
  if (!e) return 1;
  if (e->kind == EX_VAR)
    return !in_set(s->loc, s->nloc, e->decl) && priv_at(s, e->decl) < 0;
  if (e->kind == EX_INDEX && root_decl(e)) {
    int w = out_at(s, root_decl(e));
    if (w >= 0 && own_same(s, e, s->pat[w])) return 0;
  }
  for (int i = 0; i < e->nargs; i++) if (!fold_expr_ok(s, e->args[i])) return 0;
  if (e->kind == EX_INDEX)
    for (int k = 0; k < e->nindex; k++)
      if (!fold_expr_ok(s, e->index[k].lo) || !fold_expr_ok(s, e->index[k].hi)) return 0;
  return 1;
}

/* An inner loop whose body only fills private containers at its own variable,
 * acc[j] = expr, from values that do not depend on the body's other statements: its
 * iterations are independent too, so it is folded as a second axis (j-major: element j
 * of the container is the block j of the folded value, the layout lv_stack makes). */
static int fold_ok(const lv_scan *s, const vi_stmt *st)
{
  if (st->kind == ST_BLOCK) {
    for (int i = 0; i < st->nstmts; i++)
      if (!fold_ok(s, st->stmts[i])) return 0;
    return 1;
  }
  if (st->kind != ST_ASSIGN || st->op != OP_NONE) return 0;
  const vi_expr *l = st->lhs;
  return l->kind == EX_INDEX && l->args[0]->kind == EX_VAR && priv_at(s, l->args[0]->decl) >= 0
         && l->nindex == 1 && l->index[0].kind == IX_SINGLE && l->index[0].lo->kind == EX_VAR
         && in_set(s->inner, s->ninner, l->index[0].lo->decl)
         && scan_expr(s, st->rhs) >= 0 && fold_expr_ok(s, st->rhs);
}

static int fold_stmt(lv_run *r2, const vi_stmt *st, long lo, long m)
{
  if (st->kind == ST_BLOCK) {
    for (int i = 0; i < st->nstmts; i++)
      if (fold_stmt(r2, st->stmts[i], lo, m)) return -1;
    return 0;
  }
  lv_run *r = r2->outer;
  const vi_decl *d = root_decl(st->lhs);
  int k = priv_at(r->s, d);
  if (st->lhs->index[0].lo->decl != r2->s->loc[r2->s->nloc - 1]) return -1;   /* this loop's */
  if (!r->pel[k] || lo < 1 || (size_t)(lo - 1 + m) > r->pm[k]) return -1;
  ad_val *v = lv_value(r2, st->rhs, d->type.base == VT_INT ? VT_INT : VT_REAL);
  if (!v || !(v = full(r2, v))) return -1;
  /* element lo + j: block j of the folded value, a view (the same memory) */
  for (long j = 0; j < m; j++) {
    ad_val *el = ad_alloc(r->c->t, sizeof *el);
    if (!el) return -1;
    *el = *v;
    el->x = v->x + (size_t)j * r->N;
    el->adj = v->adj ? v->adj + (size_t)j * r->N : NULL;
    el->nd = r->N;
    el->shared = 1;
    r->pel[k][lo - 1 + j] = el;
  }
  return 0;
}

/* The fold's scan of inner loop st (the loop's scan with st's variable among the locals:
 * it varies along the fold) and whether st folds, kept with the loop's plan; NULL when
 * there is none (then *ok says). */
static lv_plan *fold_plan(lv_run *r, const vi_stmt *st, int *ok)
{
  lv_plan *pl = r->plan, *fp;
  if (pl)
    for (int i = 0; i < pl->nsub; i++)
      if (pl->sub[i]->st == st) { *ok = pl->sub[i]->ok; return pl->sub[i]; }
  *ok = r->s->nloc < LV_MAX && fold_ok(r->s, st->body);
  if (!pl || pl->nsub == LV_MAX || !(fp = calloc(1, sizeof *fp))) return NULL;
  fp->st = st;
  fp->ok = *ok;
  fp->s = *r->s;
  if (fp->ok) fp->s.loc[fp->s.nloc++] = st->decl;
  pl->sub[pl->nsub++] = fp;
  return fp;
}

/* The inner loop folded with the loop: iterations (j, e) at j * L + e. */
static int lv_fold(lv_run *r, lv_plan *fp, const vi_stmt *st, long lo, long m)
{
  ev_ctx *c = r->c;
  ad_tape *t = c->t;
  size_t L2 = r->L * (size_t)m;
  if (L2 > ((size_t)1 << 40) / r->n) return -1;
  lv_scan *s2 = fp ? &fp->s : ad_alloc(t, sizeof *s2);
  if (!s2) return -1;
  if (!fp) {
    *s2 = *r->s;
    s2->loc[s2->nloc++] = st->decl;   /* the inner variable varies along the fold */
  }
  lv_run r2 = *r;
  r2.s = s2; r2.plan = fp; r2.outer = r;
  r2.L = L2; r2.N = L2 * r->n;
  ad_val *kv = ad_new_nd(t, (vi_type){VT_INT, 0, NULL}, 0, NULL, L2, 0);
  ad_val *jv = ad_new_nd(t, (vi_type){VT_INT, 0, NULL}, 0, NULL, L2, 0);
  ad_val *iv = c->slot[r->s->var->slot];
  if (!kv || !jv) return -1;
  for (long j = 0; j < m; j++)
    for (size_t e = 0; e < r->L; e++) {
      kv->x[(size_t)j * r->L + e] = iv->x[e];
      jv->x[(size_t)j * r->L + e] = (double)(lo + j);
    }
  c->slot[r->s->var->slot] = kv;
  c->slot[st->decl->slot] = jv;
  ad_tape_set_n(t, r2.N);
  int rc = fold_stmt(&r2, st->body, lo, m);
  ad_tape_set_n(t, r->N);
  c->slot[r->s->var->slot] = iv;
  c->slot[st->decl->slot] = NULL;
  return rc;
}

/* for (j in lo:hi) body inside the loop: folded as a second axis when its iterations are
 * independent too (lv_fold), else unrolled, each step over all iterations */
static int lv_inner(lv_run *r, const vi_stmt *st)
{
  ev_ctx *c = r->c;
  long lo, hi;
  if (plain_int(r, st->lo, &lo) || plain_int(r, st->hi, &hi)) return -1;
  if (hi < lo) return 0;
  long m = hi - lo + 1;
  int fok = 0;
  lv_plan *fp = r->outer ? NULL : fold_plan(r, st, &fok);
  if (!r->outer && fok) {
    if (m > (EV_MAX_LOOP_ITERS - c->loop_iters - r->iters) / (long)r->L) return -1;
    r->iters += m * (long)r->L;
    return lv_fold(r, fp, st, lo, m);
  }
  /* statement executions: m unrolled over L iterations, or L plain ones whose inner loop
   * may run as vector ops of m: the fewer (a short inner loop is always unrolled) */
  if (m > (long)r->L && m > LV_UNROLL_MIN) return -1;
  if (m > (EV_MAX_LOOP_ITERS - c->loop_iters - r->iters) / (long)r->L) return -1;
  r->iters += m * (long)r->L;
  for (long j = lo; j <= hi; j++) {
    ad_val *jv = ad_scalar(c->t, (double)j, 1);
    if (!jv) return -1;
    c->slot[st->decl->slot] = jv;
    if (lv_stmt(r, st->body)) return -1;
  }
  return 0;
}

/* A privatised container after the loop: the last iteration's value of each element it
 * wrote, the value before the loop of the others (as the plain loop leaves it). */
static void final_backward(ad_tape *t, ad_node *nd)
{
  (void)t;
  const ad_val *o = nd->out;
  ad_val **el = nd->ptr, *cur = nd->in[0];
  size_t M = o->len, n = (size_t)nd->iarg[0], L = (size_t)nd->iarg[1], N = n * L;
  for (size_t m = 0; m < M; m++) {
    ad_val *v = el[m] ? el[m] : cur;
    if (!v->adj) continue;
    for (size_t s = 0; s < n; s++) {
      double g = o->adj[m * n + s];
      if (!el[m]) v->adj[m * cur->nd + (cur->nd == 1 ? 0 : s)] += g;
      else v->adj[v->nd == 1 ? 0 : v->nd == N ? (L - 1) * n + s : L - 1] += g;
    }
  }
}

static int lv_priv_final(lv_run *r, int k)
{
  ev_ctx *c = r->c;
  ad_tape *t = c->t;
  ad_val *cur = c->slot[r->s->priv[k]->slot], **el = r->pel[k];
  size_t M = r->pm[k], n = r->n, L = r->L, N = r->N;
  int any = 0, adj = cur->adj != NULL;
  for (size_t m = 0; m < M; m++)
    if (el[m]) { any = 1; adj |= el[m]->adj != NULL; }
  if (!any) return 0;
  ad_val **in = ad_alloc(t, (M + 1) * sizeof *in);
  ad_val *o = ad_new(t, cur->type, cur->ndims, cur->dims, 1, adj);
  if (!in || !o || o->nd != n) return -1;
  in[0] = cur;
  for (size_t m = 0; m < M; m++) {
    ad_val *v = el[m];
    in[m + 1] = v ? v : cur;
    for (size_t s = 0; s < n; s++)
      o->x[m * n + s] = !v ? cur->x[m * cur->nd + (cur->nd == 1 ? 0 : s)]
                      : v->x[v->nd == 1 ? 0 : v->nd == N ? (L - 1) * n + s : L - 1];
  }
  ad_node *nd = ad_push_keep(t, final_backward, o, (int)M + 1, in);
  if (nd) { nd->ptr = el; nd->iarg[0] = (long)n; nd->iarg[1] = (long)L; }
  c->slot[r->s->priv[k]->slot] = o;
  return 0;
}

/* scan_expr(s, e) of the run's loop, remembered */
static int scan_memo(lv_run *r, const vi_expr *e)
{
  if (!r->plan) return scan_expr(r->s, e);
  void **slot = ptr_map_slot(&r->plan->memo, e);
  if (!slot) return scan_expr(r->s, e);
  if (!*slot) *slot = (void *)(intptr_t)(scan_expr(r->s, e) + 2);
  return (int)(intptr_t)*slot - 2;
}

/* Evaluate e: *lifted 1 for a folded value (nd N or 1, len 1), 0 for a plain one. */
static ad_val *lv_eval(lv_run *r, const vi_expr *e, int *lifted)
{
  ev_ctx *c = r->c;
  ad_tape *t = c->t;
  if (scan_memo(r, e) == 0) { *lifted = 0; return plain_expr(r, e); }
  *lifted = 1;
  ad_val *a[16];
  switch (e->kind) {
  case EX_VAR:
    return c->slot[e->decl->slot];
  case EX_INDEX: {
    const vi_decl *d = root_decl(e);
    int w = d ? out_at(r->s, d) : -1;
    if (d && priv_at(r->s, d) >= 0) return lv_priv_get(r, e);
    if (w < 0) return lv_index(r, e);
    return own_same(r->s, e, r->s->pat[w]) ? lv_own(r, e) : lv_foreign(r, e);
  }
  case EX_UNARY:
    if (!(a[0] = operand(r, e->args[0]))) return NULL;
    return ad_unary(t, e->op, a[0]);
  case EX_BINARY: {
    int lfs[2];
    for (int i = 0; i < 2; i++)
      if (!(a[i] = lv_eval(r, e->args[i], &lfs[i]))) return NULL;
    if (!is_scalar(e->args[0]->type) || !is_scalar(e->args[1]->type)) return NULL;
    return lv_binary(r, e->op, a, lfs);
  }
  case EX_CALL: {
    int lfs[16];
    if (e->nargs > 16) return NULL;
    if (priv_call(r->s, e) > 0) return lv_priv_call(r, e);
    for (int i = 0; i < e->nargs; i++)
      if (!(a[i] = lv_eval(r, e->args[i], &lfs[i]))) return NULL;
    return lv_call(r, e->builtin, a, lfs, e->nargs);
  }
  default:
    return NULL;
  }
}

/* A folded value as a plain lifted one, int -> real when want is real. */
static ad_val *lv_value(lv_run *r, const vi_expr *e, vi_basetype want)
{
  ad_val *v = operand(r, e);
  if (v && v->type.base == VT_INT && want != VT_INT) v = ad_to_real(r->c->t, v);
  return v;
}

/* sum over iterations, per draw */
static void isum_backward(ad_tape *t, ad_node *nd)
{
  (void)t;
  const ad_val *o = nd->out;
  ad_val *a = nd->in[0];
  size_t n = (size_t)nd->iarg[0], L = (size_t)nd->iarg[1];
  for (size_t e = 0; e < L; e++)
    for (size_t s = 0; s < n; s++) a->adj[e * n + s] += o->adj[o->nd == 1 ? 0 : s];
}

/* Hold a term (per draw) until the loop has stood. */
static int defer(lv_run *r, ad_val *v, int lik, int sharded, vi_loc loc)
{
  lv_term *tm = ad_alloc(r->c->t, sizeof *tm);
  if (!tm) return -1;
  tm->v = v; tm->lik = lik; tm->sharded = sharded; tm->loc = loc; tm->next = NULL;
  *r->tail = tm;
  r->tail = &tm->next;
  return 0;
}

static int add_term(lv_run *r, ad_val *v, int lik, int sharded, vi_loc loc)
{
  ad_tape *t = r->c->t;
  if (!(v = full(r, v))) return -1;
  ad_val *o = ad_new_nd(t, (vi_type){VT_REAL, 0, NULL}, 0, NULL, r->n, v->adj != NULL);
  if (!o) return -1;
  for (size_t s = 0; s < r->n; s++) o->x[s] = 0;
  for (size_t e = 0; e < r->L; e++)
    for (size_t s = 0; s < r->n; s++) o->x[s] += v->x[e * r->n + s];
  ad_val *in[1] = {v};
  ad_node *nd = ad_push(t, isum_backward, o, 1, in);
  if (nd) { nd->iarg[0] = (long)r->n; nd->iarg[1] = (long)r->L; }
  return defer(r, o, lik, sharded, loc);
}

/* m[i] = value (or x[k, i] = value ...): the elements the iterations own (own_ix) of
 * the current value of lhs's variable */
static int scatter(lv_run *r, const vi_expr *lhs, ad_val *v)
{
  ev_ctx *c = r->c;
  const vi_decl *d = root_decl(lhs);
  ad_val *cur = c->slot[d->slot];
  ad_ix ix[AD_MAX_DIMS];
  if (!cur || own_ix(r, lhs, cur, ix, NULL) || !(v = full(r, v))) return -1;
  /* the folded value seen as a length-L container over n draws: the same memory */
  ad_val *view = ad_alloc(c->t, sizeof *view);
  if (!view) return -1;
  *view = *v;
  if (cur->ndims == 1 && r->lo == 1 && r->L == cur->dims[0]) {
    /* every element written: the new value is the folded one itself (shared: a later
     * write into the variable copies first, the folded value may be used elsewhere) */
    view->type = cur->type;
    view->ndims = 1;
    view->dims[0] = r->L;
    view->len = r->L;
    view->nd = r->n;
    view->shared = 1;
    c->slot[d->slot] = view;
    return 0;
  }
  view->type = (vi_type){v->type.base == VT_INT ? VT_INT : VT_REAL, 1, NULL};
  if (cur->type.ndims == 0) view->type = (vi_type){VT_VECTOR, 0, NULL};
  view->ndims = 1;
  view->dims[0] = r->L;
  view->len = r->L;
  view->nd = r->n;
  ad_tape_set_n(c->t, r->n);   /* the container is a plain value */
  ad_val *nv = ad_assign_index(c->t, cur, ix, cur->ndims, view);
  ad_tape_set_n(c->t, r->N);
  if (!nv) return -1;
  c->slot[d->slot] = nv;
  return 0;
}

static int lv_stmt(lv_run *r, const vi_stmt *st)
{
  ev_ctx *c = r->c;
  ad_tape *t = c->t;
  ad_val *v;
  switch (st->kind) {
  case ST_DECL: {
    const vi_decl *d = st->decl;
    if (priv_at(r->s, d) >= 0) return lv_priv_decl(r, d);
    if (d->init) v = lv_value(r, d->init, d->type.base);
    else if ((v = ad_scalar(t, 0, d->type.base == VT_INT))) v->x[0] = NAN;
    if (!v) return -1;
    c->slot[d->slot] = v;
    return 0;
  }
  case ST_ASSIGN: {
    const vi_expr *l = st->lhs;
    const vi_decl *d = l->kind == EX_VAR ? l->decl : root_decl(l);
    ad_val *old = NULL;
    if (l->kind == EX_INDEX && priv_at(r->s, d) >= 0) return lv_priv_assign(r, st);
    if (!(v = lv_value(r, st->rhs, VT_INT))) return -1;
    if (st->op != OP_NONE) {
      if (l->kind == EX_VAR) old = c->slot[d->slot];
      else old = lv_own(r, l);
      if (!(old = as_operand(r, old, 1)) || !(v = ad_binary(t, st->op, old, v))) return -1;
    }
    vi_basetype want = l->kind == EX_VAR ? d->type.base : l->type.base;
    if (v->type.base == VT_INT && want != VT_INT && !(v = ad_to_real(t, v)))
      return -1;
    if (l->kind == EX_VAR) { c->slot[d->slot] = v; return 0; }
    return scatter(r, l, v);
  }
  case ST_TILDE: {
    ad_val *a[9];
    int na = st->nargs + 1, lfs[9];
    if (na > 9) return -1;
    if (!(a[0] = lv_eval(r, st->lhs, &lfs[0]))) return -1;
    for (int i = 0; i < st->nargs; i++)
      if (!(a[i + 1] = lv_eval(r, st->args[i], &lfs[i + 1]))) return -1;
    /* the per-iteration terms' sum straight from the library's vectorised density */
    if ((v = lv_density(r, st->builtin, a, lfs, na))) return defer(r, v, st->is_likelihood, st->shard_term, st->loc);
    if (!(v = lv_call(r, st->builtin, a, lfs, na))) return -1;
    return add_term(r, v, st->is_likelihood, st->shard_term, st->loc);
  }
  case ST_TARGET:
    if (!(v = lv_value(r, st->rhs, VT_REAL))) return -1;
    return add_term(r, v, st->is_likelihood, st->shard_term, st->loc);
  case ST_EMPTY:
    return 0;
  case ST_FOR:
    return lv_inner(r, st);
  case ST_BLOCK:
    for (int i = 0; i < st->nstmts; i++)
      if (lv_stmt(r, st->stmts[i])) return -1;
    return 0;
  default:
    return -1;
  }
}

/* The elements of written variable out[i] that the iterations own, as they were before
 * the loop (offsets and values), for a write in place that a fall back undoes: a copy
 * of the whole variable at every execution of the loop would cost its size each time
 * (the forward algorithm's gamma[N, K], written a row per t, copied N times).  -1 when
 * they cannot be known before the loop runs (the value is then written by copy). */
typedef struct lv_undo { size_t *off; double *x; } lv_undo;

static int undo_save(lv_run *r, int i, ad_val *cur, lv_undo *u)
{
  const lv_scan *s = r->s;
  ad_ix ix[AD_MAX_DIMS];
  u->x = NULL;
  if (cur->shared || cur->persistent || cur->type.base == VT_TUPLE
      || mentions(s->pat[i], s->inner, s->ninner) || mentions(s->pat[i], s->loc, s->nloc))
    return -1;
  size_t nd = cur->nd;
  u->off = ad_alloc(r->c->t, (r->L ? r->L : 1) * sizeof *u->off);
  double *x = ad_alloc(r->c->t, (r->L ? r->L : 1) * nd * sizeof *x);
  int rc = !u->off || !x ? -1 : own_ix(r, s->pat[i], cur, ix, u->off);
  ad_tape_set_n(r->c->t, r->n);   /* (own_ix's plain evaluations leave it at N) */
  if (rc) return -1;
  for (size_t e = 0; e < r->L; e++)
    memcpy(x + e * nd, cur->x + u->off[e] * nd, nd * sizeof *x);
  u->x = x;
  return 0;
}

int ev_for_vector(ev_ctx *c, const lv_ops *ops, const vi_stmt *st, long lo, long hi)
{
  /* (in a masked branch, predicate.c, the scatters would write unmasked) */
  if (c->no_loop_vec || c->explain || c->mask) return EV_LOOP_PLAIN;
  lv_scan s;
  lv_plan *pl = plan_of(c, st);
  if (pl && !pl->ok) return EV_LOOP_PLAIN;
  if (pl) {
    s = pl->s;
  } else {
    memset(&s, 0, sizeof s);
    s.var = st->decl;
    if (scan_collect(&s, st->body) || scan_stmt(&s, st->body)) return EV_LOOP_PLAIN;
  }
  if (hi < lo) return 0;
  size_t L = (size_t)(hi - lo) + 1, n = ad_tape_n(c->t);
  if (c->loop_iters + (long)L > EV_MAX_LOOP_ITERS || L > ((size_t)1 << 40) / n)
    return EV_LOOP_PLAIN;

  ad_tape *t = c->t;
  ad_mark mark;
  ad_tape_mark(t, &mark, 0);
  unsigned long long sig = c->sig;
  ad_val *saved[LV_MAX], *psaved[LV_MAX];
  lv_run r = {c, ops, &s, pl, n, L, L * n, lo, NULL, NULL, {NULL}, {0}, 0, NULL};
  r.tail = &r.terms;
  lv_undo undo[LV_MAX];
  for (int i = 0; i < s.nout; i++) {
    saved[i] = c->slot[s.out[i]->slot];
    /* written in place with the elements it writes saved, or else by copy, so that a
     * fall back finds the value as it was */
    if (saved[i] && undo_save(&r, i, saved[i], &undo[i])) saved[i]->shared = 1;
  }
  int ok = 1;
  /* privatised containers: as many elements as the variable has, none written yet */
  for (int k = 0; k < s.npriv; k++) {
    ad_val *cur = psaved[k] = s.priv_body[k] ? NULL : c->slot[s.priv[k]->slot];
    if (s.priv_body[k]) continue;
    if (!cur || cur->ndims != 1 || base_is_complex(cur->type.base)
        || !(r.pel[k] = ad_alloc(t, (cur->len ? cur->len : 1) * sizeof *r.pel[k]))) {
      ok = 0;
      break;
    }
    r.pm[k] = cur->len;
    memset(r.pel[k], 0, (cur->len ? cur->len : 1) * sizeof *r.pel[k]);
  }
  /* the loop variable: one value per iteration, the same in every draw (nd L) */
  ad_val *iv = ad_new_nd(t, (vi_type){VT_INT, 0, NULL}, 0, NULL, L, 0);
  if (iv && ok) {
    for (size_t e = 0; e < L; e++) iv->x[e] = (double)(lo + (long)e);
    c->slot[s.var->slot] = iv;
    ad_tape_set_n(t, r.N);
    ok = lv_stmt(&r, st->body) == 0 && !ad_tape_error(t) && !c->rc;
    ad_tape_set_n(t, n);
    for (int k = 0; ok && k < s.npriv; k++)
      if (!s.priv_body[k] && lv_priv_final(&r, k)) ok = 0;
    ok = ok && !ad_tape_error(t) && !c->rc;
  } else {
    ok = 0;
  }
  for (int i = 0; i < s.nloc; i++) c->slot[s.loc[i]->slot] = NULL;
  for (int i = 0; i < s.ninner; i++) c->slot[s.inner[i]->slot] = NULL;
  c->slot[s.var->slot] = NULL;
  if (!ok) {
    /* out of memory: reported, not retried (a retry that fits would give a result that
     * differs in the last bits from the one that did not fail) */
    const char *te = ad_tape_error(t);
    if (c->rc == VI_ENOMEM || (te && strstr(te, "out of memory"))) {
      if (c->rc != VI_ENOMEM) {
        front_error_at(&c->err, VI_ENOMEM, c->ast, st->loc, "%s", te);
        c->err.status = VI_ENOMEM;
        c->rc = VI_ENOMEM;
      }
      return VI_ENOMEM;
    }
    /* not as expected: forget the attempt, the plain loop does it (and reports) */
    for (int i = 0; i < s.nout; i++)
      if (saved[i] && undo[i].x)
        for (size_t e = 0; e < L; e++)
          memcpy(saved[i]->x + undo[i].off[e] * saved[i]->nd, undo[i].x + e * saved[i]->nd,
                 saved[i]->nd * sizeof *undo[i].x);
    ad_tape_release(t, &mark);
    ad_tape_clear_error(t);
    for (int i = 0; i < s.nout; i++) c->slot[s.out[i]->slot] = saved[i];
    for (int k = 0; k < s.npriv; k++)
      if (!s.priv_body[k]) c->slot[s.priv[k]->slot] = psaved[k];
    c->rc = 0;
    c->sig = sig;
    return EV_LOOP_PLAIN;
  }
  /* (the mark was a snapshot only: nothing to close) */
  c->loop_iters += (long)L + r.iters;
  c->loops_vec++;
  for (lv_term *tm = r.terms; tm; tm = tm->next) {
    int rc = ops->add_term(c, tm->v, tm->lik, tm->sharded, tm->loc);
    if (rc) return rc;
  }
  return 0;
}
