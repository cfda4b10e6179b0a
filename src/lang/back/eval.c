/* eval.c: a tree-walking interpreter for the checked AST, on the batched AD tape (ad.h).
 * Each expression evaluates to one ad_val holding all n draws, so the interpretation
 * cost (dispatch, index checks, allocation) is paid once per op, not once per draw;
 * the ops themselves loop over draws (or call one GEMM).  Where Stan's semantics depend
 * on a value that differs between draws (an if / while / ternary condition, a loop
 * bound, an index), the pass stops with EV_DIVERGE and the caller re-runs it one draw at
 * a time: correct always, fast in the common case.  In a pass that records no gradient
 * an `if` or `?:` on such a condition and such a scalar index stay batched (masks and
 * per-draw gathers, predicate.c).  Everything allocated here lives in
 * the tape's arena, so a pass does no malloc once the arena has grown. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <vi/status.h>
#include "lang/front/front.h"
#include "lang/lib/lib.h"
#include "lang/ad/ad_kernels.h"
#include "lang/back/ode.h"
#include "lang/back/back.h"

#define VI_LN2 0.69314718055994530942

int ev_error(ev_ctx *c, int status, vi_loc loc, const char *fmt, ...)
{
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  front_error_at(&c->err, status, c->ast, loc, "%s", msg);
  c->err.status = status;
  c->rc = status;
  return status;
}

int ev_reserve(ev_ctx *c, size_t n)
{
  if (n <= c->cap) return VI_SUCCESS;
  double *lp = realloc(c->lp, n * sizeof *lp);
  if (!lp) return VI_ENOMEM;
  c->lp = lp;
  double *ll = realloc(c->ll, n * sizeof *ll);
  if (!ll) return VI_ENOMEM;
  c->ll = ll;
  unsigned char *rj = realloc(c->rej, n);
  if (!rj) return VI_ENOMEM;
  c->rej = rj;
  c->cap = n;
  return VI_SUCCESS;
}

void ev_release(ev_ctx *c)
{
  ev_cache_free(c);
  lv_cache_free(c);
  free(c->pout);
  c->pout = NULL; c->pout_len = c->pout_cap = 0;
  free(c->lp); free(c->ll); free(c->rej);
  c->lp = c->ll = NULL; c->rej = NULL; c->cap = 0;
  ad_tape_free(c->sub);
  c->sub = NULL;
}

void ev_begin(ev_ctx *c, size_t n, int grad)
{
  ad_tape_reset(c->t, n, grad);
  c->n = ad_tape_n(c->t);
  for (size_t s = 0; s < c->n && s < c->cap; s++) { c->lp[s] = 0; c->ll[s] = 0; c->rej[s] = 0; }
  for (int i = 0; i < c->ast->nslots; i++) c->slot[i] = c->data ? c->data[i] : NULL;
  c->rc = 0;
  c->loop_iters = 0;
  c->sig = 0;
  c->mask = NULL; c->mask_loc = NULL; c->nmask_loc = 0;
}

/* Mix a control-flow decision into the pass's signature (FNV-1a style on 64 bits). */
static void sig_mix(ev_ctx *c, unsigned long long v)
{
  c->sig = (c->sig ^ v) * 0x100000001b3ULL + 0x9E3779B97F4A7C15ULL;
}

/* ---- small helpers ---------------------------------------------------------------- */

static int tape_fail(ev_ctx *c, vi_loc loc, const char *what)
{
  const char *e = ad_tape_error(c->t);
  int oom = e && strstr(e, "out of memory") != NULL;
  return ev_error(c, oom ? VI_ENOMEM : VI_ERUNTIME, loc, "%s%s%s", what, e ? ": " : "",
                  e ? e : "");
}

int ev_tape_status(ev_ctx *c)
{
  const char *e = ad_tape_error(c->t);
  if (!e) return 0;
  /* an op that failed without failing its caller (e.g. the tape could not record a
   * node): the pass's values or gradient cannot be trusted */
  return tape_fail(c, (vi_loc){0, 0}, "evaluation");
}

/* The integer element e of v; the same in every draw, else EV_DIVERGE. */
static int int_at(ev_ctx *c, const ad_val *v, size_t e, vi_loc loc, long *out)
{
  const double *p = v->x + e * v->nd;
  double x = p[0];
  for (size_t s = 1; s < v->nd; s++)
    if (p[s] != x && !(isnan(p[s]) && isnan(x))) { c->rc = EV_DIVERGE; return EV_DIVERGE; }
  if (isnan(x) || fabs(x) > 9.0e15)
    return ev_error(c, VI_ERUNTIME, loc, "integer value is undefined (%g)", x);
  *out = (long)x;
  sig_mix(c, (unsigned long long)*out);
  return 0;
}

/* Truth of a condition, the same in every draw, else EV_DIVERGE. */
static int truth(ev_ctx *c, const ad_val *v, int *out)
{
  int t0 = v->x[0] != 0;
  for (size_t s = 1; s < v->nd; s++)
    if ((v->x[s] != 0) != t0) { c->rc = EV_DIVERGE; return EV_DIVERGE; }
  *out = t0;
  sig_mix(c, 2 + (unsigned long long)t0);
  return 0;
}

static int is_realish(vi_basetype b) { return b != VT_INT; }

static ad_val *promote(ev_ctx *c, ad_val *v, vi_type want);

/* A tuple promoted element by element (tuple(int, vector) to tuple(real,
 * complex_vector)); the same tuple when nothing changes. */
static ad_val *promote_tuple(ev_ctx *c, ad_val *v, vi_type want)
{
  if (!want.tup || type_equal(v->type, want) || want.tup->n != v->type.tup->n) return v;
  size_t n = (size_t)want.tup->n;
  ad_val *o = tup_new(c->t, want, v->ndims, v->dims);
  if (!o) return NULL;
  for (size_t i = 0; i < v->len; i++)
    for (size_t k = 0; k < n; k++) {
      ad_val *e = v->el[i * n + k];
      if (!e) return NULL;
      if (!(o->el[i * n + k] = promote(c, e, want.tup->el[k]))) return NULL;
      o->el[i * n + k]->shared = 1;
    }
  return o;
}

/* Convert int values to real where the declared/expected type is real-valued. */
static ad_val *promote(ev_ctx *c, ad_val *v, vi_type want)
{
  if (v && v->type.base == VT_TUPLE)
    return want.base == VT_TUPLE ? promote_tuple(c, v, want) : v;
  if (v && base_is_complex(want.base) && !base_is_complex(v->type.base))
    return ad_to_complex(c->t, v);   /* int -> real -> complex, as Stan promotes */
  if (v && v->type.base == VT_INT && want.base != VT_INT && want.base != VT_ERROR)
    return ad_to_real(c->t, v);
  return v;
}

void ev_elem_index(const size_t *dims, int ndims, int arrdims, size_t e, size_t *idx)
{
  size_t inner = 1;
  for (int k = arrdims; k < ndims; k++) inner *= dims[k];
  size_t a = inner ? e / inner : 0, r = inner ? e % inner : 0;
  for (int k = arrdims - 1; k >= 0; k--) { idx[k] = dims[k] ? a % dims[k] + 1 : 1; a = dims[k] ? a / dims[k] : 0; }
  if (ndims - arrdims == 1) idx[arrdims] = r + 1;
  else if (ndims - arrdims == 2) {
    idx[arrdims] = r % dims[arrdims] + 1;
    idx[arrdims + 1] = r / dims[arrdims] + 1;
  }
}

static void index_text(const ad_val *v, size_t e, char *buf, size_t len)
{
  size_t idx[AD_MAX_DIMS];
  if (v->ndims == 0) { buf[0] = '\0'; return; }
  ev_elem_index(v->dims, v->ndims, v->type.ndims, e, idx);
  size_t o = 0;
  o += (size_t)snprintf(buf + o, len - o, "[");
  for (int k = 0; k < v->ndims && o < len; k++)
    o += (size_t)snprintf(buf + o, len - o, "%s%zu", k ? ", " : "", idx[k]);
  if (o < len) snprintf(buf + o, len - o, "]");
}

/* ---- shapes ----------------------------------------------------------------------- */

static int size_of(ev_ctx *c, const vi_expr *e, const vi_decl *d, size_t *out)
{
  ad_val *v = ev_expr(c, e);
  if (!v) return c->rc;
  long k;
  int rc = int_at(c, v, 0, e->loc, &k);
  if (rc) return rc;
  if (k < 0)
    return ev_error(c, VI_ERUNTIME, e->loc, "size of '%s' is negative (%ld)", d->name, k);
  *out = (size_t)k;
  return 0;
}

/* a * b, or 0 with *ok cleared when it would pass cap (no wrap-around) */
static size_t mul_cap(size_t a, size_t b, size_t cap, int *ok)
{
  if (b && a > cap / b) { *ok = 0; return 0; }
  return a * b;
}

int ev_decl_shape_cap(ev_ctx *c, const vi_decl *d, int *ndims, size_t *dims, size_t *nelem,
                      size_t *rows, size_t *cols, size_t cap)
{
  int k = 0, rc, ok = 1;
  size_t total = 1, ne = 1, r = 1, q = 1;
  if (d->ndims + 2 + base_is_complex(d->type.base) > AD_MAX_DIMS)
    return ev_error(c, VI_EUNSUPPORTED, d->loc, "'%s' has too many dimensions", d->name);
  for (int i = 0; i < d->ndims; i++) {
    if ((rc = size_of(c, d->dims[i], d, &dims[k]))) return rc;
    ne = mul_cap(ne, dims[k], cap, &ok);
    k++;
  }
  total = ne;
  vi_basetype rb = base_real_of(d->type.base);
  switch (rb) {
  case VT_VECTOR: case VT_ROW_VECTOR:
    if ((rc = size_of(c, d->size[0], d, &dims[k]))) return rc;
    if (rb == VT_VECTOR) r = dims[k]; else q = dims[k];
    total = mul_cap(total, dims[k], cap, &ok);
    k++;
    break;
  case VT_MATRIX:
    if ((rc = size_of(c, d->size[0], d, &dims[k]))) return rc;
    if (d->size[1]) { if ((rc = size_of(c, d->size[1], d, &dims[k + 1]))) return rc; }
    else dims[k + 1] = dims[k];
    r = dims[k]; q = dims[k + 1];
    total = mul_cap(mul_cap(total, r, cap, &ok), q, cap, &ok);
    k += 2;
    break;
  default: break;
  }
  if (base_is_complex(d->type.base)) {   /* the parts: one more, innermost dim */
    dims[k++] = 2;
    total = mul_cap(total, 2, cap, &ok);
  }
  if (!ok || total > cap) {
    if (cap == EV_MAX_ELEMS)
      return ev_error(c, VI_ERUNTIME, d->loc,
                      "'%s' is too large: more than %zu elements (out of memory: vi holds "
                      "at most that many in one value)", d->name, EV_MAX_ELEMS);
    return ev_error(c, VI_ERUNTIME, d->loc, "'%s' is too large: more than %zu elements",
                    d->name, cap);
  }
  *ndims = k;
  if (nelem) *nelem = ne;
  if (rows) *rows = r;
  if (cols) *cols = q;
  return 0;
}

int ev_decl_shape(ev_ctx *c, const vi_decl *d, int *ndims, size_t *dims, size_t *nelem,
                  size_t *rows, size_t *cols)
{
  return ev_decl_shape_cap(c, d, ndims, dims, nelem, rows, cols, EV_MAX_ELEMS);
}

