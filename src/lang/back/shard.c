/* shard.c: data parallelism for the language's models (vi_program_set_shard): which data
 * are split by the int N named on the command line, and whether the model stays the same
 * model when each process holds only its contiguous part of them.
 *
 * Every data variable whose first dimension is written `N` (array[N] ..., vector[N],
 * matrix[N, K]) is sharded: a process holds rows [lo, hi) and sees N = hi - lo.  The log
 * density is then the sum over processes of their passes, when (a) every term of the
 * model block that touches sharded data, or sits in a loop over 1:N, is a sum over the
 * observations (it is evaluated on every rank, on its rows), and (b) every other term,
 * the Jacobians and everything else the fit reads (parameters, transformed parameters,
 * generated quantities, transformed data) does not depend on the sharding at all (those
 * terms count on rank 0 only).  This file proves (a) and (b) by a conservative walk of
 * the checked AST, a taint analysis in the manner of Stan's pedantic-mode dependence
 * checks: values carry a level, NONE (the same on every rank), ELEM (one observation's
 * value), POS (the loop variable of `for (n in 1:N)`, a position within the shard) or
 * FULL (a container along the observations).  What it cannot prove additive is refused
 * with an error naming the statement: a reduction over the observations (`mean(y)`,
 * `sum(x)` inside a density's argument, `y' * x`, `size(y)`), N used as a value, a
 * parameter or transformed parameter sized by N, transformed data or generated quantities
 * that read sharded data, a position used other than to index a sharded variable. */
#define _DEFAULT_SOURCE   /* mmap's MAP_* flags */
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vi/status.h>
#include "lang/front/front.h"
#include "lang/back/back.h"
#include "lang/back/shard.h"

enum { T_NONE = 0, T_ELEM = 1, T_POS = 2, T_FULL = 3 };

typedef struct walk {
  const vi_ast *ast;
  int by;                  /* slot of N */
  unsigned char *tv;       /* per slot: its level */
  unsigned char *inner;    /* per slot: a local declared inside a loop over the rows */
  int changed;             /* a level went up (the walk repeats until none does) */
  int report;              /* the last walk: errors and term marks */
  int rc;                  /* the first error (report walk), its message in err */
  vi_error *err;
  const char *blk;         /* "transformed data", ... : the block walked, for messages */
} walk;

