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
 * control flow.  Anything else, and anything that goes wrong while the loop runs (an
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
#include <stdlib.h>
#include <string.h>
#include <vi/status.h>
#include "lang/front/front.h"
#include "lang/lib/lib.h"
#include "lang/ad/ad_kernels.h"
#include "lang/back/back.h"

/* Most scalar locals and written outer variables one loop may have (more: not tried). */
#define LV_MAX 32

typedef struct lv_scan {
  const vi_decl *var;                      /* the loop variable */
  const vi_decl *loc[LV_MAX]; int nloc;    /* scalar locals declared in the body */
  const vi_decl *out[LV_MAX]; int nout;    /* outer variables written as v[i] */
  const vi_expr *pat[LV_MAX];              /* out[k]'s element as first written */
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
    return 0;
  case EX_INDEX: {
    int w = root_decl(e) ? out_at(s, root_decl(e)) : -1;
    if (w >= 0) {
      if (!own_same(s, e, s->pat[w])) return -1;
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

/* First pass: collect the body's scalar locals and the outer variables written as v[i];
 * refuse any other statement. */
static int scan_collect(lv_scan *s, const vi_stmt *st)
{
  switch (st->kind) {
  case ST_DECL:
    if (!is_scalar(st->decl->type) || st->decl->ndims || s->nloc == LV_MAX) return -1;
    s->loc[s->nloc++] = st->decl;
    return 0;
  case ST_ASSIGN: {
    const vi_expr *l = st->lhs;
    if (l->kind == EX_VAR) return in_set(s->loc, s->nloc, l->decl) ? 0 : -1;
    if (!own_elem(s, l) || !is_scalar(l->type)) return -1;
    const vi_decl *d = root_decl(l);
    if (!d || in_set(s->loc, s->nloc, d) || d == s->var) return -1;
    int w = out_at(s, d);
    if (w >= 0) return own_same(s, l, s->pat[w]) ? 0 : -1;
    if (s->nout == LV_MAX) return -1;
    s->pat[s->nout] = l;
    s->out[s->nout++] = d;
    return 0;
  }
  case ST_TILDE: case ST_TARGET: case ST_EMPTY:
    return 0;
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
    return st->decl->init && scan_expr(s, st->decl->init) < 0 ? -1 : 0;
  case ST_ASSIGN:
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
  case ST_BLOCK:
    for (int i = 0; i < st->nstmts; i++)
      if (scan_stmt(s, st->stmts[i])) return -1;
    return 0;
  default:
    return -1;
  }
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
  size_t n, L, N;          /* draws, iterations, N = L * n */
  long lo;
  lv_term *terms, **tail;
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
  ev_ctx *c = r->c;
  ad_val *b = plain_expr(r, e->args[0]);
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
  return gather(r, b, off, e->type.base);
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

/* ---- two kernels that keep per-draw work per draw ----------------------------------
 * normal_lpdf with one sigma per draw and log_mix with one theta per draw, as the
 * library's kernels compute them for one element (the same operations in the same
 * order, so the same values), but with log(sigma) and log(theta), log1m(theta) taken
 * once per draw instead of once per iteration and draw (they are most of the cost of a
 * mixture).  Operands: folded (lf 1) or plain (lf 0) scalars. */

/* Operands: folded (lf, nd N: e * n + s), per iteration only (lf, nd L: e), per draw
 * (nd n: s) or constant (nd 1). */
static inline size_t opk(const ad_val *v, int lf, size_t e, size_t s, size_t n, size_t N)
{
  return v->nd == 1 ? 0 : !lf ? s : v->nd == N ? e * n + s : e;
}

static inline double opx(const ad_val *v, int lf, size_t e, size_t s, size_t n, size_t N)
{
  return v->x[opk(v, lf, e, s, n, N)];
}

static inline double *opadj(const ad_val *v, int lf, size_t e, size_t s, size_t n, size_t N)
{
  return v->adj + opk(v, lf, e, s, n, N);
}

/* Operand v of iteration e as a row over the draws: row[s * *ds] */
static inline const double *oprow(const ad_val *v, int lf, size_t e, size_t n, size_t N,
                                  size_t *ds)
{
  *ds = v->nd == 1 || (lf && v->nd != N) ? 0 : 1;
  return v->x + opk(v, lf, e, 0, n, N);
}

static inline double *adjrow(const ad_val *v, int lf, size_t e, size_t n, size_t N)
{
  return v->adj + opk(v, lf, e, 0, n, N);
}

static const double LV_LOG_SQRT_2PI = 0.918938533204672741780329736406;

static void normal_backward(ad_tape *t, ad_node *nd)
{
  (void)t;
  const ad_val *o = nd->out;
  ad_val *y = nd->in[0], *mu = nd->in[1], *sg = nd->in[2];
  const double *isg = nd->saved;
  size_t n = (size_t)nd->iarg[0], L = (size_t)nd->iarg[1], N = n * L, dy, dm;
  size_t dsg = sg->nd == 1 ? 0 : 1;
  int ly = (int)(nd->iarg[2] & 1), lm = (int)(nd->iarg[2] >> 1 & 1);
  for (size_t e = 0; e < L; e++) {
    const double *yr = oprow(y, ly, e, n, N, &dy), *mr = oprow(mu, lm, e, n, N, &dm);
    const double *g = o->adj + e * n;
    double *ya = y->adj ? adjrow(y, ly, e, n, N) : NULL, *ma = mu->adj ? adjrow(mu, lm, e, n, N) : NULL;
    for (size_t s = 0; s < n; s++) {
      double z = (yr[s * dy] - mr[s * dm]) * isg[s], gz = g[s] * (z * isg[s]);
      if (ya) ya[s * dy] -= gz;
      if (ma) ma[s * dm] += gz;
      if (sg->adj && sg->x[s * dsg] > 0) sg->adj[s * dsg] += g[s] * (z * z * isg[s] - isg[s]);
    }
  }
}

static ad_val *fast_normal(lv_run *r, ad_val **a, const int *lf)
{
  ad_tape *t = r->c->t;
  size_t n = r->n, L = r->L, N = r->N;
  ad_val *y = a[0], *mu = a[1], *sg = a[2];
  double *isg = ad_alloc(t, 2 * n * sizeof *isg), *lsg = isg + n;
  ad_val *o = ad_new_nd(t, (vi_type){VT_REAL, 0, NULL}, 0, NULL, r->N,
                        y->adj || mu->adj || sg->adj);
  if (!isg || !o) return NULL;
  for (size_t s = 0; s < n; s++) {
    double sigma = sg->x[sg->nd == 1 ? 0 : s];
    isg[s] = sigma > 0 ? 1.0 / sigma : isnan(sigma) ? sigma : 0;
    lsg[s] = log(sigma) + LV_LOG_SQRT_2PI;
  }
  size_t dy, dm, dsg = sg->nd == 1 ? 0 : 1;
  for (size_t e = 0; e < L; e++) {
    const double *yr = oprow(y, lf[0], e, n, N, &dy), *mr = oprow(mu, lf[1], e, n, N, &dm);
    double *ox = o->x + e * n;
    for (size_t s = 0; s < n; s++) {
      double z = (yr[s * dy] - mr[s * dm]) * isg[s];
      double acc = 0;
      acc -= 0.5 * z * z;
      ox[s] = sg->x[s * dsg] <= 0 ? -INFINITY : acc - lsg[s];
    }
  }
  ad_val *in[3] = {y, mu, sg};
  ad_node *nd = ad_push(t, normal_backward, o, 3, in);
  if (nd) {
    nd->saved = isg;
    nd->iarg[0] = (long)n; nd->iarg[1] = (long)L; nd->iarg[2] = lf[0] | lf[1] << 1;
  }
  return o;
}

static void mix_backward(ad_tape *t, ad_node *nd)
{
  (void)t;
  const ad_val *o = nd->out;
  ad_val *th = nd->in[0], *a = nd->in[1], *b = nd->in[2];
  const double *rr = nd->saved;
  size_t n = (size_t)nd->iarg[0], L = (size_t)nd->iarg[1], N = n * L;
  int la = (int)(nd->iarg[2] & 1), lb = (int)(nd->iarg[2] >> 1 & 1);
  for (size_t e = 0; e < L; e++)
    for (size_t s = 0; s < n; s++) {
      size_t k = e * n + s;
      double g = o->adj[k], r1 = rr[k], r2 = rr[N + k];
      if (g == 0) continue;
      if (a->adj) *opadj(a, la, e, s, n, N) += g * r1;
      if (b->adj) *opadj(b, lb, e, s, n, N) += g * r2;
      if (th->adj) {
        double x = th->x[th->nd == 1 ? 0 : s];
        *opadj(th, 0, e, s, n, N) += g * (r1 / x - r2 / (1 - x));
      }
    }
}

static ad_val *fast_log_mix(lv_run *r, ad_val **a, const int *lf)
{
  ad_tape *t = r->c->t;
  size_t n = r->n, L = r->L, N = r->N;
  ad_val *th = a[0], *A = a[1], *B = a[2];
  int adj = th->adj || A->adj || B->adj;
  double *lt = ad_alloc(t, 2 * n * sizeof *lt), *rr = NULL;
  ad_val *o = ad_new_nd(t, (vi_type){VT_REAL, 0, NULL}, 0, NULL, N, adj);
  if (!lt || !o) return NULL;
  if (o->adj && !(rr = ad_alloc(t, 2 * N * sizeof *rr))) return NULL;
  for (size_t s = 0; s < n; s++) {
    double x = th->x[th->nd == 1 ? 0 : s];
    lt[s] = log(x);
    lt[n + s] = log1p(-x);
  }
  for (size_t e = 0; e < L; e++)
    for (size_t s = 0; s < n; s++) {
      double x = th->x[th->nd == 1 ? 0 : s];
      double xa = lt[s] + opx(A, lf[1], e, s, n, N), xb = lt[n + s] + opx(B, lf[2], e, s, n, N);
      double v, r1 = 0, r2 = 0;
      if (x < 0 || x > 1 || isnan(xa) || isnan(xb)) v = NAN;
      else if (xa == -INFINITY && xb == -INFINITY) v = -INFINITY;
      else if (xa == INFINITY || xb == INFINITY) v = INFINITY;
      else {
        int a_big = xa >= xb;
        double ex = exp(a_big ? xb - xa : xa - xb), w = 1.0 / (1.0 + ex);
        v = (a_big ? xa : xb) + log1p(ex);
        r1 = a_big ? w : ex * w;
        r2 = a_big ? ex * w : w;
      }
      size_t k = e * n + s;
      o->x[k] = v;
      if (rr) { rr[k] = r1; rr[N + k] = r2; }
    }
  ad_val *in[3] = {th, A, B};
  ad_node *nd = rr ? ad_push(t, mix_backward, o, 3, in) : NULL;
  if (nd) {
    nd->saved = rr;
    nd->iarg[0] = (long)n; nd->iarg[1] = (long)L; nd->iarg[2] = lf[1] | lf[2] << 1;
  }
  return o;
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
      return fast_normal(r, a, lf);
    if (th_plain && !strcmp(name, "log_mix") && lf[1] && lf[2]) return fast_log_mix(r, a, lf);
  }
  for (int i = 0; i < na; i++)
    if (!(a[i] = as_operand(r, a[i], lf[i]))) return NULL;
  return builtin_call(r->c->t, id, a, na);
}

/* Evaluate e: *lifted 1 for a folded value (nd N or 1, len 1), 0 for a plain one. */
static ad_val *lv_eval(lv_run *r, const vi_expr *e, int *lifted)
{
  ev_ctx *c = r->c;
  ad_tape *t = c->t;
  if (scan_expr(r->s, e) == 0) { *lifted = 0; return plain_expr(r, e); }
  *lifted = 1;
  ad_val *a[16];
  switch (e->kind) {
  case EX_VAR:
    return c->slot[e->decl->slot];
  case EX_INDEX:
    return root_decl(e) && in_set(r->s->out, r->s->nout, root_decl(e))
               ? lv_own(r, e) : lv_index(r, e);
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
  case ST_BLOCK:
    for (int i = 0; i < st->nstmts; i++)
      if (lv_stmt(r, st->stmts[i])) return -1;
    return 0;
  default:
    return -1;
  }
}

int ev_for_vector(ev_ctx *c, const lv_ops *ops, const vi_stmt *st, long lo, long hi)
{
  /* (in a masked branch, predicate.c, the scatters would write unmasked) */
  if (c->no_loop_vec || c->explain || c->mask) return EV_LOOP_PLAIN;
  lv_scan s;
  memset(&s, 0, sizeof s);
  s.var = st->decl;
  if (scan_collect(&s, st->body) || scan_stmt(&s, st->body)) return EV_LOOP_PLAIN;
  if (hi < lo) return 0;
  size_t L = (size_t)(hi - lo) + 1, n = ad_tape_n(c->t);
  if (c->loop_iters + (long)L > EV_MAX_LOOP_ITERS || L > ((size_t)1 << 40) / n)
    return EV_LOOP_PLAIN;

  ad_tape *t = c->t;
  ad_mark mark;
  ad_tape_mark(t, &mark, 0);
  unsigned long long sig = c->sig;
  ad_val *saved[LV_MAX];
  for (int i = 0; i < s.nout; i++) {
    saved[i] = c->slot[s.out[i]->slot];
    /* written by copy, so that a fall back finds the value as it was */
    if (saved[i]) saved[i]->shared = 1;
  }
  lv_run r = {c, ops, &s, n, L, L * n, lo, NULL, NULL};
  r.tail = &r.terms;
  int ok = 0;
  /* the loop variable: one value per iteration, the same in every draw (nd L) */
  ad_val *iv = ad_new_nd(t, (vi_type){VT_INT, 0, NULL}, 0, NULL, L, 0);
  if (iv) {
    for (size_t e = 0; e < L; e++) iv->x[e] = (double)(lo + (long)e);
    c->slot[s.var->slot] = iv;
    ad_tape_set_n(t, r.N);
    ok = lv_stmt(&r, st->body) == 0 && !ad_tape_error(t) && !c->rc;
    ad_tape_set_n(t, n);
  }
  for (int i = 0; i < s.nloc; i++) c->slot[s.loc[i]->slot] = NULL;
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
    ad_tape_release(t, &mark);
    ad_tape_clear_error(t);
    for (int i = 0; i < s.nout; i++) c->slot[s.out[i]->slot] = saved[i];
    c->rc = 0;
    c->sig = sig;
    return EV_LOOP_PLAIN;
  }
  /* (the mark was a snapshot only: nothing to close) */
  c->loop_iters += (long)L;
  c->loops_vec++;
  for (lv_term *tm = r.terms; tm; tm = tm->next) {
    int rc = ops->add_term(c, tm->v, tm->lik, tm->sharded, tm->loc);
    if (rc) return rc;
  }
  return 0;
}