/* ---- indexing -------------------------------------------------------------------- */

static const char *base_name(const vi_expr *e)
{
  return e->kind == EX_VAR ? e->str : "expression";
}

static int check_pos(ev_ctx *c, long k, size_t size, const vi_expr *base, vi_loc loc)
{
  if (k < 1 || (size_t)k > size)
    return ev_error(c, VI_ERUNTIME, loc, "index %ld out of range for %s (size %zu)", k,
                    base_name(base), size);
  return 0;
}

static size_t *positions(ev_ctx *c, size_t n)
{
  size_t *p = ad_alloc(c->t, (n ? n : 1) * sizeof *p);
  if (!p) ev_error(c, VI_ENOMEM, (vi_loc){0, 0}, "out of memory");
  return p;
}

/* Evaluate the index list of e (applied to value a) into ix. */
static int eval_indices(ev_ctx *c, const vi_expr *e, const ad_val *a, ad_ix *ix)
{
  int rc;
  const vi_expr *base = e->args[0];
  if (e->nindex > a->ndims)
    return ev_error(c, VI_ERUNTIME, e->loc, "too many indexes for %s", base_name(base));
  for (int i = 0; i < e->nindex; i++) {
    const vi_index *x = &e->index[i];
    size_t size = a->dims[i];
    ad_ix *o = &ix[i];
    memset(o, 0, sizeof *o);
    long lo = 1, hi = (long)size, k;
    vi_loc loc = x->lo ? x->lo->loc : x->hi ? x->hi->loc : e->loc;
    if (x->kind == IX_SINGLE) {
      ad_val *v = ev_expr(c, x->lo);
      if (!v) return c->rc;
      if ((rc = int_at(c, v, 0, loc, &k))) return rc;
      if ((rc = check_pos(c, k, size, base, loc))) return rc;
      o->multi = 0; o->pos0 = (size_t)(k - 1);
      continue;
    }
    if (x->kind == IX_MULTI) {
      ad_val *v = ev_expr(c, x->lo);
      if (!v) return c->rc;
      size_t *p = positions(c, v->len);
      if (!p) return c->rc;
      for (size_t j = 0; j < v->len; j++) {
        if ((rc = int_at(c, v, j, loc, &k))) return rc;
        if ((rc = check_pos(c, k, size, base, loc))) return rc;
        p[j] = (size_t)(k - 1);
      }
      o->multi = 1; o->pos = p; o->npos = v->len;
      continue;
    }
    if (x->kind == IX_RANGE || x->kind == IX_LOWER) {
      ad_val *v = ev_expr(c, x->lo);
      if (!v) return c->rc;
      if ((rc = int_at(c, v, 0, loc, &lo))) return rc;
    }
    if (x->kind == IX_RANGE || x->kind == IX_UPPER) {
      ad_val *v = ev_expr(c, x->hi);
      if (!v) return c->rc;
      if ((rc = int_at(c, v, 0, x->hi->loc, &hi))) return rc;
    }
    size_t m = hi >= lo ? (size_t)(hi - lo + 1) : 0;
    if (m > 0) {
      if ((rc = check_pos(c, lo, size, base, loc))) return rc;
      if ((rc = check_pos(c, hi, size, base, x->hi ? x->hi->loc : loc))) return rc;
    }
    size_t *p = positions(c, m);
    if (!p) return c->rc;
    for (size_t j = 0; j < m; j++) p[j] = (size_t)(lo - 1) + j;
    o->multi = 1; o->pos = p; o->npos = m;
  }
  return 0;
}

/* ---- expressions ------------------------------------------------------------------ */

static ad_val *call_target(ev_ctx *c)
{
  size_t one = 1;
  ad_val *v = ad_new(c->t, (vi_type){VT_REAL, 0, NULL}, 0, &one, 1, 0);
  if (!v) return NULL;
  for (size_t s = 0; s < c->n; s++) v->x[s] = c->lp[s];
  return v;
}

/* ---- the cache of data-only subexpressions ------------------------------------------ */

int ev_cache_add(ev_ctx *c, const vi_expr *e)
{
  return ptr_map_slot(&c->cache, e) ? VI_SUCCESS : VI_ENOMEM;
}

void ev_cache_clear(ev_ctx *c)
{
  for (size_t i = 0; i < c->cache.cap; i++) {
    ad_val_free(c->cache.val[i]);
    c->cache.val[i] = NULL;
  }
}

void ev_cache_free(ev_ctx *c)
{
  ev_cache_clear(c);
  ptr_map_clear(&c->cache);
}

static ad_val *ev_expr_raw(ev_ctx *c, const vi_expr *e);
static const pc_ops PC_OPS = {ev_expr, ev_stmt};

/* ---- user-defined functions ---------------------------------------------------------- */

/* Call f on evaluated args.  Its slots are saved and cleared first and restored after,
 * so a recursive call cannot clobber its caller's arguments and locals.  NULL with
 * c->rc set on an error, reject or per-draw divergence inside. */
static ad_val *call_user(ev_ctx *c, const vi_func *f, ad_val **args, int nargs, vi_loc loc)
{
  char here;
  if (c->depth == 0) c->stack_base = &here;
  uintptr_t a = (uintptr_t)c->stack_base, b = (uintptr_t)&here;
  size_t used = a > b ? a - b : b - a;
  if (c->depth >= EV_MAX_CALL_DEPTH || used > EV_MAX_CALL_STACK) {
    ev_error(c, VI_ERUNTIME, loc, "calls of '%s' nested more than %s (recursion that "
             "never ends?)", f->name, used > EV_MAX_CALL_STACK ? "the 2 MB stack budget allows"
                                                                : "200 deep");
    return NULL;
  }
  size_t n = (size_t)(f->slot_hi - f->slot_lo);
  ad_val **saved = ad_alloc(c->t, (n ? n : 1) * sizeof *saved);
  if (!saved) { tape_fail(c, loc, f->name); return NULL; }
  memcpy(saved, c->slot + f->slot_lo, n * sizeof *saved);
  memset(c->slot + f->slot_lo, 0, n * sizeof *saved);
  for (int i = 0; i < nargs && i < f->nparams; i++) {
    ad_val *v = promote(c, args[i], f->params[i]->type);
    if (!v) { memcpy(c->slot + f->slot_lo, saved, n * sizeof *saved); tape_fail(c, loc, f->name); return NULL; }
    c->slot[f->params[i]->slot] = v;
  }
  const vi_func *caller = c->fn;
  c->fn = f;
  c->ret = NULL;
  c->depth++;
  int rc = ev_stmt(c, f->body);
  c->depth--;
  c->fn = caller;
  ad_val *r = c->ret;
  c->ret = NULL;
  memcpy(c->slot + f->slot_lo, saved, n * sizeof *saved);
  if (rc == EV_RETURN || rc == 0) {
    if (f->ret.base == VT_VOID) return ad_scalar(c->t, 0, 1);
    if (r) return r;
    ev_error(c, VI_ERUNTIME, f->loc, "function '%s' ended without returning a value", f->name);
    return NULL;
  }
  c->rc = rc;
  return NULL;
}

static const hof_ops HOF_OPS = {call_user, ev_error};

static int exec_return(ev_ctx *c, const vi_stmt *st)
{
  c->ret = NULL;
  if (st->rhs) {
    ad_val *v = ev_expr(c, st->rhs);
    if (!v) return c->rc;
    c->ret = promote(c, v, c->fn ? c->fn->ret : st->rhs->type);
    if (!c->ret) return tape_fail(c, st->loc, "return");
  }
  return EV_RETURN;
}

/* ---- ODE solvers ---------------------------------------------------------------------- */

/* v's elements as a value of one-dimensional type ty (vector <-> real[]), on the tape. */
static ad_val *retype(ev_ctx *c, ad_val *v, vi_type ty)
{
  ad_val *o = ad_new_nd(c->t, ty, 1, &v->len, v->nd, v->adj != NULL);
  if (o) ad_gather(c->t, o, v, v->len, NULL, NULL);
  return o;
}

typedef struct ode_call {
  ev_ctx *c;
  const vi_expr *e;
  ad_val **args;     /* evaluated arguments, args[0] unused */
} ode_call;

/* The first argument after y0, t0, ts and the controls: what f receives after (t, y). */
static int ode_first(const vi_expr *e)
{
  switch (e->ival) {
  case VI_ODE_OLD: case VI_ODE_NEW: return 4;
  case VI_ODE_ADJOINT: return 15;
  default: return 7;
  }
}

/* f(t, y, ...) for the solvers: the old interface passes y as real[] with theta, x_r,
 * x_i; the new one y as a vector with the trailing arguments (rest). */
static ad_val *ode_call_f(ode_call *o, ad_val *tv, ad_val *y, ad_val **rest)
{
  ev_ctx *c = o->c;
  const vi_expr *e = o->e;
  int old = e->ival == VI_ODE_OLD;
  int nf = old ? 5 : 2 + (e->nargs - ode_first(e));
  ad_val *stackargs[16], **fa = stackargs;
  if (nf > 16 && !(fa = ad_alloc(c->t, (size_t)nf * sizeof *fa))) return NULL;
  fa[0] = tv;
  fa[1] = old ? retype(c, y, (vi_type){VT_REAL, 1, NULL}) : y;
  if (!fa[1]) return NULL;
  for (int i = 2; i < nf; i++) fa[i] = rest[i - 2];
  ad_val *r = call_user(c, e->func, fa, nf, e->loc);
  return r && old ? retype(c, r, (vi_type){VT_VECTOR, 0, NULL}) : r;
}

static ad_val *ode_rhs(void *ctx, double tt, ad_val *y)
{
  ode_call *o = ctx;
  ad_val *tv = ad_scalar(o->c->t, tt, 0);
  return tv ? ode_call_f(o, tv, y, o->args + ode_first(o->e)) : NULL;
}

static ad_val *ode_rhs_args(void *ctx, ad_val *tv, ad_val *y, ad_val **rest)
{
  return ode_call_f(ctx, tv, y, rest);
}

static double arg_value(const ad_val *v) { return v->x[0]; }

/* ode_adjoint_tol_ctl's controls, checked as Stan checks them.  The solve is the forward
 * sensitivity BDF of ode_bdf: the forward tolerances (a vector of absolute ones) and the
 * step budget apply; the backward and quadrature tolerances, the checkpoint spacing,
 * the interpolation polynomial and the solver choices only tune Stan's adjoint pass. */
