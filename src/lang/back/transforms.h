/* transforms.h: constraint transforms between a parameter's unconstrained coordinates
 * and its constrained value, with the log absolute Jacobian determinant, exactly as Stan
 * defines them (Stan Reference Manual, "Constraint transforms", Stan 2.3x): lower/upper
 * bounds (exp, scaled inv_logit), offset/multiplier, ordered, positive_ordered, simplex
 * (stick-breaking with the log(K - k) centring), unit_vector, cholesky_factor_cov and
 * cov_matrix.  Each has a plain-double form (one element, for tests and inits) and a
 * batched form on the AD tape (custom nodes) used by the evaluator. */
#ifndef VI_LANG_TRANSFORMS_H
#define VI_LANG_TRANSFORMS_H

#include <stddef.h>
#include "lang/front/ast.h"
#include "lang/ad/ad.h"

/* One parameter's transform.  A parameter is nelem array elements, each csize
 * constrained values (its vector / matrix, column-major; 1 for scalars) and usize
 * unconstrained ones.  For elementwise kinds (none, bounds, offset/multiplier) the
 * whole parameter is one run of nelem * csize scalars. */
typedef struct tr_spec {
  vi_constraint con;
  int has_lb, has_ub;   /* CON_BOUNDS: lower / upper present; CON_OFFSET_MULT: offset /
                           multiplier present */
  size_t nelem;         /* number of array elements (product of array dims) */
  size_t rows, cols;    /* vectors: K x 1; matrices: rows x cols; scalars: 1 x 1 */
  size_t csize, usize;  /* constrained / unconstrained values per array element */
  double *scratch;      /* tape form only: the reverse step's work space (arena) */
} tr_spec;

/* Fill spec; VI_SUCCESS or VI_EDATA with why (e.g. a simplex of size 0). */
int tr_spec_init(tr_spec *s, vi_constraint con, int has_lb, int has_ub, size_t nelem,
                 size_t rows, size_t cols, char *why, size_t whylen);
/* 1 if vi implements transform con (others are VI_EUNSUPPORTED at compile time). */
int tr_supported(vi_constraint con);
const char *tr_name(vi_constraint con);

/* Plain doubles, one array element (for elementwise kinds: csize scalars with the same
 * bounds lb, ub; for offset/multiplier lb = offset, ub = multiplier).  Returns the
 * log-Jacobian. */
double tr_constrain_d(const tr_spec *s, const double *u, double lb, double ub, double *x);
/* Inverse: constrained x -> u.  VI_SUCCESS, or VI_EDATA if x violates the constraint. */
int tr_unconstrain_d(const tr_spec *s, const double *x, double lb, double ub, double *u);

/* Check one draw s of a constrained value v against the constraint (bounds lb / ub may
 * be NULL, scalars or shaped like v, and varying or not).  Returns -1 if it holds, else
 * the 0-based element index of the violation and a message in why ("is -1, must be >=
 * 0"). */
long tr_check(const tr_spec *s, const ad_val *v, size_t draw, const ad_val *lb,
              const ad_val *ub, char *why, size_t whylen);

/* Batched, on the tape: the constrained value (shape type/ndims/dims, varying) from
 * z's elements [off, off + nelem * usize) for every draw; lb / ub as for tr_check (for
 * offset/multiplier: offset, multiplier).  *logj gets the log-Jacobian per draw (a
 * varying scalar) or NULL when it is identically 0.  NULL with ad_tape_error on a shape
 * mismatch of the bounds. */
ad_val *tr_constrain(ad_tape *t, const tr_spec *s, vi_type type, int ndims,
                     const size_t *dims, ad_val *z, size_t off, ad_val *lb, ad_val *ub,
                     ad_val **logj);

#endif
