/* check.c: the semantic checker of the model language.  It resolves every name
 * (scopes as in Stan's reference manual, "Program blocks": data and transformed data
 * are visible everywhere after their declaration, parameters and transformed
 * parameters from there on, model-block variables only in the model block), types
 * every expression (Stan's int -> real promotion, integer division, and the operator
 * signatures of its functions reference: matrix * vector, row_vector * vector, ...),
 * resolves function calls and `~` through the builtin signatures (signatures.c), enforces the
 * block rules (what may be assigned where, _rng only where randomness is allowed,
 * `target +=` and `~` only in the model block, no integer parameters) and gives every
 * declaration its slot.
 *
 * A second pass computes which values depend on data only (expr->data_only,
 * decl->data_only): local variables start as data-only and lose it when some
 * assignment to them, or the control flow around it, depends on a parameter; the pass
 * repeats until nothing changes (a monotone fixed point, at most one round per local).
 * From that it marks `~` and `target +=` statements on data as likelihood terms.
 * Last, the "no prior" check (priors.c) adds its warnings. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "vi/lang.h"
#include "vi/status.h"
#include "lang/front/ast.h"
#include "lang/front/front.h"

#define NBUCKETS 1024

typedef struct sym {
  vi_decl *decl;
  struct sym *next;
  unsigned bucket;
} sym;

typedef struct checker {
  vi_ast *ast;
  vi_error *err;
  jmp_buf jb;
  sym *buckets[NBUCKETS];
  sym **stack; size_t nstack, capstack;
  vi_decl **slots; int nslots, capslots;
  unsigned char *fixed;  /* by slot: data_only never changes (block variables, tdata) */
  vi_block block;        /* program block being checked (BLK_FUNCTIONS in a function) */
  vi_func *fn;           /* the function whose body is being checked, or NULL */
  int void_ok;           /* the call being checked is a statement: it may be void */
  int loops;             /* enclosing loops */
  int changed;           /* second pass: some decl lost data_only this round */
  int strict;            /* a last round of pass 2: require_data() on the calls */
} checker;

/* ---- Errors -------------------------------------------------------------------- */

static void c_fail(checker *c, int status, vi_loc loc, const char *fmt, ...)
  __attribute__((format(printf, 4, 5), noreturn));
static void c_fail(checker *c, int status, vi_loc loc, const char *fmt, ...)
{
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  front_error_at(c->err, status, c->ast, loc, "%s", msg);
  longjmp(c->jb, 1);
}

static void c_nomem(checker *c) __attribute__((noreturn));
static void c_nomem(checker *c)
{
  vi_loc none = { 0, 0 };
  front_error_at(c->err, VI_ENOMEM, c->ast, none, "out of memory while checking");
  longjmp(c->jb, 1);
}

/* Type names for messages, several per message: a small ring of buffers. */
static const char *tname(vi_type t)
{
  static _Thread_local char ring[4][192];
  static _Thread_local int k;
  k = (k + 1) & 3;
  return front_type_str(t, ring[k], sizeof ring[k]);
}

static const char *const block_names[] = {
  "functions", "data", "transformed data", "parameters", "transformed parameters",
  "model", "generated quantities", "local", "loop"
};

/* ---- Scopes -------------------------------------------------------------------- */

static unsigned hash_name(const char *s)
{
  unsigned h = 2166136261u;
  for (; *s; s++) h = (h ^ (unsigned char)*s) * 16777619u;
  return h % NBUCKETS;
}

static vi_decl *lookup(checker *c, const char *name)
{
  for (sym *s = c->buckets[hash_name(name)]; s; s = s->next)
    if (strcmp(s->decl->name, name) == 0) return s->decl;
  return NULL;
}

static void declare(checker *c, vi_decl *d)
{
  vi_decl *old = lookup(c, d->name);
  if (old)
    c_fail(c, VI_ECHECK, d->loc, "'%s' is already declared (at line %d, column %d)",
           d->name, old->loc.line, old->loc.col);
  sym *s = ast_arena_alloc(c->ast->arena, sizeof *s);
  if (!s) c_nomem(c);
  if (c->nstack == c->capstack) {
    size_t ncap = c->capstack ? c->capstack * 2 : 64;
    sym **v = realloc(c->stack, ncap * sizeof *v);
    if (!v) c_nomem(c);
    c->stack = v;
    c->capstack = ncap;
  }
  s->decl = d;
  s->bucket = hash_name(d->name);
  s->next = c->buckets[s->bucket];
  c->buckets[s->bucket] = s;
  c->stack[c->nstack++] = s;
  /* Slot. */
  if (c->nslots == c->capslots) {
    int ncap = c->capslots ? c->capslots * 2 : 64;
    vi_decl **v = realloc(c->slots, (size_t)ncap * sizeof *v);
    unsigned char *f = realloc(c->fixed, (size_t)ncap);
    if (v) c->slots = v;
    if (f) c->fixed = f;
    if (!v || !f) c_nomem(c);
    c->capslots = ncap;
  }
  d->slot = c->nslots;
  c->fixed[c->nslots] = 0;
  c->slots[c->nslots++] = d;
}

/* Scopes nest; Stan forbids shadowing, so a scope's names are simply the most recent
 * entries of their buckets when it closes. */
static size_t scope_open(checker *c) { return c->nstack; }

static void scope_close(checker *c, size_t mark)
{
  while (c->nstack > mark) {
    sym *s = c->stack[--c->nstack];
    c->buckets[s->bucket] = s->next;
  }
}

/* ---- Types --------------------------------------------------------------------- */

static vi_type ty(vi_basetype b, int nd)
{
  vi_type t = { b, nd, NULL };
  return t;
}

static int is_scalar(vi_type t) { return t.ndims == 0 && (t.base == VT_INT || t.base == VT_REAL); }
static int is_int(vi_type t) { return t.ndims == 0 && t.base == VT_INT; }
static int is_vecmat(vi_type t)
{
  return t.ndims == 0 && (t.base == VT_VECTOR || t.base == VT_ROW_VECTOR || t.base == VT_MATRIX);
}
static int same_type(vi_type a, vi_type b) { return type_equal(a, b); }

/* Can a value of type src be stored in a variable of type dst (int -> real -> complex,
 * vector -> complex_vector, ...)? */
static int assignable(vi_type dst, vi_type src)
{
  if (dst.base == VT_TUPLE || src.base == VT_TUPLE) {
    /* element by element: tuple(int, vector) goes into tuple(real, complex_vector) */
    if (dst.base != src.base || dst.ndims != src.ndims || !dst.tup || !src.tup
        || dst.tup->n != src.tup->n)
      return 0;
    for (int i = 0; i < dst.tup->n; i++)
      if (!assignable(dst.tup->el[i], src.tup->el[i])) return 0;
    return 1;
  }
  return dst.ndims == src.ndims && (dst.base == src.base ||
                                    (dst.base == VT_REAL && src.base == VT_INT) ||
                                    (base_is_complex(dst.base) && !base_is_complex(src.base)
                                     && base_complex_of(src.base) == dst.base));
}

static int numeric(vi_type t)
{
  return t.base == VT_INT || t.base == VT_REAL || t.base == VT_VECTOR ||
         t.base == VT_ROW_VECTOR || t.base == VT_MATRIX || base_is_complex(t.base);
}

/* A complex type as its real counterpart (complex -> real, complex_vector -> vector). */
static vi_type real_shape(vi_type t)
{
  t.base = base_real_of(t.base);
  return t;
}

static const char *op_name(vi_op op)
{
  switch (op) {
  case OP_ADD: return "+"; case OP_SUB: return "-"; case OP_MUL: return "*";
  case OP_DIV: return "/"; case OP_INTDIV: return "%/%"; case OP_MOD: return "%";
  case OP_POW: return "^"; case OP_EMUL: return ".*"; case OP_EDIV: return "./";
  case OP_EPOW: return ".^"; case OP_LDIV: return "\\"; case OP_EQ: return "==";
  case OP_NE: return "!="; case OP_LT: return "<"; case OP_LE: return "<=";
  case OP_GT: return ">"; case OP_GE: return ">="; case OP_AND: return "&&";
  case OP_OR: return "||"; case OP_NEG: return "-"; case OP_PLUS: return "+";
  case OP_NOT: return "!"; case OP_TRANSPOSE: return "'"; default: return "=";
  }
}

static int binary_type(vi_op op, vi_type a, vi_type b, vi_type *r);

/* a op b when a or b is complex: the shapes follow the real operator's rules, the
 * result is complex (== and != on complex scalars give an int).  Stan's complex
 * operators: + - * / ^ on scalars and containers, .* ./ elementwise; no ordering, no
 * left division, no %/% or %. */
static int complex_binary_type(vi_op op, vi_type a, vi_type b, vi_type *r)
{
  vi_type ra = real_shape(a), rb = real_shape(b);
  switch (op) {
  case OP_EQ: case OP_NE:
    if (a.ndims || b.ndims || !((a.base == VT_COMPLEX || is_scalar(a)) &&
                                (b.base == VT_COMPLEX || is_scalar(b))))
      return 0;
    *r = ty(VT_INT, 0);
    return 1;
  case OP_ADD: case OP_SUB: case OP_MUL: case OP_DIV: case OP_EMUL: case OP_EDIV:
  case OP_POW: case OP_EPOW:
    if (ra.base == VT_INT) ra.base = VT_REAL;
    if (rb.base == VT_INT) rb.base = VT_REAL;
    if (op == OP_POW && !(is_scalar(ra) && is_scalar(rb))) return 0;
    if (!binary_type(op, ra, rb, r)) return 0;
    r->base = base_complex_of(r->base);
    return 1;
  default:
    return 0;
  }
}

