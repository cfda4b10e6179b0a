/* builtins_containers.c: building and reshaping containers (rep_*, to_vector, append_*, segment,
 * linspaced_*, one_hot_*, ...), products and sums by group (rows_dot_product,
 * diag_pre_multiply, ...) and sequences (cumulative_sum, softmax, sort, rank).
 * Batched over the draws with hand-written reverse-mode derivatives; meanings and
 * signatures follow the Stan Functions Reference (see math_impl.h for what these files
 * share).  A function outside its domain returns NaN, as Stan's do. */
#include "lang/ad/ad_kernels.h"
#include "lang/lib/lib.h"
#include "lang/lib/math_impl.h"

/* ---- containers: construction and reshaping (pure data movement) ----------------- */


static int check_size(ad_tape *t, const char *fn, long n)
{
  if (n < 0) {
    ad_tape_set_error(t, "%s: size must be non-negative, found %ld", fn, n);
    return -1;
  }
  return 0;
}

/* out = src gathered through ii (out->len indexes), out typed ty/dims. */
ad_val *math_gather_new(ad_tape *t, vi_type ty, int ndims, const size_t *dims,
                          ad_val *src, const size_t *ii)
{
  ad_val *out = ad_new_nd(t, ty, ndims, dims, src->nd, src->adj != NULL);
  if (!out) return NULL;
  ad_gather(t, out, src, out->len, NULL, ii);
  return out;
}

size_t *math_idx_alloc(ad_tape *t, size_t n)
{
  return ad_alloc(t, nz1(n) * sizeof(size_t));
}

/* rep_vector(x, n), rep_row_vector(x, n) */
static ad_val *rep_vec(ad_tape *t, ad_val **a, vi_basetype b, const char *fn)
{
  long n = int_arg(a[1]);
  if (check_size(t, fn, n)) return NULL;
  size_t d = (size_t)n;
  size_t *ii = math_idx_alloc(t, d);
  if (!ii) return NULL;
  memset(ii, 0, nz1(d) * sizeof *ii);
  ad_val *x = a[0];
  if (x->type.base == VT_INT) x = ad_to_real(t, x);
  return x ? math_gather_new(t, ty_of(b, 0), 1, &d, x, ii) : NULL;
}
static ad_val *b_rep_vector(ad_tape *t, ad_val **a, int n) { UNUSED(n); return rep_vec(t, a, VT_VECTOR, "rep_vector"); }
static ad_val *b_rep_row_vector(ad_tape *t, ad_val **a, int n) { UNUSED(n); return rep_vec(t, a, VT_ROW_VECTOR, "rep_row_vector"); }

/* rep_matrix(x, m, n), rep_matrix(vector v, n) (n columns v), rep_matrix(row_vector, m) */
static ad_val *b_rep_matrix(ad_tape *t, ad_val **a, int nargs)
{
  ad_val *x = a[0];
  size_t dims[2];
  if (x->type.base == VT_INT) x = ad_to_real(t, x);
  if (!x) return NULL;
  if (nargs == 3) {
    long m = int_arg(a[1]), n = int_arg(a[2]);
    if (check_size(t, "rep_matrix", m) || check_size(t, "rep_matrix", n)) return NULL;
    dims[0] = (size_t)m; dims[1] = (size_t)n;
    size_t *ii = math_idx_alloc(t, dims[0] * dims[1]);
    if (!ii) return NULL;
    memset(ii, 0, nz1(dims[0] * dims[1]) * sizeof *ii);
    return math_gather_new(t, ty_of(VT_MATRIX, 0), 2, dims, x, ii);
  }
  long k = int_arg(a[1]);
  if (check_size(t, "rep_matrix", k)) return NULL;
  size_t L = x->len;
  int isvec = x->type.base == VT_VECTOR;
  dims[0] = isvec ? L : (size_t)k;
  dims[1] = isvec ? (size_t)k : L;
  size_t tot = dims[0] * dims[1];
  size_t *ii = math_idx_alloc(t, tot);
  if (!ii) return NULL;
  for (size_t j = 0; j < dims[1]; j++)
    for (size_t i = 0; i < dims[0]; i++) ii[i + j * dims[0]] = isvec ? i : j;
  return math_gather_new(t, ty_of(VT_MATRIX, 0), 2, dims, x, ii);
}

