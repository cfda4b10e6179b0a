/* ad.h: src/lang/ad/, batched reverse-mode automatic differentiation for the model
 * language: the tape, its arena and gathers (ad.c), the operators (operators.c), complex
 * values and their operators (complex.c), linear
 * solves and the inverse (solve.c; declared with the kernel helpers in ad_kernels.h).  May include: lang/types.h, GSL
 * and CBLAS; never front/, lib/ or back/.
 *
 * Every value carries a draw axis: a value with len elements holds len * nd doubles,
 * element e of draw s at x[e * nd + s], where nd is 1 (the same for every draw: data,
 * literals) or the tape's n (varies by draw: anything computed from parameters).  So an
 * op is interpreted once and loops over all n draws inside, and `data matrix * parameter
 * vector` over all draws is one GEMM.
 *
 * Element order within a value: array dimensions first, row-major (arr[i] is one
 * contiguous block), then vectors by element and matrices column-major.
 *
 * Values and nodes live in the tape's arena, which is reset (not freed) between
 * evaluations: no malloc in the hot loop once the arena has grown to size.  Persistent
 * values (data) are made with ad_val_new_persistent and freed by their owner.
 *
 * In-place element assignment (`mu[i] = ...` in a loop) writes into the container when
 * nothing has saved it for the reverse sweep (ad_val.shared == 0), else it copies first;
 * the write's reverse step moves the element's adjoint to the right-hand side and zeroes
 * it.  Every op except indexing marks its inputs shared. */
#ifndef VI_LANG_AD_H
#define VI_LANG_AD_H

#include <stddef.h>
#include <gsl/gsl_rng.h>
#include "lang/types.h"

#define AD_MAX_DIMS 8

typedef struct ad_val {
  double *x;        /* values, len * nd */
  double *adj;      /* adjoints, same layout; NULL: no gradient flows through */
  size_t len;       /* elements per draw (product of dims; 1 for a scalar) */
  size_t nd;        /* 1 or the tape's n */
  vi_type type;     /* VT_INT values are stored as doubles holding integers */
  int ndims;        /* type_rank(type) */
  size_t dims[AD_MAX_DIMS];  /* array dims, then rows (vector: len; row_vector: 1 x len
                                stored as dims {len}), then cols for a matrix */
  int shared;       /* saved by an op: copy before an in-place write */
  int persistent;   /* not in the arena (data): never written in place */
  struct ad_val **el;  /* VT_TUPLE: the elements, len * type.tup->n of them (array
                          element i's k-th at el[i * n + k]); x is unused.  A persistent
                          tuple owns its (persistent) elements. */
} ad_val;

typedef struct ad_tape ad_tape;
typedef struct ad_node ad_node;
typedef void (*ad_backward_fn)(ad_tape *t, ad_node *node);

/* One recorded op.  Custom ops (transforms, densities) fill what they need. */
struct ad_node {
  ad_backward_fn backward;
  ad_val *out;
  ad_val *in[4]; int nin;
  double *saved;    /* op-specific saved values (arena) */
  long iarg[4];     /* op-specific integers */
  void *ptr;        /* op-specific pointer (arena) */
};

ad_tape *ad_tape_alloc(void);
void ad_tape_free(ad_tape *t);
/* Start an evaluation over n draws.  grad: record the reverse sweep.  Resets the arena. */
void ad_tape_reset(ad_tape *t, size_t n, int grad);
size_t ad_tape_n(const ad_tape *t);
/* Change the draw count new values get (ad_new's varying nd) and return the old one.
 * For a caller that folds another axis into the draw axis for a while (back/loop_vec.c:
 * loop iterations x draws); values already made keep their nd. */
size_t ad_tape_set_n(ad_tape *t, size_t n);
int ad_tape_recording(const ad_tape *t);
/* Run the reverse sweep over everything recorded since reset.  The caller seeds the
 * output's adj (e.g. 1 for every draw of the log density) before calling. */