static int ode_adjoint_controls(ev_ctx *c, const vi_expr *e, ad_val **args, size_t N,
                                ode_options *opt)
{
  static const int vec_at[2] = {5, 7}, pos_at[4] = {4, 6, 8, 9};
  for (int k = 0; k < 2; k++) {
    const ad_val *v = args[vec_at[k]];
    if (v->len != N) {
      ev_error(c, VI_ERUNTIME, e->args[vec_at[k]]->loc, "%s: the %s absolute tolerance has "
               "%zu elements for a state of %zu", e->str, k ? "backward" : "forward", v->len, N);
      return -1;
    }
    for (size_t i = 0; i < v->len; i++)
      if (!(v->x[i] > 0) || !isfinite(v->x[i])) {
        ev_error(c, VI_ERUNTIME, e->args[vec_at[k]]->loc, "%s: absolute tolerance [%zu] must "
                 "be positive and finite (%g)", e->str, i + 1, v->x[i]);
        return -1;
      }
  }
  for (int k = 0; k < 4; k++) {
    double v = arg_value(args[pos_at[k]]);
    if (!(v > 0) || !isfinite(v)) {
      ev_error(c, VI_ERUNTIME, e->args[pos_at[k]]->loc, "%s: tolerances must be positive and "
               "finite (%g)", e->str, v);
      return -1;
    }
  }
  double ck = arg_value(args[11]), ip = arg_value(args[12]);
  double sf = arg_value(args[13]), sb = arg_value(args[14]);
  if (!(ck >= 1)) {
    ev_error(c, VI_ERUNTIME, e->args[11]->loc, "%s: the number of steps between checkpoints "
             "must be positive (%g)", e->str, ck);
    return -1;
  }
  if (ip != 1 && ip != 2) {
    ev_error(c, VI_ERUNTIME, e->args[12]->loc, "%s: the interpolation polynomial must be 1 "
             "(Hermite) or 2 (polynomial), found %g", e->str, ip);
    return -1;
  }
  for (int k = 0; k < 2; k++)
    if ((k ? sb : sf) != 1 && (k ? sb : sf) != 2) {
      ev_error(c, VI_ERUNTIME, e->args[13 + k]->loc, "%s: the %s solver must be 1 (Adams) or "
               "2 (BDF), found %g", e->str, k ? "backward" : "forward", k ? sb : sf);
      return -1;
    }
  opt->atolv = args[5]->x;
  return 0;
}

static ad_val *ev_ode(ev_ctx *c, const vi_expr *e, ad_val **args)
{
  ad_tape *t = c->t;
  int old = e->ival == VI_ODE_OLD;
  ad_val *y0 = promote(c, args[1], old ? (vi_type){VT_REAL, 1, NULL} : (vi_type){VT_VECTOR, 0, NULL});
  ad_val *t0v = args[2], *tsv = args[3];
  if (!y0) { tape_fail(c, e->loc, e->str); return NULL; }
  if (t0v->nd > 1 || tsv->nd > 1 || t0v->adj || tsv->adj) {
    ev_error(c, VI_EUNSUPPORTED, e->loc, "%s: times that depend on parameters are not "
             "supported", e->str);
    return NULL;
  }
  size_t nts = tsv->len;
  double t0 = arg_value(t0v);
  /* as Stan checks them: after t0, sorted (repeated times allowed), finite */
  for (size_t q = 0; q < nts; q++)
    if (!isfinite(tsv->x[q]) || !(q ? tsv->x[q] >= tsv->x[q - 1] : tsv->x[q] > t0)) {
      ev_error(c, VI_ERUNTIME, e->args[3]->loc, "%s: the output times must be sorted and "
               "come after the initial time %g (ts[%zu] = %g)", e->str, t0, q + 1, tsv->x[q]);
      return NULL;
    }
  /* Stan's tolerances; the step budget per output interval is the model's for the
   * explicit methods (rk45, ckrk: the same Dormand-Prince pairs as Stan's) and for the
   * stiff solver (ode_bdf, integrate_ode_bdf, ode_adjoint_tol_ctl: a BDF as Stan's
   * CVODES), at least 10^4 for Adams (an explicit method needs more steps than the
   * Adams solver the model was tuned for); ODE_MAX_TOTAL_STEPS bounds a whole
   * explicit solve */
  int adjoint = e->ival == VI_ODE_ADJOINT;
  int stiff = adjoint || strstr(e->str, "bdf") != NULL;
  int implicit = stiff || strstr(e->str, "adams");
  ode_options opt = {1e-6, 1e-6, ODE_MAX_TOTAL_STEPS, NULL, 0};
  if (stiff) opt.max_steps = old ? 100000000L : 1000000L;   /* Stan's defaults */
  int tol_at = old && e->nargs == 10 ? 7 : e->ival == VI_ODE_NEW_TOL ? 4 : 0;
  if (old && implicit) opt.rtol = opt.atol = 1e-10;   /* integrate_ode_bdf's defaults */
  if (tol_at || adjoint) {
    int ms_at = adjoint ? 10 : tol_at + 2;
    opt.rtol = arg_value(args[adjoint ? 4 : tol_at]);
    opt.atol = adjoint ? 1 : arg_value(args[tol_at + 1]);
    double ms = arg_value(args[ms_at]);
    if (implicit && !stiff && ms < 1e4) ms = 1e4;
    opt.max_steps = ms >= 1 ? (ms < 1e9 ? (long)ms : 1000000000L) : 1;
    if (!(opt.rtol > 0) || !(opt.atol > 0) || !isfinite(opt.rtol) || !isfinite(opt.atol)) {
      ev_error(c, VI_ERUNTIME, e->loc, "%s: tolerances must be positive and finite (%g, %g)",
               e->str, opt.rtol, opt.atol);
      return NULL;
    }
    if (!(ms >= 1)) {
      ev_error(c, VI_ERUNTIME, e->args[ms_at]->loc, "%s: the maximum number of steps must "
               "be positive (%g)", e->str, ms);
      return NULL;
    }
  }
  if (adjoint && ode_adjoint_controls(c, e, args, y0->len, &opt)) return NULL;
  if (nts == 0) {
    ad_val *none = ad_new(t, e->type, 1, &nts, 0, 0);
    if (!none) tape_fail(c, e->loc, e->str);
    return none;
  }
  ad_val *y = old ? retype(c, y0, (vi_type){VT_VECTOR, 0, NULL}) : y0;
  ad_val **out = ad_alloc(t, nts * sizeof *out);
  if (!y || !out) { tape_fail(c, e->loc, e->str); return NULL; }
  ode_call oc = {c, e, args};
  char why[256];
  c->used_ode = 1;
  c->rc = 0;
  int first = ode_first(e);
  int rc;
  /* Dormand-Prince on the tape first (batched over the draws, exact gradients: what a
   * non-stiff system wants).  Once it proves stiff (and for the stiff methods, also once
   * it runs out of steps) its work is released and the BDF solves each draw, as LSODA
   * switches (Petzold 1983): an explicit method asked for keeps its own steps wherever
   * the system is not stiff, and a draw out where it is (a mode search's long step, a
   * rate of 10^8) costs a few BDF steps, not the whole step budget on the tape. */
  ode_options ex = opt;
  ex.detect_stiff = 1;
  ad_mark m;
  ad_tape_mark(t, &m, 0);
  why[0] = '\0';
  rc = ode_solve(t, ode_rhs, &oc, y, t0, tsv->x, nts, &ex, out, why, sizeof why);
  int to_bdf = stiff ? rc > 0 || (rc < 0 && !c->rc && !ad_tape_error(t))
                     : (rc == 2 || rc == 3) && c->n == 1;
  if (to_bdf) {
    ad_tape_release(t, &m);
    rc = ode_stiff_solve(t, ode_rhs_args, &oc, e->nargs - first, args + first, y, t0,
                         tsv->x, nts, &opt, out, why, sizeof why);
  } else {
    ad_tape_unmark(t, &m);
  }
  if (rc < 0) {
    const char *te = ad_tape_error(t);
    if (c->n > 1 && te && strstr(te, "out of memory")) {
      c->rc = EV_DIVERGE;   /* one draw at a time needs a fraction of the memory */
      return NULL;
    }
    if (!c->rc) tape_fail(c, e->loc, e->str);
    return NULL;
  }
  if (rc == 2 || rc == 3) {   /* too costly as a batch, or stiff: one draw at a time */
    c->rc = EV_DIVERGE;
    return NULL;
  }
  if (rc > 0) {
    /* no shared step sequence for the batch: one draw at a time; a lone draw that
       still fails is rejected, as Stan rejects it */
    ev_error(c, VI_ERUNTIME, e->loc, "%s: %s", e->str, why);
    c->rc = c->n > 1 ? EV_DIVERGE : EV_REJECT;
    return NULL;
  }
  for (size_t q = 0; old && q < nts; q++)
    if (!(out[q] = retype(c, out[q], (vi_type){VT_REAL, 1, NULL}))) {
      tape_fail(c, e->loc, e->str);
      return NULL;
    }
  ad_val *r = ad_array_literal(t, out, (int)nts);
  if (!r) tape_fail(c, e->loc, e->str);
  return r;
}

/* x.k of a tuple variable x, as the container indexed by x.k[...] (read or written):
 * the element itself, not marked shared as a plain read of x.k is -- an index neither
 * lets it escape nor saves it (ad.h), so a loop of writes x.k[i] = f(x.k[i - 1]) writes
 * in place as one into a vector variable does.  Else the value of e. */
static ad_val *lhs_base(ev_ctx *c, const vi_expr *e)
{
  if (e->kind == EX_PROJ && e->args[0]->kind == EX_VAR && e->args[0]->decl) {
    ad_val *x = c->slot[e->args[0]->decl->slot];
    if (x && x->type.base == VT_TUPLE && x->ndims == 0 && e->ival >= 1
        && e->ival <= x->type.tup->n && x->el[e->ival - 1])
      return x->el[e->ival - 1];
  }
  return ev_expr(c, e);
}

ad_val *ev_expr(ev_ctx *c, const vi_expr *e)
{
  if (!e->data_only || !c->cache.n || c->block < BLK_PARAMS || e->type.base == VT_TUPLE)
    return ev_expr_raw(c, e);
  void **slot = ptr_map_find(&c->cache, e);
  if (!slot) return ev_expr_raw(c, e);
  if (*slot) return (ad_val *)*slot;
  ad_val *r = ev_expr_raw(c, e);
  if (r && r->nd == 1) {   /* keep a persistent copy (allocates once, at warm-up) */
    ad_val *p = ad_val_new_persistent(r->type, r->ndims, r->dims);
    if (p) {
      memcpy(p->x, r->x, r->len * sizeof(double));
      *slot = p;
      return p;
    }
  }
  return r;
}

/* {t1, t2, ...} of tuples (or arrays of them, all of one shape): an array of tuples. */
static ad_val *tuple_array(ev_ctx *c, const vi_expr *e, ad_val **args)
{
  size_t dims[AD_MAX_DIMS];
  const ad_val *a0 = args[0];
  if (!a0 || a0->ndims + 1 > AD_MAX_DIMS) return NULL;
  for (int i = 1; i < e->nargs; i++) {
    if (!args[i]) return NULL;
    int same = args[i]->ndims == a0->ndims;
    for (int q = 0; same && q < a0->ndims; q++) same = args[i]->dims[q] == a0->dims[q];
    if (!same) {
      ev_error(c, VI_ERUNTIME, e->args[i]->loc, "elements of '{...}' must have the same "
               "sizes");
      return NULL;
    }
  }
  dims[0] = (size_t)e->nargs;
  for (int q = 0; q < a0->ndims; q++) dims[q + 1] = a0->dims[q];
  ad_val *r = tup_new(c->t, e->type, a0->ndims + 1, dims);
  if (!r) return NULL;
  size_t m = a0->len * (size_t)e->type.tup->n;
  for (int i = 0; i < e->nargs; i++)
    for (size_t k = 0; k < m; k++) {
      r->el[(size_t)i * m + k] = args[i]->el[k];
      if (args[i]->el[k]) args[i]->el[k]->shared = 1;
    }
  return r;
}