/* rep_array(x, n), rep_array(x, m, n), rep_array(x, k, m, n): x of any type. */
static ad_val *b_rep_array(ad_tape *t, ad_val **a, int nargs)
{
  ad_val *x = a[0];
  int k = nargs - 1;
  if (x->ndims + k > AD_MAX_DIMS) {
    ad_tape_set_error(t, "rep_array: too many dimensions");
    return NULL;
  }
  size_t dims[AD_MAX_DIMS], reps = 1;
  for (int i = 0; i < k; i++) {
    long n = int_arg(a[1 + i]);
    if (check_size(t, "rep_array", n)) return NULL;
    dims[i] = (size_t)n;
    if (n && reps > ((size_t)1 << 40) / (size_t)n) {
      ad_tape_set_error(t, "rep_array: too many elements");
      return NULL;
    }
    reps *= (size_t)n;
  }
  for (int i = 0; i < x->ndims; i++) dims[k + i] = x->dims[i];
  size_t L = x->len, tot = reps * L;
  size_t *ii = math_idx_alloc(t, tot);
  if (!ii) return NULL;
  for (size_t r = 0; r < reps; r++)
    for (size_t e = 0; e < L; e++) ii[r * L + e] = e;
  return math_gather_new(t, ty_of(x->type.base, x->type.ndims + k), x->ndims + k, dims, x, ii);
}

/* Same elements, new type (to_vector, to_row_vector, to_array_1d on vectors/matrices,
 * which all keep the column-major order). */
ad_val *math_retype(ad_tape *t, ad_val *x, vi_type ty, int ndims, const size_t *dims)
{
  if (x->type.base == VT_INT && ty.base != VT_INT) {
    x = ad_to_real(t, x);
    if (!x) return NULL;
  }
  return math_gather_new(t, ty, ndims, dims, x, NULL);
}
static ad_val *b_to_vector(ad_tape *t, ad_val **a, int n)
{
  UNUSED(n);
  size_t d = a[0]->len;
  return math_retype(t, a[0], ty_of(VT_VECTOR, 0), 1, &d);
}
static ad_val *b_to_row_vector(ad_tape *t, ad_val **a, int n)
{
  UNUSED(n);
  size_t d = a[0]->len;
  return math_retype(t, a[0], ty_of(VT_ROW_VECTOR, 0), 1, &d);
}
static ad_val *b_to_array_1d(ad_tape *t, ad_val **a, int n)
{
  UNUSED(n);
  size_t d = a[0]->len;
  vi_basetype b = a[0]->type.base == VT_INT ? VT_INT : VT_REAL;
  return math_retype(t, a[0], ty_of(b, 1), 1, &d);
}
/* to_array_2d(matrix): rows of the matrix as a real[,] (row-major). */
static ad_val *b_to_array_2d(ad_tape *t, ad_val **a, int n)
{
  UNUSED(n);
  size_t r, c;
  ad_shape2(a[0], &r, &c);
  size_t dims[2] = {r, c};
  size_t *ii = math_idx_alloc(t, r * c);
  if (!ii) return NULL;
  for (size_t i = 0; i < r; i++)
    for (size_t j = 0; j < c; j++) ii[i * c + j] = i + j * r;
  return math_gather_new(t, ty_of(VT_REAL, 2), 2, dims, a[0], ii);
}

/* to_matrix(m), to_matrix(v, m, n) (column-major fill), to_matrix(real[,]) (rows). */
static ad_val *b_to_matrix(ad_tape *t, ad_val **a, int nargs)
{
  ad_val *x = a[0];
  if (x->type.base == VT_INT) x = ad_to_real(t, x);
  if (!x) return NULL;
  size_t dims[2];
  if (nargs >= 3) {
    long m = int_arg(a[1]), n = int_arg(a[2]);
    if (check_size(t, "to_matrix", m) || check_size(t, "to_matrix", n)) return NULL;
    if ((size_t)m * (size_t)n != x->len) {
      ad_tape_set_error(t, "to_matrix: %zu elements cannot fill a %ld x %ld matrix", x->len,
                        m, n);
      return NULL;
    }
    dims[0] = (size_t)m; dims[1] = (size_t)n;
    if (nargs == 4 && int_arg(a[3]) == 0) {   /* row-major fill */
      size_t *ii = math_idx_alloc(t, x->len);
      if (!ii) return NULL;
      for (size_t i = 0; i < dims[0]; i++)
        for (size_t j = 0; j < dims[1]; j++) ii[i + j * dims[0]] = i * dims[1] + j;
      return math_gather_new(t, ty_of(VT_MATRIX, 0), 2, dims, x, ii);
    }
    return math_gather_new(t, ty_of(VT_MATRIX, 0), 2, dims, x, NULL);
  }
  if (x->type.ndims == 2) {   /* real[r, c]: row-major storage */
    dims[0] = x->dims[0]; dims[1] = x->dims[1];
    size_t *ii = math_idx_alloc(t, x->len);
    if (!ii) return NULL;
    for (size_t i = 0; i < dims[0]; i++)
      for (size_t j = 0; j < dims[1]; j++) ii[i + j * dims[0]] = i * dims[1] + j;
    return math_gather_new(t, ty_of(VT_MATRIX, 0), 2, dims, x, ii);
  }
  ad_shape2(x, &dims[0], &dims[1]);
  return math_gather_new(t, ty_of(VT_MATRIX, 0), 2, dims, x, NULL);
}

/* First-dimension slices of vectors, row vectors and arrays: head, tail, segment,
 * reverse.  An element of the first dimension is a block of len / dims[0] elements. */
