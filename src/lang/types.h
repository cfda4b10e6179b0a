/* types.h: the types of the model language, shared by the checker (front end), the AD
 * library and the evaluator.  A type is a base type plus an array depth:
 * `array[2, 3] vector[N] x` has base VT_VECTOR and ndims 2.  Sizes are not part of the
 * type: they are checked at run time (data load, evaluation). */
#ifndef VI_LANG_TYPES_H
#define VI_LANG_TYPES_H

#include <stddef.h>

typedef enum {
  VT_INT = 0,
  VT_REAL,
  VT_VECTOR,      /* column vector */
  VT_ROW_VECTOR,
  VT_MATRIX,
  VT_STRING,      /* only as a print/reject argument */
  VT_VOID,        /* no value (statements) */
  VT_ERROR,       /* an expression that failed to check; suppresses follow-on errors */
  /* Complex scalars and containers (Stan's complex, complex_vector, ...).  A complex
   * value is stored as its real counterpart with one more, innermost dimension of size
   * 2: (real part, imaginary part) next to each other, so a complex_vector[N] has dims
   * {N, 2} and element k's parts at 2k and 2k + 1. */
  VT_COMPLEX,
  VT_COMPLEX_VECTOR,
  VT_COMPLEX_ROW_VECTOR,
  VT_COMPLEX_MATRIX,
  /* A tuple (Stan 2.33+): tuple(T1, ..., Tn), its element types in vi_type.tup.  With
   * ndims > 0 an array of tuples.  Not numeric: its values hold other values
   * (ad_val.el), so no op sees one except the evaluator's tuple code (back/tuple.c). */
  VT_TUPLE
} vi_basetype;

struct vi_tuple_type;

typedef struct vi_type {
  vi_basetype base;
  int ndims;       /* array depth, 0 for a plain int/real/vector/row_vector/matrix */
  const struct vi_tuple_type *tup;   /* VT_TUPLE: the element types; else NULL */
} vi_type;

/* The elements of a tuple type (n >= 2 in Stan's grammar), in the AST's arena. */
typedef struct vi_tuple_type {
  int n;
  vi_type *el;
} vi_tuple_type;

/* Structural equality (tuples compare element by element). */
static inline int type_equal(vi_type a, vi_type b)
{
  if (a.base != b.base || a.ndims != b.ndims) return 0;
  if (a.base != VT_TUPLE) return 1;
  if (!a.tup || !b.tup) return a.tup == b.tup;
  if (a.tup->n != b.tup->n) return 0;
  for (int i = 0; i < a.tup->n; i++)
    if (!type_equal(a.tup->el[i], b.tup->el[i])) return 0;
  return 1;
}

/* Operators.  Binary: ADD..OR; unary: NEG, PLUS, NOT, TRANSPOSE.  Compound assignment
 * uses ADD, SUB, MUL, DIV, EMUL, EDIV; OP_NONE is plain `=`. */
typedef enum {
  OP_NONE = 0,
  OP_ADD, OP_SUB, OP_MUL, OP_DIV, OP_INTDIV /* %/% */, OP_MOD, OP_POW /* ^ */,
  OP_EMUL /* .* */, OP_EDIV /* ./ */, OP_EPOW /* .^ */, OP_LDIV /* \ */,
  OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE, OP_AND, OP_OR,
  OP_NEG, OP_PLUS, OP_NOT, OP_TRANSPOSE
} vi_op;

static inline int base_is_complex(vi_basetype b)
{
  return b == VT_COMPLEX || b == VT_COMPLEX_VECTOR || b == VT_COMPLEX_ROW_VECTOR ||
         b == VT_COMPLEX_MATRIX;
}

/* The real type of the same shape (complex_vector -> vector); others unchanged. */
static inline vi_basetype base_real_of(vi_basetype b)
{
  switch (b) {
  case VT_COMPLEX: return VT_REAL;
  case VT_COMPLEX_VECTOR: return VT_VECTOR;
  case VT_COMPLEX_ROW_VECTOR: return VT_ROW_VECTOR;
  case VT_COMPLEX_MATRIX: return VT_MATRIX;
  default: return b;
  }
}

/* The complex type of the same shape (int, real -> complex; vector -> complex_vector). */
static inline vi_basetype base_complex_of(vi_basetype b)
{
  switch (b) {
  case VT_INT: case VT_REAL: return VT_COMPLEX;
  case VT_VECTOR: return VT_COMPLEX_VECTOR;
  case VT_ROW_VECTOR: return VT_COMPLEX_ROW_VECTOR;
  case VT_MATRIX: return VT_COMPLEX_MATRIX;
  default: return b;
  }
}

/* Number of dimensions a value of type t has in total: array dims plus 1 for vectors,
 * 2 for matrices, plus 1 (the real and imaginary parts) for complex types. */
static inline int type_rank(vi_type t)
{
  if (t.base == VT_TUPLE) return t.ndims;   /* the array dims; elements are values */
  vi_basetype b = base_real_of(t.base);
  return t.ndims + (b == VT_VECTOR || b == VT_ROW_VECTOR ? 1 : b == VT_MATRIX ? 2 : 0)
         + (base_is_complex(t.base) ? 1 : 0);
}

#endif