static ad_val *ev_expr_raw(ev_ctx *c, const vi_expr *e)
{
  ad_tape *t = c->t;
  ad_val *a, *b, *r = NULL;
  int rc, tv;
  switch (e->kind) {
  case EX_INT_LIT: r = ad_scalar(t, (double)e->ival, 1); break;
  case EX_REAL_LIT: r = ad_scalar(t, e->rval, 0); break;
  case EX_IMAG_LIT: {
    ad_val *re = ad_scalar(t, 0, 0), *im = ad_scalar(t, e->rval, 0);
    r = re && im ? ad_cx_from_pair(t, re, im, AD_CX_PAIR) : NULL;
    break;
  }
  case EX_STRING_LIT:
    ev_error(c, VI_ERUNTIME, e->loc, "a string is not a value");
    return NULL;
  case EX_VAR:
    r = e->decl ? c->slot[e->decl->slot] : NULL;
    if (!r) {
      ev_error(c, VI_ERUNTIME, e->loc, "'%s' is used before it has a value", e->str);
      return NULL;
    }
    return r;
  case EX_UNARY:
    if (!(a = ev_expr(c, e->args[0]))) return NULL;
    r = ad_unary(t, e->op, a);
    break;
  case EX_BINARY:
    if (!(a = ev_expr(c, e->args[0]))) return NULL;
    if (e->op == OP_AND || e->op == OP_OR) {
      /* short-circuit as Stan does, when the left side agrees in every draw */
      if (a->len != 1) goto plain;
      if ((rc = truth(c, a, &tv))) return NULL;
      if (e->op == OP_AND && !tv) return ad_scalar(t, 0, 1);
      if (e->op == OP_OR && tv) return ad_scalar(t, 1, 1);
      if (!(b = ev_expr(c, e->args[1]))) return NULL;
      if (b->len != 1) { r = ad_binary(t, e->op, a, b); break; }
      if ((rc = truth(c, b, &tv))) {
        /* the right side varies by draw: fine, compute elementwise */
        c->rc = 0;
        r = ad_binary(t, e->op, a, b);
        break;
      }
      return ad_scalar(t, tv, 1);
    }
  plain:
    if (!(b = ev_expr(c, e->args[1]))) return NULL;
    r = ad_binary(t, e->op, a, b);
    break;
  case EX_TERNARY:
    if (!(a = ev_expr(c, e->args[0]))) return NULL;
    if ((rc = truth(c, a, &tv))) {
      /* a condition that differs between draws: both arms, selected per draw, where
       * they can (predicate.c) */
      ad_val *arm[2];
      if (rc != EV_DIVERGE || !ev_ternary_ok(c, e, a)) return NULL;
      c->rc = 0;
      for (int k = 0; k < 2; k++)
        if (!(arm[k] = promote(c, ev_expr(c, e->args[1 + k]), e->type))) {
          ad_tape_clear_error(t);
          c->rc = EV_DIVERGE;
          return NULL;
        }
      if (!(r = ev_select(c, a, arm[0], arm[1]))) c->rc = EV_DIVERGE;
      return r;
    }
    r = ev_expr(c, e->args[tv ? 1 : 2]);
    if (!r) return NULL;
    return promote(c, r, e->type);
  case EX_CALL: {
    if (e->builtin < 0 && e->str && (!strcmp(e->str, "target") || !strcmp(e->str, "get_lp")))
      { r = call_target(c); break; }
    ad_val *stackargs[8], **args = stackargs;
    if (e->nargs > 8) {
      args = ad_alloc(t, (size_t)e->nargs * sizeof *args);
      if (!args) { ev_error(c, VI_ENOMEM, e->loc, "out of memory"); return NULL; }
    }
    int skip = VI_CALL_NAMES_FUNCTION(e->builtin);
    for (int i = skip; i < e->nargs; i++)
      if (!(args[i] = ev_expr(c, e->args[i]))) return NULL;
    if (e->builtin == VI_CALL_ODE) return ev_ode(c, e, args);
    if (e->builtin == VI_CALL_SOLVE) return ev_solve(c, &HOF_OPS, e, args);
    if (e->builtin == VI_CALL_INTEGRATE) return ev_integrate_1d(c, &HOF_OPS, e, args);
    if (e->builtin == VI_CALL_MAP_RECT) return ev_map_rect(c, &HOF_OPS, e, args);
    if (e->builtin == VI_CALL_REDUCE) {
      /* f(x, 1, size(x), ...): the grainsize (args[2]) only splits work in Stan */
      args[0] = args[1];
      args[1] = ad_scalar(t, 1, 1);
      args[2] = ad_scalar(t, (double)(args[0]->ndims ? args[0]->dims[0] : 0), 1);
      if (!args[1] || !args[2]) { tape_fail(c, e->loc, e->str); return NULL; }
      return call_user(c, e->func, args, e->nargs, e->loc);
    }
    if (e->builtin == VI_CALL_USER) return call_user(c, e->func, args, e->nargs, e->loc);
    if (e->builtin == VI_CALL_TUPLE) {
      /* the arguments once, each element's builtin on them */
      r = tup_new(t, e->type, 0, NULL);
      for (int k = 0; r && k < e->type.tup->n; k++) {
        if (!(r->el[k] = builtin_call(t, e->parts[k], args, e->nargs))) {
          char what[300];
          snprintf(what, sizeof what, "in %s()", e->str);
          tape_fail(c, e->loc, what);
          return NULL;
        }
        r->el[k]->shared = 1;
      }
      if (!r) tape_fail(c, e->loc, e->str);
      return r;
    }
    r = builtin_call(t, e->builtin, args, e->nargs);
    if (!r) {
      char what[300];
      snprintf(what, sizeof what, "in %s()", e->str ? e->str : builtin_name(e->builtin));
      tape_fail(c, e->loc, what);
      return NULL;
    }
    return r;
  }
  case EX_INDEX: {
    if (!(a = lhs_base(c, e->args[0]))) return NULL;
    ad_ix ixs[AD_MAX_DIMS];
    if (e->nindex > AD_MAX_DIMS) {
      ev_error(c, VI_EUNSUPPORTED, e->loc, "too many indexes");
      return NULL;
    }
    if ((rc = eval_indices(c, e, a, ixs))) {
      /* an index that differs between draws: one element per draw, where it can */
      if (rc == EV_DIVERGE && (r = ev_index_by_draw(c, &PC_OPS, e, a))) return r;
      return NULL;
    }
    r = a->type.base == VT_TUPLE ? tup_index(t, a, ixs, e->nindex)
                                 : ad_index(t, a, ixs, e->nindex);
    break;
  }
  case EX_TUPLE: {
    r = tup_new(t, e->type, 0, NULL);
    if (!r) break;
    for (int i = 0; i < e->nargs; i++) {
      if (!(a = ev_expr(c, e->args[i]))) return NULL;
      a->shared = 1;   /* the tuple holds it: writes through either copy first */
      r->el[i] = a;
    }
    return r;
  }
  case EX_PROJ: {
    if (!(a = ev_expr(c, e->args[0]))) return NULL;
    if (a->type.base != VT_TUPLE || a->len != 1 || e->ival < 1
        || e->ival > a->type.tup->n || !a->el[e->ival - 1]) {
      ev_error(c, VI_ERUNTIME, e->loc, "tuple element .%ld has no value", e->ival);
      return NULL;
    }
    r = a->el[e->ival - 1];
    r->shared = 1;
    return r;
  }
  case EX_ROW_VECTOR: case EX_ARRAY: {
    ad_val *stackargs[16], **args = stackargs;
    if (e->nargs > 16) {
      args = ad_alloc(t, (size_t)e->nargs * sizeof *args);
      if (!args) { ev_error(c, VI_ENOMEM, e->loc, "out of memory"); return NULL; }
    }
    vi_type el = e->type;
    if (e->kind == EX_ARRAY) el.ndims--;
    for (int i = 0; i < e->nargs; i++) {
      if (!(args[i] = ev_expr(c, e->args[i]))) return NULL;
      if (e->kind == EX_ARRAY) args[i] = promote(c, args[i], el);
      if (!args[i]) break;
    }
    if (e->type.base == VT_TUPLE) { r = tuple_array(c, e, args); break; }
    r = e->kind == EX_ARRAY ? ad_array_literal(t, args, e->nargs)
        : base_is_complex(e->type.base) ? ad_cx_row_vector_literal(t, args, e->nargs)
        : ad_row_vector_literal(t, args, e->nargs);
    break;
  }
  }
  if (!r) tape_fail(c, e->loc, "cannot evaluate this expression");
  return r;
}

/* ---- target ----------------------------------------------------------------------- */

/* Explain mode: the first term of the pass (one draw) whose value x is not finite.  For a
 * `~` statement (dist not NULL, fname its density's name) an argument outside the domain
 * Stan checks it against is named as Stan names it (lib/dist_args.c): "normal_lpdf:
 * Scale parameter is -1, but must be positive finite!"; when none is, the message lists
 * the arguments' values (variables by name, others by Stan's name of the argument):
 * scalars by value, other values only when one of their elements is not finite. */
static void note_nonfinite(ev_ctx *c, vi_loc loc, double x, const char *dist,
                           const char *fname, ad_val **args, const vi_expr *const *exprs,
                           int na)
{
  char msg[900], text[64];
  size_t k = 0;
  for (int i = 0; dist && i < na; i++) {
    const ad_val *a = args[i];
    const char *must;
    long e = dist_arg_check(dist, i, a->x, a->len * a->nd, &must);
    if (e < 0 || !dist_arg_name(dist, i, text, sizeof text)) continue;
    k = (size_t)snprintf(msg, sizeof msg, "%s: %s", fname ? fname : dist, text);
    if (a->len > 1)
      k += (size_t)snprintf(msg + k, sizeof msg - k, "[%ld]", e % (long)a->len + 1);
    snprintf(msg + k, sizeof msg - k, " is %g, but %s", a->x[e], must);
    front_error_at(&c->nf_err, VI_ENONFINITE, c->ast, loc, "%s", msg);
    c->nf_set = 1;
    return;
  }
  k = (size_t)snprintf(msg, sizeof msg, "the log density is %s here",
                       isnan(x) ? "nan" : x > 0 ? "+inf" : "-inf");
  if (dist) k += (size_t)snprintf(msg + k, sizeof msg - k, "; the arguments of %s:", dist);
  for (int i = 0; dist && i < na && k < sizeof msg - 200; i++) {
    const ad_val *a = args[i];
    /* a variable by its name, anything else by Stan's name of the argument */
    if (exprs[i]->kind == EX_VAR) snprintf(text, sizeof text, "%s", exprs[i]->str);
    else if (!dist_arg_name(dist, i, text, sizeof text))
      snprintf(text, sizeof text, "argument %d", i + 1);
    k += (size_t)snprintf(msg + k, sizeof msg - k, "%s %s", i ? "," : "", text);
    if (a->len == 1) {
      k += (size_t)snprintf(msg + k, sizeof msg - k, " = %g", a->x[0]);
    } else {
      size_t bad = 0;
      for (size_t e = 0; e < a->len * a->nd; e++) bad += !isfinite(a->x[e]);
      k += (size_t)snprintf(msg + k, sizeof msg - k, " (%zu values, %zu not finite)", a->len,
                            bad);
    }
  }
  front_error_at(&c->nf_err, VI_ENONFINITE, c->ast, loc, "%s", msg);
  c->nf_set = 1;
}