/* Result type of a op b, as Stan's operator signatures give it; 0 if none. */
static int binary_type(vi_op op, vi_type a, vi_type b, vi_type *r)
{
  if (base_is_complex(a.base) || base_is_complex(b.base))
    return complex_binary_type(op, a, b, r);
  int sa = is_scalar(a), sb = is_scalar(b), ca = is_vecmat(a), cb = is_vecmat(b);
  vi_basetype scal = a.base == VT_INT && b.base == VT_INT ? VT_INT : VT_REAL;
  switch (op) {
  case OP_ADD: case OP_SUB:
    if (sa && sb) { *r = ty(scal, 0); return 1; }
    if (sa && cb) { *r = b; return 1; }
    if (ca && sb) { *r = a; return 1; }
    if (ca && cb && a.base == b.base) { *r = a; return 1; }
    return 0;
  case OP_MUL:
    if (sa && sb) { *r = ty(scal, 0); return 1; }
    if (sa && cb) { *r = b; return 1; }
    if (ca && sb) { *r = a; return 1; }
    if (!ca || !cb) return 0;
    if (a.base == VT_VECTOR && b.base == VT_ROW_VECTOR) { *r = ty(VT_MATRIX, 0); return 1; }
    if (a.base == VT_ROW_VECTOR && b.base == VT_VECTOR) { *r = ty(VT_REAL, 0); return 1; }
    if (a.base == VT_MATRIX && b.base == VT_VECTOR) { *r = ty(VT_VECTOR, 0); return 1; }
    if (a.base == VT_ROW_VECTOR && b.base == VT_MATRIX) { *r = ty(VT_ROW_VECTOR, 0); return 1; }
    if (a.base == VT_MATRIX && b.base == VT_MATRIX) { *r = ty(VT_MATRIX, 0); return 1; }
    return 0;
  case OP_DIV:
    if (sa && sb) { *r = ty(scal, 0); return 1; }
    if (ca && sb) { *r = a; return 1; }
    if (ca && cb && b.base == VT_MATRIX && a.base != VT_VECTOR) { *r = a; return 1; }
    return 0;
  case OP_LDIV:
    if (ca && cb && a.base == VT_MATRIX && b.base != VT_ROW_VECTOR) { *r = b; return 1; }
    return 0;
  case OP_MOD: case OP_INTDIV:
    if (is_int(a) && is_int(b)) { *r = ty(VT_INT, 0); return 1; }
    return 0;
  case OP_POW:
    if (sa && sb) { *r = ty(VT_REAL, 0); return 1; }
    return 0;
  case OP_EMUL: case OP_EDIV: case OP_EPOW:
    if (sa && sb) {
      *r = ty(op == OP_EMUL ? scal : VT_REAL, 0);
      return 1;
    }
    if (sa && cb) { *r = b; return 1; }
    if (ca && sb) { *r = a; return 1; }
    if (ca && cb && a.base == b.base) { *r = a; return 1; }
    return 0;
  case OP_EQ: case OP_NE: case OP_LT: case OP_LE: case OP_GT: case OP_GE:
  case OP_AND: case OP_OR:
    if (sa && sb) { *r = ty(VT_INT, 0); return 1; }
    return 0;
  default:
    return 0;
  }
}

/* The common type of two branches / array elements (int promotes to real; tuples
 * element by element, so (1, 2.5) and (2.5, 1) make tuple(real, real)). */
static int unify_in(struct ast_arena *arena, vi_type a, vi_type b, vi_type *r)
{
  if (a.base == VT_TUPLE && b.base == VT_TUPLE && a.ndims == b.ndims && a.tup && b.tup
      && a.tup->n == b.tup->n && !same_type(a, b)) {
    vi_tuple_type *tt = ast_arena_alloc(arena, sizeof *tt);
    vi_type *el = ast_arena_alloc(arena, (size_t)a.tup->n * sizeof *el);
    if (!tt || !el) return 0;
    for (int i = 0; i < a.tup->n; i++)
      if (!unify_in(arena, a.tup->el[i], b.tup->el[i], &el[i])) return 0;
    tt->n = a.tup->n;
    tt->el = el;
    *r = a;
    r->tup = tt;
    return 1;
  }
  if (same_type(a, b)) { *r = a; return 1; }
  if (assignable(a, b)) { *r = a; return 1; }
  if (assignable(b, a)) { *r = b; return 1; }
  if (a.ndims == b.ndims && (a.base == VT_INT || a.base == VT_REAL)
      && (b.base == VT_INT || b.base == VT_REAL)) {
    *r = ty(VT_REAL, a.ndims);
    return 1;
  }
  return 0;
}
#define unify(a, b, r) unify_in(c->ast->arena, a, b, r)

/* ---- Expressions --------------------------------------------------------------- */

static void check_expr(checker *c, vi_expr *e);

static int name_has_suffix(const char *s, const char *suffix)
{
  size_t n = strlen(s), m = strlen(suffix);
  return n >= m && strcmp(s + n - m, suffix) == 0;
}

static int density_name(const char *s)
{
  return name_has_suffix(s, "_lpdf") || name_has_suffix(s, "_lpmf")
         || name_has_suffix(s, "_lupdf") || name_has_suffix(s, "_lupmf");
}

/* Where target can be used (target +=, ~, target(), _lp calls): the model block, and
 * the body of an _lp function; _lp functions may also be called from transformed
 * parameters, as in Stan. */
static int target_allowed(const checker *c)
{
  return c->block == BLK_MODEL || (c->fn && c->fn->kind == FN_LP);
}

/* Where random numbers can be drawn: transformed data, generated quantities, and the
 * body of an _rng function. */
static int rng_allowed(const checker *c)
{
  return c->block == BLK_TDATA || c->block == BLK_GQ || (c->fn && c->fn->kind == FN_RNG);
}

static void sig_text(const vi_func *f, char *buf, size_t len)
{
  size_t o = (size_t)snprintf(buf, len, "%s(", f->name);
  for (int i = 0; i < f->nparams && o < len; i++)
    o += (size_t)snprintf(buf + o, len - o, "%s%s", i ? ", " : "", tname(f->params[i]->type));
  if (o < len) snprintf(buf + o, len - o, ")");
}

/* The function a name calls: foo_lupdf / foo_lupmf call foo_lpdf / foo_lpmf (written
 * into buf), any other name itself. */
static const char *called_name(const char *name, char *buf, size_t len)
{
  size_t n = strlen(name);
  if (n >= len || !(name_has_suffix(name, "_lupdf") || name_has_suffix(name, "_lupmf")))
    return name;
  snprintf(buf, len, "%.*s_lp%cf", (int)n - 6, name, name[n - 2]);
  return buf;
}

/* The user-defined function name(args): exact types, int promoting to real (also in
 * arrays).  NULL if no function has the name; an error if some do but none takes these
 * arguments. */
static vi_func *resolve_user(checker *c, const char *name, const vi_type *args, int n,
                             vi_loc loc)
{
  char alt[160];
  name = called_name(name, alt, sizeof alt);
  /* Stan's rule: of the signatures that accept the arguments, the one needing the
   * fewest int -> real promotions (f(int) over f(real) for f(1)) */
  int named = 0, best_cost = n + 1, ties = 0;
  vi_func *best = NULL;
  for (int i = 0; i < c->ast->nfuncs; i++) {
    vi_func *f = c->ast->funcs[i];
    if (strcmp(f->name, name) != 0) continue;
    named = 1;
    if (f->nparams != n) continue;
    int ok = 1, cost = 0;
    for (int k = 0; k < n && ok; k++) {
      ok = assignable(f->params[k]->type, args[k]);
      cost += f->params[k]->type.base != args[k].base;
    }
    if (ok && cost < best_cost) { best = f; best_cost = cost; ties = 0; }
    else if (ok && cost == best_cost) ties++;
  }
  if (best && ties)
    c_fail(c, VI_ECHECK, loc, "the call of '%s' is ambiguous: %d signatures take these "
           "arguments with %d int -> real promotions each", name, ties + 1, best_cost);
  if (best) return best;
  if (!named) return NULL;
  char got[512], want[512];
  size_t o = (size_t)snprintf(got, sizeof got, "%s(", name);
  for (int k = 0; k < n && o < sizeof got; k++)
    o += (size_t)snprintf(got + o, sizeof got - o, "%s%s", k ? ", " : "", tname(args[k]));
  if (o < sizeof got) snprintf(got + o, sizeof got - o, ")");
  want[0] = '\0';
  for (int i = 0; i < c->ast->nfuncs; i++)
    if (strcmp(c->ast->funcs[i]->name, name) == 0) {
      size_t w = strlen(want);
      if (w) snprintf(want + w, sizeof want - w, "; ");
      w = strlen(want);
      sig_text(c->ast->funcs[i], want + w, sizeof want - w);
    }
  c_fail(c, VI_ECHECK, loc, "no signature %s; user-defined: %s", got, want);
}

/* The rules of a call of user function f, and the data-dependence of its value. */
static int check_user_call(checker *c, vi_expr *e, vi_func *f, int data)
{
  e->builtin = VI_CALL_USER;
  e->func = f;
  e->type = f->ret;
  if (f->kind == FN_RNG) {
    if (!rng_allowed(c))
      c_fail(c, VI_ECHECK, e->loc, "'%s' draws random numbers: it can only be called in "
             "transformed data, generated quantities and _rng functions", f->name);
    return c->block == BLK_TDATA;
  }
  if (f->kind == FN_LP) {
    if (!target_allowed(c) && c->block != BLK_TPARAMS)
      c_fail(c, VI_ECHECK, e->loc, "'%s' changes target: it can only be called in the "
             "model block, transformed parameters and _lp functions", f->name);
    return 0;
  }
  return data;
}

/* Is fe the name of a user-defined function (foo_lupmf naming foo_lpmf), as the first
 * argument of a higher-order builtin? */
static int names_user_function(const checker *c, const vi_expr *fe)
{
  if (fe->kind != EX_VAR) return 0;
  char alt[160];
  const char *name = called_name(fe->str, alt, sizeof alt);
  for (int i = 0; i < c->ast->nfuncs; i++)
    if (strcmp(c->ast->funcs[i]->name, name) == 0) return 1;
  return 0;
}

/* The ODE solvers: integrate_ode_* (Stan before 2.24: f(t, y, theta, x_r, x_i) on
 * arrays) and ode_* / ode_*_tol (f(t, y, ...) on vectors, with the trailing arguments
 * passed through).  args[0] names the system function. */
static int ode_kind(const char *name)
{
  static const char *const old[] = {"integrate_ode_rk45", "integrate_ode_bdf",
                                    "integrate_ode_adams", NULL};
  static const char *const new_[] = {"ode_rk45", "ode_bdf", "ode_adams", "ode_ckrk", NULL};
  for (int i = 0; old[i]; i++) if (strcmp(name, old[i]) == 0) return VI_ODE_OLD;
  if (strcmp(name, "ode_adjoint_tol_ctl") == 0) return VI_ODE_ADJOINT;
  for (int i = 0; new_[i]; i++) {
    size_t n = strlen(new_[i]);
    if (strncmp(name, new_[i], n) == 0)
      return name[n] == 0 ? VI_ODE_NEW : strcmp(name + n, "_tol") == 0 ? VI_ODE_NEW_TOL : 0;
  }
  return 0;
}

/* A higher-order builtin (ODE solvers, reduce_sum): args[0] must name a user-defined
 * function (it is marked as no value); the other arguments are checked.  1 if they all
 * depend on data only. */
