/* predicate.c: control that differs between draws, kept inside one batched pass when
 * the pass records no gradient (generated quantities, the final log densities): an `if`
 * whose condition is true in some draws and false in others runs both branches over
 * all draws under a mask, and every write to a variable declared outside the branch
 * keeps the old value where the mask is off (out[s] = mask[s] ? new[s] : old[s]); an
 * index whose value differs between draws reads one element per draw (a gather).  This
 * is if-conversion, the turning of control dependence into data dependence that
 * vectorising compilers do (Allen, Kennedy, Porterfield & Warren, "Conversion of control
 * dependence to data dependence", POPL 1983), here on the draw axis: a Viterbi pass or a
 * label switch in generated quantities then costs one interpreted op per statement for
 * the whole batch instead of one pass per draw.
 *
 * A scan decides first, from the syntax, that a branch may run masked: only
 * declarations, assignments (not through tuples), nested ifs, blocks and `for` loops,
 * and no call of a user-defined function, a higher-order builtin or an _rng function
 * (side effects and random numbers are per draw).  When the branch fails while it runs
 * (an index out of range, an error in an op: draws the mask turns off compute with
 * values their own pass would never see), the pass is abandoned with EV_DIVERGE, and the
 * caller's per-draw passes do what they always did, errors included.  A conditional
 * expression `c ? a : b` with such a condition evaluates both arms and selects. */
#include <math.h>
#include <string.h>
#include <vi/status.h>
#include "lang/front/front.h"
#include "lang/ad/ad_kernels.h"
#include "lang/back/back.h"

/* Most local declarations one masked branch may have (more: per draw). */
#define PC_MAX_LOCALS 64

typedef struct pc_scan {
  const vi_decl *loc[PC_MAX_LOCALS];
  int nloc;
} pc_scan;

static int pc_ends_with(const char *s, const char *suf)
{
  size_t a = s ? strlen(s) : 0, b = strlen(suf);
  return a >= b && !strcmp(s + a - b, suf);
}

/* 0: the expression is pure (no side effect, no random number), else -1. */
static int pc_expr(const vi_expr *e)
{
  if (!e) return 0;
  if (e->kind == EX_CALL && (e->builtin < 0 || pc_ends_with(e->str, "_rng"))) return -1;
  for (int i = 0; i < e->nargs; i++)
    if (pc_expr(e->args[i])) return -1;
  if (e->kind == EX_INDEX)
    for (int k = 0; k < e->nindex; k++)
      if (pc_expr(e->index[k].lo) || pc_expr(e->index[k].hi)) return -1;
  return 0;
}

static int pc_local(pc_scan *s, const vi_decl *d)
{
  if (s->nloc == PC_MAX_LOCALS) return -1;
  s->loc[s->nloc++] = d;
  return 0;
}

static int pc_stmt(pc_scan *s, const vi_stmt *st)
{
  if (!st) return 0;
  switch (st->kind) {
  case ST_DECL: {
    const vi_decl *d = st->decl;
    if (d->type.base == VT_TUPLE || pc_expr(d->init)) return -1;
    for (int i = 0; i < d->ndims; i++) if (pc_expr(d->dims[i])) return -1;
    if (pc_expr(d->size[0]) || pc_expr(d->size[1])) return -1;
    return pc_local(s, d);
  }
  case ST_ASSIGN: {
    const vi_expr *l = st->lhs;
    for (; l->kind == EX_INDEX; l = l->args[0])
      for (int k = 0; k < l->nindex; k++)
        if (pc_expr(l->index[k].lo) || pc_expr(l->index[k].hi)) return -1;
    if (l->kind != EX_VAR || !l->decl || l->decl->type.base == VT_TUPLE) return -1;
    return pc_expr(st->rhs);
  }
  case ST_IF:
    return pc_expr(st->rhs) || pc_stmt(s, st->body) || pc_stmt(s, st->els) ? -1 : 0;
  case ST_FOR:
    if (pc_expr(st->lo) || pc_expr(st->hi) || pc_local(s, st->decl)) return -1;
    return pc_stmt(s, st->body);
  case ST_BLOCK:
    for (int i = 0; i < st->nstmts; i++)
      if (pc_stmt(s, st->stmts[i])) return -1;
    return 0;
  case ST_EMPTY:
    return 0;
  default:   /* ~, target +=, print, reject, break, continue, while, foreach, calls */
    return -1;
  }
}

