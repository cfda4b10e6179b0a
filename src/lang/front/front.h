/* front.h: src/lang/front/, the model language's front end: lexer, parser, checker,
 * the AST (ast.h: front_parse, front_check) and error reports, plus the builtin
 * functions' SIGNATURES (signatures.c, read from lib/table_*.def) but not their
 * kernels.  May include: lang/types.h, the public vi/ headers and lib/table_*.def (as
 * data); never lib/'s code, ad/ or back/, so libfront links on its own. */
#ifndef VI_LANG_FRONT_H
#define VI_LANG_FRONT_H

#include <stddef.h>
#include "lang/front/ast.h"

/* Write e as a fully parenthesised S-expression, e.g. "(neg (^ 2 2))" for -2^2 or
 * "(|| a (&& b c))"; indexes as "(index x i (: 2 5) :)"; calls as "(call f a | b)".
 * Returns the length it would have had (snprintf-style); buf is always terminated. */
size_t front_expr_print(const vi_expr *e, char *buf, size_t cap);
/* A type as Stan spells it: "int", "vector", "array[,] real". */
const char *front_type_str(vi_type t, char *buf, size_t cap);


/* ---- builtin signatures (signatures.c; the spec language is in lib/lib.h) --------- */

/* Resolve a call name(args) by argument types.  Returns the builtin id (>= 0) and sets
 * *ret, or returns -1 and writes why (e.g. "unknown function 'foo'", or "no signature
 * normal_lpdf(int, vector); candidates: normal_lpdf(reals | reals, reals)").
 * BUILTIN_UNSUPPORTED (-2): a known Stan function vi does not support yet (why says so). */
#define BUILTIN_UNSUPPORTED (-2)
int builtin_resolve(const char *name, const vi_type *args, int nargs, vi_type *ret,
                    char *why, size_t whylen);
/* A Stan function returning a tuple: the names of the builtins (NULL-terminated) that
 * compute its elements from the same arguments, or NULL. */
const char *const *builtin_tuple_parts(const char *name);
/* `y ~ dist(args)`: resolve dist_lpdf or dist_lpmf with (y, args...).  Same returns. */
int builtin_resolve_tilde(const char *dist, const vi_type *args, int nargs,
                          char *why, size_t whylen);
/* Name and signature spec of builtin id (NULL when out of range); the number of ids. */
const char *builtin_name(int id);
const char *builtin_signature(int id);
int builtin_count(void);
/* 1 if id is an _rng function (allowed only in transformed data and generated
 * quantities), 2 if it is a density (_lpdf/_lpmf/_lupdf/_lupmf), 3 if its value has no
 * gradient (allowed only where an _rng is), 0 otherwise. */
int builtin_kind(int id);
#define BUILTIN_PLAIN 0
#define BUILTIN_RNG 1
#define BUILTIN_DENSITY 2
#define BUILTIN_VALUE_ONLY 3
/* Does signature spec sig accept args?  1 (and *ret) if so, 0 if not, -1 if sig is
 * malformed.  For tests and tools; resolve uses the same matcher. */
int builtin_sig_match(const char *sig, const vi_type *args, int nargs, vi_type *ret);

#endif
