/* ast.c: freeing a tree (one arena) and printing expressions for tests and debugging.
 * The printer writes fully parenthesised prefix form so that the structure the parser
 * built -- precedence, associativity -- is visible in one line. */
#include <stdio.h>
#include <string.h>
#include "lang/front/ast.h"
#include "lang/front/front.h"

void front_ast_free(vi_ast *ast)
{
  if (ast) ast_arena_free(ast->arena);
}

typedef struct { char *buf; size_t cap, n; } out;

static void emit(out *o, const char *s)
{
  size_t k = strlen(s);
  if (o->n < o->cap) {
    size_t room = o->cap - o->n - 1;
    memcpy(o->buf + o->n, s, k < room ? k : room);
    o->buf[o->n + (k < room ? k : room)] = '\0';
  }
  o->n += k;
}

static const char *op_str(vi_op op)
{
  static const char *const names[] = {
    [OP_NONE] = "=", [OP_ADD] = "+", [OP_SUB] = "-", [OP_MUL] = "*", [OP_DIV] = "/",
    [OP_INTDIV] = "%/%", [OP_MOD] = "%", [OP_POW] = "^", [OP_EMUL] = ".*",
    [OP_EDIV] = "./", [OP_EPOW] = ".^", [OP_LDIV] = "\\", [OP_EQ] = "==", [OP_NE] = "!=",
    [OP_LT] = "<", [OP_LE] = "<=", [OP_GT] = ">", [OP_GE] = ">=", [OP_AND] = "&&",
    [OP_OR] = "||", [OP_NEG] = "neg", [OP_PLUS] = "pos", [OP_NOT] = "!",
    [OP_TRANSPOSE] = "'",
  };
  return (unsigned)op < sizeof names / sizeof names[0] && names[op] ? names[op] : "?";
}

static void print_expr(out *o, const vi_expr *e)
{
  char tmp[64];
  if (!e) { emit(o, "_"); return; }
  switch (e->kind) {
  case EX_INT_LIT: snprintf(tmp, sizeof tmp, "%ld", e->ival); emit(o, tmp); return;
  case EX_REAL_LIT: snprintf(tmp, sizeof tmp, "%g", e->rval);
    if (!strpbrk(tmp, ".eni")) strcat(tmp, ".0");
    emit(o, tmp); return;
  case EX_IMAG_LIT: snprintf(tmp, sizeof tmp, "%gi", e->rval); emit(o, tmp); return;
  case EX_STRING_LIT: emit(o, "\""); emit(o, e->str); emit(o, "\""); return;
  case EX_VAR: emit(o, e->str); return;
  case EX_UNARY: case EX_BINARY:
    emit(o, "("); emit(o, op_str(e->op));
    for (int i = 0; i < e->nargs; i++) { emit(o, " "); print_expr(o, e->args[i]); }
    emit(o, ")"); return;
  case EX_TERNARY:
    emit(o, "(?");
    for (int i = 0; i < e->nargs; i++) { emit(o, " "); print_expr(o, e->args[i]); }
    emit(o, ")"); return;
  case EX_CALL:
    emit(o, "(call "); emit(o, e->str);
    for (int i = 0; i < e->nargs; i++) {
      emit(o, i == 1 && e->has_bar ? " | " : " ");
      print_expr(o, e->args[i]);
    }
    emit(o, ")"); return;
  case EX_TUPLE:
    emit(o, "(tuple");
    for (int i = 0; i < e->nargs; i++) { emit(o, " "); print_expr(o, e->args[i]); }
    emit(o, ")"); return;
  case EX_PROJ:
    emit(o, "(. ");
    print_expr(o, e->args[0]);
    snprintf(tmp, sizeof tmp, " %ld)", e->ival);
    emit(o, tmp); return;
  case EX_ROW_VECTOR: case EX_ARRAY:
    emit(o, e->kind == EX_ARRAY ? "{" : "[");
    for (int i = 0; i < e->nargs; i++) { if (i) emit(o, " "); print_expr(o, e->args[i]); }
    emit(o, e->kind == EX_ARRAY ? "}" : "]"); return;
  case EX_INDEX:
    emit(o, "(index ");
    print_expr(o, e->args[0]);
    for (int i = 0; i < e->nindex; i++) {
      const vi_index *ix = &e->index[i];
      emit(o, " ");
      switch (ix->kind) {
      case IX_SINGLE: print_expr(o, ix->lo); break;
      case IX_MULTI: emit(o, "(multi "); print_expr(o, ix->lo); emit(o, ")"); break;
      case IX_ALL: emit(o, ":"); break;
      case IX_RANGE: emit(o, "(: "); print_expr(o, ix->lo); emit(o, " ");
        print_expr(o, ix->hi); emit(o, ")"); break;
      case IX_LOWER: emit(o, "(: "); print_expr(o, ix->lo); emit(o, " _)"); break;
      case IX_UPPER: emit(o, "(: _ "); print_expr(o, ix->hi); emit(o, ")"); break;
      }
    }
    emit(o, ")"); return;
  }
}

size_t front_expr_print(const vi_expr *e, char *buf, size_t cap)
{
  out o = { buf, cap, 0 };
  if (cap) buf[0] = '\0';
  print_expr(&o, e);
  return o.n;
}

const char *front_type_str(vi_type t, char *buf, size_t cap)
{
  static const char *const names[] = { "int", "real", "vector", "row_vector", "matrix",
                                       "string", "void", "error", "complex",
                                       "complex_vector", "complex_row_vector",
                                       "complex_matrix" };
  const char *b = (unsigned)t.base < sizeof names / sizeof names[0] ? names[t.base] : "?";
  char tb[256];
  if (t.base == VT_TUPLE && t.tup) {
    /* tuple(real, array[] int): the elements in the same spelling */
    size_t o = (size_t)snprintf(tb, sizeof tb, "tuple(");
    for (int i = 0; i < t.tup->n && o < sizeof tb; i++) {
      char eb[256];
      front_type_str(t.tup->el[i], eb, sizeof eb);
      o += (size_t)snprintf(tb + o, sizeof tb - o, "%s%s", i ? ", " : "", eb);
    }
    if (o < sizeof tb) snprintf(tb + o, sizeof tb - o, ")");
    b = tb;
  }
  if (t.ndims <= 0) {
    snprintf(buf, cap, "%s", b);
    return buf;
  }
  char commas[16] = "";
  for (int i = 1; i < t.ndims && i < 15; i++) strcat(commas, ",");
  snprintf(buf, cap, "array[%s] %s", commas, b);
  return buf;
}
