/* priors.c: the static "no prior" check, run by the checker after typing (check.c).
 * It follows stanc3's pedantic mode (Stan's "--warn-pedantic": "The parameter sigma has
 * no priors"), which builds the model's factor graph: every `~` statement and `target
 * +=` term is a factor over the parameters it involves, and a parameter has a prior when
 * some factor that is not a likelihood term involves it.  Here a factor is a likelihood
 * term when its variate (a `~`'s left side; the first argument of a density, log cdf or
 * log ccdf inside a `target +=`) depends on no parameter, i.e. on data only -- a prior
 * whose scale comes from data stays a prior, unlike stanc3, which drops every factor
 * that mentions data.  So `theta ~ normal(mu, tau)` is a prior for theta, mu and tau,
 * and `y ~ normal(mu, sigma)` with data y is for none of them.
 *
 * A factor involves a parameter through values computed from it: transformed
 * parameters, model-block locals and loop variables carry the set of parameters they
 * depend on (by assignment or by the conditions and loop ranges around it), computed to
 * a fixed point (sets only grow); a call of a user-defined function depends on all its
 * arguments; the `~` and `target +=` inside an _lp function are factors at each call,
 * with the function's arguments standing for the call's (a recursive _lp call counts as
 * a prior for its arguments: no warning rather than a false one).
 *
 * A parameter whose constraint already is a proper distribution gets no warning: both
 * bounds (uniform), simplex (Dirichlet(1)), unit_vector, corr_matrix and
 * cholesky_factor_corr (LKJ(1)).  The granularity is the declaration: a prior on one
 * element of a vector counts for the vector. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "vi/status.h"
#include "lang/front/ast.h"
#include "lang/front/front.h"

#define MAX_INLINE 16   /* nested _lp calls followed; deeper ones count as priors */

typedef struct priors {
  vi_ast *ast;
  int np, w;            /* parameters; 64-bit words per set */
  int *pidx;            /* by slot: the parameter's index, or -1 */
  uint64_t *set;        /* by slot: w words, the parameters the value depends on */
  uint64_t *prior;      /* w words: parameters some prior factor involves */
  uint64_t *sink;       /* w words: the scratch set handed out when malloc fails */
  int collect;          /* factors count (the last pass), not only dependences */
  int changed;
  const vi_func *stack[MAX_INLINE]; int depth;
  int nomem;
} priors;

static uint64_t *setof(priors *p, int slot) { return p->set + (size_t)slot * p->w; }

static void set_or(priors *p, uint64_t *dst, const uint64_t *src)
{
  for (int i = 0; i < p->w; i++) dst[i] |= src[i];
}

static int set_empty(const priors *p, const uint64_t *s)
{
  for (int i = 0; i < p->w; i++) if (s[i]) return 0;
  return 1;
}

/* Grow the set of decl d by src; note a change. */
static void grow(priors *p, const vi_decl *d, const uint64_t *src)
{
  if (!d || p->pidx[d->slot] >= 0) return;
  uint64_t *dst = setof(p, d->slot);
  for (int i = 0; i < p->w; i++)
    if (src[i] & ~dst[i]) { dst[i] |= src[i]; p->changed = 1; }
}

/* A zeroed scratch set, released by tmp_pop.  Out of memory: the shared sink, so the
 * walk goes on harmlessly and the check reports VI_ENOMEM at the end. */
static uint64_t *tmp_push(priors *p)
{
  uint64_t *s = calloc((size_t)p->w, sizeof *s);
  if (s) return s;
  p->nomem = 1;
  memset(p->sink, 0, (size_t)p->w * sizeof *p->sink);
  return p->sink;
}
static void tmp_pop(priors *p, uint64_t *s) { if (s != p->sink) free(s); }

static void deps(priors *p, const vi_expr *e, uint64_t *out);
static void stmt(priors *p, const vi_stmt *s, const uint64_t *ctl);

static int is_density_call(const vi_expr *e)
{
  if (e->kind != EX_CALL || e->nargs < 1) return 0;
  if (e->builtin == VI_CALL_USER) return e->func && e->func->kind == FN_DENSITY;
  if (e->builtin >= 0 && builtin_kind(e->builtin) == BUILTIN_DENSITY) return 1;
  size_t n = e->str ? strlen(e->str) : 0;
  return (n > 5 && strcmp(e->str + n - 5, "_lcdf") == 0)
      || (n > 6 && strcmp(e->str + n - 6, "_lccdf") == 0);
}

/* A factor: likelihood terms count for nothing; any other term is a prior for every
 * parameter it involves. */
static void factor(priors *p, const uint64_t *involved, int likelihood)
{
  if (p->collect && !likelihood) set_or(p, p->prior, involved);
}