static int check_function_args(checker *c, vi_expr *e, const char *what)
{
  vi_expr *fe = e->args[0];
  if (!names_user_function(c, fe))
    c_fail(c, VI_ECHECK, fe->loc, "the first argument of %s must name a user-defined "
           "function%s", e->str, what);
  fe->type = ty(VT_ERROR, 0);
  fe->data_only = 1;
  int data = 1;
  for (int i = 1; i < e->nargs; i++) {
    check_expr(c, e->args[i]);
    data &= e->args[i]->data_only;
  }
  return data;
}

static void check_ode(checker *c, vi_expr *e, int kind)
{
  int fixed = kind == VI_ODE_OLD ? 7 : kind == VI_ODE_NEW ? 4 : kind == VI_ODE_ADJOINT ? 15 : 7;
  if (e->nargs < fixed || (kind == VI_ODE_OLD && e->nargs != 7 && e->nargs != 10))
    c_fail(c, VI_ECHECK, e->loc, "%s needs %s arguments, found %d", e->str,
           kind == VI_ODE_OLD ? "7 or 10" : kind == VI_ODE_NEW ? "at least 4"
           : kind == VI_ODE_ADJOINT ? "at least 15" : "at least 7", e->nargs);
  vi_expr *fe = e->args[0];
  int data = check_function_args(c, e, " (the ODE system)");
  /* the fixed arguments: y0, t0, ts, then theta, x_r, x_i (old) or the tolerances */
  vi_type y0 = kind == VI_ODE_OLD ? ty(VT_REAL, 1) : ty(VT_VECTOR, 0);
  const vi_type want[9] = {y0, ty(VT_REAL, 0), ty(VT_REAL, 1), ty(VT_REAL, 1),
                           ty(VT_REAL, 1), ty(VT_INT, 1), ty(VT_REAL, 0), ty(VT_REAL, 0),
                           ty(VT_REAL, 0)};
  const vi_type want_tol[6] = {y0, ty(VT_REAL, 0), ty(VT_REAL, 1), ty(VT_REAL, 0),
                               ty(VT_REAL, 0), ty(VT_INT, 0)};
  const char *names[9] = {"the initial state", "the initial time", "the output times",
                          "theta", "x_r", "x_i", "the relative tolerance",
                          "the absolute tolerance", "the maximum number of steps"};
  const char *names_tol[6] = {"the initial state", "the initial time", "the output times",
                              "the relative tolerance", "the absolute tolerance",
                              "the maximum number of steps"};
  /* Stan's ode_adjoint_tol_ctl: the forward, backward and quadrature tolerances, the
     step budget, the checkpointing and solver choices */
  const vi_type want_adj[14] = {y0, ty(VT_REAL, 0), ty(VT_REAL, 1), ty(VT_REAL, 0),
                                ty(VT_VECTOR, 0), ty(VT_REAL, 0), ty(VT_VECTOR, 0),
                                ty(VT_REAL, 0), ty(VT_REAL, 0), ty(VT_INT, 0), ty(VT_INT, 0),
                                ty(VT_INT, 0), ty(VT_INT, 0), ty(VT_INT, 0)};
  const char *names_adj[14] = {"the initial state", "the initial time", "the output times",
                               "the forward relative tolerance",
                               "the forward absolute tolerance",
                               "the backward relative tolerance",
                               "the backward absolute tolerance",
                               "the quadrature relative tolerance",
                               "the quadrature absolute tolerance",
                               "the maximum number of steps",
                               "the number of steps between checkpoints",
                               "the interpolation polynomial", "the forward solver",
                               "the backward solver"};
  int nfix = kind == VI_ODE_OLD ? e->nargs - 1 : fixed - 1;
  for (int i = 0; i < nfix; i++) {
    vi_type w = kind == VI_ODE_NEW_TOL ? want_tol[i] : kind == VI_ODE_ADJOINT ? want_adj[i]
                                                                              : want[i];
    vi_type got = e->args[i + 1]->type;
    int ok = assignable(w, got) || (kind != VI_ODE_ADJOINT && i >= 6 && is_scalar(got))
             || (kind == VI_ODE_NEW_TOL && i == 5 && is_scalar(got));
    if (!ok)
      c_fail(c, VI_ECHECK, e->args[i + 1]->loc, "%s of %s must be %s but found %s",
             kind == VI_ODE_NEW_TOL ? names_tol[i] : kind == VI_ODE_ADJOINT ? names_adj[i]
                                                                            : names[i],
             e->str, tname(w), tname(got));
  }
  /* the system function: f(real t, y, theta, x_r, x_i) or f(real t, vector y, ...) */
  vi_type ft[64];
  int nf = 0;
  ft[nf++] = ty(VT_REAL, 0);
  ft[nf++] = y0;
  if (kind == VI_ODE_OLD) {
    for (int i = 4; i <= 6; i++) ft[nf++] = e->args[i]->type;
  } else {
    if (e->nargs - fixed > 62)
      c_fail(c, VI_EUNSUPPORTED, e->loc, "%s with more than 62 arguments for the system "
             "function is not supported", e->str);
    for (int i = fixed; i < e->nargs; i++) ft[nf++] = e->args[i]->type;
  }
  vi_func *f = resolve_user(c, fe->str, ft, nf, fe->loc);
  if (!f)
    c_fail(c, VI_ECHECK, fe->loc, "'%s' is not a user-defined function", fe->str);
  if (f->ret.base != y0.base || f->ret.ndims != y0.ndims)
    c_fail(c, VI_ECHECK, fe->loc, "the ODE system '%s' must return %s (the state's type) but "
           "returns %s", f->name, tname(y0), tname(f->ret));
  if (f->kind != FN_PLAIN)
    c_fail(c, VI_ECHECK, fe->loc, "the ODE system '%s' cannot be an _rng, _lp or density "
           "function", f->name);
  e->builtin = VI_CALL_ODE;
  e->func = f;
  e->ival = kind;
  e->type = kind == VI_ODE_OLD ? ty(VT_REAL, 2) : ty(VT_VECTOR, 1);
  e->data_only = data;
}

/* reduce_sum / reduce_sum_static(f, x, grainsize, ...): a parallel map-reduce in Stan;
 * here the one call f(x, 1, size(x), ...), which is the same sum. */
static void check_reduce_sum(checker *c, vi_expr *e)
{
  if (e->nargs < 3)
    c_fail(c, VI_ECHECK, e->loc, "%s needs at least 3 arguments (f, x, grainsize), found %d",
           e->str, e->nargs);
  vi_expr *fe = e->args[0];
  int data = check_function_args(c, e, "");
  if (e->args[1]->type.ndims < 1)
    c_fail(c, VI_ECHECK, e->args[1]->loc, "the second argument of %s must be an array but "
           "found %s", e->str, tname(e->args[1]->type));
  if (!is_int(e->args[2]->type))
    c_fail(c, VI_ECHECK, e->args[2]->loc, "the grainsize of %s must be an int", e->str);
  vi_type ft[64];
  int nf = 0;
  ft[nf++] = e->args[1]->type;
  ft[nf++] = ty(VT_INT, 0);
  ft[nf++] = ty(VT_INT, 0);
  if (e->nargs > 64)
    c_fail(c, VI_EUNSUPPORTED, e->loc, "%s with more than 61 extra arguments is not "
           "supported", e->str);
  for (int i = 3; i < e->nargs; i++) ft[nf++] = e->args[i]->type;
  vi_func *f = resolve_user(c, fe->str, ft, nf, fe->loc);
  if (f->ret.base != VT_REAL || f->ret.ndims != 0)
    c_fail(c, VI_ECHECK, fe->loc, "the partial sum '%s' must return real", f->name);
  e->data_only = check_user_call(c, e, f, data);
  e->builtin = VI_CALL_REDUCE;
  e->type = ty(VT_REAL, 0);
}

/* The algebraic solvers (Stan Functions Reference, "Algebraic equation solvers"):
 * solve_newton / solve_powell(f, guess, ...) with f(vector, ...), their _tol forms with
 * three controls (scaling step or relative tolerance, function tolerance, maximum
 * steps) before the variadic arguments, and the older algebra_solver(_newton)(f, guess,
 * theta, x_r, x_i[, the three controls]) with f(vector y, vector theta, x_r, x_i). */
static int solve_kind(const char *name)
{
  static const struct { const char *name; int kind; } k[] = {
    {"solve_newton", VI_SOLVE_NEWTON}, {"solve_newton_tol", VI_SOLVE_NEWTON_TOL},
    {"solve_powell", VI_SOLVE_POWELL}, {"solve_powell_tol", VI_SOLVE_POWELL_TOL},
    {"algebra_solver", VI_SOLVE_OLD_POWELL}, {"algebra_solver_newton", VI_SOLVE_OLD_NEWTON}};
  for (size_t i = 0; i < sizeof k / sizeof k[0]; i++)
    if (strcmp(name, k[i].name) == 0) return k[i].kind;
  return 0;
}

/* Argument i of e must be assignable to w (or a scalar where scalar_ok). */
static void want_arg(checker *c, const vi_expr *e, int i, vi_type w, int scalar_ok,
                     const char *what)
{
  vi_type got = e->args[i]->type;
  if (!assignable(w, got) && !(scalar_ok && is_scalar(got)))
    c_fail(c, VI_ECHECK, e->args[i]->loc, "%s of %s must be %s but found %s", what, e->str,
           tname(w), tname(got));
}

/* The user function named by args[0] for argument types ft, returning ret (a plain
 * function: no _rng, _lp or density). */
static vi_func *hof_function(checker *c, vi_expr *e, const vi_type *ft, int nf, vi_type ret,
                             const char *role)
{
  vi_expr *fe = e->args[0];
  vi_func *f = resolve_user(c, fe->str, ft, nf, fe->loc);
  if (!f)
    c_fail(c, VI_ECHECK, fe->loc, "'%s' is not a user-defined function", fe->str);
  if (!same_type(f->ret, ret))
    c_fail(c, VI_ECHECK, fe->loc, "%s '%s' of %s must return %s but returns %s", role,
           f->name, e->str, tname(ret), tname(f->ret));
  if (f->kind != FN_PLAIN)
    c_fail(c, VI_ECHECK, fe->loc, "%s '%s' of %s cannot be an _rng, _lp or density "
           "function", role, f->name, e->str);
  return f;
}

