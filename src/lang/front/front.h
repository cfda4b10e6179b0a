/* front.h: front-end helpers beyond ast.h's contract: a debug printer of the tree
 * (ast.c), used by the tests to check precedence and by anyone debugging the parser. */
#ifndef VI_LANG_FRONT_H
#define VI_LANG_FRONT_H

#include <stddef.h>
#include "lang/front/ast.h"

/* Write e as a fully parenthesised S-expression, e.g. "(neg (^ 2 2))" for -2^2 or
 * "(|| a (&& b c))"; indexes as "(index x i (: 2 5) :)"; calls as "(call f a | b)".
 * Returns the length it would have had (snprintf-style); buf is always terminated. */
size_t vi_ast_expr_print(const vi_expr *e, char *buf, size_t cap);
/* A type as Stan spells it: "int", "vector", "array[,] real". */
const char *vi_type_str(vi_type t, char *buf, size_t cap);

#endif