/* Add a term to target (and to the likelihood part if lik): per-draw values now, and
 * its adjoint seeded with 1 so the single reverse sweep gives d target / d z.  With
 * sharded data, a rank other than the first adds only the terms on its shard (sharded):
 * the rest (priors, Jacobians) are rank 0's, counted once in the sum over ranks.  On a
 * minibatch the shard terms count N / B times (value and adjoint seed). */
static int add_term(ev_ctx *c, ad_val *v, int lik, int sharded, vi_loc loc)
{
  if (c->shard_rest && !sharded) return 0;
  if (v->len != 1) {
    v = ad_sum_all(c->t, v);
    if (!v) return tape_fail(c, loc, "target +=");
  }
  if (c->explain && !c->nf_set && !isfinite(v->x[0]))
    note_nonfinite(c, loc, v->x[0], NULL, NULL, NULL, NULL, 0);
  /* a minibatch (minibatch.c): the terms on its rows stand for all the rows */
  double k = sharded && c->mb_b ? c->mb_scale : 1.0;
  for (size_t s = 0; s < c->n; s++) {
    double x = k * v->x[v->nd == 1 ? 0 : s];
    c->lp[s] += x;
    if (lik) c->ll[s] += x;
  }
  if (v->adj)
    for (size_t s = 0; s < v->nd; s++) v->adj[s] += k;
  return 0;
}

/* log(exp(a) - exp(b)) per draw, a >= b, as a tape node. */
static void lde_backward(ad_tape *t, ad_node *nd)
{
  ad_val *o = nd->out, *a = nd->in[0], *b = nd->in[1];
  for (size_t s = 0; s < o->nd; s++) {
    double g = o->adj[s], xa = a->x[a->nd == 1 ? 0 : s], xb = b->x[b->nd == 1 ? 0 : s];
    double r = exp(xb - xa);       /* in [0, 1) */
    if (a->adj) a->adj[a->nd == 1 ? 0 : s] += g / (1 - r);
    if (b->adj) b->adj[b->nd == 1 ? 0 : s] += -g * r / (1 - r);
  }
}

static ad_val *log_diff_exp(ad_tape *t, ad_val *a, ad_val *b)
{
  size_t one = 1;
  int var = a->nd > 1 || b->nd > 1;
  ad_val *o = ad_new(t, (vi_type){VT_REAL, 0, NULL}, 0, &one, var, 1);
  if (!o) return NULL;
  for (size_t s = 0; s < o->nd; s++) {
    double xa = a->x[a->nd == 1 ? 0 : s], xb = b->x[b->nd == 1 ? 0 : s];
    o->x[s] = xb > xa ? NAN : xa == xb ? -INFINITY
              : xa + (xb - xa > -VI_LN2 ? log(-expm1(xb - xa)) : log1p(-exp(xb - xa)));
  }
  ad_val *in[2] = {a, b};
  ad_push(t, lde_backward, o, 2, in);
  return o;
}

static const ev_trunc *find_trunc(ev_ctx *c, const vi_stmt *st)
{
  for (size_t i = 0; i < c->ntrunc; i++)
    if (c->trunc[i].st == st) return &c->trunc[i];
  return NULL;
}

static int exec_tilde(ev_ctx *c, const vi_stmt *st)
{
  ad_tape *t = c->t;
  int na = st->nargs + 1;
  ad_val *stackargs[9], **args = stackargs;
  if (na > 9) {
    args = ad_alloc(t, (size_t)na * sizeof *args);
    if (!args) return ev_error(c, VI_ENOMEM, st->loc, "out of memory");
  }
  if (!(args[0] = ev_expr(c, st->lhs))) return c->rc;
  for (int i = 0; i < st->nargs; i++)
    if (!(args[i + 1] = ev_expr(c, st->args[i]))) return c->rc;
  ad_val *lp;
  if (st->func) {
    if (!(lp = call_user(c, st->func, args, na, st->loc))) return c->rc;
  } else if (!(lp = builtin_call(t, st->builtin, args, na))) {
    char what[300];
    snprintf(what, sizeof what, "in '~ %s'", st->name);
    return tape_fail(c, st->loc, what);
  }
  if (lp->len != 1 && !(lp = ad_sum_all(t, lp))) return tape_fail(c, st->loc, "~");
  if (c->explain && !c->nf_set && !isfinite(lp->x[0])) {
    const vi_expr *exprs[9], **ex = exprs;
    if (na > 9 && !(ex = ad_alloc(t, (size_t)na * sizeof *ex)))
      return ev_error(c, VI_ENOMEM, st->loc, "out of memory");
    ex[0] = st->lhs;
    for (int i = 0; i < st->nargs; i++) ex[i + 1] = st->args[i];
    note_nonfinite(c, st->loc, lp->x[0], st->name,
                   st->func ? NULL : builtin_name(st->builtin), args, ex, na);
  }
  if (st->truncated) {
    const ev_trunc *tr = find_trunc(c, st);
    ad_val *lo = NULL, *hi = NULL, *y = args[0], *norm = NULL;
    if (!tr) return ev_error(c, VI_EUNSUPPORTED, st->loc, "truncation is not supported here");
    if (st->lo && !(lo = ev_expr(c, st->lo))) return c->rc;
    if (st->hi && !(hi = ev_expr(c, st->hi))) return c->rc;
    /* outside [lo, hi]: log density -inf (a separate value-only term) */
    ad_val *outside = NULL;
    for (size_t q = 0; q < c->n; q++) {
      double yv = y->x[y->nd == 1 ? 0 : q];
      if ((lo && yv < lo->x[lo->nd == 1 ? 0 : q]) || (hi && yv > hi->x[hi->nd == 1 ? 0 : q])) {
        if (!outside) {
          size_t one = 1;
          outside = ad_new(t, (vi_type){VT_REAL, 0, NULL}, 0, &one, 1, 0);
          if (!outside) return tape_fail(c, st->loc, "~");
          for (size_t r = 0; r < c->n; r++) outside->x[r] = 0;
        }
        outside->x[q] = -INFINITY;
      }
    }
    /* a discrete variate: P(L <= y <= U) = F(U) - F(L - 1) */
    if (lo && st->lhs->type.base == VT_INT && type_rank(st->lhs->type) == 0) {
      lo = ad_binary(t, OP_SUB, lo, ad_scalar(t, 1, 1));
      if (!lo) return tape_fail(c, st->loc, "truncation");
    }
    args[0] = lo ? lo : hi;
    if (lo && hi) {
      ad_val *a, *b;
      args[0] = hi;
      if (!(a = builtin_call(t, tr->lcdf, args, na))) return tape_fail(c, st->loc, "truncation");
      args[0] = lo;
      if (!(b = builtin_call(t, tr->lcdf, args, na))) return tape_fail(c, st->loc, "truncation");
      norm = log_diff_exp(t, a, b);
    } else if (lo) {
      norm = builtin_call(t, tr->lccdf, args, na);
    } else {
      norm = builtin_call(t, tr->lcdf, args, na);
    }
    if (!norm) return tape_fail(c, st->loc, "truncation");
    lp = ad_binary(t, OP_SUB, lp, norm);
    if (!lp) return tape_fail(c, st->loc, "truncation");
    if (outside) {
      int rc = add_term(c, outside, st->is_likelihood, st->shard_term, st->loc);
      if (rc) return rc;
    }
  }
  return add_term(c, lp, st->is_likelihood, st->shard_term, st->loc);
}

/* ---- print / reject ------------------------------------------------------------- */

static size_t fmt_num(char *b, size_t len, double x, int is_int)
{
  int k;
  if (is_int && !isnan(x)) k = snprintf(b, len, "%.0f", x);
  else if (isnan(x)) k = snprintf(b, len, "nan");
  else if (isinf(x)) k = snprintf(b, len, x > 0 ? "inf" : "-inf");
  else k = snprintf(b, len, "%g", x);
  return k < 0 ? 0 : (size_t)k < len ? (size_t)k : len ? len - 1 : 0;
}

/* Complex element off (in complex elements) of v, draw sd, as C++ prints it: (re,im). */
static size_t fmt_cnum(char *b, size_t len, const ad_val *v, size_t sd, size_t off)
{
  size_t o = 0;
  if (len < 2) return 0;
  o += (size_t)snprintf(b, len, "(");
  if (o + 1 < len) o += fmt_num(b + o, len - o, v->x[2 * off * v->nd + sd], 0);
  if (o + 1 < len) o += (size_t)snprintf(b + o, len - o, ",");
  if (o + 1 < len) o += fmt_num(b + o, len - o, v->x[(2 * off + 1) * v->nd + sd], 0);
  if (o + 1 < len) o += (size_t)snprintf(b + o, len - o, ")");
  return o < len ? o : len - 1;
}

/* Append value v (draw s) to b as Stan prints it: [1,2], [[1,2],[3,4]].  off counts
 * elements (complex ones for a complex value). */
static size_t fmt_val(char *b, size_t len, const ad_val *v, size_t s, int dim, size_t off)
{
  size_t o = 0, k;
  if (v->type.base == VT_TUPLE) {
    /* arrays of tuples as arrays, a tuple as (a, b), as Stan prints them */
    if (len < 2) return 0;
    if (dim < v->ndims) {
      size_t stride = 1;
      for (int q = dim + 1; q < v->ndims; q++) stride *= v->dims[q];
      o += (size_t)snprintf(b + o, len - o, "[");
      for (k = 0; k < v->dims[dim] && o + 1 < len; k++) {
        if (k) o += (size_t)snprintf(b + o, len - o, ",");
        o += fmt_val(b + o, len - o, v, s, dim + 1, off + k * stride);
      }
      if (o + 1 < len) o += (size_t)snprintf(b + o, len - o, "]");
      return o;
    }
    size_t n = (size_t)v->type.tup->n;
    o += (size_t)snprintf(b + o, len - o, "(");
    for (k = 0; k < n && o + 1 < len; k++) {
      if (k) o += (size_t)snprintf(b + o, len - o, ", ");
      const ad_val *e = v->el[off * n + k];
      if (e && o + 1 < len) o += fmt_val(b + o, len - o, e, s, 0, 0);
    }
    if (o + 1 < len) o += (size_t)snprintf(b + o, len - o, ")");
    return o;
  }
  int isint = v->type.base == VT_INT, cx = base_is_complex(v->type.base);
  size_t sd = v->nd == 1 ? 0 : s;
  if (dim == v->ndims - cx)
    return cx ? fmt_cnum(b, len, v, sd, off) : fmt_num(b, len, v->x[off * v->nd + sd], isint);
  int A = v->type.ndims;
  if (len < 2) return 0;
  if (dim < A) {
    size_t stride = 1;
    for (int q = dim + 1; q < v->ndims - cx; q++) stride *= v->dims[q];
    o += (size_t)snprintf(b + o, len - o, "[");
    for (k = 0; k < v->dims[dim] && o + 1 < len; k++) {
      if (k) o += (size_t)snprintf(b + o, len - o, ",");
      o += fmt_val(b + o, len - o, v, s, dim + 1, off + k * stride);
    }
    if (o + 1 < len) o += (size_t)snprintf(b + o, len - o, "]");
    return o;
  }
  if (base_real_of(v->type.base) == VT_MATRIX) {
    size_t R = v->dims[A], C = v->dims[A + 1], i, j;
    o += (size_t)snprintf(b + o, len - o, "[");
    for (i = 0; i < R && o + 1 < len; i++) {
      o += (size_t)snprintf(b + o, len - o, i ? ",[" : "[");
      for (j = 0; j < C && o + 1 < len; j++) {
        if (j) o += (size_t)snprintf(b + o, len - o, ",");
        o += cx ? fmt_cnum(b + o, len - o, v, sd, off + i + j * R)
                : fmt_num(b + o, len - o, v->x[(off + i + j * R) * v->nd + sd], 0);
      }
      if (o + 1 < len) o += (size_t)snprintf(b + o, len - o, "]");
    }
    if (o + 1 < len) o += (size_t)snprintf(b + o, len - o, "]");
    return o;
  }
  o += (size_t)snprintf(b + o, len - o, "[");
  for (k = 0; k < v->dims[dim] && o + 1 < len; k++) {
    if (k) o += (size_t)snprintf(b + o, len - o, ",");
    o += cx ? fmt_cnum(b + o, len - o, v, sd, off + k)
            : fmt_num(b + o, len - o, v->x[(off + k) * v->nd + sd], isint);
  }
  if (o + 1 < len) o += (size_t)snprintf(b + o, len - o, "]");
  return o;
}