int ev_masked(const ev_ctx *c, const vi_decl *d)
{
  if (!c->mask) return 0;
  for (int i = 0; i < c->nmask_loc; i++)
    if (c->mask_loc[i] == d) return 0;
  return 1;
}

ad_val *ev_mask_select(ev_ctx *c, ad_val *v, const ad_val *old)
{
  ad_tape *t = c->t;
  size_t n = c->n, len = old->len;
  if (v->type.base == VT_TUPLE || old->type.base == VT_TUPLE || base_is_complex(v->type.base)
      || base_is_complex(old->type.base) || (v->len != len && v->len != 1))
    return NULL;
  ad_val *o = ad_new(t, old->type, old->ndims, old->dims, 1, 0);
  if (!o) return NULL;
  const double *m = c->mask;
  size_t dv = v->nd == 1 ? 0 : 1, dp = old->nd == 1 ? 0 : 1;
  for (size_t e = 0; e < len; e++) {
    const double *pv = v->x + (v->len == 1 ? 0 : e) * v->nd, *po = old->x + e * old->nd;
    double *px = o->x + e * n;
    for (size_t s = 0; s < n; s++) px[s] = m[s] != 0 ? pv[s * dv] : po[s * dp];
  }
  return o;
}

int ev_if_convert(ev_ctx *c, const pc_ops *ops, const vi_stmt *st, const ad_val *cond)
{
  ad_tape *t = c->t;
  size_t n = c->n;
  c->rc = EV_DIVERGE;
  if (ad_tape_recording(t) || c->explain || n < 2 || cond->len != 1 || cond->nd != n
      || ad_tape_n(t) != n)
    return EV_DIVERGE;
  pc_scan s;
  s.nloc = 0;
  if (pc_stmt(&s, st->body) || pc_stmt(&s, st->els)) return EV_DIVERGE;
  const vi_decl **loc = ad_alloc(t, (size_t)(c->nmask_loc + s.nloc + 1) * sizeof *loc);
  double *m = ad_alloc(t, 2 * n * sizeof *m);
  if (!loc || !m) return EV_DIVERGE;
  /* an enclosing masked branch's locals stay masked (by the combined mask) here */
  memcpy(loc, s.loc, (size_t)s.nloc * sizeof *loc);
  for (size_t k = 0; k < n; k++) {
    int on = c->mask ? c->mask[k] != 0 : 1, tv = cond->x[k] != 0;
    m[k] = on && tv;
    m[n + k] = on && !tv;
  }
  const double *outer = c->mask;
  const vi_decl *const *outer_loc = c->mask_loc;
  int outer_nloc = c->nmask_loc;
  c->mask_loc = loc;
  c->nmask_loc = s.nloc;
  c->rc = 0;
  int rc = 0;
  for (int b = 0; b < 2 && !rc; b++) {
    const vi_stmt *br = b ? st->els : st->body;
    if (!br) continue;
    c->mask = m + (size_t)b * n;
    rc = ops->stmt(c, br);
  }
  c->mask = outer;
  c->mask_loc = outer_loc;
  c->nmask_loc = outer_nloc;
  /* both sides taken: a decision of its own in the pass's control-flow signature */
  c->sig = (c->sig ^ 7u) * 0x100000001b3ULL + 0x9E3779B97F4A7C15ULL;
  if (rc || ad_tape_error(t)) {
    /* a masked-off draw may have failed where its own pass would not: per draw */
    ad_tape_clear_error(t);
    c->rc = EV_DIVERGE;
    return EV_DIVERGE;
  }
  return 0;
}