/* The factors of one call of an _lp function: its body with the arguments' sets. */
static void inline_lp(priors *p, const vi_expr *e)
{
  const vi_func *f = e->func;
  int recursive = p->depth >= MAX_INLINE;
  for (int i = 0; i < p->depth && !recursive; i++) recursive = p->stack[i] == f;
  if (recursive || !f->body) {
    uint64_t *all = tmp_push(p);
    for (int i = 0; i < e->nargs; i++) deps(p, e->args[i], all);
    factor(p, all, 0);
    tmp_pop(p, all);
    return;
  }
  int n = f->slot_hi - f->slot_lo;
  uint64_t *saved = malloc((size_t)(n > 0 ? n : 1) * p->w * sizeof *saved);
  if (!saved) { p->nomem = 1; return; }
  if (n > 0) memcpy(saved, setof(p, f->slot_lo), (size_t)n * p->w * sizeof *saved);
  uint64_t *argset = malloc((size_t)(f->nparams ? f->nparams : 1) * p->w * sizeof *argset);
  if (!argset) { free(saved); p->nomem = 1; return; }
  memset(argset, 0, (size_t)(f->nparams ? f->nparams : 1) * p->w * sizeof *argset);
  for (int i = 0; i < f->nparams && i < e->nargs; i++)
    deps(p, e->args[i], argset + (size_t)i * p->w);
  if (n > 0) memset(setof(p, f->slot_lo), 0, (size_t)n * p->w * sizeof *saved);
  for (int i = 0; i < f->nparams; i++)
    memcpy(setof(p, f->params[i]->slot), argset + (size_t)i * p->w, p->w * sizeof *argset);
  int collect = p->collect, changed = p->changed;
  p->stack[p->depth++] = f;
  uint64_t *none = tmp_push(p);
  p->collect = 0;
  do { p->changed = 0; stmt(p, f->body, none); } while (p->changed);
  p->collect = collect;
  if (collect) stmt(p, f->body, none);
  tmp_pop(p, none);
  p->depth--;
  p->changed = changed;
  if (n > 0) memcpy(setof(p, f->slot_lo), saved, (size_t)n * p->w * sizeof *saved);
  free(saved);
  free(argset);
}

/* out |= the parameters e depends on. */
static void deps(priors *p, const vi_expr *e, uint64_t *out)
{
  if (!e) return;
  switch (e->kind) {
  case EX_VAR:
    if (e->decl) set_or(p, out, setof(p, e->decl->slot));
    return;
  case EX_INDEX:
    deps(p, e->args[0], out);
    for (int i = 0; i < e->nindex; i++) {
      deps(p, e->index[i].lo, out);
      deps(p, e->index[i].hi, out);
    }
    return;
  case EX_CALL:
    for (int i = 0; i < e->nargs; i++) deps(p, e->args[i], out);
    if (e->builtin == VI_CALL_USER && e->func && e->func->kind == FN_LP && p->collect)
      inline_lp(p, e);
    return;
  default:
    for (int i = 0; i < e->nargs; i++) deps(p, e->args[i], out);
    return;
  }
}

/* Does e hold a density (log cdf, log ccdf) of a variate that depends on no parameter? */
static int density_of_data(priors *p, const vi_expr *e)
{
  if (!e) return 0;
  if (e->kind == EX_CALL) {
    const vi_expr *variate = NULL;
    if (e->builtin == VI_CALL_REDUCE) {   /* reduce_sum(partial_lpdf, slice, ...) */
      if (e->func && e->func->kind == FN_DENSITY && e->nargs >= 2) variate = e->args[1];
    } else if (is_density_call(e)) {
      variate = e->args[0];
    }
    if (variate) {
      uint64_t *v = tmp_push(p);
      deps(p, variate, v);
      int data = set_empty(p, v);
      tmp_pop(p, v);
      if (data) return 1;
    }
  }
  for (int i = 0; i < e->nargs; i++)
    if (density_of_data(p, e->args[i])) return 1;
  return 0;
}

/* Every variable an assignment's left side writes (each target of an unpacking)
 * grows by v. */
static void grow_targets(priors *p, const vi_expr *l, const uint64_t *v)
{
  if (l && l->kind == EX_TUPLE) {
    for (int i = 0; i < l->nargs; i++) grow_targets(p, l->args[i], v);
    return;
  }
  while (l && (l->kind == EX_INDEX || l->kind == EX_PROJ)) l = l->args[0];
  if (l && l->kind == EX_VAR) grow(p, l->decl, v);
}