void ad_tape_backward(ad_tape *t);
/* A sub-evaluation (an ODE right-hand side and its Jacobian, evaluated off the main
 * sweep): ad_tape_mark remembers the tape's state and the recording flag;
 * ad_tape_backward_since runs the reverse sweep over the nodes recorded since;
 * ad_tape_zero_adj zeroes the adjoints of every value made since (for the next sweep);
 * ad_tape_release forgets the nodes, values and arena memory since the mark and restores
 * the recording flag (ad_tape_unmark keeps them).  Marks nest; nothing made since a mark may be used after its
 * release.  ad_tape_set_recording turns recording on inside a mark (a Jacobian is
 * needed even when the pass wants no gradient). */
typedef struct ad_mark {
  size_t nnodes, cur, used, ntracked;
  int grad, track;
} ad_mark;
/* track: keep the list ad_tape_zero_adj needs (only for repeated sweeps) */
void ad_tape_mark(ad_tape *t, ad_mark *m, int track);
void ad_tape_backward_since(ad_tape *t, const ad_mark *m);
void ad_tape_zero_adj(ad_tape *t, const ad_mark *m);
void ad_tape_release(ad_tape *t, const ad_mark *m);
/* Close a mark and keep everything recorded since (the sub-evaluation stands). */
void ad_tape_unmark(ad_tape *t, const ad_mark *m);
void ad_tape_set_recording(ad_tape *t, int grad);
/* Arena memory, 16-byte aligned, valid until the next reset.  NULL on OOM. */
void *ad_alloc(ad_tape *t, size_t bytes);
/* Bytes the tape holds (arena chunks and node list): constant once warmed up. */
size_t ad_tape_arena_bytes(const ad_tape *t);
/* Bytes this evaluation has used so far (of the above). */
size_t ad_tape_used_bytes(const ad_tape *t);
/* The most it may hold: ad_alloc fails with an out-of-memory error beyond it.  Default
 * (and bytes = 0): half the machine's physical memory. */
void ad_tape_set_limit(ad_tape *t, size_t bytes);
size_t ad_default_limit(void);
/* OpenBLAS's thread count (process-wide): set it to n (n <= 0: leave it), return the
 * previous one (0 when the BLAS cannot say).  blas_threads.c. */
int ad_blas_threads_set(int n);
/* RNG used by _rng functions (set by the evaluator; may be NULL outside generated
 * quantities). */
void ad_tape_set_rng(ad_tape *t, gsl_rng *rng);
gsl_rng *ad_tape_rng(ad_tape *t);
/* Errors inside ops (shape mismatch, invalid argument that is not a density domain
 * error): an op returns NULL and sets this message. */
