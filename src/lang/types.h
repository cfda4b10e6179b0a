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
  VT_ERROR        /* an expression that failed to check; suppresses follow-on errors */
} vi_basetype;

typedef struct vi_type {
  vi_basetype base;
  int ndims;       /* array depth, 0 for a plain int/real/vector/row_vector/matrix */
} vi_type;

/* Operators.  Binary: ADD..OR; unary: NEG, PLUS, NOT, TRANSPOSE.  Compound assignment
 * uses ADD, SUB, MUL, DIV, EMUL, EDIV; OP_NONE is plain `=`. */
typedef enum {
  OP_NONE = 0,
  OP_ADD, OP_SUB, OP_MUL, OP_DIV, OP_INTDIV /* %/% */, OP_MOD, OP_POW /* ^ */,
  OP_EMUL /* .* */, OP_EDIV /* ./ */, OP_EPOW /* .^ */, OP_LDIV /* \ */,
  OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE, OP_AND, OP_OR,
  OP_NEG, OP_PLUS, OP_NOT, OP_TRANSPOSE
} vi_op;

/* Number of dimensions a value of type t has in total: array dims plus 1 for vectors,
 * 2 for matrices. */
static inline int type_rank(vi_type t)
{
  return t.ndims + (t.base == VT_VECTOR || t.base == VT_ROW_VECTOR ? 1
                    : t.base == VT_MATRIX ? 2 : 0);
}

#endif