static ad_val *slice_first(ad_tape *t, ad_val *x, size_t start, size_t n, int rev,
                           const char *fn)
{
  size_t d0 = x->ndims ? x->dims[0] : 1;
  if (start > d0 || n > d0 - start) {
    ad_tape_set_error(t, "%s: range [%zu, %zu] out of bounds for size %zu", fn, start + 1,
                      start + n, d0);
    return NULL;
  }
  size_t block = d0 ? x->len / d0 : 0;
  size_t dims[AD_MAX_DIMS];
  for (int i = 0; i < x->ndims; i++) dims[i] = x->dims[i];
  dims[0] = n;
  size_t *ii = math_idx_alloc(t, n * block);
  if (!ii) return NULL;
  for (size_t k = 0; k < n; k++)
    for (size_t b = 0; b < block; b++)
      ii[k * block + b] = (rev ? d0 - 1 - k : start + k) * block + b;
  return math_gather_new(t, x->type, x->ndims, dims, x, ii);
}
static ad_val *b_head(ad_tape *t, ad_val **a, int n)
{
  UNUSED(n);
  long k = int_arg(a[1]);
  if (check_size(t, "head", k)) return NULL;
  return slice_first(t, a[0], 0, (size_t)k, 0, "head");
}
static ad_val *b_tail(ad_tape *t, ad_val **a, int n)
{
  UNUSED(n);
  long k = int_arg(a[1]);
  size_t d0 = a[0]->ndims ? a[0]->dims[0] : 1;
  if (check_size(t, "tail", k)) return NULL;
  if ((size_t)k > d0) {
    ad_tape_set_error(t, "tail: %ld elements requested from size %zu", k, d0);
    return NULL;
  }
  return slice_first(t, a[0], d0 - (size_t)k, (size_t)k, 0, "tail");
}
static ad_val *b_segment(ad_tape *t, ad_val **a, int n)
{
  UNUSED(n);
  long i = int_arg(a[1]), k = int_arg(a[2]);
  if (i < 1) {
    ad_tape_set_error(t, "segment: start %ld must be at least 1", i);
    return NULL;
  }
  if (check_size(t, "segment", k)) return NULL;
  return slice_first(t, a[0], (size_t)i - 1, (size_t)k, 0, "segment");
}
static ad_val *b_reverse(ad_tape *t, ad_val **a, int n)
{
  UNUSED(n);
  size_t d0 = a[0]->ndims ? a[0]->dims[0] : 1;
  return slice_first(t, a[0], 0, d0, 1, "reverse");
}

/* append_row / append_col: each operand seen as r x c (a scalar is 1 x 1). */
static ad_val *append2(ad_tape *t, ad_val *A, ad_val *B, int by_row)
{
  if (A->type.base == VT_INT) A = ad_to_real(t, A);
  if (B && B->type.base == VT_INT) B = ad_to_real(t, B);
  if (!A || !B) return NULL;
  size_t ra, ca, rb, cb;
  ad_shape2(A, &ra, &ca);
  ad_shape2(B, &rb, &cb);
  vi_basetype ba = A->type.base, bb = B->type.base, rt;
  size_t R, C;
  if (by_row) {
    if (ca != cb) {
      ad_tape_set_error(t, "append_row: column counts differ (%zu and %zu)", ca, cb);
      return NULL;
    }
    R = ra + rb; C = ca;
    rt = (ba == VT_VECTOR || ba == VT_REAL) && (bb == VT_VECTOR || bb == VT_REAL)
         ? VT_VECTOR : VT_MATRIX;
  } else {
    if (ra != rb) {
      ad_tape_set_error(t, "append_col: row counts differ (%zu and %zu)", ra, rb);
      return NULL;
    }
    R = ra; C = ca + cb;
    rt = (ba == VT_ROW_VECTOR || ba == VT_REAL) && (bb == VT_ROW_VECTOR || bb == VT_REAL)
         ? VT_ROW_VECTOR : VT_MATRIX;
  }
  size_t nd = ad_nd2(A, B);
  ad_val *out = ad_new_mat(t, rt, R, C, nd, A->adj || B->adj);
  if (!out) return NULL;
  size_t *oa = math_idx_alloc(t, ra * ca), *ob = math_idx_alloc(t, rb * cb);
  if (!oa || !ob) return NULL;
  for (size_t j = 0; j < ca; j++)
    for (size_t i = 0; i < ra; i++) oa[i + j * ra] = i + j * R;
  for (size_t j = 0; j < cb; j++)
    for (size_t i = 0; i < rb; i++)
      ob[i + j * rb] = by_row ? (ra + i) + j * R : i + (ca + j) * R;
  ad_gather(t, out, A, ra * ca, oa, NULL);
  ad_gather(t, out, B, rb * cb, ob, NULL);
  return out;
}
static ad_val *b_append_row(ad_tape *t, ad_val **a, int n) { UNUSED(n); return append2(t, a[0], a[1], 1); }
static ad_val *b_append_col(ad_tape *t, ad_val **a, int n) { UNUSED(n); return append2(t, a[0], a[1], 0); }