void ad_tape_set_error(ad_tape *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
const char *ad_tape_error(const ad_tape *t);
/* Forget the error (a caller that released everything since a mark and starts over). */
void ad_tape_clear_error(ad_tape *t);

/* A new value in the arena: varying (nd = n) or not (nd = 1); with an adjoint array
 * (zeroed) when with_adj and the tape is recording.  x is uninitialised. */
ad_val *ad_new(ad_tape *t, vi_type type, int ndims, const size_t *dims, int varying,
               int with_adj);
/* A new value shaped like v. */
ad_val *ad_new_like(ad_tape *t, const ad_val *v, int varying, int with_adj);
ad_val *ad_scalar(ad_tape *t, double v, int is_int);   /* constant int or real */
/* Record a node (no-op returning NULL when not recording or no input has an adjoint). */
ad_node *ad_push(ad_tape *t, ad_backward_fn fn, ad_val *out, int nin, ad_val **in);
/* The same for a node whose reverse step reads no value of its inputs, only their
 * shapes (a gather): they stay writable in place, as after indexing. */
ad_node *ad_push_keep(ad_tape *t, ad_backward_fn fn, ad_val *out, int nin, ad_val **in);

/* Persistent values (data, transformed data): malloc'd, freed with ad_val_free. */
ad_val *ad_val_new_persistent(vi_type type, int ndims, const size_t *dims);
/* The same over x (malloc'd, one double per element), which the value then owns. */
ad_val *ad_val_adopt_persistent(vi_type type, int ndims, const size_t *dims, double *x);
void ad_val_free(ad_val *v);
/* Copy v into the arena (persistent or not), same nd. */
ad_val *ad_copy(ad_tape *t, const ad_val *v);

/* Arithmetic, comparison, logic with Stan's semantics (int/int division truncates,
 * int^int is real, matrix product for OP_MUL on vectors/matrices, elementwise .* ./).
 * Returns NULL (with ad_tape_error) on a shape mismatch. */
ad_val *ad_binary(ad_tape *t, vi_op op, ad_val *a, ad_val *b);
ad_val *ad_unary(ad_tape *t, vi_op op, ad_val *a);
/* a op b elementwise for every operator but && and || (a scalar operand broadcasts),
 * whatever the containers: the scalar operators' arithmetic on same-shaped values. */
ad_val *ad_elementwise(ad_tape *t, vi_op op, ad_val *a, ad_val *b);
/* int -> real (same shape); other conversions are errors. */
ad_val *ad_to_real(ad_tape *t, ad_val *a);
/* Sum of all elements, per draw: a scalar real. */
ad_val *ad_sum_all(ad_tape *t, ad_val *a);

/* Indexing.  Each index is one position (0-based) or a list of positions; bounds have
 * been checked by the caller.  A single index drops a dimension, a list keeps it. */
/* (The type is ad_ix, not ad_index: C does not allow a typedef and a function of the
 * same name.) */
typedef struct ad_ix {
  int multi;            /* 0: single position pos0; 1: list pos[0..npos-1] */
  size_t pos0;
  const size_t *pos; size_t npos;
} ad_ix;
ad_val *ad_index(ad_tape *t, ad_val *a, const ad_ix *ix, int nix);
/* container[ix] = rhs, in place when allowed (see above).  rhs is converted int->real
 * and broadcast to varying as needed; returns the container to use from now on (the
 * same or a copy).  NULL on shape mismatch. */
ad_val *ad_assign_index(ad_tape *t, ad_val *container, const ad_ix *ix, int nix,
                        ad_val *rhs);
/* Make a value varying (nd = n) with an adjoint, copying it. */
ad_val *ad_make_varying(ad_tape *t, ad_val *a);

/* ---- complex values (complex.c; the storage is described in types.h) ---------------
 * ad_binary and ad_unary send complex operands here; the library uses the rest. */
typedef _Complex double (*ad_cfn)(_Complex double z);
enum { AD_CX_REAL, AD_CX_IMAG, AD_CX_ABS, AD_CX_ARG, AD_CX_NORM };
enum { AD_CX_PAIR, AD_CX_POLAR };
/* Complex elements of v (len / 2 for a complex value, len otherwise). */
size_t ad_cx_count(const ad_val *v);
/* New complex (real) value shaped like shape, real or complex; x uninitialised. */
ad_val *ad_cx_like(ad_tape *t, const ad_val *shape, size_t nd, int with_adj);
ad_val *ad_re_like(ad_tape *t, const ad_val *shape, size_t nd, int with_adj);
/* int/real value -> complex of the same shape (complex values are returned as is). */
ad_val *ad_to_complex(ad_tape *t, ad_val *a);
ad_val *ad_cx_binary(ad_tape *t, vi_op op, ad_val *a, ad_val *b);
ad_val *ad_cx_unary(ad_tape *t, vi_op op, ad_val *a);
/* Elementwise holomorphic f with derivative df (reverse: zbar += conj(df(z)) wbar). */
ad_val *ad_cx_map1(ad_tape *t, ad_val *a, ad_cfn f, ad_cfn df);
/* A real value per element: AD_CX_REAL, _IMAG, _ABS, _ARG, _NORM (|z|^2). */
ad_val *ad_cx_part(ad_tape *t, ad_val *a, int kind);
/* Complex from two reals (same shape or scalars): AD_CX_PAIR p + iq, AD_CX_POLAR
 * p e^{iq}. */
ad_val *ad_cx_from_pair(ad_tape *t, ad_val *p, ad_val *q, int kind);
ad_val *ad_cx_conj(ad_tape *t, ad_val *a);
ad_val *ad_cx_transpose(ad_tape *t, ad_val *a);
/* [z1, z2, ...] with complex (or real) scalars, or complex row vectors (a matrix). */
ad_val *ad_cx_row_vector_literal(ad_tape *t, ad_val **elems, int n);

/* Literals: [a, b, ...] (scalars -> row_vector, row_vectors -> matrix) and {a, b, ...}
 * (array of equal-shaped values). */
ad_val *ad_row_vector_literal(ad_tape *t, ad_val **elems, int n);
ad_val *ad_array_literal(ad_tape *t, ad_val **elems, int n);

#endif
