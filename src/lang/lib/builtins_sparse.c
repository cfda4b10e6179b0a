/* builtins_sparse.c: Stan's compressed sparse row (CSR) functions: csr_extract_w, _v,
 * _u, csr_to_dense_matrix and csr_matrix_times_vector, with Stan's 1-based conventions
 * (Stan Functions Reference 2.36, "Sparse matrix operations"): an m x n matrix is
 *   w  its non-zero values, row by row (left to right within a row),
 *   v  the column (1..n) of each value,
 *   u  m + 1 row starts: row i holds values u[i] .. u[i+1] - 1, so u[m+1] = size(w) + 1.
 * The arguments are checked as Stan checks them (m, n positive, size(b) = n,
 * size(u) = m + 1, size(v) = size(w) = u[m+1] - 1, every v in 1..n), and also that u
 * starts at 1 or later and never decreases, so no index leaves its array.
 *
 * The non-zero pattern of a matrix that varies by draw is the union over the draws (a
 * value zero in one draw and not in another is kept, as an explicit zero), so w, v and
 * u have one size for all draws and agree with each other.  In the product a repeated
 * column within a row adds up; in csr_to_dense_matrix the last one is kept, as Stan
 * does.  Reverse mode: the product's adjoints are w_bar[k] += y_bar[i] b[v[k]] and
 * b_bar[v[k]] += y_bar[i] w[k] over the values k of row i; the extraction and the dense
 * matrix are gathers. */
#include <math.h>
#include "lang/ad/ad_kernels.h"
#include "lang/lib/lib.h"

/* The int value a (a scalar or int[]), the same in every draw, into arena longs.  NULL
 * with the tape's error when it varies by draw. */
static long *csr_ints(ad_tape *t, const char *fn, const char *what, const ad_val *a)
{
  long *r = ad_alloc(t, (a->len + 1) * sizeof *r);
  if (!r) return NULL;
  for (size_t e = 0; e < a->len; e++) {
    r[e] = (long)a->x[e * a->nd];
    for (size_t s = 1; s < a->nd; s++)
      if (a->x[e * a->nd + s] != a->x[e * a->nd]) {
        ad_tape_set_error(t, "%s: %s differs between draws", fn, what);
        return NULL;
      }
  }
  return r;
}

/* A checked CSR description: m, n, and v, u as 0-based longs. */
typedef struct csr {
  long m, n;
  size_t nnz;
  long *v, *u;
} csr;

/* Read and check m, n, w, v, u (args[0..4]).  0, or -1 with the tape's error set. */
static int csr_read(ad_tape *t, const char *fn, ad_val **args, csr *c)
{
  long *m = csr_ints(t, fn, "m", args[0]), *n = csr_ints(t, fn, "n", args[1]);
  c->v = csr_ints(t, fn, "v", args[3]);
  c->u = csr_ints(t, fn, "u", args[4]);
  if (!m || !n || !c->v || !c->u) return -1;
  c->m = *m;
  c->n = *n;
  c->nnz = args[2]->len;
  if (c->m <= 0 || c->n <= 0) {
    ad_tape_set_error(t, "%s: %s must be positive, found %ld", fn, c->m <= 0 ? "m" : "n",
                      c->m <= 0 ? c->m : c->n);
    return -1;
  }
  if (args[4]->len != (size_t)c->m + 1) {
    ad_tape_set_error(t, "%s: u has %zu elements, m + 1 = %ld expected", fn, args[4]->len,
                      c->m + 1);
    return -1;
  }
  if (args[3]->len != c->nnz) {
    ad_tape_set_error(t, "%s: w has %zu elements, v has %zu", fn, c->nnz, args[3]->len);
    return -1;
  }
  if (c->u[0] < 1) {
    ad_tape_set_error(t, "%s: u[1] is %ld, row starts are 1 or more", fn, c->u[0]);
    return -1;
  }
  for (long i = 0; i < c->m; i++)
    if (c->u[i + 1] < c->u[i]) {
      ad_tape_set_error(t, "%s: u decreases from u[%ld] = %ld to u[%ld] = %ld", fn, i + 1,
                        c->u[i], i + 2, c->u[i + 1]);
      return -1;
    }
  if (c->u[c->m] != (long)c->nnz + 1) {
    ad_tape_set_error(t, "%s: u[%ld] is %ld, size(w) + 1 = %zu expected", fn, c->m + 1,
                      c->u[c->m], c->nnz + 1);
    return -1;
  }
  for (size_t k = 0; k < c->nnz; k++) {
    if (c->v[k] < 1 || c->v[k] > c->n) {
      ad_tape_set_error(t, "%s: v[%zu] is %ld, outside the columns 1..%ld", fn, k + 1,
                        c->v[k], c->n);
      return -1;
    }
    c->v[k]--;
  }
  for (long i = 0; i <= c->m; i++) c->u[i]--;
  return 0;
}