/* append_array(a, b): arrays of equal element shape. */
static ad_val *b_append_array(ad_tape *t, ad_val **a, int n)
{
  UNUSED(n);
  ad_val *A = a[0], *B = a[1];
  if (A->type.base != B->type.base) {
    if (A->type.base == VT_INT) A = ad_to_real(t, A);
    if (B->type.base == VT_INT) B = ad_to_real(t, B);
    if (!A || !B) return NULL;
  }
  int ok = A->ndims == B->ndims;
  for (int i = 1; ok && i < A->ndims; i++) ok = A->dims[i] == B->dims[i];
  if (!ok) {
    ad_tape_set_error(t, "append_array: element sizes differ");
    return NULL;
  }
  size_t dims[AD_MAX_DIMS];
  for (int i = 0; i < A->ndims; i++) dims[i] = A->dims[i];
  dims[0] = A->dims[0] + B->dims[0];
  ad_val *out = ad_new_nd(t, A->type, A->ndims, dims, ad_nd2(A, B), A->adj || B->adj);
  if (!out) return NULL;
  size_t *ob = math_idx_alloc(t, B->len);
  if (!ob) return NULL;
  for (size_t e = 0; e < B->len; e++) ob[e] = A->len + e;
  ad_gather(t, out, A, A->len, NULL, NULL);
  ad_gather(t, out, B, B->len, ob, NULL);
  return out;
}

static ad_val *b_diag_matrix(ad_tape *t, ad_val **a, int n)
{
  UNUSED(n);
  ad_val *v = a[0];
  size_t K = v->len;
  ad_val *out = ad_new_mat(t, VT_MATRIX, K, K, v->nd, v->adj != NULL);
  size_t *oi = math_idx_alloc(t, K);
  if (!out || !oi) return NULL;
  memset(out->x, 0, K * K * v->nd * sizeof(double));
  for (size_t i = 0; i < K; i++) oi[i] = i + i * K;
  ad_gather(t, out, v, K, oi, NULL);
  return out;
}

ad_val *math_diagonal(ad_tape *t, ad_val **a, int n)
{
  UNUSED(n);
  size_t r, c;
  ad_shape2(a[0], &r, &c);
  size_t K = r < c ? r : c;
  size_t *ii = math_idx_alloc(t, K);
  if (!ii) return NULL;
  for (size_t i = 0; i < K; i++) ii[i] = i + i * r;
  return math_gather_new(t, ty_of(VT_VECTOR, 0), 1, &K, a[0], ii);
}

ad_val *math_identity_matrix(ad_tape *t, ad_val **a, int n)
{
  UNUSED(n);
  long k = int_arg(a[0]);
  if (check_size(t, "identity_matrix", k)) return NULL;
  size_t K = (size_t)k;
  ad_val *out = ad_new_mat(t, VT_MATRIX, K, K, 1, 0);
  if (!out) return NULL;
  memset(out->x, 0, K * K * sizeof(double));
  for (size_t i = 0; i < K; i++) out->x[i + i * K] = 1.0;
  return out;
}

/* linspaced_vector(n, lo, hi) and friends: data only. */
static ad_val *linspaced(ad_tape *t, ad_val **a, vi_type ty)
{
  long k = int_arg(a[0]);
  if (check_size(t, "linspaced", k)) return NULL;
  size_t K = (size_t)k;
  size_t nd = ad_nd2(a[1], a[2]);
  ad_val *out = ad_new_nd(t, ty, 1, &K, nd, 0);   /* data-only in Stan: no gradient */
  if (!out) return NULL;
  for (size_t s = 0; s < nd; s++) {
    double lo = ad_get(a[1], 0, s), hi = ad_get(a[2], 0, s);
    for (size_t i = 0; i < K; i++)
      out->x[i * nd + s] = K == 1 ? hi : lo + (hi - lo) * (double)i / (double)(K - 1);
  }
  return out;
}
static ad_val *b_linspaced_vector(ad_tape *t, ad_val **a, int n) { UNUSED(n); return linspaced(t, a, ty_of(VT_VECTOR, 0)); }
static ad_val *b_linspaced_row_vector(ad_tape *t, ad_val **a, int n) { UNUSED(n); return linspaced(t, a, ty_of(VT_ROW_VECTOR, 0)); }
static ad_val *b_linspaced_array(ad_tape *t, ad_val **a, int n) { UNUSED(n); return linspaced(t, a, ty_of(VT_REAL, 1)); }

