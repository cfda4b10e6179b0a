/* parser.c: recursive-descent parser for vi's subset of the Stan language, producing
 * the tree of ast.h.  The grammar and operator precedence follow the Stan reference
 * manual and its implementation stanc3 (program blocks, declarations, statements;
 * operator precedence as stanc3 parses it, loosest first: ?: (right), ||, &&, == !=,
 * < <= > >=, + -, * / % .* ./, %/% \, prefix ! - +, ^ .^ (right), postfix ' and []).  Lua's lparser.c is the model for the
 * structure: one function per rule, each headed by its rule, one token of lookahead
 * (more where Stan needs it), and the first error ends the parse (by longjmp back to
 * front_parse: every node lives in the arena, so nothing leaks).
 *
 * Recursion is bounded (VI_AST_MAX_NESTING levels of parentheses / statements, trees
 * VI_AST_MAX_DEPTH high), so no input can exhaust the stack here or in later passes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "vi/lang.h"
#include "vi/status.h"
#include "lang/front/ast.h"
#include "lang/front/lexer.h"

typedef struct parser {
  vi_ast *ast;
  struct ast_arena *arena;
  vi_lex_result lex;
  size_t pos;
  vi_error *err;
  jmp_buf jb;
  int nesting;
  int in_function;     /* parsing a function body: 'return' is allowed */
} parser;

/* ---- Errors -------------------------------------------------------------------- */

static void p_fail(parser *p, int status, vi_loc loc, const char *fmt, ...)
  __attribute__((format(printf, 4, 5), noreturn));
static void p_fail(parser *p, int status, vi_loc loc, const char *fmt, ...)
{
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  front_error_at(p->err, status, p->ast, loc, "%s", msg);
  longjmp(p->jb, 1);
}

static void p_nomem(parser *p) __attribute__((noreturn));
static void p_nomem(parser *p)
{
  vi_loc none = { 0, 0 };
  front_error_at(p->err, VI_ENOMEM, p->ast, none, "out of memory while parsing");
  longjmp(p->jb, 1);
}

static void *p_alloc(parser *p, size_t n)
{
  void *v = ast_arena_alloc(p->arena, n);
  if (!v) p_nomem(p);
  return v;
}

static const vi_token *cur(const parser *p) { return &p->lex.toks[p->pos]; }

static const vi_token *peek(const parser *p, size_t k)
{
  size_t i = p->pos + k;
  if (i >= p->lex.ntoks) i = p->lex.ntoks - 1;
  return &p->lex.toks[i];
}

/* Report the lexer's error once the parser reaches it. */
static void check_lex_error(parser *p)
{
  if (cur(p)->kind == TK_ERROR) {
    if (p->lex.status == VI_ENOMEM) p_nomem(p);
    p_fail(p, p->lex.status, p->lex.loc, "%s", p->lex.message);
  }
}

static void advance(parser *p)
{
  if (cur(p)->kind != TK_EOF && cur(p)->kind != TK_ERROR) p->pos++;
  check_lex_error(p);
}

/* The token as quoted in messages: 'text' (cut and made printable) or end of input. */
static const char *tok_quote(const parser *p, const vi_token *t, char *buf, size_t cap)
{
  if (t->kind == TK_EOF) return "end of input";
  size_t n = t->len > 40 ? 40 : t->len;
  size_t j = 0;
  buf[j++] = '\'';
  for (size_t i = 0; i < n && j + 5 < cap; i++) {
    unsigned char c = (unsigned char)p->ast->source[t->off + i];
    buf[j++] = c < 0x20 || c == 0x7F ? '?' : (char)c;
  }
  if (t->len > n && j + 5 < cap) { memcpy(buf + j, "...", 3); j += 3; }
  buf[j++] = '\'';
  buf[j] = '\0';
  return buf;
}

/* Where an "expected X" error points: at the offending token, or, when that is on a
 * later line (a missing ';' at the end of a line), just after the previous token. */
static vi_loc expect_loc(const parser *p)
{
  const vi_token *t = cur(p);
  if (p->pos == 0) return t->loc;
  const vi_token *prev = &p->lex.toks[p->pos - 1];
  if (t->loc.line == prev->loc.line) return t->loc;
  vi_loc l = prev->loc;
  for (size_t i = 0; i < prev->len; i++)
    if (((unsigned char)p->ast->source[prev->off + i] & 0xC0) != 0x80) l.col++;
  return l;
}

static void p_expected(parser *p, const char *what) __attribute__((noreturn));
static void p_expected(parser *p, const char *what)
{
  char q[64];
  p_fail(p, VI_EPARSE, cur(p)->loc, "expected %s but found %s", what,
         tok_quote(p, cur(p), q, sizeof q));
}

/* For a missing terminator (';', ')', '}', ...): point just after what came before. */
static void p_expected_after(parser *p, const char *what) __attribute__((noreturn));
static void p_expected_after(parser *p, const char *what)
{
  char q[64];
  p_fail(p, VI_EPARSE, expect_loc(p), "expected %s but found %s", what,
         tok_quote(p, cur(p), q, sizeof q));
}

static int is_tok(const parser *p, vi_tok_kind k) { return cur(p)->kind == k; }

static int tok_is_kw(const parser *p, const vi_token *t, const char *kw)
{
  size_t n = strlen(kw);
  return t->kind == TK_IDENT && t->len == n && memcmp(p->ast->source + t->off, kw, n) == 0;
}

static int is_kw(const parser *p, const char *kw) { return tok_is_kw(p, cur(p), kw); }

/* expect: the current token must be k; what says where, e.g. "';' after declaration". */
static vi_loc expect(parser *p, vi_tok_kind k, const char *what)
{
  if (!is_tok(p, k)) {
    if (k == TK_SEMI || k == TK_RPAREN || k == TK_RBRACK || k == TK_RBRACE || k == TK_GT)
      p_expected_after(p, what);
    p_expected(p, what);
  }
  vi_loc l = cur(p)->loc;
  advance(p);
  return l;
}

static int accept(parser *p, vi_tok_kind k)
{
  if (!is_tok(p, k)) return 0;
  advance(p);
  return 1;
}

static const char *tok_str(parser *p, const vi_token *t)
{
  char *s = ast_arena_strndup(p->arena, p->ast->source + t->off, t->len);
  if (!s) p_nomem(p);
  return s;
}

static void enter(parser *p)
{
  if (++p->nesting > VI_AST_MAX_NESTING)
    p_fail(p, VI_EPARSE, cur(p)->loc, "nesting too deep (more than %d levels)",
           VI_AST_MAX_NESTING);
}

static void leave(parser *p) { p->nesting--; }

/* ---- Words --------------------------------------------------------------------- */

/* Stan's reserved words (the keywords of stanc3's lexer): never variable names.
 * 'lower', 'upper', 'offset', 'multiplier' and 'T' are only keywords in context, and
 * 'transformed' / 'generated' only as block names, so they remain usable names. */
static const char *const reserved_words[] = {
  "for", "in", "while", "if", "else", "target", "functions", "model", "data",
  "parameters", "profile", "return", "break", "continue", "print", "reject",
  "fatal_error", "get_lp", "int", "real", "complex", "vector", "simplex", "unit_vector",
  "ordered", "positive_ordered", "row_vector", "matrix", "cholesky_factor_corr",
  "cholesky_factor_cov", "corr_matrix", "cov_matrix", "array", "tuple", "void",
  "complex_vector", "complex_row_vector", "complex_matrix", "sum_to_zero_vector",
  "sum_to_zero_matrix", "column_stochastic_matrix", "row_stochastic_matrix", NULL
};

/* Words that can never start an expression. */
static const char *const statement_words[] = {
  "for", "in", "while", "if", "else", "return", "break", "continue", "print", "reject",
  "fatal_error", "functions", "profile", NULL
};

static int in_list(const parser *p, const vi_token *t, const char *const *list)
{
  for (size_t i = 0; list[i]; i++)
    if (tok_is_kw(p, t, list[i])) return 1;
  return 0;
}

typedef enum {
  TY_NONE = 0, TY_INT, TY_REAL, TY_VECTOR, TY_ROW_VECTOR, TY_MATRIX, TY_SIMPLEX,
  TY_ORDERED, TY_POSITIVE_ORDERED, TY_UNIT_VECTOR, TY_CHOL_CORR, TY_CHOL_COV,
  TY_CORR_MATRIX, TY_COV_MATRIX, TY_SUM_TO_ZERO, TY_ARRAY, TY_UNSUPPORTED,
  TY_COMPLEX, TY_COMPLEX_VECTOR, TY_COMPLEX_ROW_VECTOR, TY_COMPLEX_MATRIX, TY_TUPLE
} type_word;