/* Evaluate the items of a print/reject into c->pbuf, for draw s (values of all draws
 * are evaluated once; vals caches them). */
static int format_items(ev_ctx *c, const vi_stmt *st, ad_val **vals, size_t s)
{
  size_t o = 0, len = sizeof c->pbuf;
  c->pbuf[0] = '\0';
  for (int i = 0; i < st->nargs && o + 1 < len; i++) {
    const vi_expr *e = st->args[i];
    if (e->kind == EX_STRING_LIT)
      o += (size_t)snprintf(c->pbuf + o, len - o, "%s", e->str ? e->str : "");
    else
      o += fmt_val(c->pbuf + o, len - o, vals[i], s, 0, 0);
    if (o >= len) o = len - 1;
  }
  return 0;
}

static int eval_items(ev_ctx *c, const vi_stmt *st, ad_val ***vals_out, int *varying)
{
  ad_val **vals = ad_alloc(c->t, ((size_t)st->nargs + 1) * sizeof *vals);
  if (!vals) return ev_error(c, VI_ENOMEM, st->loc, "out of memory");
  *varying = 0;
  for (int i = 0; i < st->nargs; i++) {
    vals[i] = NULL;
    if (st->args[i]->kind == EX_STRING_LIT) continue;
    if (!(vals[i] = ev_expr(c, st->args[i]))) return c->rc;
    if (tup_varying(vals[i])) *varying = 1;
  }
  *vals_out = vals;
  return 0;
}

static int exec_print(ev_ctx *c, const vi_stmt *st)
{
  ad_val **vals; int var, rc;
  if ((rc = eval_items(c, st, &vals, &var))) return rc;
  if (!c->print) return 0;
  size_t nd = var ? c->n : 1;
  for (size_t s = 0; s < nd; s++) {
    format_items(c, st, vals, s);
    size_t l = strlen(c->pbuf);   /* one line per print, as Stan writes it */
    if (l + 1 >= sizeof c->pbuf) l = sizeof c->pbuf - 2;
    c->pbuf[l] = '\n'; c->pbuf[l + 1] = '\0';
    l += 2;
    if (c->pout_len + l > c->pout_cap) {
      ev_print_flush(c);   /* keep memory bounded: very chatty passes print early */
      if (!c->pout) {
        c->pout = malloc(1 << 16);
        c->pout_cap = c->pout ? 1 << 16 : 0;
      }
    }
    if (c->pout_len + l <= c->pout_cap) {
      memcpy(c->pout + c->pout_len, c->pbuf, l);
      c->pout_len += l;
    } else {
      c->print(c->print_ctx, c->pbuf);
    }
  }
  return 0;
}

void ev_print_flush(ev_ctx *c)
{
  size_t o = 0;
  while (o < c->pout_len) {
    const char *line = c->pout + o;
    if (c->print) c->print(c->print_ctx, line);
    o += strlen(line) + 1;
  }
  c->pout_len = 0;
}

void ev_print_discard(ev_ctx *c) { c->pout_len = 0; }

static int exec_reject(ev_ctx *c, const vi_stmt *st)
{
  ad_val **vals; int var, rc;
  if ((rc = eval_items(c, st, &vals, &var))) return rc;
  format_items(c, st, vals, 0);
  int fatal = st->kind == ST_FATAL || c->block == BLK_TDATA || c->block == BLK_GQ;
  int status = fatal ? VI_ERUNTIME : VI_ERUNTIME;
  ev_error(c, status, st->loc, "%s: %s", st->kind == ST_FATAL ? "fatal_error" : "reject",
           c->pbuf);
  if (fatal) return status;
  c->rc = 0;
  return EV_REJECT;
}

/* ---- statements ------------------------------------------------------------------- */

static int same_shape(const ad_val *a, const ad_val *b)
{
  if (a->ndims != b->ndims) return 0;
  for (int i = 0; i < a->ndims; i++) if (a->dims[i] != b->dims[i]) return 0;
  if (a->type.base == VT_TUPLE && b->type.base == VT_TUPLE && a->el && b->el) {
    /* tuples: every element as well (b may be a probe without elements) */
    size_t m = a->len * (size_t)a->type.tup->n;
    for (size_t i = 0; i < m; i++)
      if (a->el[i] && b->el[i] && !same_shape(a->el[i], b->el[i])) return 0;
  }
  return 1;
}

static void shape_text(const ad_val *v, char *b, size_t len)
{
  size_t o = 0;
  if (v->ndims == 0) { snprintf(b, len, "scalar"); return; }
  for (int i = 0; i < v->ndims && o < len; i++)
    o += (size_t)snprintf(b + o, len - o, "%s%zu", i ? " x " : "", v->dims[i]);
}

/* A declared variable's value before any assignment: NaN (ints too, as "no value"); a
 * tuple holds such values, one set per array position (shared: writes copy). */
static int decl_value(ev_ctx *c, const vi_decl *d, int nd, const size_t *dims, ad_val **out)
{
  int rc;
  if (d->type.base != VT_TUPLE) {
    ad_val *v = ad_new(c->t, d->type, nd, dims, 0, 0);
    if (!v) return tape_fail(c, d->loc, "declaration");
    for (size_t i = 0; i < v->len; i++) v->x[i] = NAN;
    *out = v;
    return 0;
  }
  ad_val *v = tup_new(c->t, d->type, nd, dims);
  if (!v) return tape_fail(c, d->loc, "declaration");
  size_t n = (size_t)d->ntel;
  for (size_t k = 0; k < n; k++) {
    int end;
    size_t edims[AD_MAX_DIMS];
    ad_val *e;
    if ((rc = ev_decl_shape(c, d->tel[k], &end, edims, NULL, NULL, NULL))) return rc;
    if ((rc = decl_value(c, d->tel[k], end, edims, &e))) return rc;
    e->shared = 1;
    for (size_t i = 0; i < v->len; i++) v->el[i * n + k] = e;
  }
  *out = v;
  return 0;
}

static int exec_decl(ev_ctx *c, const vi_decl *d)
{
  int nd, rc;
  size_t dims[AD_MAX_DIMS];
  if ((rc = ev_decl_shape(c, d, &nd, dims, NULL, NULL, NULL))) return rc;
  ad_val *v;
  if (d->init && d->type.base == VT_TUPLE) {
    ad_val *probe;
    if ((rc = decl_value(c, d, nd, dims, &probe))) return rc;
    if (!(v = ev_expr(c, d->init))) return c->rc;
    v = promote(c, v, d->type);
    if (!v) return tape_fail(c, d->loc, "initialiser");
    if (!same_shape(v, probe))
      return ev_error(c, VI_ERUNTIME, d->init->loc, "size mismatch in the initialiser of "
                      "'%s': the sizes of the value's elements differ from the declared "
                      "%s", d->name, d->type_text ? d->type_text : "tuple");
    v = tup_copy(c->t, v);
    if (!v) return tape_fail(c, d->loc, "initialiser");
  } else if (d->init) {
    if (!(v = ev_expr(c, d->init))) return c->rc;
    v = promote(c, v, d->type);
    if (!v) return tape_fail(c, d->loc, "initialiser");
    ad_val probe = {0};
    probe.ndims = nd;
    memcpy(probe.dims, dims, sizeof(size_t) * (size_t)nd);
    if (!same_shape(v, &probe)) {
      char a[128], b[128];
      shape_text(&probe, a, sizeof a); shape_text(v, b, sizeof b);
      return ev_error(c, VI_ERUNTIME, d->init->loc,
                      "size mismatch in the initialiser of '%s': declared %s, value %s",
                      d->name, a, b);
    }
    /* the value may be another variable's (x = y, or a builtin that returns its
     * argument): an in-place write to this variable must copy first */
    v->shared = 1;
  } else if ((rc = decl_value(c, d, nd, dims, &v))) {
    return rc;
  }
  c->slot[d->slot] = v;
  return 0;
}

static const vi_decl *lhs_decl(const vi_expr *e)
{
  while (e && (e->kind == EX_INDEX || e->kind == EX_PROJ)) e = e->args[0];
  return e && e->kind == EX_VAR ? e->decl : NULL;
}

/* Does the left side go through a tuple (x.1 = ..., x[i].2[j] = ..., or x a tuple)? */
static int lhs_tuple(const vi_expr *e)
{
  for (; e->kind == EX_INDEX || e->kind == EX_PROJ; e = e->args[0])
    if (e->kind == EX_PROJ) return 1;
  return e->kind == EX_VAR && e->decl && e->decl->type.base == VT_TUPLE;
}

/* Store v where lhs (a chain of indexes and tuple elements ending in a variable) points:
 * the innermost container gets v, each enclosing level a new value holding it (tuples
 * are values: a tuple element is replaced in a copy of the tuple). */