static int fail(walk *w, vi_loc loc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(walk *w, vi_loc loc, const char *fmt, ...)
{
  if (!w->report || w->rc) return -1;
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  front_error_at(w->err, VI_EUNSUPPORTED, w->ast, loc, "cannot shard the data by '%s': %s",
                 w->ast->slots[w->by]->name, msg);
  w->rc = VI_EUNSUPPORTED;
  return -1;
}

static int max2(int a, int b) { return a > b ? a : b; }

/* Is e the variable N itself? */
static int is_by(const walk *w, const vi_expr *e)
{
  return e && e->kind == EX_VAR && e->decl && e->decl->slot == w->by;
}

/* The first variable of level FULL in e, for messages ("y"). */
static const char *full_name(const walk *w, const vi_expr *e)
{
  if (!e) return NULL;
  if (e->kind == EX_VAR && e->decl && w->tv[e->decl->slot] == T_FULL) return e->decl->name;
  for (int i = 0; i < e->nargs; i++) {
    const char *n = full_name(w, e->args[i]);
    if (n) return n;
  }
  return NULL;
}

/* Functions that map a container elementwise (so a FULL argument stays FULL, row for
 * row); any other function given a FULL argument may combine observations. */
static int elementwise(const char *f)
{
  static const char *const names[] = {
    "exp", "log", "log1p", "expm1", "log1m", "inv_logit", "logit", "log_inv_logit",
    "log1m_inv_logit", "square", "sqrt", "cbrt", "inv", "inv_sqrt", "inv_square", "fabs",
    "abs", "Phi", "Phi_approx", "inv_Phi", "log1p_exp", "log1m_exp", "lgamma", "tgamma",
    "digamma", "sin", "cos", "tan", "sinh", "cosh", "tanh", "asin", "acos", "atan", "erf",
    "erfc", "pow", "fma", "fmin", "fmax", "exp2", "log2", "log10", "step", "int_step",
    "inv_cloglog", "log_mix", "lbeta", "lchoose", "binomial_coefficient_log",
    "choose", "round", "floor", "ceil", "trunc", "fdim", "hypot", "logical_negation",
    NULL};
  for (int i = 0; names[i]; i++)
    if (!strcmp(f, names[i])) return 1;
  return 0;
}

/* A density's log (the call in `target += normal_lpdf(y | ...)`): a sum over its
 * arguments' elements when they are vectorised over the observations. */
static int is_density(const char *f)
{
  size_t n = strlen(f);
  static const char *const suf[] = {"_lpdf", "_lpmf", "_lupdf", "_lupmf", NULL};
  for (int i = 0; suf[i]; i++) {
    size_t k = strlen(suf[i]);
    if (n > k && !strcmp(f + n - k, suf[i])) return 1;
  }
  return 0;
}

/* Sums of a container's elements, additive when they are the whole term. */
static int is_sum(const char *f)
{
  return !strcmp(f, "sum") || !strcmp(f, "dot_self") || !strcmp(f, "dot_product") ||
         !strcmp(f, "squared_distance");
}

static int expr(walk *w, const vi_expr *e);

/* The level of args; a POS among them is an error (positions index sharded variables
 * only).  full_ok: FULL arguments are fine (elementwise or additive use). */
static int args_level(walk *w, const vi_expr *e, int from, int full_ok, const char *what)
{
  int lv = T_NONE;
  for (int i = from; i < e->nargs; i++) {
    int a = expr(w, e->args[i]);
    if (a < 0) return -1;
    if (a == T_POS)
      return fail(w, e->args[i]->loc, "the loop variable over 1:%s is a position within "
                  "this process's part of the data: it may only index the sharded data",
                  w->ast->slots[w->by]->name);
    if (a == T_FULL && !full_ok)
      return fail(w, e->loc, "%s combines the observations of the sharded '%s' (each "
                  "process sees only its part of them); only elementwise functions and "
                  "sums as whole terms can be split", what, full_name(w, e->args[i]));
    lv = max2(lv, a);
  }
  return lv;
}

static int index_expr(walk *w, const vi_expr *e)
{
  int b = expr(w, e->args[0]);
  if (b < 0) return -1;
  if (b == T_POS)
    return fail(w, e->loc, "the loop variable over 1:%s may only index the sharded data",
                w->ast->slots[w->by]->name);
  int lv = b == T_FULL ? T_FULL : b;
  for (int k = 0; k < e->nindex; k++) {
    const vi_index *x = &e->index[k];
    int il = T_NONE;
    if (x->lo && (il = expr(w, x->lo)) < 0) return -1;
    if (x->hi) {
      int h = expr(w, x->hi);
      if (h < 0) return -1;
      il = max2(il, h);
    }
    if (b == T_FULL && k == 0) {
      /* the observation axis: y[n] with n from the loop over 1:N, or y[:] */
      if (x->kind == IX_ALL) continue;
      if (x->kind == IX_SINGLE && il == T_POS) { lv = T_ELEM; continue; }
      return fail(w, e->loc, "'%s' is indexed along its observations by something other "
                  "than the variable of a loop over 1:%s (each process holds other rows)",
                  e->args[0]->kind == EX_VAR ? e->args[0]->str : "a sharded value",
                  w->ast->slots[w->by]->name);
    }
    if (il == T_POS)
      return fail(w, e->loc, "the loop variable over 1:%s indexes a value that is not "
                  "sharded (it is a position within this process's rows)",
                  w->ast->slots[w->by]->name);
    if (il == T_FULL) {
      /* alpha[g]: a non-sharded container read at each observation's index */
      if (x->kind != IX_MULTI || lv == T_FULL)
        return fail(w, e->loc, "an index combines the observations of the sharded '%s'",
                    full_name(w, x->lo));
      lv = T_FULL;
      continue;
    }
    lv = max2(lv, il);
  }
  return lv;
}

/* The level of e, or -1 after an error. */
static int expr(walk *w, const vi_expr *e)
{
  if (!e) return T_NONE;
  switch (e->kind) {
  case EX_INT_LIT: case EX_REAL_LIT: case EX_STRING_LIT: case EX_IMAG_LIT:
    return T_NONE;
  case EX_VAR:
    if (is_by(w, e))
      return fail(w, e->loc, "'%s' is used as a value (each process sees its own count); "
                  "it may only size the sharded data and bound a loop `for (n in 1:%s)` "
                  "in the model block", e->str, e->str);
    return e->decl ? w->tv[e->decl->slot] : T_NONE;
  case EX_INDEX:
    return index_expr(w, e);
  case EX_UNARY: {
    int a = expr(w, e->args[0]);
    if (a < 0) return -1;
    if (a == T_POS) return args_level(w, e, 0, 0, "");
    if (a == T_FULL && e->op == OP_TRANSPOSE)
      return fail(w, e->loc, "the transpose of the sharded '%s' turns its observations "
                  "into columns", full_name(w, e->args[0]));
    return a;
  }
  case EX_BINARY: {
    int a = expr(w, e->args[0]), b = a < 0 ? -1 : expr(w, e->args[1]);
    if (a < 0 || b < 0) return -1;
    if (a == T_POS || b == T_POS) return args_level(w, e, 0, 0, "");
    if (a == T_FULL || b == T_FULL) {
      int scal_l = e->args[0]->type.ndims == 0 && (e->args[0]->type.base == VT_INT ||
                                                   e->args[0]->type.base == VT_REAL);
      int bad = (e->op == OP_MUL && b == T_FULL && !scal_l) || e->op == OP_LDIV ||
                (e->op == OP_DIV && b == T_FULL && !scal_l);
      if (bad)
        return fail(w, e->loc, "this product combines the observations of the sharded "
                    "'%s' (a sum over them, as in x' * y)", full_name(w, e));
      return T_FULL;
    }
    return max2(a, b);
  }
  case EX_TERNARY: {
    int c = expr(w, e->args[0]);
    if (c < 0) return -1;
    if (c == T_FULL || c == T_POS)
      return fail(w, e->loc, "a condition on the sharded data as a whole");
    int a = expr(w, e->args[1]), b = a < 0 ? -1 : expr(w, e->args[2]);
    if (a < 0 || b < 0) return -1;
    return max2(c, max2(a, b));
  }
  case EX_CALL: {
    if (e->builtin == -1)
      return fail(w, e->loc, "target() is the sum of the terms so far on one process only");
    const char *f = e->str ? e->str : "";
    int from = VI_CALL_NAMES_FUNCTION(e->builtin) ? 1 : 0;
    char what[160];
    snprintf(what, sizeof what, "%s()", f);
    int user = e->builtin == VI_CALL_USER || from;
    return args_level(w, e, from, !user && elementwise(f), what);
  }
  case EX_ROW_VECTOR: case EX_ARRAY:
    return args_level(w, e, 0, 0, "a container expression");
  case EX_TUPLE:
    return args_level(w, e, 0, 0, "a tuple expression");
  case EX_PROJ:
    return expr(w, e->args[0]);
  }
  return T_NONE;
}

/* A whole term (`target += e`): sums of sums may take FULL values whole. */
static int term_expr(walk *w, const vi_expr *e)
{
  if (e->kind == EX_BINARY && (e->op == OP_ADD || e->op == OP_SUB)) {
    int a = term_expr(w, e->args[0]), b = a < 0 ? -1 : term_expr(w, e->args[1]);
    return a < 0 || b < 0 ? -1 : max2(a, b);
  }
  if (e->kind == EX_UNARY && (e->op == OP_NEG || e->op == OP_PLUS)) return term_expr(w, e->args[0]);
  if (e->kind == EX_BINARY && e->op == OP_MUL) {
    /* c * sum(...): a factor the same on every process */
    int a = expr(w, e->args[0]);
    if (a == T_NONE) return term_expr(w, e->args[1]);
    int b = a < 0 ? -1 : expr(w, e->args[1]);
    if (b == T_NONE) return term_expr(w, e->args[0]);
  }
  if (e->kind == EX_CALL && e->builtin >= 0 && e->str &&
      (is_density(e->str) || is_sum(e->str)))
    return args_level(w, e, 0, 1, e->str);
  int lv = expr(w, e);
  return lv == T_POS ? args_level(w, e, 0, 0, "") : lv;   /* target += vector: its sum */
}

static void raise_slot(walk *w, int slot, int lv)
{
  if (lv > w->tv[slot]) { w->tv[slot] = (unsigned char)lv; w->changed = 1; }
}

/* Does expression e read N or sharded data (level above NONE)?  For the blocks that
 * must not see the sharding at all. */
static int untouched(walk *w, const vi_expr *e, vi_loc loc, const char *what)
{
  if (!e) return 0;
  if (is_by(w, e) || (e->kind == EX_VAR && e->decl && w->tv[e->decl->slot] != T_NONE)) {
    const char *why =
        !strcmp(w->blk, "generated quantities")
        ? "generated quantities must not need the whole data"
        : !strcmp(w->blk, "parameters")
        ? "a parameter must not be sized by the observations"
        : !strcmp(w->blk, "data")
        ? "only the first dimension of a sharded variable may be the count"
        : !strcmp(w->blk, "transformed data")
        ? "transformed data would be computed from part of the observations (a mean, a "
          "sum or a size of them would differ between processes); compute it beforehand "
          "and pass it as data"
        : "transformed parameters are output whole and must not depend on the "
          "observations";
    if (is_by(w, e))
      return fail(w, e->loc.line ? e->loc : loc, "%s in %s reads '%s', the count of the "
                  "observations, which differs between processes: %s", what, w->blk,
                  e->str, why);
    return fail(w, e->loc.line ? e->loc : loc, "%s in %s reads '%s', of which each "
                "process holds only its part: %s", what, w->blk, e->str, why);
  }
  for (int i = 0; i < e->nargs; i++)
    if (untouched(w, e->args[i], loc, what)) return -1;
  for (int k = 0; k < e->nindex; k++)
    if (untouched(w, e->index[k].lo, loc, what) || untouched(w, e->index[k].hi, loc, what))
      return -1;
  return 0;
}

static int decl_untouched(walk *w, const vi_decl *d, const char *what)
{
  if (untouched(w, d->init, d->loc, what)) return -1;   /* the value first: xc = x - mean(x) */
  for (int k = 0; k < d->ndims; k++)
    if (untouched(w, d->dims[k], d->loc, what)) return -1;
  const vi_expr *more[7] = {d->size[0], d->size[1], d->lower, d->upper, d->offset,
                            d->multiplier, d->init};
  for (int k = 0; k < 7; k++)
    if (untouched(w, more[k], d->loc, what)) return -1;
  return 0;
}

/* Transformed data, parameters, transformed parameters, generated quantities: no
 * statement may read N or the sharded data. */
static int stmt_untouched(walk *w, const vi_stmt *s)
{
  if (!s) return 0;
  char what[96];
  snprintf(what, sizeof what, "the statement at line %d", s->loc.line);
  if (s->decl) {
    snprintf(what, sizeof what, "'%s'", s->decl->name);
    if (decl_untouched(w, s->decl, what)) return -1;
  }
  const vi_expr *ex[4] = {s->lhs, s->rhs, s->lo, s->hi};
  for (int k = 0; k < 4; k++)
    if (untouched(w, ex[k], s->loc, what)) return -1;
  for (int k = 0; k < s->nargs; k++)
    if (untouched(w, s->args[k], s->loc, what)) return -1;
  if (stmt_untouched(w, s->body) || stmt_untouched(w, s->els)) return -1;
  for (int k = 0; k < s->nstmts; k++)
    if (stmt_untouched(w, s->stmts[k])) return -1;
  return 0;
}

static int model_stmt(walk *w, vi_stmt *s, int inloop);

static int model_block(walk *w, vi_stmt *s, int inloop)
{
  for (int k = 0; s && k < s->nstmts; k++)
    if (model_stmt(w, s->stmts[k], inloop)) return -1;
  return 0;
}

/* A local of the model block: sized by N (vector[N] mu) it is FULL. */
static int model_decl(walk *w, const vi_decl *d, int inloop)
{
  if (inloop) w->inner[d->slot] = 1;
  const vi_expr *first = d->ndims ? d->dims[0] : d->size[0];
  int lv = T_NONE;
  if (is_by(w, first)) lv = T_FULL;
  for (int k = 0; k < d->ndims; k++)
    if (!(k == 0 && lv == T_FULL)) {
      int a = expr(w, d->dims[k]);
      if (a < 0) return -1;
      if (a != T_NONE) return fail(w, d->loc, "'%s' is sized by sharded data", d->name);
    }
  for (int k = 0; k < 2; k++)
    if (d->size[k] && !(k == 0 && d->ndims == 0 && lv == T_FULL)) {
      int a = expr(w, d->size[k]);
      if (a < 0) return -1;
      if (a != T_NONE) return fail(w, d->loc, "'%s' is sized by sharded data", d->name);
    }
  if (d->init) {
    int a = expr(w, d->init);
    if (a < 0) return -1;
    lv = max2(lv, a);
  }
  raise_slot(w, d->slot, lv);
  return 0;
}

static int model_stmt(walk *w, vi_stmt *s, int inloop)
{
  if (!s) return 0;
  switch (s->kind) {
  case ST_DECL:
    return model_decl(w, s->decl, inloop);
  case ST_ASSIGN: {
    const vi_expr *v = s->lhs->kind == EX_INDEX ? s->lhs->args[0] : s->lhs;
    int r = expr(w, s->rhs);
    if (r < 0) return -1;
    if (r == T_POS) return args_level(w, s->lhs, 0, 0, "");
    if (s->lhs->kind == EX_INDEX && v->decl && w->tv[v->decl->slot] == T_FULL) {
      if (index_expr(w, s->lhs) < 0) return -1;   /* mu[n] = ...: n from 1:N */
    } else if (s->lhs->kind == EX_INDEX) {
      for (int k = 0; k < s->lhs->nindex; k++) {
        int a = expr(w, s->lhs->index[k].lo), b = a < 0 ? -1 : expr(w, s->lhs->index[k].hi);
        if (a < 0 || b < 0) return -1;
        if (a == T_POS || b == T_POS || a == T_FULL || b == T_FULL)
          return fail(w, s->loc, "'%s' is not sharded but is assigned per observation",
                      v->str);
      }
    }
    /* in a loop over the rows, a variable from outside it that is not the row's own
     * element (mu[n] of a sharded mu) accumulates over the rows: a reduction */
    if (inloop && v->decl && !w->inner[v->decl->slot] &&
        !(s->lhs->kind == EX_INDEX && w->tv[v->decl->slot] == T_FULL))
      return fail(w, s->loc, "'%s' accumulates over the observations (each process "
                  "would hold its part's value only); write the term per observation, or "
                  "sum into target directly", v->str);
    if (v->decl) raise_slot(w, v->decl->slot, r);
    if (inloop && v->decl) raise_slot(w, v->decl->slot, T_ELEM);
    return 0;
  }
  case ST_TILDE: case ST_TARGET: {
    int lv;
    if (s->kind == ST_TARGET) {
      lv = term_expr(w, s->rhs);
    } else {
      vi_expr fake;   /* the density's arguments, taken as a whole term */
      memset(&fake, 0, sizeof fake);
      vi_expr *all[64];
      int na = s->nargs + 1 < 64 ? s->nargs + 1 : 64;
      all[0] = s->lhs;
      for (int k = 1; k < na; k++) all[k] = s->args[k - 1];
      fake.kind = EX_CALL; fake.loc = s->loc; fake.args = all; fake.nargs = na;
      lv = args_level(w, &fake, 0, !s->func, s->name);
      if (lv >= 0 && s->func && lv != T_NONE && lv != T_ELEM)
        lv = fail(w, s->loc, "the user-defined density '%s' gets the sharded data whole; "
                  "write the term per observation in a loop over 1:%s", s->name,
                  w->ast->slots[w->by]->name);
      int a = lv < 0 ? -1 : expr(w, s->lo), b = a < 0 ? -1 : expr(w, s->hi);
      if (a < 0 || b < 0) return -1;
      if (a > T_ELEM || b > T_ELEM)
        return fail(w, s->loc, "truncation bounds combine the observations");
      lv = max2(lv, max2(a, b));
    }
    if (lv < 0) return -1;
    if (w->report) s->shard_term = inloop || lv != T_NONE;
    return 0;
  }
  case ST_FOR: {
    int lo = expr(w, s->lo);
    if (lo < 0) return -1;
    if (is_by(w, s->hi)) {
      if (lo != T_NONE || s->lo->kind != EX_INT_LIT || s->lo->ival != 1)
        return fail(w, s->loc, "a loop to %s must start at 1 (each process loops over its "
                    "own rows)", s->hi->str);
      raise_slot(w, s->decl->slot, T_POS);
      return model_stmt(w, s->body, 1);
    }
    int hi = expr(w, s->hi);
    if (hi < 0) return -1;
    if (lo == T_FULL || hi == T_FULL || lo == T_POS || hi == T_POS)
      return fail(w, s->loc, "a loop bound combines the observations");
    raise_slot(w, s->decl->slot, max2(lo, hi));
    return model_stmt(w, s->body, inloop || lo != T_NONE || hi != T_NONE);
  }
  case ST_FOREACH: {
    int c = expr(w, s->rhs);
    if (c < 0) return -1;
    if (c == T_POS) return args_level(w, s->lhs ? s->lhs : s->rhs, 0, 0, "");
    raise_slot(w, s->decl->slot, c == T_FULL ? T_ELEM : c);
    return model_stmt(w, s->body, inloop || c != T_NONE);
  }
  case ST_WHILE: case ST_IF: {
    int c = expr(w, s->rhs);
    if (c < 0) return -1;
    if (c == T_FULL || c == T_POS)
      return fail(w, s->loc, "a condition on the sharded data as a whole");
    if (model_stmt(w, s->body, inloop || c != T_NONE)) return -1;
    return model_stmt(w, s->els, inloop || c != T_NONE);
  }
  case ST_BLOCK:
    return model_block(w, s, inloop);
  case ST_PRINT: case ST_REJECT: case ST_FATAL: {
    vi_expr fake;
    memset(&fake, 0, sizeof fake);
    fake.kind = EX_CALL; fake.loc = s->loc; fake.args = s->args; fake.nargs = s->nargs;
    return args_level(w, &fake, 0, 0, "print/reject") < 0 ? -1 : 0;
  }
  case ST_CALL: {
    int a = expr(w, s->rhs);
    if (a < 0) return -1;
    if (a != T_NONE)
      return fail(w, s->loc, "a void function called with sharded data");
    return 0;
  }
  default:
    return 0;
  }
}

/* The blocks, in order; 0 or the first error. */
static int walk_all(walk *w)
{
  const vi_ast *a = w->ast;
  static const struct { int blk; const char *name; } plain[] = {
    {BLK_TDATA, "transformed data"}, {BLK_PARAMS, "parameters"},
    {BLK_TPARAMS, "transformed parameters"}, {BLK_GQ, "generated quantities"}};
  for (int i = 0; i < 4; i++) {
    w->blk = plain[i].name;
    if (stmt_untouched(w, a->blocks[plain[i].blk])) return -1;
  }
  w->blk = "model";
  return model_block(w, a->blocks[BLK_MODEL], 0);
}

int shard_plan(ev_ctx *c, const char *by, vi_error *err)
{
  const vi_ast *a = c->ast;
  const vi_stmt *data = a->blocks[BLK_DATA];
  const vi_decl *n = NULL;
  for (int i = 0; data && i < data->nstmts; i++)
    if (data->stmts[i]->kind == ST_DECL && !strcmp(data->stmts[i]->decl->name, by))
      n = data->stmts[i]->decl;
  if (!n) {
    front_error_at(err, VI_EINVAL, a, (vi_loc){0, 0}, "cannot shard by '%s': the data "
                   "block declares no variable '%s' (name the int that counts the "
                   "observations, as in `int<lower=0> N;`)", by, by);
    err->line = err->col = 0;
    return VI_EINVAL;
  }
  if (n->type.base != VT_INT || n->type.ndims != 0)
    return front_error_at(err, VI_EINVAL, a, n->loc, "cannot shard by '%s': it is declared "
                          "%s, not an int (the count of the observations)", by,
                          n->type_text ? n->type_text : "a container"), VI_EINVAL;
  if (a->no_split)
    return front_error_at(err, VI_EUNSUPPORTED, a, (vi_loc){1, 1}, "cannot shard the data "
                          "by '%s': some target term is neither on data nor on parameters "
                          "alone (an _lp function, or a term of local values), so which "
                          "terms sum over the observations is not known", by),
           VI_EUNSUPPORTED;
  size_t ns = a->nslots > 0 ? (size_t)a->nslots : 1;
  unsigned char *sh = calloc(ns, 1), *tv = calloc(ns, 1), *inner = calloc(ns, 1);
  if (!sh || !tv || !inner) { free(sh); free(tv); free(inner); return VI_ENOMEM; }
  walk w = {a, n->slot, tv, inner, 0, 1, 0, err, "data"};
  int nsh = 0;
  /* the data block: a variable whose first dimension is N is sharded; N anywhere else
   * (a bound, a later dimension, N + 1) would read the local count */
  for (int i = 0; data && i < data->nstmts && !w.rc; i++) {
    const vi_decl *d = data->stmts[i]->kind == ST_DECL ? data->stmts[i]->decl : NULL;
    if (!d) continue;
    const vi_expr *first = d->ndims ? d->dims[0] : d->size[0];
    if (is_by(&w, first)) { sh[d->slot] = 1; tv[d->slot] = T_FULL; nsh++; }
    char what[300];
    snprintf(what, sizeof what, "'%s'", d->name);
    for (int k = 0; k < d->ndims; k++)
      if (k > 0 || !sh[d->slot]) untouched(&w, d->dims[k], d->loc, what);
    for (int k = 0; k < 2; k++)
      if (!(k == 0 && d->ndims == 0 && sh[d->slot])) untouched(&w, d->size[k], d->loc, what);
    untouched(&w, d->lower, d->loc, what);
    untouched(&w, d->upper, d->loc, what);
  }
  if (!w.rc && nsh == 0)
    fail(&w, n->loc, "no data variable has '%s' as its first dimension (array[%s] ..., "
         "vector[%s], matrix[%s, K])", by, by, by, by);
  /* the model block's levels, to a fixed point (a local raised late in the block is
   * read earlier in a loop), then the last walk reports and marks the terms */
  if (!w.rc) {
    w.report = 0;
    for (int it = 0; it < 64; it++) {
      w.changed = 0;
      model_block(&w, a->blocks[BLK_MODEL], 0);
      if (!w.changed) break;
    }
    w.report = 1;
    walk_all(&w);
  }
  free(tv);
  free(inner);
  if (w.rc) { free(sh); return w.rc; }
  free((void *)c->sharded);
  c->sharded = sh;
  c->shard_by = n->slot;
  return VI_SUCCESS;
}

const char *shard_map(const char *path, size_t *len)
{
  int fd = open(path, O_RDONLY);
  if (fd < 0) return NULL;
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) { close(fd); return NULL; }
  *len = (size_t)st.st_size;
  void *m = *len ? mmap(NULL, *len, PROT_READ, MAP_PRIVATE, fd, 0) : NULL;
  close(fd);
  if (*len && m == MAP_FAILED) return NULL;
  return *len ? m : "";
}

void shard_unmap(const char *text, size_t len)
{
  if (text && len) munmap((void *)(uintptr_t)text, len);
}