static type_word type_word_of(const parser *p, const vi_token *t)
{
  static const struct { const char *w; type_word k; } words[] = {
    { "int", TY_INT }, { "real", TY_REAL }, { "vector", TY_VECTOR },
    { "row_vector", TY_ROW_VECTOR }, { "matrix", TY_MATRIX }, { "simplex", TY_SIMPLEX },
    { "ordered", TY_ORDERED }, { "positive_ordered", TY_POSITIVE_ORDERED },
    { "unit_vector", TY_UNIT_VECTOR }, { "cholesky_factor_corr", TY_CHOL_CORR },
    { "cholesky_factor_cov", TY_CHOL_COV }, { "corr_matrix", TY_CORR_MATRIX },
    { "cov_matrix", TY_COV_MATRIX }, { "array", TY_ARRAY },
    { "complex", TY_COMPLEX }, { "complex_vector", TY_COMPLEX_VECTOR },
    { "complex_row_vector", TY_COMPLEX_ROW_VECTOR }, { "complex_matrix", TY_COMPLEX_MATRIX },
    { "tuple", TY_TUPLE }, { "sum_to_zero_vector", TY_SUM_TO_ZERO },
    { "sum_to_zero_matrix", TY_UNSUPPORTED }, { "column_stochastic_matrix", TY_UNSUPPORTED },
    { "row_stochastic_matrix", TY_UNSUPPORTED },
  };
  if (t->kind != TK_IDENT) return TY_NONE;
  for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
    if (tok_is_kw(p, t, words[i].w)) return words[i].k;
  return TY_NONE;
}

/* ---- Expressions ----------------------------------------------------------------- */

static vi_expr *new_expr(parser *p, vi_expr_kind kind, vi_loc loc)
{
  vi_expr *e = p_alloc(p, sizeof *e);
  e->kind = kind;
  e->loc = loc;
  e->depth = 1;
  return e;
}

/* Height bookkeeping: a node is one higher than its highest child. */
static void grow(parser *p, vi_expr *e, const vi_expr *child)
{
  if (child && child->depth + 1 > e->depth) e->depth = child->depth + 1;
  if (e->depth > VI_AST_MAX_DEPTH)
    p_fail(p, VI_EPARSE, e->loc, "expression too large (nested more than %d levels)",
           VI_AST_MAX_DEPTH);
}

static vi_expr *new_binary(parser *p, vi_op op, vi_loc loc, vi_expr *a, vi_expr *b)
{
  vi_expr *e = new_expr(p, EX_BINARY, loc);
  e->op = op;
  e->args = p_alloc(p, 2 * sizeof *e->args);
  e->args[0] = a;
  e->args[1] = b;
  e->nargs = 2;
  grow(p, e, a);
  grow(p, e, b);
  return e;
}

static vi_expr *new_unary(parser *p, vi_op op, vi_loc loc, vi_expr *a)
{
  vi_expr *e = new_expr(p, EX_UNARY, loc);
  e->op = op;
  e->args = p_alloc(p, sizeof *e->args);
  e->args[0] = a;
  e->nargs = 1;
  grow(p, e, a);
  return e;
}

/* A growable array of expression pointers in the arena (doubling; the old copies are
 * abandoned to the arena, at most doubling the space used). */
typedef struct { vi_expr **v; int n, cap; } expr_list;

static void list_push(parser *p, expr_list *l, vi_expr *e)
{
  if (l->n == l->cap) {
    int ncap = l->cap ? l->cap * 2 : 4;
    vi_expr **v = p_alloc(p, (size_t)ncap * sizeof *v);
    if (l->n) memcpy(v, l->v, (size_t)l->n * sizeof *v);
    l->v = v;
    l->cap = ncap;
  }
  l->v[l->n++] = e;
}

static vi_expr *parse_expr(parser *p);
static vi_expr *parse_unary(parser *p);
static vi_expr *parse_add(parser *p);

/* Is the statement at the cursor `name [ ... ] ... <- ...` (the assignment operator
 * removed in Stan 2.33)?  `<` and `-` must touch; a comparison is never a statement, so
 * this cannot misread a valid current model. */
static int old_assign_ahead(const parser *p)
{
  size_t i = p->pos + 1, n = p->lex.ntoks;
  while (i < n && p->lex.toks[i].kind == TK_LBRACK) {
    int depth = 0;
    for (; i < n; i++) {
      vi_tok_kind k = p->lex.toks[i].kind;
      if (k == TK_LBRACK) depth++;
      else if (k == TK_RBRACK && --depth == 0) break;
      else if (k == TK_SEMI || k == TK_EOF || k == TK_ERROR) return 0;
    }
    i++;
  }
  if (i + 1 >= n) return 0;
  const vi_token *lt = &p->lex.toks[i], *mi = &p->lex.toks[i + 1];
  return lt->kind == TK_LT && mi->kind == TK_MINUS && lt->loc.line == mi->loc.line
         && mi->loc.col == lt->loc.col + 1;
}

/* Functions removed from Stan (still common in old models).  The removed functions that
 * are plain renames (cov_exp_quad, multiply_log, binomial_coefficient_log) are accepted
 * as builtins instead, and get_lp(), if_else(c, a, b) and increment_log_prob(e) are read
 * as target(), c ? a : b and target += e: models written for Stan before 2.33 run
 * unchanged. */
static void check_removed_call(parser *p, const vi_token *t)
{
  static const struct { const char *name, *hint; } removed[] = {
    { "integrate_ode", "use integrate_ode_rk45 (same arguments) or ode_rk45" },
  };
  for (size_t i = 0; i < sizeof removed / sizeof removed[0]; i++)
    if (tok_is_kw(p, t, removed[i].name))
      p_fail(p, VI_EUNSUPPORTED, t->loc, "'%s' was removed from Stan; %s", removed[i].name,
             removed[i].hint);
}

/* call_args ::= '(' [expr [('|' | ',') expr {',' expr}]] ')'   (after the name) */
static vi_expr *parse_call(parser *p, const vi_token *name)
{
  vi_expr *e = new_expr(p, EX_CALL, name->loc);
  e->str = tok_str(p, name);
  expect(p, TK_LPAREN, "'('");
  expr_list l = { 0 };
  if (!is_tok(p, TK_RPAREN)) {
    for (;;) {
      vi_expr *a = parse_expr(p);
      list_push(p, &l, a);
      grow(p, e, a);
      if (l.n == 1 && is_tok(p, TK_BAR)) {
        e->has_bar = 1;
        advance(p);
        if (is_tok(p, TK_RPAREN)) break;
        continue;
      }
      if (!accept(p, TK_COMMA)) break;
    }
  }
  expect(p, TK_RPAREN, l.n ? "',' or ')' in the argument list" : "')'");
  e->args = l.v;
  e->nargs = l.n;
  return e;
}

/* index ::= <nothing> | expr | ':' | expr ':' | ':' expr | expr ':' expr
 * The kind is IX_SINGLE for a lone expression; the checker turns it into IX_MULTI when
 * the expression is an int array. */
static void parse_index(parser *p, vi_expr *owner, vi_index *ix)
{
  if (is_tok(p, TK_COMMA) || is_tok(p, TK_RBRACK)) {   /* x[] and x[, j]: all */
    ix->kind = IX_ALL;
    return;
  }
  if (accept(p, TK_COLON)) {
    if (is_tok(p, TK_COMMA) || is_tok(p, TK_RBRACK)) {
      ix->kind = IX_ALL;
    } else {
      ix->kind = IX_UPPER;
      ix->hi = parse_expr(p);
      grow(p, owner, ix->hi);
    }
    return;
  }
  ix->lo = parse_expr(p);
  grow(p, owner, ix->lo);
  if (accept(p, TK_COLON)) {
    if (is_tok(p, TK_COMMA) || is_tok(p, TK_RBRACK)) {
      ix->kind = IX_LOWER;
    } else {
      ix->kind = IX_RANGE;
      ix->hi = parse_expr(p);
      grow(p, owner, ix->hi);
    }
  } else {
    ix->kind = IX_SINGLE;
  }
}