static int store_path(ev_ctx *c, const vi_stmt *st, const vi_expr *lhs, ad_val *v,
                      int fresh)
{
  ad_tape *t = c->t;
  const vi_decl *d = lhs_decl(lhs);
  int rc;
  v = promote(c, v, lhs->type);
  if (!v) return tape_fail(c, st->loc, "assignment");
  if (lhs->kind == EX_VAR) {
    ad_val *cur = c->slot[d->slot];
    if (!cur) return ev_error(c, VI_ERUNTIME, st->loc, "'%s' has no value", d->name);
    if (!same_shape(v, cur)) {
      char a[128], b[128];
      shape_text(cur, a, sizeof a); shape_text(v, b, sizeof b);
      if (cur->type.base == VT_TUPLE && !strcmp(a, b))
        return ev_error(c, VI_ERUNTIME, st->loc, "size mismatch in assignment to '%s': an "
                        "element of the tuple value has other sizes than declared (%s)",
                        d->name, d->type_text ? d->type_text : "tuple");
      return ev_error(c, VI_ERUNTIME, st->loc, "size mismatch in assignment to '%s': "
                      "declared %s, value %s", d->name, a, b);
    }
    if (v->type.base == VT_TUPLE && !(v = tup_copy(t, v))) return tape_fail(c, st->loc, "assignment");
    v->shared = 1;
    c->slot[d->slot] = v;
    return 0;
  }
  ad_val *base = lhs_base(c, lhs->args[0]);
  if (!base) return c->rc;
  ad_val *nb;
  if (lhs->kind == EX_PROJ) {
    size_t k = (size_t)lhs->ival - 1;
    ad_val *old = base->el[k];
    if (old && !same_shape(v, old)) {
      char a[128], b[128];
      shape_text(old, a, sizeof a); shape_text(v, b, sizeof b);
      return ev_error(c, VI_ERUNTIME, st->loc, "size mismatch in assignment to element %zu "
                      "of a tuple in '%s': declared %s, value %s", k + 1, d->name, a, b);
    }
    if (lhs->args[0]->kind == EX_VAR && base == c->slot[d->slot] && base->ndims == 0) {
      /* x.k = v for a tuple variable x: x's pointer array is its own (every declaration
       * and store makes one), so element k is replaced in place; v stays unshared when
       * it is x.k itself written in place or a copy made for this write, so a loop of
       * writes x.k[i] = ... copies x.k once, not at every write */
      if (!fresh) v->shared = 1;
      base->el[k] = v;
      return 0;
    }
    if (!(nb = tup_copy(t, base))) return tape_fail(c, st->loc, "assignment");
    v->shared = 1;
    nb->el[k] = v;
  } else {
    ad_ix ixs[AD_MAX_DIMS];
    if (lhs->nindex > AD_MAX_DIMS)
      return ev_error(c, VI_EUNSUPPORTED, st->loc, "too many indexes");
    if ((rc = eval_indices(c, lhs, base, ixs))) return rc;
    if (base->type.base == VT_TUPLE) {
      nb = tup_assign_index(t, base, ixs, lhs->nindex, v);
    } else {
      if (base_is_complex(base->type.base) && !base_is_complex(v->type.base)
          && !(v = ad_to_complex(t, v)))
        return tape_fail(c, st->loc, "assignment");
      nb = ad_assign_index(t, base, ixs, lhs->nindex, v);
    }
    if (!nb) {
      const char *e = ad_tape_error(t);
      return ev_error(c, VI_ERUNTIME, st->loc, "in assignment to '%s': %s", d->name,
                      e ? e : "size mismatch");
    }
  }
  return store_path(c, st, lhs->args[0], nb, 1);
}

/* (a, b, (c, d)) = v: each target gets its element of v (evaluated before any store). */
static int store_unpack(ev_ctx *c, const vi_stmt *st, const vi_expr *lhs, ad_val *v)
{
  if (lhs->kind != EX_TUPLE) return store_path(c, st, lhs, v, 0);
  if (v->type.base != VT_TUPLE || v->len != 1 || v->type.tup->n != lhs->nargs)
    return ev_error(c, VI_ERUNTIME, st->loc, "cannot unpack this value");
  for (int i = 0; i < lhs->nargs; i++) {
    int rc = store_unpack(c, st, lhs->args[i], v->el[i]);
    if (rc) return rc;
  }
  return 0;
}

/* In a masked branch (predicate.c): v where the branch is taken, old elsewhere. */
static ad_val *masked_value(ev_ctx *c, ad_val *v, const ad_val *old)
{
  ad_val *r = ev_mask_select(c, v, old);
  if (!r) c->rc = EV_DIVERGE;   /* not selectable so: draw by draw */
  return r;
}

static int exec_assign(ev_ctx *c, const vi_stmt *st)
{
  if (c->mask && (st->lhs->kind == EX_TUPLE || lhs_tuple(st->lhs))) return c->rc = EV_DIVERGE;
  if (st->lhs->kind == EX_TUPLE || lhs_tuple(st->lhs)) {
    ad_val *rhs = ev_expr(c, st->rhs);
    if (!rhs) return c->rc;
    if (st->lhs->kind == EX_TUPLE) return store_unpack(c, st, st->lhs, rhs);
    if (st->op != OP_NONE) {
      ad_val *old = ev_expr(c, st->lhs);
      if (!old) return c->rc;
      rhs = ad_binary(c->t, st->op, old, rhs);
      if (!rhs) return tape_fail(c, st->loc, "compound assignment");
    }
    return store_path(c, st, st->lhs, rhs, 0);
  }
  ad_tape *t = c->t;
  const vi_expr *lhs = st->lhs;
  const vi_decl *d = lhs_decl(lhs);
  int rc;
  if (!d) return ev_error(c, VI_EUNSUPPORTED, st->loc, "unsupported assignment target");
  ad_val *cur = c->slot[d->slot];
  if (!cur) return ev_error(c, VI_ERUNTIME, st->loc, "'%s' has no value", d->name);
  ad_val *rhs = ev_expr(c, st->rhs);
  if (!rhs) return c->rc;
  if (lhs->kind == EX_VAR) {
    if (st->op != OP_NONE) {
      rhs = ad_binary(t, st->op, cur, rhs);
      if (!rhs) return tape_fail(c, st->loc, "compound assignment");
    }
    rhs = promote(c, rhs, d->type);
    if (!rhs) return tape_fail(c, st->loc, "assignment");
    if (!same_shape(rhs, cur)) {
      char a[128], b[128];
      shape_text(cur, a, sizeof a); shape_text(rhs, b, sizeof b);
      return ev_error(c, VI_ERUNTIME, st->loc,
                      "size mismatch in assignment to '%s': declared %s, value %s", d->name, a, b);
    }
    if (ev_masked(c, d) && !(rhs = masked_value(c, rhs, cur))) return c->rc;
    rhs->shared = 1;   /* as in exec_decl: never write through an alias */
    c->slot[d->slot] = rhs;
    return 0;
  }
  /* x[i][j] = ... is x[i, j] = ... when the outer levels are single indexes (each drops
   * the dimension it indexes, so the next level's indexes apply to the next dims) */
  const vi_expr *chain[AD_MAX_DIMS];
  int nchain = 0, nix = 0;
  for (const vi_expr *e = lhs; e->kind == EX_INDEX; e = e->args[0]) {
    if (nchain == AD_MAX_DIMS) return ev_error(c, VI_EUNSUPPORTED, st->loc, "too many indexes");
    chain[nchain++] = e;
  }
  ad_ix ixs[AD_MAX_DIMS];
  for (int k = nchain - 1; k >= 0; k--) {
    const vi_expr *e = chain[k];
    if (k > 0)
      for (int q = 0; q < e->nindex; q++)
        if (e->index[q].kind != IX_SINGLE)
          return ev_error(c, VI_EUNSUPPORTED, st->loc,
                          "assignment through a multi-index followed by another index");
    if (nix + e->nindex > cur->ndims || nix + e->nindex > AD_MAX_DIMS)
      return ev_error(c, VI_ERUNTIME, st->loc, "too many indexes for %s", d->name);
    /* check each level against the dims it applies to */
    ad_val view = *cur;
    view.ndims = cur->ndims - nix;
    for (int q = 0; q < view.ndims; q++) view.dims[q] = cur->dims[q + nix];
    vi_expr tmp = *e;
    tmp.args = (vi_expr **)&chain[nchain - 1]->args[0];
    if ((rc = eval_indices(c, &tmp, &view, ixs + nix))) return rc;
    nix += e->nindex;
  }
  if (st->op != OP_NONE) {
    ad_val *old = ad_index(t, cur, ixs, nix);
    if (!old) return tape_fail(c, st->loc, "compound assignment");
    rhs = ad_binary(t, st->op, old, rhs);
    if (!rhs) return tape_fail(c, st->loc, "compound assignment");
  }
  if (is_realish(d->type.base) && rhs->type.base == VT_INT) {
    rhs = ad_to_real(t, rhs);
    if (!rhs) return tape_fail(c, st->loc, "assignment");
  }
  if (base_is_complex(d->type.base) && !base_is_complex(rhs->type.base)) {
    rhs = ad_to_complex(t, rhs);
    if (!rhs) return tape_fail(c, st->loc, "assignment");
  }
  if (ev_masked(c, d)) {
    ad_val *old = ad_index(t, cur, ixs, nix);
    if (!old) return tape_fail(c, st->loc, "assignment");
    if (!(rhs = masked_value(c, rhs, old))) return c->rc;
  }
  ad_val *nv = ad_assign_index(t, cur, ixs, nix, rhs);
  if (!nv) {
    const char *e = ad_tape_error(t);
    return ev_error(c, VI_ERUNTIME, st->loc, "in assignment to '%s': %s", d->name,
                    e ? e : "size mismatch");
  }
  c->slot[d->slot] = nv;
  return 0;
}

static int loop_body(ev_ctx *c, const vi_stmt *body, int *stop)
{
  if (++c->loop_iters > EV_MAX_LOOP_ITERS) {
    *stop = 1;
    return ev_error(c, VI_ERUNTIME, body->loc, "more than %ld loop iterations in one "
                    "evaluation of the model (a loop that never ends?)", EV_MAX_LOOP_ITERS);
  }
  int rc = ev_stmt(c, body);
  *stop = 0;
  if (rc == EV_BREAK) { *stop = 1; return 0; }
  if (rc == EV_CONTINUE) return 0;
  if (rc) *stop = 1;
  return rc;
}

static const lv_ops LV_OPS = {ev_expr, add_term};

static int exec_for(ev_ctx *c, const vi_stmt *st)
{
  ad_val *a, *b;
  long lo, hi;
  int rc, stop;
  if (!(a = ev_expr(c, st->lo))) return c->rc;
  if ((rc = int_at(c, a, 0, st->lo->loc, &lo))) return rc;
  if (!(b = ev_expr(c, st->hi))) return c->rc;
  if ((rc = int_at(c, b, 0, st->hi->loc, &hi))) return rc;
  if ((rc = ev_for_vector(c, &LV_OPS, st, lo, hi)) != EV_LOOP_PLAIN) return rc;
  for (long i = lo; i <= hi; i++) {
    ad_val *iv = ad_scalar(c->t, (double)i, 1);
    if (!iv) return tape_fail(c, st->loc, "for");
    c->slot[st->decl->slot] = iv;
    rc = loop_body(c, st->body, &stop);
    if (stop) return rc;
  }
  return 0;
}

static int exec_foreach(ev_ctx *c, const vi_stmt *st)
{
  ad_val *v = ev_expr(c, st->rhs);
  int rc, stop;
  if (!v) return c->rc;
  v->shared = 1;
  size_t n, rows = 1;
  int nix = 1;
  size_t cw = base_is_complex(v->type.base) ? 2 : 1;   /* doubles per element */
  if (v->type.ndims > 0) n = v->dims[0];
  else if (base_real_of(v->type.base) == VT_MATRIX) { rows = v->dims[0]; n = v->len / cw; nix = 2; }
  else n = v->len / cw;
  for (size_t i = 0; i < n; i++) {
    ad_ix ix[2];
    memset(ix, 0, sizeof ix);
    if (nix == 2) { ix[0].pos0 = i % rows; ix[1].pos0 = i / rows; }
    else ix[0].pos0 = i;
    ad_val *el = v->type.base == VT_TUPLE ? tup_index(c->t, v, ix, nix)
                                          : ad_index(c->t, v, ix, nix);
    if (!el) return tape_fail(c, st->loc, "foreach");
    c->slot[st->decl->slot] = el;
    rc = loop_body(c, st->body, &stop);
    if (stop) return rc;
  }
  return 0;
}