/* ---- the product ----------------------------------------------------------------- */

static void csr_times_backward(ad_tape *t, ad_node *node)
{
  UNUSED(t);
  ad_val *w = node->in[0], *b = node->in[1], *y = node->out;
  const csr *c = node->ptr;
  size_t nd = y->nd;
  for (long i = 0; i < c->m; i++)
    for (long k = c->u[i]; k < c->u[i + 1]; k++) {
      size_t col = (size_t)c->v[k];
      for (size_t s = 0; s < nd; s++) {
        double g = y->adj[(size_t)i * nd + s];
        if (w->adj) *ad_adjp(w, (size_t)k, s) += g * ad_get(b, col, s);
        if (b->adj) *ad_adjp(b, col, s) += g * ad_get(w, (size_t)k, s);
      }
    }
}

static ad_val *b_csr_matrix_times_vector(ad_tape *t, ad_val **a, int nargs)
{
  UNUSED(nargs);
  const char *fn = "csr_matrix_times_vector";
  csr *c = ad_alloc(t, sizeof *c);
  if (!c || csr_read(t, fn, a, c) != 0) return NULL;
  ad_val *w = a[2], *b = a[5];
  if (b->len != (size_t)c->n) {
    ad_tape_set_error(t, "%s: b has %zu elements, n = %ld expected", fn, b->len, c->n);
    return NULL;
  }
  ad_val *in[2] = {w, b};
  size_t nd = ad_nd2(w, b);
  ad_val *y = ad_new_mat(t, VT_VECTOR, (size_t)c->m, 1, nd, ad_wants_adj(t, in, 2));
  if (!y) return NULL;
  for (long i = 0; i < c->m; i++) {
    double *yi = y->x + (size_t)i * nd;
    for (size_t s = 0; s < nd; s++) yi[s] = 0;
    for (long k = c->u[i]; k < c->u[i + 1]; k++)
      for (size_t s = 0; s < nd; s++)
        yi[s] += ad_get(w, (size_t)k, s) * ad_get(b, (size_t)c->v[k], s);
  }
  ad_node *node = ad_push(t, csr_times_backward, y, 2, in);
  if (node) node->ptr = c;
  return y;
}

static ad_val *b_csr_to_dense_matrix(ad_tape *t, ad_val **a, int nargs)
{
  UNUSED(nargs);
  csr c;
  if (csr_read(t, "csr_to_dense_matrix", a, &c) != 0) return NULL;
  ad_val *w = a[2];
  size_t m = (size_t)c.m, n = (size_t)c.n;
  ad_val *A = ad_new_mat(t, VT_MATRIX, m, n, w->nd, ad_wants_adj(t, &w, 1));
  /* last[j]: the value of the current row that lands in column j (the last one wins) */
  long *last = ad_alloc(t, n * sizeof *last);
  size_t *oi = ad_alloc(t, (c.nnz + 1) * sizeof *oi), *ii = ad_alloc(t, (c.nnz + 1) * sizeof *ii);
  if (!A || !last || !oi || !ii) return NULL;
  for (size_t e = 0; e < m * n * w->nd; e++) A->x[e] = 0;
  size_t kept = 0;
  for (size_t i = 0; i < m; i++) {
    for (long k = c.u[i]; k < c.u[i + 1]; k++) last[c.v[k]] = k;
    for (long k = c.u[i]; k < c.u[i + 1]; k++)
      if (last[c.v[k]] == k) {
        oi[kept] = i + (size_t)c.v[k] * m;
        ii[kept++] = (size_t)k;
      }
  }
  ad_gather(t, A, w, kept, oi, ii);
  return A;
}