/* primary ::= int | real | ident | ident call_args | '(' expr ')' | '(' expr ',' expr {',' expr} ')'
 *           | '[' [expr {',' expr}] ']' | '{' expr {',' expr} '}' */
static vi_expr *parse_primary(parser *p)
{
  const vi_token *t = cur(p);
  switch (t->kind) {
  case TK_INT: {
    vi_expr *e = new_expr(p, EX_INT_LIT, t->loc);
    e->ival = t->ival;
    advance(p);
    return e;
  }
  case TK_REAL: {
    vi_expr *e = new_expr(p, EX_REAL_LIT, t->loc);
    e->rval = t->rval;
    advance(p);
    return e;
  }
  case TK_IMAG: {
    vi_expr *e = new_expr(p, EX_IMAG_LIT, t->loc);
    e->rval = t->rval;
    advance(p);
    return e;
  }
  case TK_STRING:
    p_fail(p, VI_EPARSE, t->loc,
           "string literals are only allowed in print, reject and fatal_error");
  case TK_LPAREN: {
    /* '(' expr ')' groups; '(' expr ',' expr {',' expr} ')' is a tuple */
    enter(p);
    advance(p);
    vi_expr *e = parse_expr(p);
    if (is_tok(p, TK_COMMA)) {
      vi_expr *tu = new_expr(p, EX_TUPLE, t->loc);
      expr_list l = { 0 };
      list_push(p, &l, e);
      grow(p, tu, e);
      while (accept(p, TK_COMMA)) {
        vi_expr *a = parse_expr(p);
        list_push(p, &l, a);
        grow(p, tu, a);
      }
      tu->args = l.v;
      tu->nargs = l.n;
      e = tu;
      expect(p, TK_RPAREN, "',' or ')' after the tuple's elements");
    } else {
      expect(p, TK_RPAREN, "')'");
    }
    leave(p);
    return e;
  }
  case TK_LBRACK:
  case TK_LBRACE: {
    int row = t->kind == TK_LBRACK;
    vi_expr *e = new_expr(p, row ? EX_ROW_VECTOR : EX_ARRAY, t->loc);
    enter(p);
    advance(p);
    expr_list l = { 0 };
    if (!is_tok(p, row ? TK_RBRACK : TK_RBRACE)) {
      do {
        vi_expr *a = parse_expr(p);
        list_push(p, &l, a);
        grow(p, e, a);
      } while (accept(p, TK_COMMA));
    } else if (!row) {
      p_fail(p, VI_EPARSE, t->loc, "empty array expression '{ }' is not allowed");
    }
    expect(p, row ? TK_RBRACK : TK_RBRACE, row ? "',' or ']'" : "',' or '}'");
    leave(p);
    e->args = l.v;
    e->nargs = l.n;
    return e;
  }
  case TK_IDENT: {
    if (in_list(p, t, statement_words) || type_word_of(p, t) != TY_NONE)
      p_expected(p, "an expression");
    if (peek(p, 1)->kind == TK_LPAREN) {
      check_removed_call(p, t);
      int get_lp = tok_is_kw(p, t, "get_lp"), if_else = tok_is_kw(p, t, "if_else");
      advance(p);
      vi_expr *call = parse_call(p, t);
      if (get_lp) call->str = "target";   /* get_lp() is target() */
      if (if_else) {
        /* if_else(c, a, b) is c ? a : b */
        if (call->nargs != 3 || call->has_bar)
          p_fail(p, VI_EPARSE, call->loc, "if_else takes three arguments: if_else(c, a, b)");
        call->kind = EX_TERNARY;
        call->str = NULL;
      }
      return call;
    }
    if (tok_is_kw(p, t, "target"))
      p_fail(p, VI_EPARSE, t->loc, "'target' can only be used as 'target += ...' or "
             "'target()'");
    vi_expr *e = new_expr(p, EX_VAR, t->loc);
    e->str = tok_str(p, t);
    advance(p);
    return e;
  }
  default:
    p_expected(p, "an expression");
  }
}

/* postfix ::= primary { '[' index {',' index} ']' | '\'' | '.' int } */
static vi_expr *parse_postfix(parser *p)
{
  vi_expr *e = parse_primary(p);
  for (;;) {
    if (is_tok(p, TK_LBRACK)) {
      vi_expr *x = new_expr(p, EX_INDEX, cur(p)->loc);
      enter(p);
      advance(p);
      x->args = p_alloc(p, sizeof *x->args);
      x->args[0] = e;
      x->nargs = 1;
      grow(p, x, e);
      int cap = 0;
      do {
        if (x->nindex == cap) {
          int ncap = cap ? cap * 2 : 2;
          vi_index *v = p_alloc(p, (size_t)ncap * sizeof *v);
          if (x->nindex) memcpy(v, x->index, (size_t)x->nindex * sizeof *v);
          x->index = v;
          cap = ncap;
        }
        parse_index(p, x, &x->index[x->nindex++]);
      } while (accept(p, TK_COMMA));
      expect(p, TK_RBRACK, "',' or ']' in the index");
      leave(p);
      e = x;
    } else if (is_tok(p, TK_QUOTE)) {
      e = new_unary(p, OP_TRANSPOSE, cur(p)->loc, e);
      advance(p);
    } else if (is_tok(p, TK_DOT)) {
      /* x.k: element k of a tuple (the lexer makes '.' and k separate tokens) */
      vi_expr *x = new_expr(p, EX_PROJ, cur(p)->loc);
      advance(p);
      if (!is_tok(p, TK_INT)) p_expected(p, "a tuple element number after '.'");
      x->ival = cur(p)->ival;
      advance(p);
      x->args = p_alloc(p, sizeof *x->args);
      x->args[0] = e;
      x->nargs = 1;
      grow(p, x, e);
      e = x;
    } else {
      return e;
    }
  }
}

/* power ::= postfix [('^' | '.^') unary]        (right associative, above unary) */
static vi_expr *parse_power(parser *p)
{
  vi_expr *e = parse_postfix(p);
  if (is_tok(p, TK_HAT) || is_tok(p, TK_EHAT)) {
    vi_op op = is_tok(p, TK_HAT) ? OP_POW : OP_EPOW;
    vi_loc loc = cur(p)->loc;
    advance(p);
    vi_expr *r = parse_unary(p);
    e = new_binary(p, op, loc, e, r);
  }
  return e;
}

/* unary ::= ('!' | '-' | '+') unary | power        so -2^2 is -(2^2) */
static vi_expr *parse_unary(parser *p)
{
  vi_op op = is_tok(p, TK_BANG) ? OP_NOT : is_tok(p, TK_MINUS) ? OP_NEG
             : is_tok(p, TK_PLUS) ? OP_PLUS : OP_NONE;
  if (op == OP_NONE) return parse_power(p);
  vi_loc loc = cur(p)->loc;
  enter(p);
  advance(p);
  vi_expr *a = parse_unary(p);
  leave(p);
  return new_unary(p, op, loc, a);
}

/* One left-associative binary level: operand {op operand}. */
typedef struct { vi_tok_kind tok; vi_op op; } op_map;

static vi_expr *parse_left(parser *p, vi_expr *(*operand)(parser *), const op_map *ops,
                           size_t nops)
{
  vi_expr *e = operand(p);
  for (;;) {
    size_t i;
    for (i = 0; i < nops; i++)
      if (is_tok(p, ops[i].tok)) break;
    if (i == nops) return e;
    vi_loc loc = cur(p)->loc;
    advance(p);
    vi_expr *r = operand(p);
    e = new_binary(p, ops[i].op, loc, e, r);
  }
}

/* idiv ::= unary {('%/%' | '\\') unary}        (tighter than '*', as in stanc3) */
static vi_expr *parse_idiv(parser *p)
{
  static const op_map ops[] = { { TK_IDIV, OP_INTDIV }, { TK_BACKSLASH, OP_LDIV } };
  return parse_left(p, parse_unary, ops, 2);
}

/* mul ::= idiv {('*' | '/' | '%' | '.*' | './') idiv} */
static vi_expr *parse_mul(parser *p)
{
  static const op_map ops[] = { { TK_STAR, OP_MUL }, { TK_SLASH, OP_DIV },
                                { TK_PERCENT, OP_MOD }, { TK_ETIMES, OP_EMUL },
                                { TK_EDIV, OP_EDIV } };
  return parse_left(p, parse_idiv, ops, 5);
}

