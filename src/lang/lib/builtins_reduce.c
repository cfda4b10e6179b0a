/* builtins_reduce.c: the reductions (sum, mean, sd, log_sum_exp, min, max, ...) and the size
 * functions (size, num_elements, rows, cols, dims).
 * Batched over the draws with hand-written reverse-mode derivatives; meanings and
 * signatures follow the Stan Functions Reference (see math_impl.h for what these files
 * share).  A function outside its domain returns NaN, as Stan's do. */
#include "lang/ad/ad_kernels.h"
#include "lang/lib/lib.h"
#include "lang/lib/math_impl.h"
#include "lang/ad/vmath.h"

/* ---- reductions ----------------------------------------------------------------- */

static ad_val *b_sum(ad_tape *t, ad_val **a, int n)
{
  UNUSED(n);
  ad_val *y = ad_sum_all(t, a[0]);
  if (y && a[0]->type.base == VT_INT) y->type.base = VT_INT;
  return y;
}

static ad_val *b_mean(ad_tape *t, ad_val **a, int n)
{
  UNUSED(n);
  if (a[0]->len == 0) {
    ad_tape_set_error(t, "mean: argument has no elements");
    return NULL;
  }
  ad_val *s = ad_sum_all(t, a[0]);
  ad_val *c = ad_scalar(t, (double)a[0]->len, 0);
  return s && c ? ad_binary(t, OP_DIV, s, c) : NULL;
}

static void prod_backward(ad_tape *t, ad_node *node)
{
  UNUSED(t);
  ad_val *a = node->in[0], *y = node->out;
  size_t nd = y->nd, L = a->len;
  for (size_t s = 0; s < nd; s++) {
    size_t zeros = 0, zk = 0;
    double pnz = 1.0;
    for (size_t e = 0; e < L; e++) {
      double x = ad_get(a, e, s);
      if (x == 0) { zeros++; zk = e; } else pnz *= x;
    }
    double g = y->adj[s];
    if (zeros == 0)
      for (size_t e = 0; e < L; e++) *ad_adjp(a, e, s) += g * pnz / ad_get(a, e, s);
    else if (zeros == 1)
      *ad_adjp(a, zk, s) += g * pnz;
  }
}

static ad_val *b_prod(ad_tape *t, ad_val **a, int n)
{
  UNUSED(n);
  ad_val *x = a[0];
  vi_type ty = {x->type.base == VT_INT ? VT_INT : VT_REAL, 0, NULL};
  ad_val *y = ad_new_nd(t, ty, 0, NULL, x->nd, x->adj != NULL);
  if (!y) return NULL;
  for (size_t s = 0; s < x->nd; s++) {
    double p = 1.0;
    for (size_t e = 0; e < x->len; e++) p *= x->x[e * x->nd + s];
    y->x[s] = p;
  }
  ad_val *in[1] = {x};
  ad_push(t, prod_backward, y, 1, in);
  return y;
}

static void variance_backward(ad_tape *t, ad_node *node)
{
  UNUSED(t);
  ad_val *a = node->in[0], *y = node->out;
  size_t nd = y->nd, L = a->len;
  const double *mean = node->saved;
  if (L < 2) return;   /* variance of one element is the constant 0 */
  for (size_t s = 0; s < nd; s++) {
    double g = y->adj[s] * 2.0 / (double)(L - 1);
    for (size_t e = 0; e < L; e++) *ad_adjp(a, e, s) += g * (ad_get(a, e, s) - mean[s]);
  }
}

static ad_val *b_variance(ad_tape *t, ad_val **a, int n)
{
  UNUSED(n);
  ad_val *x = a[0];
  size_t L = x->len, nd = x->nd;
  if (L == 0) {
    ad_tape_set_error(t, "variance: argument has no elements");
    return NULL;
  }
  vi_type ty = {VT_REAL, 0, NULL};
  ad_val *y = ad_new_nd(t, ty, 0, NULL, nd, x->adj != NULL);
  double *mean = ad_alloc(t, nd * sizeof *mean);
  if (!y || !mean) return NULL;
  for (size_t s = 0; s < nd; s++) {
    if (L < 2) { y->x[s] = 0; mean[s] = 0; continue; }   /* as Stan's */
    double m = 0;
    for (size_t e = 0; e < L; e++) m += x->x[e * nd + s];
    m /= (double)L;
    double v = 0;
    for (size_t e = 0; e < L; e++) {
      double d = x->x[e * nd + s] - m;
      v += d * d;
    }
    mean[s] = m;
    y->x[s] = v / (double)(L - 1);
  }
  ad_val *in[1] = {x};
  ad_node *node = ad_push(t, variance_backward, y, 1, in);
  if (node) node->saved = mean;
  return y;
}