/* one_hot_*(n, k), zeros_*(n), ones_*(n): data only. */
static ad_val *filled(ad_tape *t, long n, double v, long hot, vi_type ty)
{
  if (check_size(t, "fill", n)) return NULL;
  size_t K = (size_t)n;
  if (hot != 0 && (hot < 1 || hot > n)) {
    ad_tape_set_error(t, "one_hot: index %ld out of range [1, %ld]", hot, n);
    return NULL;
  }
  ad_val *out = ad_new_nd(t, ty, 1, &K, 1, 0);
  if (!out) return NULL;
  for (size_t i = 0; i < K; i++) out->x[i] = v;
  if (hot) out->x[hot - 1] = 1.0;
  return out;
}
static ad_val *b_one_hot_vector(ad_tape *t, ad_val **a, int n) { UNUSED(n); return filled(t, int_arg(a[0]), 0, int_arg(a[1]), ty_of(VT_VECTOR, 0)); }
static ad_val *b_one_hot_row_vector(ad_tape *t, ad_val **a, int n) { UNUSED(n); return filled(t, int_arg(a[0]), 0, int_arg(a[1]), ty_of(VT_ROW_VECTOR, 0)); }
static ad_val *b_one_hot_array(ad_tape *t, ad_val **a, int n) { UNUSED(n); return filled(t, int_arg(a[0]), 0, int_arg(a[1]), ty_of(VT_REAL, 1)); }
static ad_val *b_one_hot_int_array(ad_tape *t, ad_val **a, int n) { UNUSED(n); return filled(t, int_arg(a[0]), 0, int_arg(a[1]), ty_of(VT_INT, 1)); }
static ad_val *b_zeros_vector(ad_tape *t, ad_val **a, int n) { UNUSED(n); return filled(t, int_arg(a[0]), 0, 0, ty_of(VT_VECTOR, 0)); }
static ad_val *b_zeros_row_vector(ad_tape *t, ad_val **a, int n) { UNUSED(n); return filled(t, int_arg(a[0]), 0, 0, ty_of(VT_ROW_VECTOR, 0)); }
static ad_val *b_zeros_array(ad_tape *t, ad_val **a, int n) { UNUSED(n); return filled(t, int_arg(a[0]), 0, 0, ty_of(VT_REAL, 1)); }
static ad_val *b_zeros_int_array(ad_tape *t, ad_val **a, int n) { UNUSED(n); return filled(t, int_arg(a[0]), 0, 0, ty_of(VT_INT, 1)); }
static ad_val *b_ones_vector(ad_tape *t, ad_val **a, int n) { UNUSED(n); return filled(t, int_arg(a[0]), 1, 0, ty_of(VT_VECTOR, 0)); }
static ad_val *b_ones_row_vector(ad_tape *t, ad_val **a, int n) { UNUSED(n); return filled(t, int_arg(a[0]), 1, 0, ty_of(VT_ROW_VECTOR, 0)); }
static ad_val *b_ones_array(ad_tape *t, ad_val **a, int n) { UNUSED(n); return filled(t, int_arg(a[0]), 1, 0, ty_of(VT_REAL, 1)); }
static ad_val *b_ones_int_array(ad_tape *t, ad_val **a, int n) { UNUSED(n); return filled(t, int_arg(a[0]), 1, 0, ty_of(VT_INT, 1)); }

/* ---- products and sums by group ------------------------------------------------- */

/* y[g(e)] = sum_e a_e b_e with g(e) = e / div % mod: dot_product (one group),
 * columns_dot_product (g = column), rows_dot_product (g = row). */
static void gdot_backward(ad_tape *t, ad_node *node)
{
  UNUSED(t);
  ad_val *a = node->in[0], *b = node->in[1], *y = node->out;
  size_t div = (size_t)node->iarg[0], mod = (size_t)node->iarg[1], nd = y->nd;
  for (size_t e = 0; e < a->len; e++) {
    size_t g = (e / div) % mod;
    const double *gy = y->adj + g * nd;
    for (size_t s = 0; s < nd; s++) {
      double ga = gy[s];
      if (a->adj) *ad_adjp(a, e, s) += ga * ad_get(b, e, s);
      if (b->adj) *ad_adjp(b, e, s) += ga * ad_get(a, e, s);
    }
  }
}