int ev_stmt(ev_ctx *c, const vi_stmt *st)
{
  ad_val *v;
  int rc, tv, stop;
  switch (st->kind) {
  case ST_DECL: return exec_decl(c, st->decl);
  case ST_ASSIGN: return exec_assign(c, st);
  case ST_TILDE: return exec_tilde(c, st);
  case ST_TARGET:
    if (!(v = ev_expr(c, st->rhs))) return c->rc;
    return add_term(c, v, st->is_likelihood, st->shard_term, st->loc);
  case ST_FOR: return exec_for(c, st);
  case ST_FOREACH: return exec_foreach(c, st);
  case ST_WHILE:
    for (;;) {
      if (!(v = ev_expr(c, st->rhs))) return c->rc;
      if ((rc = truth(c, v, &tv))) return rc;
      if (!tv) return 0;
      rc = loop_body(c, st->body, &stop);
      if (stop) return rc;
    }
  case ST_IF:
    if (!(v = ev_expr(c, st->rhs))) return c->rc;
    /* a condition that differs between draws: both branches, masked, where they can */
    if ((rc = truth(c, v, &tv))) return rc == EV_DIVERGE ? ev_if_convert(c, &PC_OPS, st, v) : rc;
    if (tv) return ev_stmt(c, st->body);
    return st->els ? ev_stmt(c, st->els) : 0;
  case ST_BLOCK:
    for (int i = 0; i < st->nstmts; i++)
      if ((rc = ev_stmt(c, st->stmts[i]))) return rc;
    return 0;
  case ST_PRINT: return exec_print(c, st);
  case ST_REJECT: case ST_FATAL: return exec_reject(c, st);
  case ST_BREAK: return EV_BREAK;
  case ST_CONTINUE: return EV_CONTINUE;
  case ST_EMPTY: return 0;
  case ST_RETURN: return exec_return(c, st);
  case ST_CALL: return ev_expr(c, st->rhs) ? 0 : c->rc;
  }
  return 0;
}

int ev_block(ev_ctx *c, const vi_stmt *blk, int block)
{
  int rc;
  if (!blk) return 0;
  c->block = block;
  for (int i = 0; i < blk->nstmts; i++) {
    const vi_stmt *st = blk->stmts[i];
    if (st->kind == ST_DECL && (st->decl->block == BLK_DATA || st->decl->block == BLK_PARAMS))
      continue;
    if ((rc = ev_stmt(c, st))) return rc;
  }
  return 0;
}

/* ---- constraint checks of declared values ---------------------------------------- */

static int check_bounds(ev_ctx *c, const vi_decl *d, const ad_val *v, ad_val **lb,
                        ad_val **ub)
{
  *lb = *ub = NULL;
  if (d->con != CON_BOUNDS) return 0;
  if (d->lower && !(*lb = ev_expr(c, d->lower))) return c->rc;
  if (d->upper && !(*ub = ev_expr(c, d->upper))) return c->rc;
  if ((*lb && (*lb)->len != 1 && (*lb)->len != v->len)
      || (*ub && (*ub)->len != 1 && (*ub)->len != v->len))
    return ev_error(c, VI_ERUNTIME, d->loc, "the bounds of '%s' do not match its size", d->name);
  return 0;
}

static long check_with(ev_ctx *c, const vi_decl *d, const ad_val *v, size_t s, ad_val *lb,
                       ad_val *ub, char *why, size_t whylen, int *rc)
{
  tr_spec sp;
  size_t A = 1, rows = 1, cols = 1;
  int at = v->type.ndims;
  *rc = 0;
  for (int k = 0; k < at; k++) A *= v->dims[k];
  if (v->ndims - at >= 1) rows = v->dims[at];
  if (v->ndims - at == 2) cols = v->dims[at + 1];
  if (v->type.base == VT_ROW_VECTOR) { cols = rows; rows = 1; }
  if (tr_spec_init(&sp, d->con, lb != NULL, ub != NULL, A, rows, cols, why, whylen)) {
    *rc = ev_error(c, VI_ERUNTIME, d->loc, "'%s': %s", d->name, why);
    return -1;
  }
  return tr_check(&sp, v, s, lb, ub, why, whylen);
}

long ev_check_value(ev_ctx *c, const vi_decl *d, const ad_val *v, size_t s, char *why,
                    size_t whylen, int *rc)
{
  ad_val *lb, *ub;
  *rc = 0;
  if (d->con == CON_NONE || d->con == CON_OFFSET_MULT) return -1;
  if ((*rc = check_bounds(c, d, v, &lb, &ub))) return -1;
  return check_with(c, d, v, s, lb, ub, why, whylen, rc);
}

static int check_decl_value(ev_ctx *c, const vi_decl *d, ad_val *v, int per_draw,
                            int status);

/* A tuple's elements against their declarations' constraints (x.1 named as such; for
 * an array of tuples, each position's). */
static int check_tuple_value(ev_ctx *c, const vi_decl *d, ad_val *v, int per_draw,
                             int status)
{
  size_t n = (size_t)d->ntel;
  for (size_t i = 0; i < v->len; i++)
    for (size_t k = 0; k < n; k++) {
      int rc = v->el[i * n + k] ? check_decl_value(c, d->tel[k], v->el[i * n + k],
                                                   per_draw, status) : 0;
      if (rc) return rc;
    }
  return 0;
}

static int check_decl_value(ev_ctx *c, const vi_decl *d, ad_val *v, int per_draw,
                            int status)
{
  ad_val *lb, *ub;
  int rc;
  if (!v) return 0;
  if (d->type.base == VT_TUPLE) return check_tuple_value(c, d, v, per_draw, status);
  if (d->con == CON_NONE || d->con == CON_OFFSET_MULT) return 0;
  if ((rc = check_bounds(c, d, v, &lb, &ub))) return rc;
  for (size_t s = 0; s < c->n; s++) {
    char why[256], ix[128];
    if (per_draw && c->rej[s]) continue;
    long e = check_with(c, d, v, s, lb, ub, why, sizeof why, &rc);
    if (rc) return rc;
    if (e < 0) continue;
    index_text(v, (size_t)e, ix, sizeof ix);
    ev_error(c, per_draw ? VI_ERUNTIME : status, d->loc, "'%s%s' %s", d->name, ix, why);
    c->rc = 0;
    if (!per_draw) return status;
    c->rej[s] = 1;
  }
  return 0;
}

int ev_check_block(ev_ctx *c, const vi_stmt *blk, int per_draw, int status)
{
  if (!blk) return 0;
  for (int i = 0; i < blk->nstmts; i++) {
    const vi_stmt *st = blk->stmts[i];
    if (st->kind != ST_DECL) break;
    int rc = check_decl_value(c, st->decl, c->slot[st->decl->slot], per_draw, status);
    if (rc) return rc;
  }
  return 0;
}

/* ---- a whole pass ------------------------------------------------------------------ */

int ev_param_bounds(ev_ctx *c, const ev_param *p, ad_val **lb, ad_val **ub)
{
  const vi_decl *d = p->decl;
  *lb = *ub = NULL;
  if (d->con == CON_BOUNDS) {
    if (d->lower && !(*lb = ev_expr(c, d->lower))) return c->rc;
    if (d->upper && !(*ub = ev_expr(c, d->upper))) return c->rc;
  } else if (d->con == CON_OFFSET_MULT) {
    if (d->offset && !(*lb = ev_expr(c, d->offset))) return c->rc;
    if (d->multiplier && !(*ub = ev_expr(c, d->multiplier))) return c->rc;
  }
  if (*lb) *lb = promote(c, *lb, (vi_type){VT_REAL, 0, NULL});
  if (*ub) *ub = promote(c, *ub, (vi_type){VT_REAL, 0, NULL});
  return 0;
}

/* A tuple declaration's value with its nested tuples made and its other elements NULL. */
static ad_val *tuple_skeleton(ev_ctx *c, const vi_decl *d)
{
  int nd;
  size_t dims[AD_MAX_DIMS];
  if (ev_decl_shape(c, d, &nd, dims, NULL, NULL, NULL)) return NULL;
  ad_val *v = tup_new(c->t, d->type, nd, dims);
  if (!v) return NULL;
  size_t n = (size_t)d->ntel;
  for (size_t i = 0; i < v->len; i++)
    for (size_t k = 0; k < n; k++)
      if (d->tel[k]->type.base == VT_TUPLE &&
          !(v->el[i * n + k] = tuple_skeleton(c, d->tel[k])))
        return NULL;
  return v;
}

int ev_param_tuples(ev_ctx *c)
{
  const vi_stmt *pb = c->ast->blocks[BLK_PARAMS];
  for (int i = 0; pb && i < pb->nstmts; i++) {
    const vi_stmt *st = pb->stmts[i];
    if (st->kind != ST_DECL || st->decl->type.base != VT_TUPLE) continue;
    ad_val *v = tuple_skeleton(c, st->decl);
    if (!v) return c->rc ? c->rc : tape_fail(c, st->decl->loc, st->decl->name);
    c->slot[st->decl->slot] = v;
  }
  return 0;
}

void ev_param_set(ev_ctx *c, const ev_param *p, ad_val *v)
{
  if (!p->root) { c->slot[p->decl->slot] = v; return; }
  ad_val *cur = c->slot[p->root->slot];
  for (int l = 0; cur && l < p->depth; l++) {
    ad_val **at = &cur->el[p->path[2 * l] * (size_t)cur->type.tup->n + p->path[2 * l + 1]];
    if (l == p->depth - 1) *at = v;
    else cur = *at;
  }
}

int ev_run(ev_ctx *c, size_t n, const double *z, int grad, int upto, ad_val **zval)
{
  ad_tape *t = c->t;
  int rc;
  size_t D = c->dim, s, j;
  ev_begin(c, n, grad);
  c->block = BLK_PARAMS;
  size_t dz = D;
  ad_val *zv = ad_new(t, (vi_type){VT_VECTOR, 0, NULL}, 1, &dz, 1, 1);
  if (!zv) return tape_fail(c, (vi_loc){0, 0}, "parameters");
  for (s = 0; s < n; s++)
    for (j = 0; j < D; j++) zv->x[j * n + s] = z[s * D + j];
  if (zval) *zval = zv;
  if ((rc = ev_param_tuples(c))) return rc;
  for (size_t i = 0; i < c->nparams; i++) {
    const ev_param *p = &c->params[i];
    const vi_decl *d = p->decl;
    ad_val *lb, *ub, *lj = NULL;
    if ((rc = ev_param_bounds(c, p, &lb, &ub))) return rc;
    tr_spec sp = p->spec;
    sp.has_lb = lb != NULL; sp.has_ub = ub != NULL;
    ad_val *v = tr_constrain(t, &sp, d->type, p->ndims, p->dims, zv, p->off, lb, ub, &lj);
    if (!v) return tape_fail(c, d->loc, ev_param_name(p));
    ev_param_set(c, p, v);
    if (lj && upto == BLK_MODEL && (rc = add_term(c, lj, 0, 0, d->loc))) return rc;
  }
  const vi_ast *ast = c->ast;
  if ((rc = ev_block(c, ast->blocks[BLK_TPARAMS], BLK_TPARAMS))) return rc;
  if ((rc = ev_check_block(c, ast->blocks[BLK_TPARAMS], 1, VI_ERUNTIME))) return rc;
  if (upto == BLK_MODEL) {
    rc = ev_block(c, ast->blocks[BLK_MODEL], BLK_MODEL);
  } else if (upto == BLK_GQ) {
    rc = ev_block(c, ast->blocks[BLK_GQ], BLK_GQ);
    if (rc == 0) rc = ev_check_block(c, ast->blocks[BLK_GQ], 0, VI_ERUNTIME);
  }
  if (rc >= 0 && rc != EV_DIVERGE && ev_tape_status(c)) return c->rc;
  return rc;
}