static void check_solver(checker *c, vi_expr *e, int kind)
{
  int old = kind >= VI_SOLVE_OLD_POWELL;
  int tol = kind == VI_SOLVE_NEWTON_TOL || kind == VI_SOLVE_POWELL_TOL;
  int newton = kind == VI_SOLVE_NEWTON || kind == VI_SOLVE_NEWTON_TOL
               || kind == VI_SOLVE_OLD_NEWTON;
  int fixed = old || tol ? 5 : 2;   /* arguments before the variadic ones */
  if (old ? e->nargs != 5 && e->nargs != 8 : e->nargs < fixed)
    c_fail(c, VI_ECHECK, e->loc, "%s needs %s arguments, found %d", e->str,
           old ? "5 or 8" : tol ? "at least 5" : "at least 2", e->nargs);
  int data = check_function_args(c, e, " (the algebraic system)");
  want_arg(c, e, 1, ty(VT_VECTOR, 0), 0, "the initial guess");
  const char *ctl[3] = {newton ? "the scaling step" : "the relative tolerance",
                        "the function tolerance", "the maximum number of steps"};
  int at = old ? (e->nargs == 8 ? 5 : 0) : tol ? 2 : 0;
  for (int i = 0; at && i < 3; i++)
    want_arg(c, e, at + i, i < 2 ? ty(VT_REAL, 0) : ty(VT_INT, 0), i < 2, ctl[i]);
  vi_type ft[64];
  int nf = 0;
  ft[nf++] = ty(VT_VECTOR, 0);
  if (old) {
    want_arg(c, e, 2, ty(VT_VECTOR, 0), 0, "theta");
    want_arg(c, e, 3, ty(VT_REAL, 1), 0, "x_r");
    want_arg(c, e, 4, ty(VT_INT, 1), 0, "x_i");
    ft[nf++] = ty(VT_VECTOR, 0);
    ft[nf++] = ty(VT_REAL, 1);
    ft[nf++] = ty(VT_INT, 1);
  } else {
    if (e->nargs - fixed > 63)
      c_fail(c, VI_EUNSUPPORTED, e->loc, "%s with more than 63 arguments for the system "
             "function is not supported", e->str);
    for (int i = fixed; i < e->nargs; i++) ft[nf++] = e->args[i]->type;
  }
  e->func = hof_function(c, e, ft, nf, ty(VT_VECTOR, 0), "the algebraic system");
  e->builtin = VI_CALL_SOLVE;
  e->ival = kind;
  e->type = ty(VT_VECTOR, 0);
  e->data_only = data;
}

/* integrate_1d(f, a, b, theta, x_r, x_i[, relative tolerance]) with the integrand
 * real f(real x, real xc, array[] real theta, array[] real x_r, array[] int x_i). */
static void check_integrate_1d(checker *c, vi_expr *e)
{
  if (e->nargs != 6 && e->nargs != 7)
    c_fail(c, VI_ECHECK, e->loc, "integrate_1d needs 6 or 7 arguments (f, a, b, theta, x_r, "
           "x_i[, relative tolerance]), found %d", e->nargs);
  int data = check_function_args(c, e, " (the integrand)");
  want_arg(c, e, 1, ty(VT_REAL, 0), 1, "the lower limit");
  want_arg(c, e, 2, ty(VT_REAL, 0), 1, "the upper limit");
  want_arg(c, e, 3, ty(VT_REAL, 1), 0, "theta");
  want_arg(c, e, 4, ty(VT_REAL, 1), 0, "x_r");
  want_arg(c, e, 5, ty(VT_INT, 1), 0, "x_i");
  if (e->nargs == 7) want_arg(c, e, 6, ty(VT_REAL, 0), 1, "the relative tolerance");
  const vi_type ft[5] = {ty(VT_REAL, 0), ty(VT_REAL, 0), ty(VT_REAL, 1), ty(VT_REAL, 1),
                         ty(VT_INT, 1)};
  e->func = hof_function(c, e, ft, 5, ty(VT_REAL, 0), "the integrand");
  e->builtin = VI_CALL_INTEGRATE;
  e->type = ty(VT_REAL, 0);
  e->data_only = data;
}

/* map_rect(f, phi, thetas, x_rs, x_is) with vector f(vector phi, vector theta,
 * array[] real x_r, array[] int x_i): the jobs' results concatenated. */
static void check_map_rect(checker *c, vi_expr *e)
{
  if (e->nargs != 5)
    c_fail(c, VI_ECHECK, e->loc, "map_rect needs 5 arguments (f, phi, thetas, x_rs, x_is), "
           "found %d", e->nargs);
  int data = check_function_args(c, e, " (the job function)");
  want_arg(c, e, 1, ty(VT_VECTOR, 0), 0, "the shared parameters");
  want_arg(c, e, 2, ty(VT_VECTOR, 1), 0, "the job parameters");
  want_arg(c, e, 3, ty(VT_REAL, 2), 0, "the real data");
  want_arg(c, e, 4, ty(VT_INT, 2), 0, "the int data");
  const vi_type ft[4] = {ty(VT_VECTOR, 0), ty(VT_VECTOR, 0), ty(VT_REAL, 1), ty(VT_INT, 1)};
  e->func = hof_function(c, e, ft, 4, ty(VT_VECTOR, 0), "the job function");
  e->builtin = VI_CALL_MAP_RECT;
  e->type = ty(VT_VECTOR, 0);
  e->data_only = data;
}

/* After pass 2: the arguments Stan requires to be data (x_r, x_i, the solver controls)
 * depend on data only.  Outside function bodies (whose arguments carry no data
 * qualifier here). */
static void require_data(checker *c, const vi_expr *e)
{
  static const char *const ctl[3] = {"the solver control", "the function tolerance",
                                     "the maximum number of steps"};
  int idx[4], n = 0;
  const char *what[4];
  if (e->builtin == VI_CALL_SOLVE) {
    if (e->ival >= VI_SOLVE_OLD_POWELL) { idx[n] = 3; what[n++] = "x_r"; }
    int at = e->ival >= VI_SOLVE_OLD_POWELL ? (e->nargs == 8 ? 5 : 0)
             : e->ival == VI_SOLVE_NEWTON_TOL || e->ival == VI_SOLVE_POWELL_TOL ? 2 : 0;
    for (int i = 0; at && i < 3; i++) { idx[n] = at + i; what[n++] = ctl[i]; }
  } else if (e->builtin == VI_CALL_INTEGRATE) {
    idx[n] = 4; what[n++] = "x_r";
    idx[n] = 5; what[n++] = "x_i";
    if (e->nargs == 7) { idx[n] = 6; what[n++] = "the relative tolerance"; }
  } else if (e->builtin == VI_CALL_MAP_RECT) {
    idx[n] = 3; what[n++] = "x_rs";
    idx[n] = 4; what[n++] = "x_is";
  }
  for (int i = 0; i < n; i++)
    if (!e->args[idx[i]]->data_only)
      c_fail(c, VI_ECHECK, e->args[idx[i]]->loc, "%s of %s must depend on data only (data "
             "or transformed data), not on parameters", what[i], e->str);
}

/* A builtin returning a tuple: each element's builtin must take the arguments. */
static void check_tuple_call(checker *c, vi_expr *e, const char *const *parts,
                             const vi_type *targs, int data)
{
  int n = 0;
  while (parts[n]) n++;
  vi_tuple_type *tt = ast_arena_alloc(c->ast->arena, sizeof *tt);
  vi_type *el = ast_arena_alloc(c->ast->arena, (size_t)n * sizeof *el);
  int *ids = ast_arena_alloc(c->ast->arena, (size_t)n * sizeof *ids);
  if (!tt || !el || !ids) c_nomem(c);
  for (int i = 0; i < n; i++) {
    char why[512] = "";
    ids[i] = builtin_resolve(parts[i], targs, e->nargs, &el[i], why, sizeof why);
    if (ids[i] < 0) {
      /* the element's message, under the name that was called */
      char got[512];
      size_t o = (size_t)snprintf(got, sizeof got, "%s(", e->str);
      for (int k = 0; k < e->nargs && o < sizeof got; k++)
        o += (size_t)snprintf(got + o, sizeof got - o, "%s%s", k ? ", " : "",
                              tname(targs[k]));
      if (o < sizeof got) snprintf(got + o, sizeof got - o, ")");
      const char *cand = strstr(why, "candidates: ");
      c_fail(c, VI_ECHECK, e->loc, "no signature %s%s%s", got, cand ? "; it takes the "
             "arguments of " : "", cand ? cand + 12 : "");
    }
    if (builtin_kind(ids[i]) == BUILTIN_VALUE_ONLY && !rng_allowed(c))
      c_fail(c, VI_ECHECK, e->loc, "'%s' has no gradient: it is only allowed in "
             "transformed data, generated quantities and _rng functions", e->str);
  }
  tt->n = n;
  tt->el = el;
  e->builtin = VI_CALL_TUPLE;
  e->parts = ids;
  e->type = ty(VT_TUPLE, 0);
  e->type.tup = tt;
  e->data_only = data;
}