ad_val *math_grouped_dot(ad_tape *t, ad_val *a, ad_val *b, vi_basetype rt, size_t ng,
                           size_t div, size_t mod, const char *fn)
{
  if (a->len != b->len) {
    ad_tape_set_error(t, "%s: size mismatch (%zu and %zu elements)", fn, a->len, b->len);
    return NULL;
  }
  size_t nd = ad_nd2(a, b);
  vi_type ty = ty_of(rt, 0);
  ad_val *y = ad_new_nd(t, ty, rt == VT_REAL ? 0 : 1, &ng, nd, a->adj || b->adj);
  if (!y) return NULL;
  memset(y->x, 0, ng * nd * sizeof(double));
  size_t sa = a->nd > 1, sb = b->nd > 1;
  for (size_t e = 0; e < a->len; e++) {
    size_t g = (e / div) % mod;
    double *py = y->x + g * nd;
    const double *pa = a->x + e * a->nd, *pb = b->x + e * b->nd;
    for (size_t s = 0; s < nd; s++) py[s] += pa[s * sa] * pb[s * sb];
  }
  ad_val *in[2] = {a, b};
  ad_node *node = ad_push(t, gdot_backward, y, 2, in);
  if (node) { node->iarg[0] = (long)div; node->iarg[1] = (long)mod; }
  return y;
}
static ad_val *b_dot_product(ad_tape *t, ad_val **a, int n)
{
  UNUSED(n);
  return math_grouped_dot(t, a[0], a[1], VT_REAL, 1, 1, 1, "dot_product");
}
static ad_val *b_dot_self(ad_tape *t, ad_val **a, int n)
{
  UNUSED(n);
  return math_grouped_dot(t, a[0], a[0], VT_REAL, 1, 1, 1, "dot_self");
}
static ad_val *cols_dot(ad_tape *t, ad_val *A, ad_val *B)
{
  size_t r, c, r2, c2;
  ad_shape2(A, &r, &c);
  ad_shape2(B, &r2, &c2);
  if (r != r2 || c != c2) {
    ad_tape_set_error(t, "columns_dot_product: size mismatch");
    return NULL;
  }
  return math_grouped_dot(t, A, B, VT_ROW_VECTOR, c, r ? r : 1, c ? c : 1, "columns_dot_product");
}
static ad_val *rows_dot(ad_tape *t, ad_val *A, ad_val *B)
{
  size_t r, c, r2, c2;
  ad_shape2(A, &r, &c);
  ad_shape2(B, &r2, &c2);
  if (r != r2 || c != c2) {
    ad_tape_set_error(t, "rows_dot_product: size mismatch");
    return NULL;
  }
  return math_grouped_dot(t, A, B, VT_VECTOR, r, 1, r ? r : 1, "rows_dot_product");
}
static ad_val *b_columns_dot_product(ad_tape *t, ad_val **a, int n) { UNUSED(n); return cols_dot(t, a[0], a[1]); }
static ad_val *b_rows_dot_product(ad_tape *t, ad_val **a, int n) { UNUSED(n); return rows_dot(t, a[0], a[1]); }
static ad_val *b_columns_dot_self(ad_tape *t, ad_val **a, int n) { UNUSED(n); return cols_dot(t, a[0], a[0]); }
static ad_val *b_rows_dot_self(ad_tape *t, ad_val **a, int n) { UNUSED(n); return rows_dot(t, a[0], a[0]); }

/* y_e = v_{g(e)} * M_e: diag_pre_multiply (g = row), diag_post_multiply (g = column). */
static void gscale_backward(ad_tape *t, ad_node *node)
{
  UNUSED(t);
  ad_val *v = node->in[0], *M = node->in[1], *y = node->out;
  size_t div = (size_t)node->iarg[0], mod = (size_t)node->iarg[1], nd = y->nd;
  for (size_t e = 0; e < M->len; e++) {
    size_t g = (e / div) % mod;
    const double *gy = y->adj + e * nd;
    for (size_t s = 0; s < nd; s++) {
      if (M->adj) *ad_adjp(M, e, s) += gy[s] * ad_get(v, g, s);
      if (v->adj) *ad_adjp(v, g, s) += gy[s] * ad_get(M, e, s);
    }
  }
}

ad_val *math_group_scale(ad_tape *t, ad_val *v, ad_val *M, int by_row, const char *fn)
{
  size_t r, c;
  ad_shape2(M, &r, &c);
  size_t need = by_row ? r : c;
  if (v->len != need) {
    ad_tape_set_error(t, "%s: vector of size %zu for a %zu x %zu matrix", fn, v->len, r, c);
    return NULL;
  }
  size_t div = by_row ? 1 : nz1(r), mod = by_row ? nz1(r) : nz1(c);
  size_t nd = ad_nd2(v, M);
  ad_val *y = ad_new_mat(t, VT_MATRIX, r, c, nd, v->adj || M->adj);
  if (!y) return NULL;
  for (size_t e = 0; e < M->len; e++) {
    size_t g = (e / div) % mod;
    double *py = y->x + e * nd;
    for (size_t s = 0; s < nd; s++) py[s] = ad_get(v, g, s) * ad_get(M, e, s);
  }
  ad_val *in[2] = {v, M};
  ad_node *node = ad_push(t, gscale_backward, y, 2, in);
  if (node) { node->iarg[0] = (long)div; node->iarg[1] = (long)mod; }
  return y;
}
ad_val *b_diag_pre_multiply(ad_tape *t, ad_val **a, int n) { UNUSED(n); return math_group_scale(t, a[0], a[1], 1, "diag_pre_multiply"); }
ad_val *b_diag_post_multiply(ad_tape *t, ad_val **a, int n) { UNUSED(n); return math_group_scale(t, a[1], a[0], 0, "diag_post_multiply"); }