/* add ::= mul {('+' | '-') mul}       (also the grammar of bounds in '<...>') */
static vi_expr *parse_add(parser *p)
{
  static const op_map ops[] = { { TK_PLUS, OP_ADD }, { TK_MINUS, OP_SUB } };
  return parse_left(p, parse_mul, ops, 2);
}

/* cmp ::= add {('<' | '<=' | '>' | '>=') add} */
static vi_expr *parse_cmp(parser *p)
{
  static const op_map ops[] = { { TK_LT, OP_LT }, { TK_LE, OP_LE }, { TK_GT, OP_GT },
                                { TK_GE, OP_GE } };
  return parse_left(p, parse_add, ops, 4);
}

/* eq ::= cmp {('==' | '!=') cmp} */
static vi_expr *parse_eq(parser *p)
{
  static const op_map ops[] = { { TK_EQEQ, OP_EQ }, { TK_NE, OP_NE } };
  return parse_left(p, parse_cmp, ops, 2);
}

/* and ::= eq {'&&' eq} */
static vi_expr *parse_and(parser *p)
{
  static const op_map ops[] = { { TK_AND, OP_AND } };
  return parse_left(p, parse_eq, ops, 1);
}

/* or ::= and {'||' and} */
static vi_expr *parse_or(parser *p)
{
  static const op_map ops[] = { { TK_OR, OP_OR } };
  return parse_left(p, parse_and, ops, 1);
}

/* expr ::= or ['?' expr ':' expr]     (right associative) */
static vi_expr *parse_expr(parser *p)
{
  enter(p);
  vi_expr *c = parse_or(p);
  if (is_tok(p, TK_QUESTION)) {
    vi_expr *e = new_expr(p, EX_TERNARY, cur(p)->loc);
    advance(p);
    e->args = p_alloc(p, 3 * sizeof *e->args);
    e->args[0] = c;
    e->args[1] = parse_expr(p);
    expect(p, TK_COLON, "':' in the conditional expression");
    e->args[2] = parse_expr(p);
    e->nargs = 3;
    for (int i = 0; i < 3; i++) grow(p, e, e->args[i]);
    c = e;
  }
  leave(p);
  return c;
}

/* ---- Declarations ---------------------------------------------------------------- */

static vi_stmt *new_stmt(parser *p, vi_stmt_kind kind, vi_loc loc)
{
  vi_stmt *s = p_alloc(p, sizeof *s);
  s->kind = kind;
  s->loc = loc;
  return s;
}

/* dims ::= '[' expr {',' expr} ']'     (array sizes, either spelling) */
static void parse_dims(parser *p, vi_decl *d)
{
  expect(p, TK_LBRACK, "'['");
  expr_list l = { 0 };
  do list_push(p, &l, parse_expr(p));
  while (accept(p, TK_COMMA));
  expect(p, TK_RBRACK, "',' or ']' after array sizes");
  d->dims = l.v;
  d->ndims = l.n;
  d->type.ndims = l.n;
}

/* range ::= '<' ('lower' '=' add [',' 'upper' '=' add] | 'upper' '=' add
 *              | 'offset' '=' add [',' 'multiplier' '=' add] | 'multiplier' '=' add
 *              | 'multiplier' '=' add ',' 'offset' '=' add) '>'
 * Bounds use the additive grammar, so '>' ends them (as in Stan). */
static void parse_constraint(parser *p, vi_decl *d, int allowed, const char *tname)
{
  vi_loc lt = cur(p)->loc;
  if (!allowed)
    p_fail(p, VI_EPARSE, lt, "%s", tname);
  advance(p);
  int n = 0;
  do {
    const vi_token *t = cur(p);
    vi_expr **slot = NULL;
    int bounds = 0;
    if (tok_is_kw(p, t, "lower")) { slot = &d->lower; bounds = 1; }
    else if (tok_is_kw(p, t, "upper")) { slot = &d->upper; bounds = 1; }
    else if (tok_is_kw(p, t, "offset")) slot = &d->offset;
    else if (tok_is_kw(p, t, "multiplier")) slot = &d->multiplier;
    else p_expected(p, n ? "'upper', 'offset' or 'multiplier'"
                         : "'lower', 'upper', 'offset' or 'multiplier'");
    char q[64];
    if (*slot)
      p_fail(p, VI_EPARSE, t->loc, "%s given twice", tok_quote(p, t, q, sizeof q));
    if (n && (bounds != (d->con == CON_BOUNDS)))
      p_fail(p, VI_EPARSE, t->loc, "bounds (lower, upper) cannot be combined with "
             "offset/multiplier");
    d->con = bounds ? CON_BOUNDS : CON_OFFSET_MULT;
    advance(p);
    expect(p, TK_ASSIGN, "'='");
    *slot = parse_add(p);
    n++;
  } while (accept(p, TK_COMMA));
  if (is_tok(p, TK_LT) || is_tok(p, TK_LE) || is_tok(p, TK_GE) || is_tok(p, TK_EQEQ)
      || is_tok(p, TK_NE) || is_tok(p, TK_AND) || is_tok(p, TK_OR) || is_tok(p, TK_QUESTION))
    p_fail(p, VI_EPARSE, cur(p)->loc, "a bound cannot contain comparison, logical or "
           "conditional operators unless parenthesised");
  expect(p, TK_GT, "'>' or ',' in the constraint");
}

/* Source text from token a through token b-1, runs of white space made one space. */
static const char *span_text(parser *p, size_t a, size_t b)
{
  if (b <= a) return "";
  const vi_token *ta = &p->lex.toks[a], *tb = &p->lex.toks[b - 1];
  size_t start = ta->off, end = tb->off + tb->len;
  char *s = p_alloc(p, end - start + 1);
  size_t n = 0;
  for (size_t i = a; i < b; i++) {
    const vi_token *t = &p->lex.toks[i];
    if (i > a && t->off > p->lex.toks[i - 1].off + p->lex.toks[i - 1].len) s[n++] = ' ';
    memcpy(s + n, p->ast->source + t->off, t->len);
    n += t->len;
  }
  s[n] = '\0';
  return s;
}

static int ends_with(const char *s, const char *suffix)
{
  size_t n = strlen(s), m = strlen(suffix);
  return n >= m && strcmp(s + n - m, suffix) == 0;
}

static void check_name(parser *p, const vi_token *t)
{
  char q[64];
  if (t->kind != TK_IDENT) p_expected(p, "a variable name");
  if (in_list(p, t, reserved_words))
    p_fail(p, VI_EPARSE, t->loc, "%s is a reserved word and cannot be used as a "
           "variable name", tok_quote(p, t, q, sizeof q));
  if (t->len >= 2 && p->ast->source[t->off + t->len - 1] == '_'
      && p->ast->source[t->off + t->len - 2] == '_')
    p_fail(p, VI_EPARSE, t->loc, "variable names cannot end in '__' (found %s)",
           tok_quote(p, t, q, sizeof q));
}

/* A growable list of statements (the items of a block). */
typedef struct { vi_stmt *blk; int cap; } stmt_list;

static void stmt_push(parser *p, stmt_list *l, vi_stmt *s)
{
  vi_stmt *b = l->blk;
  if (b->nstmts == l->cap) {
    int ncap = l->cap ? l->cap * 2 : 8;
    vi_stmt **v = p_alloc(p, (size_t)ncap * sizeof *v);
    if (b->nstmts) memcpy(v, b->stmts, (size_t)b->nstmts * sizeof *v);
    b->stmts = v;
    l->cap = ncap;
  }
  b->stmts[b->nstmts++] = s;
}

/* decl ::= ['array' dims] type ['<' range '>'] [sizes] declarator {',' declarator} ';'
 *        | type ['<' range '>'] [sizes] ident dims ['=' expr] ';'      (old arrays)
 *   declarator ::= ident ['=' expr]
 *   type ::= int | real | vector | row_vector | matrix | simplex | ordered
 *          | positive_ordered | unit_vector | cholesky_factor_corr | cholesky_factor_cov
 *          | corr_matrix | cov_matrix
 * top: a block-level declaration (constraints allowed); init: '=' allowed.  Each
 * declarator becomes its own ST_DECL in out (they share the type's expressions). */
static int parse_type(parser *p, vi_decl *d, vi_block blk, int top);