static void check_call(checker *c, vi_expr *e)
{
  int void_ok = c->void_ok;
  if (strcmp(e->str, "reduce_sum") == 0 || strcmp(e->str, "reduce_sum_static") == 0) {
    c->void_ok = 0;
    check_reduce_sum(c, e);
    return;
  }
  int ode = ode_kind(e->str);
  if (ode) {
    c->void_ok = 0;
    check_ode(c, e, ode);
    return;
  }
  int solve = solve_kind(e->str);
  if (solve || strcmp(e->str, "integrate_1d") == 0 || strcmp(e->str, "map_rect") == 0) {
    c->void_ok = 0;
    if (solve) check_solver(c, e, solve);
    else if (e->str[0] == 'i') check_integrate_1d(c, e);
    else check_map_rect(c, e);
    return;
  }
  c->void_ok = 0;
  if (strcmp(e->str, "target") == 0 && e->nargs == 0) {
    if (!target_allowed(c))
      c_fail(c, VI_ECHECK, e->loc, "target() can only be used in the model block");
    e->type = ty(VT_REAL, 0);
    e->builtin = -1;
    e->data_only = 0;
    return;
  }
  int dens = density_name(e->str);
  if (e->has_bar && !dens && !name_has_suffix(e->str, "_cdf")
      && !name_has_suffix(e->str, "_lcdf") && !name_has_suffix(e->str, "_lccdf"))
    c_fail(c, VI_ECHECK, e->loc, "'|' is only used in calls of densities and "
           "distribution functions, not in '%s'", e->str);
  if (dens && e->nargs >= 2 && !e->has_bar)
    c_fail(c, VI_ECHECK, e->loc, "'%s' needs '|' after its first argument: %s(y | ...)",
           e->str, e->str);
  if ((name_has_suffix(e->str, "_lupdf") || name_has_suffix(e->str, "_lupmf"))
      && c->block != BLK_MODEL && !(c->fn && (c->fn->kind == FN_DENSITY || c->fn->kind == FN_LP)))
    c_fail(c, VI_ECHECK, e->loc, "'%s' (unnormalised density) can only be used in the "
           "model block", e->str);
  vi_type argt[64], *targs = argt;
  if (e->nargs > 64) {
    targs = ast_arena_alloc(c->ast->arena, (size_t)e->nargs * sizeof *targs);
    if (!targs) c_nomem(c);
  }
  int data = 1;
  for (int i = 0; i < e->nargs; i++) {
    check_expr(c, e->args[i]);
    targs[i] = e->args[i]->type;
    data &= e->args[i]->data_only;
  }
  vi_func *uf = resolve_user(c, e->str, targs, e->nargs, e->loc);
  if (uf) {
    if (uf->ret.base == VT_VOID && !void_ok)
      c_fail(c, VI_ECHECK, e->loc, "'%s' is a void function: it has no value to use",
             uf->name);
    e->data_only = check_user_call(c, e, uf, data);
    return;
  }
  char why[512] = "";
  vi_type ret = ty(VT_REAL, 0);
  const char *const *parts = builtin_tuple_parts(e->str);
  if (parts) {
    check_tuple_call(c, e, parts, targs, data);
    return;
  }
  int id = builtin_resolve(e->str, targs, e->nargs, &ret, why, sizeof why);
  if (id < 0) {
    /* Old density names (normal_log, normal_cdf_log): name the replacement. */
    const char *sfx[][2] = { { "_ccdf_log", "_lccdf" }, { "_cdf_log", "_lcdf" },
                             { "_log", "_lpdf" }, { "_log", "_lpmf" } };
    for (int k = 0; k < 4 && (id == BUILTIN_UNSUPPORTED
                              || strncmp(why, "unknown function", 16) == 0); k++) {
      size_t n = strlen(e->str), m = strlen(sfx[k][0]);
      if (n <= m || n - m > 100 || !name_has_suffix(e->str, sfx[k][0])) continue;
      char alt[128], w2[512];
      snprintf(alt, sizeof alt, "%.*s%s", (int)(n - m), e->str, sfx[k][1]);
      vi_type r2;
      int id2 = builtin_resolve(alt, targs, e->nargs, &r2, w2, sizeof w2);
      if (id2 >= 0) {
        /* the pre-2.33 spelling of the same function (normal_log(y, mu, sigma) is
           normal_lpdf(y | mu, sigma)): models written for older Stan run unchanged */
        char *nm = ast_arena_strndup(c->ast->arena, alt, strlen(alt));
        if (!nm) c_nomem(c);
        e->str = nm;
        e->has_bar = e->nargs >= 2;
        id = id2;
        ret = r2;
        break;
      }
      if (strncmp(w2, "no signature", 12) == 0)
        c_fail(c, VI_EUNSUPPORTED, e->loc, "'%s' was removed from Stan; use '%s'", e->str,
               alt);
    }
  }
  if (id < 0) {
    if (id == BUILTIN_UNSUPPORTED)
      c_fail(c, VI_EUNSUPPORTED, e->loc, "%s", why[0] ? why : "function not supported yet");
    c_fail(c, VI_ECHECK, e->loc, "%s", why[0] ? why : "no matching function");
  }
  e->builtin = id;
  e->type = ret;
  if (builtin_kind(id) == BUILTIN_RNG) {
    if (!rng_allowed(c) && c->fn)
      c_fail(c, VI_ECHECK, e->loc, "random number generator '%s' is only allowed in "
             "functions whose name ends in _rng, not in '%s'", e->str, c->fn->name);
    if (!rng_allowed(c))
      c_fail(c, VI_ECHECK, e->loc, "random number generator '%s' is only allowed in "
             "transformed data and generated quantities, not in the %s block", e->str,
             block_names[c->block]);
    data = c->block == BLK_TDATA;
  }
  if (builtin_kind(id) == BUILTIN_VALUE_ONLY && !rng_allowed(c))
    c_fail(c, VI_ECHECK, e->loc, "'%s' has no gradient: it is only allowed in transformed "
           "data, generated quantities and _rng functions", e->str);
  e->data_only = data;
}

static void check_int_expr(checker *c, vi_expr *e, const char *what)
{
  check_expr(c, e);
  if (!is_int(e->type))
    c_fail(c, VI_ECHECK, e->loc, "%s must be an int but found %s", what, tname(e->type));
}

static void check_index(checker *c, vi_expr *e)
{
  vi_expr *base = e->args[0];
  check_expr(c, base);
  int data = base->data_only;
  for (int i = 0; i < e->nindex; i++) {
    vi_index *ix = &e->index[i];
    if (ix->kind == IX_SINGLE || ix->kind == IX_MULTI) {
      check_expr(c, ix->lo);
      if (is_int(ix->lo->type)) ix->kind = IX_SINGLE;
      else if (ix->lo->type.base == VT_INT && ix->lo->type.ndims == 1) ix->kind = IX_MULTI;
      else
        c_fail(c, VI_ECHECK, ix->lo->loc, "an index must be an int or an int array "
               "(array[] int) but found %s", tname(ix->lo->type));
    } else {
      if (ix->lo) check_int_expr(c, ix->lo, "a range bound");
      if (ix->hi) check_int_expr(c, ix->hi, "a range bound");
    }
    if (ix->lo) data &= ix->lo->data_only;
    if (ix->hi) data &= ix->hi->data_only;
  }
  /* Array dimensions first: a single index drops one, any other keeps it. */
  vi_type t = base->type;
  if (!numeric(t) && !(t.base == VT_TUPLE && t.ndims > 0))
    c_fail(c, VI_ECHECK, e->loc, "a value of type %s cannot be indexed%s", tname(t),
           t.base == VT_TUPLE ? " (its elements are x.1, x.2, ...)" : "");
  int n = e->nindex, i = 0, kept = 0;
  for (; i < n && i < t.ndims; i++)
    if (e->index[i].kind != IX_SINGLE) kept++;
  int ndims = kept + (t.ndims - i);
  int m = n - i;
  int cx = base_is_complex(t.base);
  vi_basetype b = base_real_of(t.base);
  if (m > 0) {
    int s0 = e->index[i].kind == IX_SINGLE;
    int s1 = m > 1 && e->index[i + 1].kind == IX_SINGLE;
    switch (b) {
    case VT_VECTOR: case VT_ROW_VECTOR:
      if (m > 1) goto too_many;
      if (s0) b = VT_REAL;
      break;
    case VT_MATRIX:
      if (m > 2) goto too_many;
      if (m == 1) b = s0 ? VT_ROW_VECTOR : VT_MATRIX;
      else b = s0 && s1 ? VT_REAL : s0 ? VT_ROW_VECTOR : s1 ? VT_VECTOR : VT_MATRIX;
      break;
    default:
      goto too_many;
    }
  }
  if (cx) b = base_complex_of(b);
  e->type = ty(b, ndims);
  if (b == VT_TUPLE) e->type.tup = t.tup;
  e->data_only = data;
  return;
too_many:
  c_fail(c, VI_ECHECK, e->loc, "too many indexes (%d) for a value of type %s", n,
         tname(t));
}

static void check_expr(checker *c, vi_expr *e)
{
  switch (e->kind) {
  case EX_INT_LIT:
    e->type = ty(VT_INT, 0);
    e->data_only = 1;
    return;
  case EX_REAL_LIT:
    e->type = ty(VT_REAL, 0);
    e->data_only = 1;
    return;
  case EX_IMAG_LIT:
    e->type = ty(VT_COMPLEX, 0);
    e->data_only = 1;
    return;
  case EX_STRING_LIT:
    e->type = ty(VT_STRING, 0);
    e->data_only = 1;
    return;
  case EX_VAR: {
    vi_decl *d = lookup(c, e->str);
    if (!d) c_fail(c, VI_ECHECK, e->loc, "'%s' is not declared", e->str);
    e->decl = d;
    e->type = d->type;
    e->data_only = d->data_only;
    return;
  }
  case EX_UNARY: {
    vi_expr *a = e->args[0];
    check_expr(c, a);
    vi_type t = a->type;
    int ok = 0;
    switch (e->op) {
    case OP_NEG: case OP_PLUS:
      ok = is_scalar(t) || is_vecmat(t) || (base_is_complex(t.base) && t.ndims == 0);
      e->type = t;
      break;
    case OP_NOT:
      ok = is_scalar(t);
      e->type = ty(VT_INT, 0);
      break;
    case OP_TRANSPOSE: {
      /* complex containers: the plain transpose, as Stan's ' (no conjugate) */
      vi_type rt = real_shape(t);
      ok = is_vecmat(rt);
      e->type = ty(rt.base == VT_VECTOR ? VT_ROW_VECTOR : rt.base == VT_ROW_VECTOR
                   ? VT_VECTOR : VT_MATRIX, 0);
      if (base_is_complex(t.base)) e->type.base = base_complex_of(e->type.base);
      break;
    }
    default:
      break;
    }
    if (!ok)
      c_fail(c, VI_ECHECK, e->loc, "operator '%s' cannot be applied to a value of type %s",
             op_name(e->op), tname(t));
    e->data_only = a->data_only;
    return;
  }
  case EX_BINARY: {
    check_expr(c, e->args[0]);
    check_expr(c, e->args[1]);
    vi_type a = e->args[0]->type, b = e->args[1]->type;
    /* `^` on containers is elementwise (Stan's vectorised pow), as `.^` */
    if (e->op == OP_POW && !(is_scalar(a) && is_scalar(b))) e->op = OP_EPOW;
    if (!binary_type(e->op, a, b, &e->type))
      c_fail(c, VI_ECHECK, e->loc, "operator '%s' cannot be applied to %s and %s",
             op_name(e->op), tname(a), tname(b));
    e->data_only = e->args[0]->data_only && e->args[1]->data_only;
    return;
  }
  case EX_TERNARY: {
    for (int i = 0; i < 3; i++) check_expr(c, e->args[i]);
    if (!is_int(e->args[0]->type))
      c_fail(c, VI_ECHECK, e->args[0]->loc, "the condition of '?:' must be an int but "
             "found %s", tname(e->args[0]->type));
    if (!(numeric(e->args[1]->type) || e->args[1]->type.base == VT_TUPLE)
        || !unify(e->args[1]->type, e->args[2]->type, &e->type))
      c_fail(c, VI_ECHECK, e->loc, "the branches of '?:' have different types %s and %s",
             tname(e->args[1]->type), tname(e->args[2]->type));
    e->data_only = e->args[0]->data_only && e->args[1]->data_only && e->args[2]->data_only;
    return;
  }
  case EX_CALL:
    check_call(c, e);
    return;
  case EX_INDEX:
    check_index(c, e);
    return;
  case EX_ROW_VECTOR: {
    int data = 1, rows = 0, cx = 0;
    for (int i = 0; i < e->nargs; i++) {
      vi_expr *a = e->args[i];
      check_expr(c, a);
      data &= a->data_only;
      cx |= base_is_complex(a->type.base);
      vi_type ra = real_shape(a->type);
      if (ra.base == VT_REAL && ra.ndims == 0) ra.base = VT_INT;   /* complex: a scalar */
      int r = same_type(ra, ty(VT_ROW_VECTOR, 0));
      if (!(is_scalar(ra) || r) || (i > 0 && r != rows))
        c_fail(c, VI_ECHECK, a->loc, "elements of '[...]' must be all int/real/complex (a "
               "row vector) or all row vectors (a matrix); found %s", tname(a->type));
      rows = r;
    }
    e->type = ty(rows ? VT_MATRIX : VT_ROW_VECTOR, 0);
    if (cx) e->type.base = base_complex_of(e->type.base);
    e->data_only = data;
    return;
  }
  case EX_ARRAY: {
    int data = 1;
    vi_type t = ty(VT_INT, 0);
    for (int i = 0; i < e->nargs; i++) {
      vi_expr *a = e->args[i];
      check_expr(c, a);
      data &= a->data_only;
      if (!(numeric(a->type) || a->type.base == VT_TUPLE) || (i > 0 && !unify(t, a->type, &t)))
        c_fail(c, VI_ECHECK, a->loc, "elements of '{...}' must have the same type; found "
               "%s after %s", tname(a->type), tname(t));
      if (i == 0) t = a->type;
    }
    if (t.ndims + 1 > 8)
      c_fail(c, VI_ECHECK, e->loc, "arrays of more than 8 dimensions are not supported");
    e->type = ty(t.base, t.ndims + 1);
    e->type.tup = t.tup;
    e->data_only = data;
    return;
  }
  case EX_TUPLE: {
    vi_tuple_type *tt = ast_arena_alloc(c->ast->arena, sizeof *tt);
    vi_type *el = ast_arena_alloc(c->ast->arena, (size_t)e->nargs * sizeof *el);
    if (!tt || !el) c_nomem(c);
    int data = 1;
    for (int i = 0; i < e->nargs; i++) {
      vi_expr *a = e->args[i];
      check_expr(c, a);
      if (!numeric(a->type) && a->type.base != VT_TUPLE)
        c_fail(c, VI_ECHECK, a->loc, "a tuple element must be a value, not %s",
               tname(a->type));
      el[i] = a->type;
      data &= a->data_only;
    }
    tt->n = e->nargs;
    tt->el = el;
    e->type = ty(VT_TUPLE, 0);
    e->type.tup = tt;
    e->data_only = data;
    return;
  }
  case EX_PROJ: {
    vi_expr *a = e->args[0];
    check_expr(c, a);
    vi_type t = a->type;
    if (t.base != VT_TUPLE)
      c_fail(c, VI_ECHECK, e->loc, "'.%ld' takes an element of a tuple, but this is %s",
             e->ival, tname(t));
    if (t.ndims)
      c_fail(c, VI_ECHECK, e->loc, "'.%ld' takes an element of a tuple, but this is an "
             "array of tuples (%s): index it first, x[i].%ld", e->ival, tname(t), e->ival);
    if (e->ival < 1 || e->ival > t.tup->n)
      c_fail(c, VI_ECHECK, e->loc, "a tuple of type %s has no element %ld (its elements "
             "are .1 to .%d)", tname(t), e->ival, t.tup->n);
    e->type = t.tup->el[e->ival - 1];
    e->data_only = a->data_only;
    return;
  }
  }
}

