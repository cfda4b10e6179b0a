/* lib.h: src/lang/lib/, the function and distribution library of the model language:
 * math, reductions, linear algebra, special functions, densities, cdfs and _rng, each
 * a kernel batched over the draws on the AD tape with its reverse-mode derivative.
 * May include: lang/types.h and lang/ad/ (the tape, its kernels and solves); never
 * front/ or back/.  The evaluator (back/) calls builtin_call; the checker (front/)
 * reads only the signatures, from the same table files (table_*.def), so it links
 * without this library.
 *
 * One table per kernel file (builtins_elementwise.c, _reduce.c, _containers.c,
 * _linalg.c, _special.c, _eigen.c, _hmm.c, _sparse.c, _dist.c, _decomp.c, _matrix_exp.c,
 * _special_more.c, _sequences.c, _complex.c) written once as table_*.def:
 * BUILTIN(name, signature, kernel) per signature.  A builtin's id is its index in the
 * concatenation in that order (lib/builtins.c and front/signatures.c both follow it).
 *
 * A distribution `foo` is the builtins foo_lpdf (or foo_lpmf), foo_lupdf/_lupmf (same
 * value: vi keeps normalising constants), foo_rng, and where present foo_lcdf/lccdf/cdf.
 * Densities return the sum over all elements (broadcasting scalars against containers)
 * as one real per draw; a draw outside the support or with an invalid parameter
 * (sigma <= 0) gets -inf, never an error. */
#ifndef VI_LANG_LIB_H
#define VI_LANG_LIB_H

#include <stddef.h>
#include "lang/types.h"
#include "lang/ad/ad.h"

/* Evaluate builtin id on args (as resolved: the checker guarantees the types, sizes are
 * checked here).  NULL with ad_tape_error on a size mismatch or invalid argument. */
ad_val *builtin_call(ad_tape *t, int id, ad_val **args, int nargs);
/* The kernel table's size and the name of entry id (to check it against the
 * signature table). */
int builtin_kernel_count(void);
const char *builtin_kernel_name(int id);

/* ---- Argument names and domains for messages (dist_args.c, from the ARGS entries of
 * table_dist.def) ----
 * Stan's name of argument i of distribution dist ("normal"; 0 is the variate), e.g.
 * "Scale parameter", written into buf; NULL when dist or i is unknown. */
const char *dist_arg_name(const char *dist, int i, char *buf, size_t len);
/* The index of the first of x[0..n) outside the domain Stan checks argument i of dist
 * against, with *must its wording ("must be positive finite!"); -1 when all are inside
 * or nothing is known. */
long dist_arg_check(const char *dist, int i, const double *x, size_t n, const char **must);

/* ---- The table (builtins.c concatenates the tables of builtins_*.c) ---------------
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
typedef ad_val *(*builtin_fn)(ad_tape *t, ad_val **args, int nargs);
typedef struct builtin_def {
  const char *name;      /* as called: "normal_lpdf", "exp", "normal_rng" */
  const char *sig;
  builtin_fn impl;
} builtin_def;

/* Each table ends with an entry whose name is NULL. */
extern const builtin_def builtin_kernels_elementwise[];  /* builtins_elementwise.c */
extern const builtin_def builtin_kernels_reduce[];       /* builtins_reduce.c */
extern const builtin_def builtin_kernels_containers[];   /* builtins_containers.c */
extern const builtin_def builtin_kernels_linalg[];       /* builtins_linalg.c */
extern const builtin_def builtin_kernels_special[]; /* builtins_special.c */
extern const builtin_def builtin_kernels_eigen[];   /* builtins_eigen.c */
extern const builtin_def builtin_kernels_hmm[];     /* builtins_hmm.c */
extern const builtin_def builtin_kernels_sparse[];  /* builtins_sparse.c */
extern const builtin_def builtin_kernels_dist[];    /* builtins_dist.c */
extern const builtin_def builtin_kernels_decomp[];  /* builtins_decomp.c */
extern const builtin_def builtin_kernels_matrix_exp[];    /* builtins_matrix_exp.c */
extern const builtin_def builtin_kernels_special_more[];  /* builtins_special_more.c */
extern const builtin_def builtin_kernels_sequences[];     /* builtins_sequences.c */
extern const builtin_def builtin_kernels_complex[]; /* builtins_complex.c */

#endif