/* tuple ::= 'tuple' '(' elem ',' elem {',' elem} ')'
 *   elem ::= ['array' dims] type ['<' range '>'] [sizes]      (no name)
 * After 'tuple': the element declarations go to t->tel, their types to t->type.tup. */
static void parse_tuple_type(parser *p, vi_decl *t, vi_block blk, int top)
{
  vi_loc loc = cur(p)->loc;
  enter(p);
  expect(p, TK_LPAREN, "'(' after 'tuple'");
  vi_decl *els[64];
  int n = 0;
  do {
    if (n == 64) p_fail(p, VI_EUNSUPPORTED, cur(p)->loc, "tuples of more than 64 elements");
    size_t es = p->pos;
    vi_decl *e = p_alloc(p, sizeof *e);
    e->block = blk;
    e->loc = cur(p)->loc;
    parse_type(p, e, blk, top);
    e->type_text = span_text(p, es, p->pos);
    els[n++] = e;
  } while (accept(p, TK_COMMA));
  expect(p, TK_RPAREN, "',' or ')' after the tuple's element types");
  if (n < 2)
    p_fail(p, VI_EPARSE, loc, "a tuple type needs at least two element types");
  leave(p);
  vi_tuple_type *tt = p_alloc(p, sizeof *tt);
  tt->n = n;
  tt->el = p_alloc(p, (size_t)n * sizeof *tt->el);
  t->tel = p_alloc(p, (size_t)n * sizeof *t->tel);
  for (int i = 0; i < n; i++) { tt->el[i] = els[i]->type; t->tel[i] = els[i]; }
  t->ntel = n;
  t->type.base = VT_TUPLE;
  t->type.tup = tt;
}

/* The type part of a declaration (everything before the name) into t: its array dims,
 * base type, constraint and sizes.  Returns 1 when it began with 'array'. */
static int parse_type(parser *p, vi_decl *d, vi_block blk, int top)
{
  vi_decl t;
  memset(&t, 0, sizeof t);
  t.block = blk;
  t.loc = d->loc;
  char q[64];
  int array_kw = 0;
  if (is_kw(p, "array")) {
    advance(p);
    parse_dims(p, &t);
    array_kw = 1;
  }
  const vi_token *tt = cur(p);
  type_word tw = type_word_of(p, tt);
  if (tw == TY_UNSUPPORTED)
    p_fail(p, VI_EUNSUPPORTED, tt->loc, "type %s is not supported yet",
           tok_quote(p, tt, q, sizeof q));
  if (tw == TY_NONE || tw == TY_ARRAY)
    p_expected(p, array_kw ? "an element type after 'array[...]'" : "a type");
  advance(p);
  if (tw == TY_TUPLE) {
    int nd = t.type.ndims;
    parse_tuple_type(p, &t, blk, top);
    t.type.ndims = nd;
    if (is_tok(p, TK_LT))
      p_fail(p, VI_EPARSE, cur(p)->loc, "a tuple cannot have a constraint ('<...>' after "
             "'tuple(...)'); constrain its elements: tuple(real<lower=0>, ...)");
    *d = t;
    return array_kw;
  }
  int nsizes = 0;
  switch (tw) {
  case TY_INT: t.type.base = VT_INT; break;
  case TY_REAL: t.type.base = VT_REAL; break;
  case TY_ROW_VECTOR: t.type.base = VT_ROW_VECTOR; nsizes = 1; break;
  case TY_MATRIX: t.type.base = VT_MATRIX; nsizes = 2; break;
  case TY_COMPLEX: t.type.base = VT_COMPLEX; break;
  case TY_COMPLEX_VECTOR: t.type.base = VT_COMPLEX_VECTOR; nsizes = 1; break;
  case TY_COMPLEX_ROW_VECTOR: t.type.base = VT_COMPLEX_ROW_VECTOR; nsizes = 1; break;
  case TY_COMPLEX_MATRIX: t.type.base = VT_COMPLEX_MATRIX; nsizes = 2; break;
  case TY_VECTOR: case TY_SIMPLEX: case TY_ORDERED: case TY_POSITIVE_ORDERED:
  case TY_UNIT_VECTOR: case TY_SUM_TO_ZERO:
    t.type.base = VT_VECTOR; nsizes = 1; break;
  default:
    t.type.base = VT_MATRIX; nsizes = tw == TY_CHOL_COV ? -2 : 1; break;
  }
  static const vi_constraint special[] = {
    [TY_SIMPLEX] = CON_SIMPLEX, [TY_ORDERED] = CON_ORDERED,
    [TY_POSITIVE_ORDERED] = CON_POSITIVE_ORDERED, [TY_UNIT_VECTOR] = CON_UNIT_VECTOR,
    [TY_CHOL_CORR] = CON_CHOLESKY_CORR, [TY_CHOL_COV] = CON_CHOLESKY_COV,
    [TY_CORR_MATRIX] = CON_CORR_MATRIX, [TY_COV_MATRIX] = CON_COV_MATRIX,
    [TY_SUM_TO_ZERO] = CON_SUM_TO_ZERO,
  };
  int is_special = tw >= TY_SIMPLEX && tw <= TY_SUM_TO_ZERO;
  if (is_special && !top)
    p_fail(p, VI_EPARSE, tt->loc, "local variables cannot have constrained type %s",
           tok_quote(p, tt, q, sizeof q));
  if (is_tok(p, TK_LT) && tw >= TY_COMPLEX)
    p_fail(p, VI_EPARSE, cur(p)->loc, "complex types cannot have constraints ('<...>' "
           "after %s)", tok_quote(p, tt, q, sizeof q));
  if (is_tok(p, TK_LT)) {
    if (is_special)
      parse_constraint(p, &t, 0, "this type cannot take '<...>' bounds");
    else
      parse_constraint(p, &t, top, "local variables cannot have constraints");
  }
  if (is_special) t.con = special[tw];
  if (nsizes) {
    expect(p, TK_LBRACK, "'[' and the size after the type");
    t.size[0] = parse_expr(p);
    if (nsizes == 2 || (nsizes == -2 && is_tok(p, TK_COMMA))) {
      expect(p, TK_COMMA, "',' and the number of columns");
      t.size[1] = parse_expr(p);
    }
    expect(p, TK_RBRACK, "']' after the size");
  }
  *d = t;
  return array_kw;
}

static void parse_decl(parser *p, vi_block blk, int top, int init, stmt_list *out)
{
  size_t start = p->pos;
  vi_decl t;
  memset(&t, 0, sizeof t);
  t.block = blk;
  int array_kw = parse_type(p, &t, blk, top);
  t.type_text = span_text(p, start, p->pos);
  for (;;) {
    const vi_token *nt = cur(p);
    check_name(p, nt);
    vi_stmt *s = new_stmt(p, ST_DECL, nt->loc);
    vi_decl *d = p_alloc(p, sizeof *d);
    *d = t;
    s->decl = d;
    d->name = tok_str(p, nt);
    d->loc = nt->loc;
    advance(p);
    int old_dims = 0;
    if (is_tok(p, TK_LBRACK)) {
      if (array_kw)
        p_fail(p, VI_EPARSE, cur(p)->loc, "array sizes given twice (both 'array[...]' and "
               "after the name)");
      if (out->blk->nstmts && out->blk->stmts[out->blk->nstmts - 1]->decl
          && out->blk->stmts[out->blk->nstmts - 1]->decl->type_text == t.type_text)
        p_fail(p, VI_EPARSE, cur(p)->loc, "array sizes after the name are only allowed "
               "when declaring one variable; use 'array[...]'");
      parse_dims(p, d);
      old_dims = 1;
    }
    if (is_tok(p, TK_ASSIGN)) {
      if (!init)
        p_fail(p, VI_EPARSE, cur(p)->loc, "variables in the %s block cannot be given a "
               "value", blk == BLK_DATA ? "data" : "parameters");
      advance(p);
      d->init = parse_expr(p);
    }
    stmt_push(p, out, s);
    if (!old_dims && accept(p, TK_COMMA)) continue;
    if (old_dims && is_tok(p, TK_COMMA))
      p_fail(p, VI_EPARSE, cur(p)->loc, "array sizes after the name are only allowed when "
             "declaring one variable; use 'array[...]'");
    expect(p, TK_SEMI, "';' after declaration");
    return;
  }
}

/* ---- Statements ------------------------------------------------------------------ */