static ad_val *b_sd(ad_tape *t, ad_val **a, int n)
{
  ad_val *v = b_variance(t, a, n);
  return v ? ad_map1(t, v, sqrt, d_sqrt, 0) : NULL;
}

/* min / max over a container: the gradient goes to the (first) extreme element. */
static void argext_backward(ad_tape *t, ad_node *node)
{
  UNUSED(t);
  ad_val *a = node->in[0], *y = node->out;
  const double *idx = node->saved;
  for (size_t s = 0; s < y->nd; s++)
    if (idx[s] >= 0) *ad_adjp(a, (size_t)idx[s], s) += y->adj[s];
}

static ad_val *extreme(ad_tape *t, ad_val *x, int want_max)
{
  size_t L = x->len, nd = x->nd;
  int isint = x->type.base == VT_INT;
  vi_type ty = {isint ? VT_INT : VT_REAL, 0, NULL};
  if (L == 0) {
    if (isint) {
      ad_tape_set_error(t, "%s: argument has no elements", want_max ? "max" : "min");
      return NULL;
    }
    return ad_scalar(t, want_max ? -INFINITY : INFINITY, 0);
  }
  ad_val *y = ad_new_nd(t, ty, 0, NULL, nd, !isint && x->adj != NULL);
  double *idx = ad_alloc(t, nd * sizeof *idx);
  if (!y || !idx) return NULL;
  for (size_t s = 0; s < nd; s++) {
    size_t best = 0;
    double bv = x->x[s];
    for (size_t e = 1; e < L; e++) {
      double v = x->x[e * nd + s];
      if (isnan(v) && !isnan(bv)) { best = e; bv = v; break; }
      if (want_max ? v > bv : v < bv) { best = e; bv = v; }
    }
    if (isnan(bv)) {
      for (size_t e = 0; e < L; e++)
        if (isnan(x->x[e * nd + s])) { best = e; break; }
    }
    y->x[s] = bv;
    idx[s] = (double)best;
  }
  ad_val *in[1] = {x};
  ad_node *node = ad_push(t, argext_backward, y, 1, in);
  if (node) node->saved = idx;
  return y;
}
static ad_val *b_max1(ad_tape *t, ad_val **a, int n) { UNUSED(n); return extreme(t, a[0], 1); }
static ad_val *b_min1(ad_tape *t, ad_val **a, int n) { UNUSED(n); return extreme(t, a[0], 0); }

/* log_sum_exp of a container per draw, the draws in blocks so that the exps and the log
 * of a block go through vmath's vector routines (they were most of a mixture's pass:
 * `log_sum_exp(lps)` per observation over the folded draws of loop_vec.c). */
#define LSE_BLOCK 256

static void lse_backward(ad_tape *t, ad_node *node)
{
  UNUSED(t);
  ad_val *a = node->in[0], *y = node->out;
  size_t nd = y->nd, L = a->len;
  double w[LSE_BLOCK];
  for (size_t s0 = 0; s0 < nd; s0 += LSE_BLOCK) {
    size_t b = nd - s0 < LSE_BLOCK ? nd - s0 : LSE_BLOCK;
    const double *ys = y->x + s0, *gs = y->adj + s0;
    for (size_t e = 0; e < L; e++) {   /* (y has a's draws) */
      const double *xe = a->x + e * nd + s0;
      double *ae = a->adj + e * nd + s0;
      VI_SIMD
      for (size_t s = 0; s < b; s++) w[s] = xe[s] - ys[s];
      vmath_exp(w, w, b);
      for (size_t s = 0; s < b; s++)
        if (isfinite(ys[s])) ae[s] += gs[s] * w[s];
    }
  }
}