static void stmt(priors *p, const vi_stmt *s, const uint64_t *ctl)
{
  if (!s) return;
  switch (s->kind) {
  case ST_DECL: {
    const vi_decl *d = s->decl;
    uint64_t *v = tmp_push(p);
    set_or(p, v, ctl);
    deps(p, d->init, v);
    grow(p, d, v);
    tmp_pop(p, v);
    return;
  }
  case ST_ASSIGN: {
    uint64_t *v = tmp_push(p);
    set_or(p, v, ctl);
    deps(p, s->lhs, v);
    deps(p, s->rhs, v);
    grow_targets(p, s->lhs, v);
    tmp_pop(p, v);
    return;
  }
  case ST_TILDE: {
    uint64_t *v = tmp_push(p);
    deps(p, s->lhs, v);
    int likelihood = set_empty(p, v);
    for (int i = 0; i < s->nargs; i++) deps(p, s->args[i], v);
    deps(p, s->lo, v);
    deps(p, s->hi, v);
    factor(p, v, likelihood);
    tmp_pop(p, v);
    return;
  }
  case ST_TARGET: {
    uint64_t *v = tmp_push(p);
    deps(p, s->rhs, v);
    if (p->collect) factor(p, v, density_of_data(p, s->rhs));
    tmp_pop(p, v);
    return;
  }
  case ST_FOR: case ST_FOREACH: case ST_WHILE: case ST_IF: {
    uint64_t *c = tmp_push(p);
    set_or(p, c, ctl);
    if (s->kind == ST_FOR) { deps(p, s->lo, c); deps(p, s->hi, c); }
    else deps(p, s->rhs, c);
    if (s->decl) grow(p, s->decl, c);
    stmt(p, s->body, c);
    stmt(p, s->els, c);
    tmp_pop(p, c);
    return;
  }
  case ST_BLOCK:
    for (int i = 0; i < s->nstmts; i++) stmt(p, s->stmts[i], ctl);
    return;
  case ST_CALL: case ST_RETURN: {
    uint64_t *v = tmp_push(p);
    deps(p, s->rhs, v);
    tmp_pop(p, v);
    return;
  }
  default:   /* print, reject, fatal_error, break, continue, ; */
    return;
  }
}

/* Does the constraint of parameter d make it a proper distribution on its own? */
static int proper_by_constraint(const vi_decl *d)
{
  switch (d->con) {
  case CON_BOUNDS: return d->lower && d->upper;
  case CON_SIMPLEX: case CON_UNIT_VECTOR: case CON_CHOLESKY_CORR: case CON_CORR_MATRIX:
    return 1;
  default: return 0;
  }
}

static int add_warning(vi_ast *ast, const vi_decl *d)
{
  char buf[512];
  snprintf(buf, sizeof buf,
           "%s:%d:%d: warning: parameter '%s' has no prior: the posterior may be improper",
           ast->name ? ast->name : "model", d->loc.line, d->loc.col, d->name);
  char *w = ast_arena_strndup(ast->arena, buf, strlen(buf));
  const char **v = ast_arena_alloc(ast->arena, (size_t)(ast->nwarnings + 1) * sizeof *v);
  if (!w || !v) return VI_ENOMEM;
  if (ast->nwarnings) memcpy(v, ast->warnings, (size_t)ast->nwarnings * sizeof *v);
  v[ast->nwarnings++] = w;
  ast->warnings = v;
  return VI_SUCCESS;
}

int front_check_priors(vi_ast *ast)
{
  priors p = { .ast = ast };
  int status = VI_SUCCESS;
  p.pidx = malloc((size_t)(ast->nslots ? ast->nslots : 1) * sizeof *p.pidx);
  if (!p.pidx) return VI_ENOMEM;
  for (int s = 0; s < ast->nslots; s++)
    p.pidx[s] = ast->slots[s]->block == BLK_PARAMS ? p.np++ : -1;
  if (p.np == 0) { free(p.pidx); return VI_SUCCESS; }
  p.w = (p.np + 63) / 64;
  p.set = calloc((size_t)ast->nslots * p.w, sizeof *p.set);
  p.prior = calloc((size_t)p.w, sizeof *p.prior);
  p.sink = calloc((size_t)p.w, sizeof *p.sink);
  if (!p.set || !p.prior || !p.sink) { status = VI_ENOMEM; goto done; }
  for (int s = 0; s < ast->nslots; s++)
    if (p.pidx[s] >= 0) setof(&p, s)[p.pidx[s] / 64] |= (uint64_t)1 << (p.pidx[s] % 64);
  uint64_t *none = p.sink;   /* no enclosing condition: the empty set, never written */
  do {
    p.changed = 0;
    stmt(&p, ast->blocks[BLK_TPARAMS], none);
    stmt(&p, ast->blocks[BLK_MODEL], none);
  } while (p.changed && !p.nomem);
  p.collect = 1;
  stmt(&p, ast->blocks[BLK_TPARAMS], none);
  stmt(&p, ast->blocks[BLK_MODEL], none);
  if (p.nomem) { status = VI_ENOMEM; goto done; }
  for (int s = 0; s < ast->nslots && status == VI_SUCCESS; s++) {
    int k = p.pidx[s];
    if (k < 0 || (p.prior[k / 64] >> (k % 64)) & 1) continue;
    if (proper_by_constraint(ast->slots[s])) continue;
    status = add_warning(ast, ast->slots[s]);
  }
done:
  free(p.pidx);
  free(p.set);
  free(p.prior);
  free(p.sink);
  return status;
}