static vi_stmt *parse_statement(parser *p);

/* block ::= '{' {decl | statement} '}' */
static vi_stmt *parse_block_body(parser *p, vi_block blk, int top, const char *blkname)
{
  vi_stmt *s = new_stmt(p, ST_BLOCK, cur(p)->loc);
  char what[80];
  snprintf(what, sizeof what, "'{' after '%s'", blkname ? blkname : "");
  expect(p, TK_LBRACE, blkname ? what : "'{'");
  stmt_list l = { s, 0 };
  while (!is_tok(p, TK_RBRACE)) {
    if (is_tok(p, TK_EOF)) p_expected_after(p, "'}' to close the block");
    int is_decl = type_word_of(p, cur(p)) != TY_NONE;
    if (top && (blk == BLK_DATA || blk == BLK_PARAMS)) {
      if (!is_decl) {
        char e[80];
        snprintf(e, sizeof e, "a variable declaration in the %s block",
                 blk == BLK_DATA ? "data" : "parameters");
        p_expected(p, e);
      }
      parse_decl(p, blk, 1, 0, &l);
    } else if (is_decl) {
      parse_decl(p, top ? blk : BLK_LOCAL, top && blk != BLK_MODEL, 1, &l);
    } else {
      stmt_push(p, &l, parse_statement(p));
    }
  }
  advance(p);
  return s;
}

/* printables ::= '(' (string | expr) {',' (string | expr)} ')' */
static void parse_printables(parser *p, vi_stmt *s)
{
  expect(p, TK_LPAREN, "'('");
  expr_list l = { 0 };
  do {
    if (is_tok(p, TK_STRING)) {
      const vi_token *t = cur(p);
      vi_expr *e = new_expr(p, EX_STRING_LIT, t->loc);
      e->str = ast_arena_strndup(p->arena, p->ast->source + t->off + 1, t->len - 2);
      if (!e->str) p_nomem(p);
      advance(p);
      list_push(p, &l, e);
    } else {
      list_push(p, &l, parse_expr(p));
    }
  } while (accept(p, TK_COMMA));
  expect(p, TK_RPAREN, "',' or ')'");
  expect(p, TK_SEMI, "';'");
  s->args = l.v;
  s->nargs = l.n;
}

static int is_lvalue(const vi_expr *e)
{
  while (e->kind == EX_INDEX || e->kind == EX_PROJ) e = e->args[0];
  return e->kind == EX_VAR;
}

/* The left side of `=` may also unpack a tuple: (a, b[i], (c, d.1)) = ... */
static int is_unpack_lvalue(const vi_expr *e)
{
  if (e->kind != EX_TUPLE) return is_lvalue(e);
  for (int i = 0; i < e->nargs; i++)
    if (!is_unpack_lvalue(e->args[i])) return 0;
  return 1;
}

/* tilde ::= expr '~' ident call_args ['T' '[' [expr] ',' [expr] ']'] ';' */
static vi_stmt *parse_tilde(parser *p, vi_expr *lhs, vi_loc loc)
{
  vi_stmt *s = new_stmt(p, ST_TILDE, loc);
  s->lhs = lhs;
  const vi_token *t = cur(p);
  if (t->kind != TK_IDENT) p_expected(p, "a distribution name after '~'");
  vi_expr *call = parse_call(p, (advance(p), t));
  static const char *const suffixes[] = { "_lpdf", "_lpmf", "_lupdf", "_lupmf",
                                          NULL };
  for (int i = 0; suffixes[i]; i++)
    if (ends_with(call->str, suffixes[i]))
      p_fail(p, VI_EPARSE, t->loc, "after '~' give the distribution name without '%s'",
             suffixes[i]);
  if (call->has_bar)
    p_fail(p, VI_EPARSE, t->loc, "'|' is not used after '~': write y ~ %s(a, b)", call->str);
  s->name = call->str;
  s->args = call->args;
  s->nargs = call->nargs;
  if (is_kw(p, "T") && peek(p, 1)->kind == TK_LBRACK) {
    advance(p);
    advance(p);
    s->truncated = 1;
    if (!is_tok(p, TK_COMMA)) s->lo = parse_expr(p);
    expect(p, TK_COMMA, "',' in the truncation T[lower, upper]");
    if (!is_tok(p, TK_RBRACK)) s->hi = parse_expr(p);
    expect(p, TK_RBRACK, "']' after the truncation bounds");
    if (!s->lo && !s->hi) s->truncated = 0;      /* T[,] truncates nothing */
  }
  expect(p, TK_SEMI, "';' after the '~' statement");
  return s;
}

/* statement ::= block | for | while | if | print | reject | fatal_error | break ';'
 *             | continue ';' | ';' | 'target' '+=' expr ';' | lvalue assignop expr ';'
 *             | expr '~' ident call_args [truncation] ';' */