/* ---- extraction ------------------------------------------------------------------ */

/* The union pattern of the m x n matrix A over its draws: for each non-zero, in row-major
 * order, its column-major position in A (pos), its column (col, 0-based), and the
 * 0-based start of each row (start, m + 1).  Arena arrays; -1 on OOM. */
static int csr_pattern(ad_tape *t, const ad_val *A, size_t *nnz, size_t **pos, long **col,
                       long **start)
{
  size_t m, n;
  ad_shape2(A, &m, &n);
  *pos = ad_alloc(t, (m * n + 1) * sizeof **pos);
  *col = ad_alloc(t, (m * n + 1) * sizeof **col);
  *start = ad_alloc(t, (m + 1) * sizeof **start);
  if (!*pos || !*col || !*start) return -1;
  size_t k = 0;
  for (size_t i = 0; i < m; i++) {
    (*start)[i] = (long)k;
    for (size_t j = 0; j < n; j++) {
      size_t e = i + j * m;
      int nonzero = 0;
      for (size_t s = 0; s < A->nd && !nonzero; s++) nonzero = A->x[e * A->nd + s] != 0;
      if (!nonzero) continue;
      (*pos)[k] = e;
      (*col)[k++] = (long)j;
    }
  }
  (*start)[m] = (long)k;
  *nnz = k;
  return 0;
}

static ad_val *b_csr_extract_w(ad_tape *t, ad_val **a, int nargs)
{
  UNUSED(nargs);
  size_t nnz, *pos;
  long *col, *start;
  if (csr_pattern(t, a[0], &nnz, &pos, &col, &start) != 0) return NULL;
  ad_val *w = ad_new_mat(t, VT_VECTOR, nnz, 1, a[0]->nd, ad_wants_adj(t, a, 1));
  if (!w) return NULL;
  ad_gather(t, w, a[0], nnz, NULL, pos);
  return w;
}

/* An int[] of len elements from longs, each plus 1 (Stan's 1-based indices). */
static ad_val *csr_int_array(ad_tape *t, const long *x, size_t len)
{
  vi_type ty = {VT_INT, 1, NULL};
  ad_val *r = ad_new_nd(t, ty, 1, &len, 1, 0);
  if (!r) return NULL;
  for (size_t e = 0; e < len; e++) r->x[e] = (double)(x[e] + 1);
  return r;
}

static ad_val *b_csr_extract_v(ad_tape *t, ad_val **a, int nargs)
{
  UNUSED(nargs);
  size_t nnz, *pos;
  long *col, *start;
  if (csr_pattern(t, a[0], &nnz, &pos, &col, &start) != 0) return NULL;
  return csr_int_array(t, col, nnz);
}

static ad_val *b_csr_extract_u(ad_tape *t, ad_val **a, int nargs)
{
  UNUSED(nargs);
  size_t nnz, *pos, m, n;
  long *col, *start;
  ad_shape2(a[0], &m, &n);
  if (csr_pattern(t, a[0], &nnz, &pos, &col, &start) != 0) return NULL;
  return csr_int_array(t, start, m + 1);
}

#define BUILTIN(name, sig, impl) {name, sig, impl},
const builtin_def builtin_kernels_sparse[] = {
#include "lang/lib/table_sparse.def"
  {NULL, NULL, NULL}
};
#undef BUILTIN