/* ---- Declarations -------------------------------------------------------------- */

static int toplevel_sized(vi_block b)
{
  return b == BLK_DATA || b == BLK_TDATA || b == BLK_PARAMS || b == BLK_TPARAMS
         || b == BLK_GQ;
}

static void check_size(checker *c, vi_decl *d, vi_expr *e, const char *what)
{
  check_int_expr(c, e, what);
  if (toplevel_sized(d->block) && !e->data_only)
    c_fail(c, VI_ECHECK, e->loc, "%s of '%s' must depend on data only (data or "
           "transformed data)", what, d->name);
}

static void check_bound(checker *c, vi_decl *d, vi_expr *e, const char *what)
{
  check_expr(c, e);
  vi_type t = e->type;
  int ok = d->type.base == VT_INT ? is_int(t)
           : is_scalar(t) || assignable(d->type, t);
  if (!ok)
    c_fail(c, VI_ECHECK, e->loc, "%s of '%s' (%s) must be %s but found %s", what, d->name,
           tname(d->type), d->type.base == VT_INT ? "an int" : "an int, a real or a value "
           "of the variable's type", tname(t));
}

/* The elements of a tuple declaration d (named x.1, x.2, ... for messages): their
 * sizes, bounds and the block rules, as for a declaration of their own. */
static void check_decl_type(checker *c, vi_decl *d);

static void check_tuple_elements(checker *c, vi_decl *d)
{
  for (int i = 0; i < d->ntel; i++) {
    vi_decl *e = d->tel[i];
    char nm[256];
    snprintf(nm, sizeof nm, "%s.%d", d->name, i + 1);
    e->name = ast_arena_strndup(c->ast->arena, nm, strlen(nm));
    if (!e->name) c_nomem(c);
    e->block = d->block;
    if (!e->loc.line) e->loc = d->loc;
    check_decl_type(c, e);
  }
}

static void check_decl_type(checker *c, vi_decl *d)
{
  if (d->type.ndims > 8)
    c_fail(c, VI_ECHECK, d->loc, "arrays of more than 8 dimensions are not supported");
  for (int i = 0; i < d->ndims; i++) check_size(c, d, d->dims[i], "an array size");
  if (d->size[0]) check_size(c, d, d->size[0], d->type.base == VT_MATRIX ? "the number of "
                             "rows" : "the size");
  if (d->size[1]) check_size(c, d, d->size[1], "the number of columns");
  if (d->lower) check_bound(c, d, d->lower, "the lower bound");
  if (d->upper) check_bound(c, d, d->upper, "the upper bound");
  if (d->offset) check_bound(c, d, d->offset, "the offset");
  if (d->multiplier) check_bound(c, d, d->multiplier, "the multiplier");
  if (d->con == CON_OFFSET_MULT && d->type.base == VT_INT)
    c_fail(c, VI_ECHECK, d->loc, "integer variables cannot have an offset or multiplier "
           "('%s')", d->name);
  if ((d->block == BLK_PARAMS || d->block == BLK_TPARAMS) && d->type.base == VT_INT)
    c_fail(c, VI_ECHECK, d->loc, "%s cannot be integers: '%s' is declared %s",
           d->block == BLK_PARAMS ? "parameters" : "transformed parameters", d->name,
           d->type_text ? d->type_text : "int");
  if (d->block == BLK_PARAMS && base_is_complex(d->type.base))
    c_fail(c, VI_ECHECK, d->loc, "parameters cannot be complex: '%s' is declared %s (as in "
           "Stan, declare the real and imaginary parts as real parameters)", d->name,
           d->type_text ? d->type_text : "complex");
  if (d->type.base == VT_TUPLE) check_tuple_elements(c, d);
}

static void check_decl(checker *c, vi_decl *d)
{
  check_decl_type(c, d);
  vi_decl *old = lookup(c, d->name);   /* reported here, before the initialiser */
  if (old)
    c_fail(c, VI_ECHECK, d->loc, "'%s' is already declared (at line %d, column %d)",
           d->name, old->loc.line, old->loc.col);
  if (d->init) {
    check_expr(c, d->init);
    if (!assignable(d->type, d->init->type))
      c_fail(c, VI_ECHECK, d->init->loc, "cannot initialise '%s' of type %s with a value "
             "of type %s", d->name, tname(d->type), tname(d->init->type));
  }
  declare(c, d);
  switch (d->block) {
  case BLK_DATA: case BLK_TDATA:
    d->data_only = 1;
    c->fixed[d->slot] = 1;
    break;
  case BLK_PARAMS: case BLK_TPARAMS: case BLK_GQ:
    d->data_only = 0;
    c->fixed[d->slot] = 1;
    break;
  default:
    /* Locals (and model-block variables) start data-only; pass 2 decides.  In
     * transformed data everything is data. */
    d->data_only = 1;
    c->fixed[d->slot] = c->block == BLK_TDATA;
    break;
  }
}

/* ---- Statements ---------------------------------------------------------------- */

static void check_stmt(checker *c, vi_stmt *s);

static vi_decl *lvalue_decl(vi_expr *e)
{
  while (e->kind == EX_INDEX || e->kind == EX_PROJ) e = e->args[0];
  return e->kind == EX_VAR ? e->decl : NULL;
}

static void check_assignable_var(checker *c, vi_expr *lhs)
{
  vi_expr *v = lhs;
  while (v->kind == EX_INDEX || v->kind == EX_PROJ) v = v->args[0];
  vi_decl *d = v->decl;
  const char *why = NULL;
  switch (d->block) {
  case BLK_LOOP: why = "it is a loop variable"; break;
  case BLK_FUNCTIONS: why = "it is a function argument"; break;
  case BLK_DATA: why = "it is data"; break;
  case BLK_PARAMS: why = "it is a parameter"; break;
  case BLK_TDATA: case BLK_TPARAMS: case BLK_MODEL: case BLK_GQ:
    if (c->block != d->block) {
      char buf[160];
      snprintf(buf, sizeof buf, "it is declared in the %s block and can only be assigned "
               "there", block_names[d->block]);
      c_fail(c, VI_ECHECK, v->loc, "cannot assign to '%s': %s", d->name, buf);
    }
    break;
  default:
    break;
  }
  if (why) c_fail(c, VI_ECHECK, v->loc, "cannot assign to '%s': %s", d->name, why);
}

/* (a, b[i], (c, d.1)) = rhs: every target assignable, each a different variable when
 * named whole, and each element of rhs's tuple type assignable to its target. */
static void check_unpack_seen(checker *c, vi_expr *lhs, vi_type rt, vi_loc rloc,
                              vi_decl **seen, int *nseen)
{
  if (lhs->kind != EX_TUPLE) {
    check_expr(c, lhs);
    check_assignable_var(c, lhs);
    vi_decl *d = lvalue_decl(lhs);
    for (int i = 0; i < *nseen && lhs->kind == EX_VAR; i++)
      if (seen[i] == d)
        c_fail(c, VI_ECHECK, lhs->loc, "'%s' is assigned twice in this unpacking", d->name);
    if (lhs->kind == EX_VAR && *nseen < 256) seen[(*nseen)++] = d;
    if (!assignable(lhs->type, rt))
      c_fail(c, VI_ECHECK, rloc, "cannot unpack a value of type %s into %s'%s' of type %s",
             tname(rt), lhs->kind == EX_VAR ? "" : "an element of ", d ? d->name : "?",
             tname(lhs->type));
    return;
  }
  if (rt.base != VT_TUPLE || rt.ndims || !rt.tup)
    c_fail(c, VI_ECHECK, rloc, "only a tuple can be unpacked, but the right side is %s",
           tname(rt));
  if (rt.tup->n != lhs->nargs)
    c_fail(c, VI_ECHECK, lhs->loc, "cannot unpack a tuple of %d elements (%s) into %d "
           "targets", rt.tup->n, tname(rt), lhs->nargs);
  for (int i = 0; i < lhs->nargs; i++)
    check_unpack_seen(c, lhs->args[i], rt.tup->el[i], rloc, seen, nseen);
  lhs->type = rt;
}