/* add_diag(M, d): d a scalar or a vector of the diagonal's size. */
static void add_diag_backward(ad_tape *t, ad_node *node)
{
  UNUSED(t);
  ad_val *M = node->in[0], *d = node->in[1], *y = node->out;
  size_t r = (size_t)node->iarg[0], K = (size_t)node->iarg[1], nd = y->nd;
  for (size_t e = 0; e < y->len; e++)
    for (size_t s = 0; s < nd; s++)
      if (M->adj) *ad_adjp(M, e, s) += y->adj[e * nd + s];
  if (d->adj)
    for (size_t i = 0; i < K; i++)
      for (size_t s = 0; s < nd; s++)
        *ad_adjp(d, d->len == 1 ? 0 : i, s) += y->adj[(i + i * r) * nd + s];
}

static ad_val *b_add_diag(ad_tape *t, ad_val **a, int n)
{
  UNUSED(n);
  ad_val *M = a[0], *d = a[1];
  size_t r, c;
  ad_shape2(M, &r, &c);
  size_t K = r < c ? r : c;
  if (!ad_is_scalar(d) && d->len != K) {
    ad_tape_set_error(t, "add_diag: diagonal of size %zu, vector of size %zu", K, d->len);
    return NULL;
  }
  size_t nd = ad_nd2(M, d);
  ad_val *y = ad_new_mat(t, VT_MATRIX, r, c, nd, M->adj || d->adj);
  if (!y) return NULL;
  for (size_t e = 0; e < M->len; e++)
    for (size_t s = 0; s < nd; s++) y->x[e * nd + s] = ad_get(M, e, s);
  for (size_t i = 0; i < K; i++)
    for (size_t s = 0; s < nd; s++)
      y->x[(i + i * r) * nd + s] += ad_get(d, d->len == 1 ? 0 : i, s);
  ad_val *in[2] = {M, d};
  ad_node *node = ad_push(t, add_diag_backward, y, 2, in);
  if (node) { node->iarg[0] = (long)r; node->iarg[1] = (long)K; }
  return y;
}

/* ---- sequences: cumulative_sum, softmax, log_softmax, sort --------------------- */

static void cumsum_backward(ad_tape *t, ad_node *node)
{
  UNUSED(t);
  ad_val *a = node->in[0], *y = node->out;
  size_t nd = y->nd, L = y->len;
  for (size_t s = 0; s < nd; s++) {
    double acc = 0;
    for (size_t e = L; e-- > 0;) {
      acc += y->adj[e * nd + s];
      *ad_adjp(a, e, s) += acc;
    }
  }
}

static ad_val *b_cumulative_sum(ad_tape *t, ad_val **a, int n)
{
  UNUSED(n);
  ad_val *x = a[0];
  ad_val *y = ad_new_nd(t, x->type, x->ndims, x->dims, x->nd, x->adj != NULL);
  if (!y) return NULL;
  size_t nd = x->nd;
  for (size_t e = 0; e < x->len; e++)
    for (size_t s = 0; s < nd; s++)
      y->x[e * nd + s] = x->x[e * nd + s] + (e ? y->x[(e - 1) * nd + s] : 0.0);
  ad_val *in[1] = {x};
  ad_push(t, cumsum_backward, y, 1, in);
  return y;
}

/* softmax: y = exp(x - lse(x)); dx = y .* (gy - <gy, y>).
 * log_softmax: y = x - lse(x); dx = gy - softmax(x) * sum(gy). */
static void softmax_backward(ad_tape *t, ad_node *node)
{
  UNUSED(t);
  ad_val *a = node->in[0], *y = node->out;
  int logf = (int)node->iarg[0];
  size_t nd = y->nd, L = y->len;
  for (size_t s = 0; s < nd; s++) {
    double acc = 0;
    for (size_t e = 0; e < L; e++)
      acc += logf ? y->adj[e * nd + s] : y->adj[e * nd + s] * y->x[e * nd + s];
    for (size_t e = 0; e < L; e++) {
      double ye = y->x[e * nd + s], g = y->adj[e * nd + s];
      *ad_adjp(a, e, s) += logf ? g - exp(ye) * acc : ye * (g - acc);
    }
  }
}

static ad_val *softmax_common(ad_tape *t, ad_val *x, int logf)
{
  if (x->len == 0) {
    ad_tape_set_error(t, "%s: empty vector", logf ? "log_softmax" : "softmax");
    return NULL;
  }
  ad_val *y = ad_new_nd(t, ty_of(VT_VECTOR, 0), 1, &x->len, x->nd, x->adj != NULL);
  if (!y) return NULL;
  size_t nd = x->nd, L = x->len;
  for (size_t s = 0; s < nd; s++) {
    double m = -INFINITY;
    for (size_t e = 0; e < L; e++) if (x->x[e * nd + s] > m) m = x->x[e * nd + s];
    double acc = 0;
    for (size_t e = 0; e < L; e++) acc += exp(x->x[e * nd + s] - m);
    double lse = m + log(acc);
    for (size_t e = 0; e < L; e++) {
      double v = x->x[e * nd + s] - lse;
      y->x[e * nd + s] = logf ? v : exp(v);
    }
  }
  ad_val *in[1] = {x};
  ad_node *node = ad_push(t, softmax_backward, y, 1, in);
  if (node) node->iarg[0] = logf;
  ad_mark_shared(y);
  return y;
}
static ad_val *b_softmax(ad_tape *t, ad_val **a, int n) { UNUSED(n); return softmax_common(t, a[0], 0); }
static ad_val *b_log_softmax(ad_tape *t, ad_val **a, int n) { UNUSED(n); return softmax_common(t, a[0], 1); }