ad_val *math_log_sum_exp(ad_tape *t, ad_val **a, int n)
{
  UNUSED(n);
  ad_val *x = a[0];
  size_t L = x->len, nd = x->nd;
  vi_type ty = {VT_REAL, 0, NULL};
  ad_val *y = ad_new_nd(t, ty, 0, NULL, nd, x->adj != NULL);
  if (!y) return NULL;
  double m[LSE_BLOCK], acc[LSE_BLOCK], w[LSE_BLOCK];
  for (size_t s0 = 0; s0 < nd; s0 += LSE_BLOCK) {
    size_t b = nd - s0 < LSE_BLOCK ? nd - s0 : LSE_BLOCK;
    for (size_t s = 0; s < b; s++) { m[s] = -INFINITY; acc[s] = 0; }
    for (size_t e = 0; e < L; e++) {
      const double *xe = x->x + e * nd + s0;
      for (size_t s = 0; s < b; s++)
        if (xe[s] > m[s] || isnan(xe[s])) m[s] = xe[s];
    }
    for (size_t e = 0; e < L; e++) {
      const double *xe = x->x + e * nd + s0;
      VI_SIMD
      for (size_t s = 0; s < b; s++) w[s] = xe[s] - m[s];
      vmath_exp(w, w, b);
      VI_SIMD
      for (size_t s = 0; s < b; s++) acc[s] += w[s];
    }
    vmath_log(acc, acc, b);
    /* a max that is not finite is the result itself (-inf: every element -inf) */
    for (size_t s = 0; s < b; s++) y->x[s0 + s] = isfinite(m[s]) ? m[s] + acc[s] : m[s];
  }
  ad_val *in[1] = {x};
  ad_push(t, lse_backward, y, 1, in);
  ad_mark_shared(y);
  return y;
}

/* ---- sizes ---------------------------------------------------------------------- */

static ad_val *b_num_elements(ad_tape *t, ad_val **a, int n)
{
  UNUSED(n);
  return ad_scalar(t, (double)a[0]->len, 1);
}
static ad_val *b_size(ad_tape *t, ad_val **a, int n)
{
  UNUSED(n);
  /* arrays: the first dimension; vectors and matrices: all elements (Stan's size). */
  return ad_scalar(t, a[0]->type.ndims ? (double)a[0]->dims[0] : (double)a[0]->len, 1);
}
static ad_val *b_rows(ad_tape *t, ad_val **a, int n)
{
  UNUSED(n);
  size_t r, c;
  ad_shape2(a[0], &r, &c);
  return ad_scalar(t, (double)r, 1);
}
static ad_val *b_cols(ad_tape *t, ad_val **a, int n)
{
  UNUSED(n);
  size_t r, c;
  ad_shape2(a[0], &r, &c);
  return ad_scalar(t, (double)c, 1);
}
static ad_val *b_dims(ad_tape *t, ad_val **a, int n)
{
  UNUSED(n);
  /* Array dims, then rows and columns for any vector or matrix (as Stan: a vector[3]
   * has dims {3, 1}, a row_vector[3] {1, 3}). */
  const ad_val *v = a[0];
  vi_type ty = {VT_INT, 1, NULL};
  int A = v->type.ndims, vecmat = v->type.base == VT_VECTOR ||
                                  v->type.base == VT_ROW_VECTOR || v->type.base == VT_MATRIX;
  size_t d = (size_t)A + (vecmat ? 2 : 0);
  ad_val *y = ad_new_nd(t, ty, 1, &d, 1, 0);
  if (!y) return NULL;
  for (int i = 0; i < A; i++) y->x[i] = (double)v->dims[i];
  if (vecmat) {
    size_t r, c;
    ad_shape2(v, &r, &c);
    y->x[A] = (double)r;
    y->x[A + 1] = (double)c;
  }
  return y;
}

#define BUILTIN(name, sig, impl) {name, sig, impl},
const builtin_def builtin_kernels_reduce[] = {
#include "lang/lib/table_reduce.def"
  {NULL, NULL, NULL}
};
#undef BUILTIN