static void check_unpack(checker *c, vi_expr *lhs, vi_type rt, vi_loc rloc)
{
  vi_decl *seen[256];
  int nseen = 0;
  check_unpack_seen(c, lhs, rt, rloc, seen, &nseen);
}

static void check_block_items(checker *c, vi_stmt *s)
{
  for (int i = 0; i < s->nstmts; i++) {
    vi_stmt *it = s->stmts[i];
    if (it->kind == ST_DECL) check_decl(c, it->decl);
    else check_stmt(c, it);
  }
}

static void check_cond(checker *c, vi_expr *e, const char *what)
{
  check_expr(c, e);
  if (!is_scalar(e->type))
    c_fail(c, VI_ECHECK, e->loc, "the condition of '%s' must be an int or a real but found "
           "%s", what, tname(e->type));
}

static void check_tilde(checker *c, vi_stmt *s)
{
  if (!target_allowed(c) && c->fn)
    c_fail(c, VI_ECHECK, s->loc, "'~' statements are only allowed in functions whose name "
           "ends in _lp, not in '%s'", c->fn->name);
  if (!target_allowed(c))
    c_fail(c, VI_ECHECK, s->loc, "'~' statements are only allowed in the model block, not "
           "in the %s block", block_names[c->block]);
  check_expr(c, s->lhs);
  int n = s->nargs + 1;
  vi_type argt[64], *targs = argt;
  if (n > 64) {
    targs = ast_arena_alloc(c->ast->arena, (size_t)n * sizeof *targs);
    if (!targs) c_nomem(c);
  }
  targs[0] = s->lhs->type;
  for (int i = 0; i < s->nargs; i++) {
    check_expr(c, s->args[i]);
    targs[i + 1] = s->args[i]->type;
  }
  char uname[160];
  for (int k = 0; k < 2 && strlen(s->name) < 100; k++) {
    snprintf(uname, sizeof uname, "%s_%s", s->name, k ? "lpmf" : "lpdf");
    for (int i = 0; i < c->ast->nfuncs; i++)
      if (strcmp(c->ast->funcs[i]->name, uname) == 0) {
        s->func = resolve_user(c, uname, targs, n, s->loc);
        s->builtin = VI_CALL_USER;
        if (s->truncated)
          c_fail(c, VI_EUNSUPPORTED, s->loc, "truncation T[..] of a user-defined "
                 "distribution is not supported yet");
        return;
      }
  }
  char why[512] = "";
  int id = builtin_resolve_tilde(s->name, targs, n, why, sizeof why);
  if (id == BUILTIN_UNSUPPORTED)
    c_fail(c, VI_EUNSUPPORTED, s->loc, "%s",
           why[0] ? why : "distribution not supported yet");
  if (id < 0) c_fail(c, VI_ECHECK, s->loc, "%s", why[0] ? why : "no matching distribution");
  s->builtin = id;
  if (s->truncated) {
    if (!is_scalar(s->lhs->type))
      c_fail(c, VI_ECHECK, s->lhs->loc, "truncation T[...] needs a univariate outcome but "
             "found %s", tname(s->lhs->type));
    vi_expr *bounds[2] = { s->lo, s->hi };
    const char *fn[2] = { "lccdf", "lcdf" };
    for (int k = 0; k < 2; k++) {
      if (!bounds[k]) continue;
      check_expr(c, bounds[k]);
      if (!is_scalar(bounds[k]->type))
        c_fail(c, VI_ECHECK, bounds[k]->loc, "a truncation bound must be an int or a real "
               "but found %s", tname(bounds[k]->type));
      char name[160];
      snprintf(name, sizeof name, "%s_%s", s->name, fn[k]);
      targs[0] = bounds[k]->type;
      vi_type ret;
      char w2[512];
      if (builtin_resolve(name, targs, n, &ret, w2, sizeof w2) < 0)
        c_fail(c, VI_EUNSUPPORTED, s->loc, "truncating '%s' needs %s, which is not "
               "supported yet", s->name, name);
    }
  }
}

/* A loop's variable (declared in the scope opened at mark) and its body. */
static void check_loop_body(checker *c, vi_stmt *s, size_t mark)
{
  declare(c, s->decl);
  s->decl->data_only = 1;
  c->fixed[s->decl->slot] = c->block == BLK_TDATA;
  c->loops++;
  check_stmt(c, s->body);
  c->loops--;
  scope_close(c, mark);
}

static void check_stmt(checker *c, vi_stmt *s)
{
  switch (s->kind) {
  case ST_DECL:
    check_decl(c, s->decl);
    return;
  case ST_ASSIGN: {
    if (s->lhs->kind == EX_TUPLE) {
      check_expr(c, s->rhs);
      check_unpack(c, s->lhs, s->rhs->type, s->rhs->loc);
      return;
    }
    check_expr(c, s->lhs);
    check_assignable_var(c, s->lhs);
    check_expr(c, s->rhs);
    vi_type lt = s->lhs->type, rt = s->rhs->type, res = rt;
    if (s->op != OP_NONE && !binary_type(s->op, lt, rt, &res))
      c_fail(c, VI_ECHECK, s->loc, "operator '%s=' cannot be applied to %s and %s",
             op_name(s->op), tname(lt), tname(rt));
    if (!assignable(lt, res)) {
      vi_decl *d = lvalue_decl(s->lhs);
      c_fail(c, VI_ECHECK, s->rhs->loc, "cannot assign a value of type %s to %s'%s' of "
             "type %s", tname(res), s->lhs->kind == EX_INDEX ? "an element of " : "",
             d ? d->name : "?", tname(lt));
    }
    return;
  }
  case ST_TILDE:
    check_tilde(c, s);
    return;
  case ST_TARGET:
    if (!target_allowed(c) && c->fn)
      c_fail(c, VI_ECHECK, s->loc, "'target +=' is only allowed in functions whose name "
             "ends in _lp, not in '%s'", c->fn->name);
    if (!target_allowed(c))
      c_fail(c, VI_ECHECK, s->loc, "'target +=' is only allowed in the model block, not in "
             "the %s block", block_names[c->block]);
    check_expr(c, s->rhs);
    if (!numeric(s->rhs->type) || base_is_complex(s->rhs->type.base))
      c_fail(c, VI_ECHECK, s->rhs->loc, "'target +=' needs a real value but found %s",
             tname(s->rhs->type));
    return;
  case ST_FOR: {
    check_int_expr(c, s->lo, "the lower end of a loop range");
    check_int_expr(c, s->hi, "the upper end of a loop range");
    size_t mark = scope_open(c);
    s->decl->type = ty(VT_INT, 0);
    s->decl->type_text = "int";
    check_loop_body(c, s, mark);
    return;
  }
  case ST_FOREACH: {
    check_expr(c, s->rhs);
    vi_type t = s->rhs->type, el;
    if (t.ndims > 0 && (numeric(t) || t.base == VT_TUPLE)) {
      el = ty(t.base, t.ndims - 1);
      el.tup = t.tup;
    }
    else if (is_vecmat(t)) el = ty(VT_REAL, 0);
    else if (is_vecmat(real_shape(t))) el = ty(VT_COMPLEX, 0);
    else
      c_fail(c, VI_ECHECK, s->rhs->loc, "cannot loop over a value of type %s (expected an "
             "array, vector, row_vector or matrix)", tname(t));
    size_t mark = scope_open(c);
    s->decl->type = el;
    char buf[48];
    /* two statements: argument evaluation order is unspecified (strlen ran first) */
    const char *tt = front_type_str(el, buf, sizeof buf);
    s->decl->type_text = ast_arena_strndup(c->ast->arena, tt, strlen(tt));
    if (!s->decl->type_text) c_nomem(c);
    check_loop_body(c, s, mark);
    return;
  }
  case ST_WHILE:
    check_cond(c, s->rhs, "while");
    c->loops++;
    check_stmt(c, s->body);
    c->loops--;
    return;
  case ST_IF:
    check_cond(c, s->rhs, "if");
    check_stmt(c, s->body);
    if (s->els) check_stmt(c, s->els);
    return;
  case ST_BLOCK: {
    size_t mark = scope_open(c);
    check_block_items(c, s);
    scope_close(c, mark);
    return;
  }
  case ST_PRINT: case ST_REJECT: case ST_FATAL:
    for (int i = 0; i < s->nargs; i++) check_expr(c, s->args[i]);
    return;
  case ST_BREAK: case ST_CONTINUE:
    if (!c->loops)
      c_fail(c, VI_ECHECK, s->loc, "'%s' is only allowed inside a loop",
             s->kind == ST_BREAK ? "break" : "continue");
    return;
  case ST_EMPTY:
    return;
  case ST_RETURN:
    if (!c->fn) c_fail(c, VI_ECHECK, s->loc, "'return' outside a function");
    if (c->fn->ret.base == VT_VOID) {
      if (s->rhs)
        c_fail(c, VI_ECHECK, s->rhs->loc, "void function '%s' cannot return a value",
               c->fn->name);
      return;
    }
    if (!s->rhs)
      c_fail(c, VI_ECHECK, s->loc, "function '%s' must return a value of type %s",
             c->fn->name, tname(c->fn->ret));
    check_expr(c, s->rhs);
    if (!assignable(c->fn->ret, s->rhs->type))
      c_fail(c, VI_ECHECK, s->rhs->loc, "function '%s' returns %s but this is %s",
             c->fn->name, tname(c->fn->ret), tname(s->rhs->type));
    return;
  case ST_CALL:
    c->void_ok = s->rhs->kind == EX_CALL;
    check_expr(c, s->rhs);
    if (s->rhs->builtin != VI_CALL_USER || s->rhs->type.base != VT_VOID)
      c_fail(c, VI_ECHECK, s->loc, "'%s' returns a value, so its call cannot be a statement "
             "(only void functions can)", s->rhs->str);
    return;
  }
}

/* A function's arguments (fixed: never data-only, since the same body runs for every
 * call) and body, in a scope of their own that sees only the arguments. */
