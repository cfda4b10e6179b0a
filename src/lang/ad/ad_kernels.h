/* ad_kernels.h: internal helpers shared by the AD core (ad.c) and the builtin tables
 * (builtins_*.c): elementwise maps with the draw-axis broadcasting rules, gathers (pure
 * data movement: indexing, slicing, concatenation) and draw-axis accessors.  Not part of
 * the evaluator's interface (that is ad.h); these exist so each builtin is a few lines.
 *
 * Broadcasting: an operand with nd = 1 is the same for every draw; a scalar operand
 * (rank 0) is the same for every element.  Output nd is the max of the inputs' nd. */
#ifndef VI_LANG_AD_KERNELS_H
#define VI_LANG_AD_KERNELS_H

#include "lang/ad/ad.h"

/* y = f(x) elementwise; df(x, y) = dy/dx (NULL: no gradient, e.g. floor).  The output
 * type is a's with int promoted to real, or int when result_int. */
typedef double (*ad_fn1)(double x);
typedef double (*ad_dfn1)(double x, double y);
ad_val *ad_map1(ad_tape *t, ad_val *a, ad_fn1 f, ad_dfn1 df, int result_int);
/* The same with the values computed over the whole array by vf (y[i] = f(x[i]) for
 * i < n: vmath's vectorised transcendentals); a real result. */
typedef void (*ad_vfn1)(double *y, const double *x, size_t n);
ad_val *ad_map1v(ad_tape *t, ad_val *a, ad_vfn1 vf, ad_dfn1 df);

/* y = f(a, b) elementwise with scalar broadcasting; df writes dy/da and dy/db (NULL: no
 * gradient).  Both non-scalar: same shape required.  Output type: the non-scalar
 * operand's (a's if both are), int promoted to real unless result_int. */
typedef double (*ad_fn2)(double a, double b);
typedef void (*ad_dfn2)(double a, double b, double y, double *da, double *db);
ad_val *ad_map2(ad_tape *t, ad_val *a, ad_val *b, ad_fn2 f, ad_dfn2 df, int result_int);

/* The builtins' tables: an unused parameter, and a builtin b_NAME(x, y) that is F
 * elementwise with derivative DF. */
#define UNUSED(x) (void)(x)
#define AD_BINARY_BUILTIN(NAME, F, DF)                               \
  static ad_val *b_##NAME(ad_tape *t, ad_val **a, int n)             \
  { UNUSED(n); return ad_map2(t, a[0], a[1], F, DF, 0); }

/* Gather: out element oi[k] = src element ii[k] for k < m, every draw (oi/ii NULL mean
 * the identity).  out must have nd >= src->nd.  Records the reverse step (adds out's
 * adjoint back) when both have adjoints.  Does not mark src shared (its values are not
 * read in the reverse sweep). */
void ad_gather(ad_tape *t, ad_val *out, ad_val *src, size_t m, const size_t *oi,
               const size_t *ii);

/* Mark a value as saved by an op (copy before any in-place write).  ad_push marks the
 * inputs; an op whose reverse step reads its own output's values (exp: dy/dx = y) must
 * mark the output too, or a later `out[i] = ...` written in place would change them. */
static inline void ad_mark_shared(ad_val *v) { if (v) v->shared = 1; }

/* Output nd for inputs a, b (b may be NULL); with adjoint when recording and an input
 * has one. */
static inline size_t ad_nd2(const ad_val *a, const ad_val *b)
{
  size_t n = a->nd;
  if (b && b->nd > n) n = b->nd;
  return n;
}
static inline int ad_wants_adj(const ad_tape *t, ad_val **in, int nin)
{
  if (!ad_tape_recording(t)) return 0;
  for (int i = 0; i < nin; i++)
    if (in[i] && in[i]->adj) return 1;
  return 0;
}
/* Element e, draw s of v with broadcasting over draws. */
static inline double ad_get(const ad_val *v, size_t e, size_t s)
{
  return v->x[e * v->nd + (v->nd == 1 ? 0 : s)];
}
static inline double *ad_adjp(const ad_val *v, size_t e, size_t s)
{
  return &v->adj[e * v->nd + (v->nd == 1 ? 0 : s)];
}
/* 1 for int and real scalars (rank 0). */
static inline int ad_is_scalar(const ad_val *v) { return type_rank(v->type) == 0; }
/* Rows and columns of a vector (n x 1), row_vector (1 x n) or matrix. */
void ad_shape2(const ad_val *v, size_t *rows, size_t *cols);
/* New value with given base type and shape (no array dims): scalar (0), vector /
 * row_vector (r or c), matrix (r, c). */
ad_val *ad_new_mat(ad_tape *t, vi_basetype base, size_t r, size_t c, size_t nd,
                   int with_adj);
/* Same as ad_new but with an explicit nd. */
ad_val *ad_new_nd(ad_tape *t, vi_type type, int ndims, const size_t *dims, size_t nd,
                  int with_adj);

/* The transpose of a vector or matrix (ad.c); the shape donor of a binary elementwise
 * op on a and b, or NULL with an error naming what on a size mismatch. */
ad_val *ad_transpose(ad_tape *t, ad_val *a);
ad_val *ad_ew_shape(ad_tape *t, ad_val *a, ad_val *b, const char *what);

/* Linear algebra (solve.c), per draw.  The inverse of a square matrix, NaN when
 * singular; ad_inverse_draws writes A's inverse for every draw into inv (A's layout) and
 * log|det A| and its sign into lad[nd] and sg[nd], with no tape node.  The solves
 * A \ B (B a vector or matrix) and B / A (B a row_vector or matrix) factor A and never
 * form its inverse; NaN when A is singular. */
ad_val *ad_inverse(ad_tape *t, ad_val *A);
int ad_inverse_draws(ad_tape *t, const ad_val *A, size_t K, double *inv, double *lad,
                     double *sg);
ad_val *ad_solve_left(ad_tape *t, ad_val *A, ad_val *B);
ad_val *ad_solve_right(ad_tape *t, ad_val *B, ad_val *A);

#endif
