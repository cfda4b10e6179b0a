/* builtins.h: the functions and distributions of the model language.  One table
 * (builtins.c) gives each builtin its name, its signatures (type rules, used by the
 * checker) and its batched implementation on the AD tape (used by the evaluator).
 *
 * A distribution `foo` is the builtins foo_lpdf (or foo_lpmf), foo_lupdf/_lupmf (same
 * value: vi keeps normalising constants), foo_rng, and where present foo_lcdf/lccdf/cdf.
 * Densities return the sum over all elements (broadcasting scalars against containers)
 * as one real per draw; a draw outside the support or with an invalid parameter
 * (sigma <= 0) gets -inf, never an error. */
#ifndef VI_LANG_BUILTINS_H
#define VI_LANG_BUILTINS_H

#include <stddef.h>
#include "lang/types.h"
#include "lang/ad/ad.h"

/* Resolve a call name(args) by argument types.  Returns the builtin id (>= 0) and sets
 * *ret, or returns -1 and writes why (e.g. "unknown function 'foo'", or "no signature
 * normal_lpdf(int, vector); candidates: normal_lpdf(reals | reals, reals)").
 * BUILTIN_UNSUPPORTED (-2): a known Stan function vi does not support yet (why says so). */
#define BUILTIN_UNSUPPORTED (-2)
int vi_builtin_resolve(const char *name, const vi_type *args, int nargs, vi_type *ret,
                       char *why, size_t whylen);
/* `y ~ dist(args)`: resolve dist_lpdf or dist_lpmf with (y, args...).  Same returns. */
int vi_builtin_resolve_tilde(const char *dist, const vi_type *args, int nargs,
                             char *why, size_t whylen);
const char *vi_builtin_name(int id);
/* 1 if id is an _rng function (allowed only in transformed data and generated
 * quantities), 2 if it is a density (_lpdf/_lpmf/_lupdf/_lupmf), 0 otherwise. */
int vi_builtin_kind(int id);
#define BUILTIN_PLAIN 0
#define BUILTIN_RNG 1
#define BUILTIN_DENSITY 2

/* Does signature spec sig (the language below) accept args?  1 (and *ret) if so, 0 if
 * not, -1 if sig is malformed.  For tests and tools; resolve uses the same matcher. */
int vi_builtin_sig_match(const char *sig, const vi_type *args, int nargs, vi_type *ret);

/* Evaluate builtin id on args (as resolved: the checker guarantees the types, sizes are
 * checked here).  NULL with ad_tape_error on a size mismatch or invalid argument. */
ad_val *vi_builtin_call(ad_tape *t, int id, ad_val **args, int nargs);

/* ---- The table (builtins.c merges the tables of builtins_*.c) ---------------------
 * One entry per signature; a name may have several entries, tried in order: the first
 * whose parameters accept the argument types (with int -> real promotion) wins.
 *
 * sig is "ret(param, param, ...)"; a param or ret is one of
 *   int real vector row_vector matrix        exactly that (int promotes to real)
 *   int[] real[] vector[] ... int[,] ...     arrays of that (int[] promotes to real[])
 *   ints      int or int[]
 *   reals     int, real, vector, row_vector, int[] or real[]   (Stan's "reals")
 *   vectors   vector, row_vector, int[] or real[]              (one-dimensional)
 *   any       any int/real value or container of any depth (vectorised functions)
 *   ...       (last param only) any number more of the previous param
 * and ret may also be
 *   same      the type of the first argument, int promoted to real
 *   same_int  the type of the first argument as is (abs(int) is int)
 *   rng_real  real if every argument is a scalar, else real[] (vectorised _rng)
 *   rng_int   int if every argument is a scalar, else int[]
 *   bcast     the type of the non-scalar arguments (which must agree), int promoted to
 *             real; real if all are scalars (vectorised binary functions: pow, fmin)
 * Examples: "real(reals, reals, reals)" for normal_lpdf, "same(any)" for exp,
 * "real(vectors)" for sum... (the second is just an illustration). */
typedef ad_val *(*vi_builtin_impl)(ad_tape *t, ad_val **args, int nargs);
typedef struct vi_builtin_def {
  const char *name;      /* as called: "normal_lpdf", "exp", "normal_rng" */
  const char *sig;
  vi_builtin_impl impl;
} vi_builtin_def;

/* Each table ends with an entry whose name is NULL. */
extern const vi_builtin_def vi_builtins_math[];   /* builtins_math.c */
extern const vi_builtin_def vi_builtins_special[]; /* builtins_special.c */
extern const vi_builtin_def vi_builtins_eigen[];  /* builtins_eigen.c */
extern const vi_builtin_def vi_builtins_dist[];   /* builtins_dist.c */

#endif