/* sort: each draw has its own permutation, saved for the reverse sweep. */
static void sort_backward(ad_tape *t, ad_node *node)
{
  UNUSED(t);
  ad_val *a = node->in[0], *y = node->out;
  const size_t *perm = node->ptr;
  size_t nd = y->nd;
  for (size_t e = 0; e < y->len; e++)
    for (size_t s = 0; s < nd; s++) *ad_adjp(a, perm[e * nd + s], s) += y->adj[e * nd + s];
}

/* Insertion sort of indexes idx[0..L) by key[idx * nd] (stable; small vectors), or a
 * merge of runs for long ones would be better; sizes in models are modest. */
static void sort_idx(size_t *idx, size_t L, const double *key, size_t nd, int desc)
{
  /* Shell sort with a gap sequence: O(L^1.3), no allocation. */
  static const size_t gaps[] = {701, 301, 132, 57, 23, 10, 4, 1};
  for (size_t gi = 0; gi < sizeof gaps / sizeof gaps[0]; gi++) {
    size_t gap = gaps[gi];
    for (size_t i = gap; i < L; i++) {
      size_t v = idx[i];
      double kv = key[v * nd];
      size_t j = i;
      while (j >= gap) {
        double kj = key[idx[j - gap] * nd];
        int after = desc ? (kj < kv || (isnan(kj) && !isnan(kv)))
                         : (kj > kv || (isnan(kj) && !isnan(kv)));
        if (!after) break;
        idx[j] = idx[j - gap];
        j -= gap;
      }
      idx[j] = v;
    }
  }
}

static ad_val *sort_common(ad_tape *t, ad_val *x, int desc)
{
  size_t nd = x->nd, L = x->len;
  ad_val *y = ad_new_nd(t, x->type, x->ndims, x->dims, nd, x->adj != NULL);
  size_t *perm = ad_alloc(t, nz1(L * nd) * sizeof *perm);
  size_t *idx = ad_alloc(t, nz1(L) * sizeof *idx);
  if (!y || !perm || !idx) return NULL;
  for (size_t s = 0; s < nd; s++) {
    for (size_t e = 0; e < L; e++) idx[e] = e;
    sort_idx(idx, L, x->x + s, nd, desc);
    for (size_t e = 0; e < L; e++) {
      perm[e * nd + s] = idx[e];
      y->x[e * nd + s] = x->x[idx[e] * nd + s];
    }
  }
  ad_val *in[1] = {x};
  ad_node *node = ad_push(t, sort_backward, y, 1, in);
  if (node) node->ptr = perm;
  return y;
}
static ad_val *b_sort_asc(ad_tape *t, ad_val **a, int n) { UNUSED(n); return sort_common(t, a[0], 0); }
static ad_val *b_sort_desc(ad_tape *t, ad_val **a, int n) { UNUSED(n); return sort_common(t, a[0], 1); }

/* sort_indices_asc / _desc and rank: ints, no gradient; one draw (data or nd = 1). */
static ad_val *sort_indices(ad_tape *t, ad_val *x, int desc)
{
  size_t nd = x->nd, L = x->len;
  ad_val *y = ad_new_nd(t, ty_of(VT_INT, 1), 1, &L, nd, 0);
  size_t *idx = ad_alloc(t, nz1(L) * sizeof *idx);
  if (!y || !idx) return NULL;
  for (size_t s = 0; s < nd; s++) {
    for (size_t e = 0; e < L; e++) idx[e] = e;
    sort_idx(idx, L, x->x + s, nd, desc);
    for (size_t e = 0; e < L; e++) y->x[e * nd + s] = (double)(idx[e] + 1);
  }
  return y;
}
static ad_val *b_sort_indices_asc(ad_tape *t, ad_val **a, int n) { UNUSED(n); return sort_indices(t, a[0], 0); }
static ad_val *b_sort_indices_desc(ad_tape *t, ad_val **a, int n) { UNUSED(n); return sort_indices(t, a[0], 1); }

#define BUILTIN(name, sig, impl) {name, sig, impl},
const builtin_def builtin_kernels_containers[] = {
#include "lang/lib/table_containers.def"
  {NULL, NULL, NULL}
};
#undef BUILTIN