ad_val *ev_index_by_draw(ev_ctx *c, const pc_ops *ops, const vi_expr *e, const ad_val *a)
{
  ad_tape *t = c->t;
  size_t n = c->n;
  if (ad_tape_recording(t) || c->explain || n < 2 || ad_tape_n(t) != n
      || a->type.base == VT_TUPLE || base_is_complex(a->type.base)
      || e->nindex != a->ndims || e->nindex > AD_MAX_DIMS || type_rank(e->type) != 0)
    return NULL;
  for (int k = 0; k < e->nindex; k++)
    if (e->index[k].kind != IX_SINGLE || pc_expr(e->index[k].lo)) return NULL;
  const ad_val *ix[AD_MAX_DIMS];
  int saved_rc = c->rc;
  c->rc = 0;
  for (int k = 0; k < e->nindex; k++) {
    ix[k] = ops->expr(c, e->index[k].lo);
    if (!ix[k] || ix[k]->len != 1) { c->rc = saved_rc; return NULL; }
  }
  ad_val *o = ad_new(t, e->type, 0, NULL, 1, 0);
  if (!o) { c->rc = saved_rc; return NULL; }
  int arr = a->type.ndims, rank = a->ndims;
  size_t inner = 1;
  for (int k = arr; k < rank; k++) inner *= a->dims[k];
  for (size_t s = 0; s < n; s++) {
    size_t off = 0, p[AD_MAX_DIMS];
    for (int k = 0; k < rank; k++) {
      double x = ix[k]->x[ix[k]->nd == 1 ? 0 : s];
      /* out of range (or not an integer) in some draw: its own pass reports it */
      if (!(x >= 1 && x <= (double)a->dims[k])) { c->rc = saved_rc; return NULL; }
      p[k] = (size_t)x - 1;
    }
    for (int k = 0; k < arr; k++) off = off * a->dims[k] + p[k];
    off *= inner;
    if (rank - arr == 1) off += p[arr];
    else if (rank - arr == 2) off += p[arr] + p[arr + 1] * a->dims[arr];
    o->x[s] = a->x[off * a->nd + (a->nd == 1 ? 0 : s)];
  }
  c->sig = (c->sig ^ 11u) * 0x100000001b3ULL + 0x9E3779B97F4A7C15ULL;
  return o;
}

int ev_ternary_ok(const ev_ctx *c, const vi_expr *e, const ad_val *cond)
{
  return !ad_tape_recording(c->t) && !c->explain && c->n > 1 && ad_tape_n(c->t) == c->n
         && cond->len == 1 && cond->nd == c->n && !pc_expr(e->args[1]) && !pc_expr(e->args[2])
         && e->type.base != VT_TUPLE && !base_is_complex(e->type.base);
}

ad_val *ev_select(ev_ctx *c, const ad_val *cond, const ad_val *a, const ad_val *b)
{
  size_t n = c->n, len = a ? a->len : 0;
  if (!a || !b || b->len != len || a->ndims != b->ndims || a->type.base == VT_TUPLE
      || base_is_complex(a->type.base) || base_is_complex(b->type.base))
    return NULL;
  for (int k = 0; k < a->ndims; k++) if (a->dims[k] != b->dims[k]) return NULL;
  ad_val *o = ad_new(c->t, a->type, a->ndims, a->dims, 1, 0);
  if (!o) return NULL;
  size_t da = a->nd == 1 ? 0 : 1, db = b->nd == 1 ? 0 : 1;
  for (size_t e = 0; e < len; e++) {
    const double *pa = a->x + e * a->nd, *pb = b->x + e * b->nd;
    double *px = o->x + e * n;
    for (size_t s = 0; s < n; s++) px[s] = cond->x[s] != 0 ? pa[s * da] : pb[s * db];
  }
  c->sig = (c->sig ^ 13u) * 0x100000001b3ULL + 0x9E3779B97F4A7C15ULL;
  return o;
}