static vi_stmt *parse_statement(parser *p)
{
  const vi_token *t = cur(p);
  vi_loc loc = t->loc;
  vi_stmt *s;
  char q[64];
  enter(p);
  if (t->kind == TK_LBRACE) {
    s = parse_block_body(p, BLK_LOCAL, 0, NULL);
  } else if (t->kind == TK_SEMI) {
    advance(p);
    s = new_stmt(p, ST_EMPTY, loc);
  } else if (tok_is_kw(p, t, "for")) {
    /* for ::= 'for' '(' ident 'in' expr [':' expr] ')' statement */
    advance(p);
    expect(p, TK_LPAREN, "'(' after 'for'");
    const vi_token *nt = cur(p);
    check_name(p, nt);
    vi_decl *d = p_alloc(p, sizeof *d);
    d->name = tok_str(p, nt);
    d->loc = nt->loc;
    d->block = BLK_LOOP;
    d->type_text = "int";
    advance(p);
    if (!is_kw(p, "in")) p_expected(p, "'in' after the loop variable");
    advance(p);
    vi_expr *a = parse_expr(p);
    if (accept(p, TK_COLON)) {
      s = new_stmt(p, ST_FOR, loc);
      s->lo = a;
      s->hi = parse_expr(p);
    } else {
      s = new_stmt(p, ST_FOREACH, loc);
      s->rhs = a;
    }
    s->decl = d;
    expect(p, TK_RPAREN, s->kind == ST_FOR ? "')' after the loop range"
                                          : "':' or ')' after the loop range");
    s->body = parse_statement(p);
  } else if (tok_is_kw(p, t, "while")) {
    /* while ::= 'while' '(' expr ')' statement */
    advance(p);
    s = new_stmt(p, ST_WHILE, loc);
    expect(p, TK_LPAREN, "'(' after 'while'");
    s->rhs = parse_expr(p);
    expect(p, TK_RPAREN, "')' after the condition");
    s->body = parse_statement(p);
  } else if (tok_is_kw(p, t, "if")) {
    /* if ::= 'if' '(' expr ')' statement ['else' statement] */
    advance(p);
    s = new_stmt(p, ST_IF, loc);
    expect(p, TK_LPAREN, "'(' after 'if'");
    s->rhs = parse_expr(p);
    expect(p, TK_RPAREN, "')' after the condition");
    s->body = parse_statement(p);
    if (is_kw(p, "else")) {
      advance(p);
      s->els = parse_statement(p);
    }
  } else if (tok_is_kw(p, t, "print") || tok_is_kw(p, t, "reject")
             || tok_is_kw(p, t, "fatal_error")) {
    s = new_stmt(p, tok_is_kw(p, t, "print") ? ST_PRINT
                    : tok_is_kw(p, t, "reject") ? ST_REJECT : ST_FATAL, loc);
    advance(p);
    parse_printables(p, s);
  } else if (tok_is_kw(p, t, "break") || tok_is_kw(p, t, "continue")) {
    s = new_stmt(p, tok_is_kw(p, t, "break") ? ST_BREAK : ST_CONTINUE, loc);
    advance(p);
    expect(p, TK_SEMI, "';'");
  } else if (tok_is_kw(p, t, "return")) {
    /* return ::= 'return' [expr] ';' */
    if (!p->in_function)
      p_fail(p, VI_EPARSE, loc, "'return' is only allowed in user-defined functions");
    advance(p);
    s = new_stmt(p, ST_RETURN, loc);
    if (!is_tok(p, TK_SEMI)) s->rhs = parse_expr(p);
    expect(p, TK_SEMI, "';' after return");
  } else if (tok_is_kw(p, t, "profile")) {
    /* profile ::= 'profile' '(' string ')' block      (profiling only: a plain block) */
    advance(p);
    expect(p, TK_LPAREN, "'(' after 'profile'");
    expect(p, TK_STRING, "a string naming the profile");
    expect(p, TK_RPAREN, "')'");
    s = parse_block_body(p, BLK_LOCAL, 0, NULL);
  } else if (tok_is_kw(p, t, "target") && peek(p, 1)->kind != TK_LPAREN) {
    advance(p);
    if (!is_tok(p, TK_PLUS_ASSIGN)) p_expected(p, "'+=' after 'target'");
    advance(p);
    s = new_stmt(p, ST_TARGET, loc);
    s->rhs = parse_expr(p);
    expect(p, TK_SEMI, "';' after 'target += ...'");
  } else if (tok_is_kw(p, t, "increment_log_prob") && peek(p, 1)->kind == TK_LPAREN) {
    /* the pre-2.33 spelling of target += e */
    advance(p);
    advance(p);
    s = new_stmt(p, ST_TARGET, loc);
    s->rhs = parse_expr(p);
    expect(p, TK_RPAREN, "')' after the argument of increment_log_prob");
    expect(p, TK_SEMI, "';' after increment_log_prob(...)");
  } else if (t->kind == TK_IDENT && old_assign_ahead(p)) {
    /* the pre-2.33 assignment `x <- e` (x a name with optional indexes) */
    vi_expr *lhs = parse_postfix(p);
    vi_loc oploc = cur(p)->loc;
    if (!is_lvalue(lhs) || !is_tok(p, TK_LT)) p_expected(p, "'<-' after the variable");
    advance(p);
    advance(p);
    s = new_stmt(p, ST_ASSIGN, oploc);
    s->lhs = lhs;
    s->op = OP_NONE;
    s->rhs = parse_expr(p);
    expect(p, TK_SEMI, "';' after assignment");
  } else if (t->kind == TK_IDENT && (tok_is_kw(p, t, "else") || tok_is_kw(p, t, "in"))) {
    p_expected(p, "a statement");
  } else {
    vi_expr *e = parse_expr(p);
    static const struct { vi_tok_kind tok; vi_op op; } assigns[] = {
      { TK_ASSIGN, OP_NONE }, { TK_PLUS_ASSIGN, OP_ADD }, { TK_MINUS_ASSIGN, OP_SUB },
      { TK_TIMES_ASSIGN, OP_MUL }, { TK_DIV_ASSIGN, OP_DIV },
      { TK_ETIMES_ASSIGN, OP_EMUL }, { TK_EDIV_ASSIGN, OP_EDIV },
    };
    size_t i;
    for (i = 0; i < sizeof assigns / sizeof assigns[0]; i++)
      if (is_tok(p, assigns[i].tok)) break;
    if (i < sizeof assigns / sizeof assigns[0]) {
      vi_loc oploc = cur(p)->loc;
      if (e->kind == EX_TUPLE && assigns[i].op != OP_NONE)
        p_fail(p, VI_EPARSE, oploc, "a tuple can only be unpacked with '=', not %s",
               tok_quote(p, cur(p), q, sizeof q));
      if (!is_unpack_lvalue(e))
        p_fail(p, VI_EPARSE, oploc, "the left side of %s must be a variable, an indexed "
               "variable, a tuple element or a tuple of these",
               tok_quote(p, cur(p), q, sizeof q));
      advance(p);
      s = new_stmt(p, ST_ASSIGN, oploc);
      s->lhs = e;
      s->op = assigns[i].op;
      s->rhs = parse_expr(p);
      expect(p, TK_SEMI, "';' after assignment");
    } else if (is_tok(p, TK_TILDE)) {
      vi_loc tl = cur(p)->loc;
      advance(p);
      s = parse_tilde(p, e, tl);
    } else {
      /* `x <- e` lexes as `x < -e`: name the removed operator. */
      if (e->kind == EX_BINARY && e->op == OP_LT && e->args[1]->kind == EX_UNARY
          && e->args[1]->op == OP_NEG && e->args[1]->loc.line == e->loc.line
          && e->args[1]->loc.col == e->loc.col + 1)
        p_fail(p, VI_EUNSUPPORTED, e->loc, "the '<-' assignment was removed from Stan; "
               "use '='");
      if (e->kind == EX_CALL && is_tok(p, TK_SEMI)) {
        /* a call statement: the checker makes sure the function is void */
        advance(p);
        s = new_stmt(p, ST_CALL, e->loc);
        s->rhs = e;
        leave(p);
        return s;
      }
      /* `vectr[N] x;`: a name where a type belongs. */
      const vi_expr *base = e;
      while (base->kind == EX_INDEX) base = base->args[0];
      if (base->kind == EX_VAR && is_tok(p, TK_IDENT))
        p_fail(p, VI_EPARSE, base->loc, "'%s' is not a type (expected a declaration or a "
               "statement)", base->str);
      p_expected(p, "'=', a compound assignment or '~' after the expression");
    }
  }
  leave(p);
  return s;
}

/* ---- Functions ------------------------------------------------------------------- */

/* unsized ::= 'void' | ['array' '[' {','} ']'] basic | basic '[' {','} ']'   (old arrays)
 *   basic ::= int | real | vector | row_vector | matrix
 * The type of a function's result or argument: no sizes, no constraints. */
static vi_type parse_unsized_type(parser *p, int allow_void)
{
  vi_type t = { VT_VOID, 0, NULL };
  char q[64];
  if (is_kw(p, "void")) {
    if (!allow_void) p_fail(p, VI_EPARSE, cur(p)->loc, "an argument cannot be void");
    advance(p);
    return t;
  }
  int array_kw = 0;
  if (is_kw(p, "array")) {
    advance(p);
    expect(p, TK_LBRACK, "'[' after 'array'");
    t.ndims = 1;
    while (accept(p, TK_COMMA)) t.ndims++;
    expect(p, TK_RBRACK, "',' or ']' (function types have no sizes)");
    array_kw = 1;
  }
  const vi_token *tt = cur(p);
  switch (type_word_of(p, tt)) {
  case TY_INT: t.base = VT_INT; break;
  case TY_REAL: t.base = VT_REAL; break;
  case TY_VECTOR: t.base = VT_VECTOR; break;
  case TY_ROW_VECTOR: t.base = VT_ROW_VECTOR; break;
  case TY_MATRIX: t.base = VT_MATRIX; break;
  case TY_COMPLEX: t.base = VT_COMPLEX; break;
  case TY_COMPLEX_VECTOR: t.base = VT_COMPLEX_VECTOR; break;
  case TY_COMPLEX_ROW_VECTOR: t.base = VT_COMPLEX_ROW_VECTOR; break;
  case TY_COMPLEX_MATRIX: t.base = VT_COMPLEX_MATRIX; break;
  case TY_TUPLE: {
    /* tuple(unsized, unsized {, unsized}) */
    advance(p);
    enter(p);
    expect(p, TK_LPAREN, "'(' after 'tuple'");
    vi_type els[64];
    int n = 0;
    do {
      if (n == 64) p_fail(p, VI_EUNSUPPORTED, cur(p)->loc, "tuples of more than 64 elements");
      els[n++] = parse_unsized_type(p, 0);
    } while (accept(p, TK_COMMA));
    expect(p, TK_RPAREN, "',' or ')' after the tuple's element types");
    if (n < 2) p_fail(p, VI_EPARSE, tt->loc, "a tuple type needs at least two element types");
    leave(p);
    vi_tuple_type *tu = p_alloc(p, sizeof *tu);
    tu->n = n;
    tu->el = p_alloc(p, (size_t)n * sizeof *tu->el);
    memcpy(tu->el, els, (size_t)n * sizeof *els);
    t.base = VT_TUPLE;
    t.tup = tu;
    return t;
  }
  case TY_UNSUPPORTED:
    p_fail(p, VI_EUNSUPPORTED, tt->loc, "type %s is not supported yet",
           tok_quote(p, tt, q, sizeof q));
  case TY_NONE: case TY_ARRAY:
    p_expected(p, "a type (void, int, real, vector, row_vector, matrix or array[] ...)");
  default:
    p_fail(p, VI_EPARSE, tt->loc, "function arguments and results cannot have constrained "
           "type %s", tok_quote(p, tt, q, sizeof q));
  }
  advance(p);
  if (!array_kw && is_tok(p, TK_LBRACK)) {
    advance(p);
    t.ndims = 1;
    while (accept(p, TK_COMMA)) t.ndims++;
    expect(p, TK_RBRACK, "',' or ']' (function types have no sizes)");
  }
  if (t.ndims > 8)
    p_fail(p, VI_ECHECK, tt->loc, "arrays of more than 8 dimensions are not supported");
  return t;
}