static void check_function(checker *c, vi_func *f)
{
  if (!f->body)
    c_fail(c, VI_ECHECK, f->loc, "function '%s' is declared but never defined", f->name);
  int prob = f->kind == FN_DENSITY || name_has_suffix(f->name, "_lcdf")
             || name_has_suffix(f->name, "_lccdf") || name_has_suffix(f->name, "_cdf");
  if (prob && !same_type(f->ret, ty(VT_REAL, 0)))
    c_fail(c, VI_ECHECK, f->loc, "'%s' is a probability function: it must return real, "
           "not %s", f->name, tname(f->ret));
  for (vi_func **g = c->ast->funcs; *g != f; g++) {
    int same = (*g)->nparams == f->nparams && strcmp((*g)->name, f->name) == 0;
    for (int i = 0; same && i < f->nparams; i++)
      same = same_type((*g)->params[i]->type, f->params[i]->type);
    if (same)
      c_fail(c, VI_ECHECK, f->loc, "function '%s' is already defined for these argument "
             "types (at line %d); overloads cannot differ only in the return type", f->name,
             (*g)->loc.line);
  }
  c->fn = f;
  c->block = BLK_FUNCTIONS;
  size_t mark = scope_open(c);
  f->slot_lo = c->nslots;
  for (int i = 0; i < f->nparams; i++) {
    declare(c, f->params[i]);
    f->params[i]->data_only = 0;
    c->fixed[f->params[i]->slot] = 1;
  }
  check_stmt(c, f->body);
  f->slot_hi = c->nslots;
  scope_close(c, mark);
  c->fn = NULL;
}

/* ---- Pass 2: data dependence --------------------------------------------------- */

static int dep_expr(checker *c, vi_expr *e);

static int dep_expr(checker *c, vi_expr *e)
{
  int d = 1;
  switch (e->kind) {
  case EX_INT_LIT: case EX_REAL_LIT: case EX_STRING_LIT: case EX_IMAG_LIT:
    d = 1;
    break;
  case EX_VAR:
    d = e->decl->data_only;
    break;
  case EX_CALL:
    /* an ODE solver's first argument names a function, not a value */
    for (int i = VI_CALL_NAMES_FUNCTION(e->builtin) ? 1 : 0; i < e->nargs; i++)
      d &= dep_expr(c, e->args[i]);
    if (c->strict) require_data(c, e);
    if (e->builtin == -1) d = 0;
    else if (e->builtin == VI_CALL_USER || e->builtin == VI_CALL_REDUCE) {
      if (e->func->kind == FN_LP || (e->func->kind == FN_RNG && e->data_only == 0)) d = 0;
    } else if (builtin_kind(e->builtin) == BUILTIN_RNG && e->data_only == 0) d = 0;
    break;
  case EX_INDEX:
    d = dep_expr(c, e->args[0]);
    for (int i = 0; i < e->nindex; i++) {
      if (e->index[i].lo) d &= dep_expr(c, e->index[i].lo);
      if (e->index[i].hi) d &= dep_expr(c, e->index[i].hi);
    }
    break;
  default:
    for (int i = 0; i < e->nargs; i++) d &= dep_expr(c, e->args[i]);
    break;
  }
  e->data_only = d;
  return d;
}

static void lose_data(checker *c, vi_decl *d)
{
  if (d && d->data_only && !c->fixed[d->slot]) {
    d->data_only = 0;
    c->changed = 1;
  }
}

/* Every variable an assignment's left side writes (all targets of an unpacking). */
static void lose_targets(checker *c, vi_expr *lhs)
{
  if (lhs->kind == EX_TUPLE)
    for (int i = 0; i < lhs->nargs; i++) lose_targets(c, lhs->args[i]);
  else
    lose_data(c, lvalue_decl(lhs));
}

/* Does a loop body leave early (break/continue) under a condition that varies by draw?
 * Then every iteration count, and so everything assigned in the loop, varies. */
static int varying_exit(const vi_stmt *s, int ctl)
{
  if (!s) return 0;
  switch (s->kind) {
  case ST_BREAK: case ST_CONTINUE: return !ctl;
  case ST_IF: {
    int k = ctl && s->rhs->data_only;
    return varying_exit(s->body, k) || varying_exit(s->els, k);
  }
  case ST_BLOCK:
    for (int i = 0; i < s->nstmts; i++)
      if (varying_exit(s->stmts[i], ctl)) return 1;
    return 0;
  default: return 0;   /* nested loops own their break/continue */
  }
}

/* 1 if e contains a density (or log cdf / ccdf) call whose variate is data, 0 if it
 * contains densities of non-data only, -1 if it contains none. */
static int density_of_data(const vi_expr *e)
{
  int k = -1;
  if (!e) return -1;
  if (e->kind == EX_CALL) {
    if (e->builtin == VI_CALL_REDUCE)   /* reduce_sum of a density over a data slice */
      return e->func->kind == FN_DENSITY ? (e->args[1]->data_only ? 1 : 0) : -1;
    int dens = (e->builtin == VI_CALL_USER && e->func->kind == FN_DENSITY)
               || (e->builtin >= 0 && builtin_kind(e->builtin) == BUILTIN_DENSITY)
               || name_has_suffix(e->str, "_lcdf") || name_has_suffix(e->str, "_lccdf");
    if (dens && e->nargs >= 1) {
      if (e->args[0]->data_only) return 1;
      k = 0;
    }
  }
  for (int i = 0; i < e->nargs; i++) {
    int a = density_of_data(e->args[i]);
    if (a == 1) return 1;
    if (a == 0) k = 0;
  }
  return k;
}

/* ctl: every enclosing condition and loop range is data-only. */
static void dep_stmt(checker *c, vi_stmt *s, int ctl)
{
  if (!s) return;
  switch (s->kind) {
  case ST_DECL: {
    vi_decl *d = s->decl;
    int k = 1;
    for (int i = 0; i < d->ndims; i++) k &= dep_expr(c, d->dims[i]);
    for (int i = 0; i < 2; i++) if (d->size[i]) k &= dep_expr(c, d->size[i]);
    vi_expr *b[4] = { d->lower, d->upper, d->offset, d->multiplier };
    for (int i = 0; i < 4; i++) if (b[i]) dep_expr(c, b[i]);
    if (d->init) k &= dep_expr(c, d->init);
    if (!k || !ctl) lose_data(c, d);
    return;
  }
  case ST_ASSIGN: {
    int k = dep_expr(c, s->lhs) & dep_expr(c, s->rhs);
    if (!k || !ctl) lose_targets(c, s->lhs);
    return;
  }
  case ST_TILDE:
    s->is_likelihood = dep_expr(c, s->lhs);
    if (c->fn) c->ast->no_split = 1;   /* in an _lp function: data or not, per call */
    for (int i = 0; i < s->nargs; i++) dep_expr(c, s->args[i]);
    if (s->lo) dep_expr(c, s->lo);
    if (s->hi) dep_expr(c, s->hi);
    return;
  case ST_TARGET: {
    dep_expr(c, s->rhs);
    /* A density -- or a log cdf / ccdf, i.e. censored data -- of data anywhere in the
     * term (log_mix of normal_lpdf(y | ...) too) makes it likelihood; densities of
     * parameters only, or a constant, make it prior; anything else is unknown. */
    int k = density_of_data(s->rhs);
    s->is_likelihood = k == 1;
    if (c->fn || (k < 0 && !s->rhs->data_only)) c->ast->no_split = 1;
    return;
  }
  case ST_FOR: {
    int k = ctl & dep_expr(c, s->lo) & dep_expr(c, s->hi);
    if (!k) lose_data(c, s->decl);
    if (varying_exit(s->body, 1)) k = 0;
    dep_stmt(c, s->body, k);
    return;
  }
  case ST_FOREACH: {
    int k = ctl & dep_expr(c, s->rhs);
    if (!k) lose_data(c, s->decl);
    if (varying_exit(s->body, 1)) k = 0;
    dep_stmt(c, s->body, k);
    return;
  }
  case ST_WHILE: {
    int k = ctl & dep_expr(c, s->rhs);
    if (varying_exit(s->body, 1)) k = 0;
    dep_stmt(c, s->body, k);
    return;
  }
  case ST_IF: {
    int k = ctl & dep_expr(c, s->rhs);
    dep_stmt(c, s->body, k);
    dep_stmt(c, s->els, k);
    return;
  }
  case ST_BLOCK:
    for (int i = 0; i < s->nstmts; i++) dep_stmt(c, s->stmts[i], ctl);
    return;
  case ST_PRINT: case ST_REJECT: case ST_FATAL:
    for (int i = 0; i < s->nargs; i++) dep_expr(c, s->args[i]);
    return;
  case ST_RETURN: case ST_CALL:
    if (s->rhs) dep_expr(c, s->rhs);
    return;
  default:
    return;
  }
}

/* ---- Program ------------------------------------------------------------------- */

int front_check(vi_ast *ast, struct vi_error *err)
{
  if (!ast) return VI_EINVAL;
  checker *c = calloc(1, sizeof *c);
  if (!c) {
    vi_loc none = { 0, 0 };
    front_error_at(err, VI_ENOMEM, ast, none, "out of memory while checking");
    return VI_ENOMEM;
  }
  c->ast = ast;
  c->err = err;
  int status = VI_SUCCESS;
  if (setjmp(c->jb)) {
    status = err ? err->status : VI_ECHECK;
    if (status == VI_SUCCESS) status = VI_ECHECK;
    goto done;
  }
  for (int i = 0; i < ast->nfuncs; i++) check_function(c, ast->funcs[i]);
  for (int b = 0; b < BLK_COUNT; b++) {
    vi_stmt *blk = ast->blocks[b];
    if (!blk) continue;
    c->block = (vi_block)b;
    size_t mark = scope_open(c);
    check_block_items(c, blk);
    if (b == BLK_MODEL) scope_close(c, mark);  /* model variables end with the block */
  }
  /* Pass 2, repeated until no local loses data-only. */
  do {
    c->changed = 0;
    for (int i = 0; i < ast->nfuncs; i++) dep_stmt(c, ast->funcs[i]->body, 1);
    for (int b = 0; b < BLK_COUNT; b++)
      if (ast->blocks[b]) dep_stmt(c, ast->blocks[b], 1);
  } while (c->changed);
  c->strict = 1;
  for (int b = 0; b < BLK_COUNT; b++)
    if (ast->blocks[b]) dep_stmt(c, ast->blocks[b], 1);
  ast->slots = ast_arena_alloc(ast->arena, (size_t)(c->nslots ? c->nslots : 1)
                               * sizeof *ast->slots);
  if (!ast->slots) c_nomem(c);
  if (c->nslots) memcpy(ast->slots, c->slots, (size_t)c->nslots * sizeof *ast->slots);
  ast->nslots = c->nslots;
  if (front_check_priors(ast) != VI_SUCCESS) c_nomem(c);
done:
  free(c->stack);
  free(c->slots);
  free(c->fixed);
  free(c);
  return status;
}