static int same_signature(const vi_func *a, const vi_func *b)
{
  if (a->nparams != b->nparams || !type_equal(a->ret, b->ret)) return 0;
  for (int i = 0; i < a->nparams; i++)
    if (!type_equal(a->params[i]->type, b->params[i]->type)) return 0;
  return 1;
}

/* function ::= unsized ident '(' [['data'] unsized ident {',' ...}] ')' (block | ';')
 * A declaration without a body (';') is completed by a later definition of the same
 * signature. */
static void parse_function(parser *p)
{
  vi_func *f = p_alloc(p, sizeof *f);
  f->ret = parse_unsized_type(p, 1);
  const vi_token *nt = cur(p);
  if (nt->kind != TK_IDENT) p_expected(p, "the function's name");
  check_name(p, nt);
  f->name = tok_str(p, nt);
  f->loc = nt->loc;
  advance(p);
  f->kind = ends_with(f->name, "_rng") ? FN_RNG : ends_with(f->name, "_lp") ? FN_LP
            : ends_with(f->name, "_lpdf") || ends_with(f->name, "_lpmf") ? FN_DENSITY
            : FN_PLAIN;
  if (ends_with(f->name, "_lupdf") || ends_with(f->name, "_lupmf"))
    p_fail(p, VI_EPARSE, nt->loc, "define the density as '%.*s_lp%cf'; the _lup%cf form is "
           "only for calls", (int)strlen(f->name) - 6, f->name,
           f->name[strlen(f->name) - 2], f->name[strlen(f->name) - 2]);
  expect(p, TK_LPAREN, "'(' after the function's name");
  vi_decl *params[256];
  int np = 0;
  if (!is_tok(p, TK_RPAREN)) {
    do {
      size_t ts = p->pos;
      if (is_kw(p, "data")) advance(p);
      vi_decl *d = p_alloc(p, sizeof *d);
      d->type = parse_unsized_type(p, 0);
      d->type_text = span_text(p, ts, p->pos);
      d->block = BLK_FUNCTIONS;
      const vi_token *at = cur(p);
      check_name(p, at);
      d->name = tok_str(p, at);
      d->loc = at->loc;
      advance(p);
      if (np == 256) p_fail(p, VI_EUNSUPPORTED, at->loc, "more than 256 arguments");
      params[np++] = d;
    } while (accept(p, TK_COMMA));
  }
  expect(p, TK_RPAREN, "',' or ')' after the arguments");
  f->params = p_alloc(p, (size_t)(np ? np : 1) * sizeof *f->params);
  memcpy(f->params, params, (size_t)np * sizeof *params);
  f->nparams = np;
  vi_func *prev = NULL;
  for (int i = 0; i < p->ast->nfuncs; i++)
    if (strcmp(p->ast->funcs[i]->name, f->name) == 0 && same_signature(p->ast->funcs[i], f))
      prev = p->ast->funcs[i];
  if (accept(p, TK_SEMI)) {
    if (prev) return;                 /* declared again: nothing new */
  } else {
    if (prev && prev->body)
      p_fail(p, VI_EPARSE, f->loc, "function '%s' is already defined with these argument "
             "types (at line %d)", f->name, prev->loc.line);
    p->in_function = 1;
    f->body = parse_block_body(p, BLK_LOCAL, 0, NULL);
    p->in_function = 0;
    if (prev) {                       /* the definition of a forward declaration */
      prev->body = f->body;
      prev->params = f->params;
      prev->loc = f->loc;
      return;
    }
  }
  if (p->ast->nfuncs % 16 == 0) {
    vi_func **v = p_alloc(p, (size_t)(p->ast->nfuncs + 16) * sizeof *v);
    if (p->ast->nfuncs) memcpy(v, p->ast->funcs, (size_t)p->ast->nfuncs * sizeof *v);
    p->ast->funcs = v;
  }
  p->ast->funcs[p->ast->nfuncs++] = f;
}

/* ---- Program --------------------------------------------------------------------- */

static const char *const block_names[BLK_COUNT] = {
  "functions", "data", "transformed data", "parameters", "transformed parameters",
  "model", "generated quantities"
};

/* program ::= ['functions' '{' {function} '}'] ['data' block] ['transformed' 'data' block]
 *             ['parameters' block] ['transformed' 'parameters' block] ['model' block]
 *             ['generated' 'quantities' block] EOF */
static void parse_program(parser *p)
{
  int last = -1;
  while (!is_tok(p, TK_EOF)) {
    const vi_token *t = cur(p);
    vi_loc loc = t->loc;
    int b = -1;
    if (tok_is_kw(p, t, "functions")) b = BLK_FUNCTIONS;
    else if (tok_is_kw(p, t, "data")) b = BLK_DATA;
    else if (tok_is_kw(p, t, "parameters")) b = BLK_PARAMS;
    else if (tok_is_kw(p, t, "model")) b = BLK_MODEL;
    else if (tok_is_kw(p, t, "transformed")) {
      const vi_token *u = peek(p, 1);
      if (tok_is_kw(p, u, "data")) b = BLK_TDATA;
      else if (tok_is_kw(p, u, "parameters")) b = BLK_TPARAMS;
      else {
        advance(p);
        p_expected(p, "'data' or 'parameters' after 'transformed'");
      }
    } else if (tok_is_kw(p, t, "generated")) {
      if (!tok_is_kw(p, peek(p, 1), "quantities")) {
        advance(p);
        p_expected(p, "'quantities' after 'generated'");
      }
      b = BLK_GQ;
    } else {
      p_expected(p, last < 0 ? "a program block ('data', 'parameters', 'model', ...)"
                             : "another program block or end of input");
    }
    if (b == last)
      p_fail(p, VI_EPARSE, loc, "the %s block appears twice", block_names[b]);
    if (b < last)
      p_fail(p, VI_EPARSE, loc, "the %s block must come before the %s block",
             block_names[b], block_names[last]);
    last = b;
    advance(p);
    if (b == BLK_TDATA || b == BLK_TPARAMS || b == BLK_GQ) advance(p);
    if (b == BLK_FUNCTIONS) {
      expect(p, TK_LBRACE, "'{' after 'functions'");
      while (!is_tok(p, TK_RBRACE)) {
        if (is_tok(p, TK_EOF)) p_expected_after(p, "'}' to close the functions block");
        parse_function(p);
      }
      vi_stmt *s = new_stmt(p, ST_BLOCK, loc);
      advance(p);
      p->ast->blocks[b] = s;
      continue;
    }
    p->ast->blocks[b] = parse_block_body(p, (vi_block)b, 1, block_names[b]);
  }
}

vi_ast *front_parse(const char *source, size_t len, const char *name, struct vi_error *err)
{
  parser *p = calloc(1, sizeof *p);
  struct ast_arena *arena = ast_arena_new();
  vi_ast *ast = arena ? ast_arena_alloc(arena, sizeof *ast) : NULL;
  char *src = ast ? ast_arena_strndup(arena, source ? source : "", source ? len : 0) : NULL;
  char *nm = src ? ast_arena_strndup(arena, name ? name : "", name ? strlen(name) : 0)
                 : NULL;
  if (!p || !nm) {
    vi_loc none = { 0, 0 };
    front_error_at(err, VI_ENOMEM, NULL, none, "out of memory while parsing");
    free(p);
    ast_arena_free(arena);
    return NULL;
  }
  ast->arena = arena;
  ast->source = src;
  ast->source_len = source ? len : 0;
  ast->name = nm;
  p->ast = ast;
  p->arena = arena;
  p->err = err;
  if (setjmp(p->jb)) {
    front_lex_result_free(&p->lex);
    free(p);
    ast_arena_free(arena);
    return NULL;
  }
  front_lex(src, ast->source_len, &p->lex);
  if (p->lex.ntoks == 0) p_nomem(p);
  check_lex_error(p);
  parse_program(p);
  front_lex_result_free(&p->lex);
  free(p);
  return ast;
}
