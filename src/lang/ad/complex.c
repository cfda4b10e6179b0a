/* complex.c: complex values on the batched tape: promotion from real, the arithmetic
 * operators (+ - * / ^ .* ./, matrix products, ==, !=, unary -, transpose), elementwise
 * holomorphic maps, the maps between complex and real values (parts, modulus,
 * argument, conj, to_complex, polar) and complex row-vector literals.
 *
 * Storage (types.h): a complex value is its real counterpart with one more, innermost
 * dimension of size 2 -- element k's real part is element 2k, its imaginary part
 * element 2k + 1 -- so indexing, assignment, copies and the draw axis work unchanged,
 * and the adjoint of a complex value is the pair (dL/dx, dL/dy) of its parts: a complex
 * number is two real tape values, as the design asks.
 *
 * Reverse mode.  With the adjoint of z = x + iy written as the complex number
 * zbar = dL/dx + i dL/dy, a holomorphic w = f(z) gives zbar += conj(f'(z)) * wbar
 * (the Cauchy-Riemann equations; e.g. Kreutz-Delgado, "The complex gradient operator
 * and the CR-calculus", 2009, section 4), and a product C = A B of complex matrices
 * gives Abar += Cbar B^H and Bbar += A^H Cbar.  Functions that are not holomorphic
 * (abs, arg, conj, get_real, ...) differentiate the parts directly. */
#include <complex.h>
#include <math.h>
#include <string.h>
#include "lang/ad/ad.h"
#include "lang/ad/ad_kernels.h"

typedef double complex cplx;
#ifndef CMPLX   /* C11's; glibc defines it for GCC only (clang: the fuzz build) */
static inline cplx cplx_make(double re, double im)
{
  union { cplx z; double p[2]; } u = {.p = {re, im}};   /* C11 6.2.5: laid out as double[2] */
  return u.z;
}
#define CMPLX(x, y) cplx_make((x), (y))
#endif

/* Complex elements of v (its len counts doubles). */
size_t ad_cx_count(const ad_val *v)
{
  return base_is_complex(v->type.base) ? v->len / 2 : v->len;
}

/* Element k of complex v, draw s (broadcast over draws). */
static inline cplx cget(const ad_val *v, size_t k, size_t s)
{
  size_t o = v->nd == 1 ? 0 : s;
  return CMPLX(v->x[2 * k * v->nd + o], v->x[(2 * k + 1) * v->nd + o]);
}
static inline void cset(ad_val *v, size_t k, size_t s, cplx z)
{
  v->x[2 * k * v->nd + s] = creal(z);
  v->x[(2 * k + 1) * v->nd + s] = cimag(z);
}
static inline cplx cgetadj(const ad_val *v, size_t k, size_t s)
{
  size_t o = v->nd == 1 ? 0 : s;
  return CMPLX(v->adj[2 * k * v->nd + o], v->adj[(2 * k + 1) * v->nd + o]);
}
static inline void caddadj(ad_val *v, size_t k, size_t s, cplx g)
{
  size_t o = v->nd == 1 ? 0 : s;
  v->adj[2 * k * v->nd + o] += creal(g);
  v->adj[(2 * k + 1) * v->nd + o] += cimag(g);
}

ad_val *ad_cx_like(ad_tape *t, const ad_val *shape, size_t nd, int with_adj)
{
  if (base_is_complex(shape->type.base))
    return ad_new_nd(t, shape->type, shape->ndims, shape->dims, nd, with_adj);
  if (shape->ndims + 1 > AD_MAX_DIMS) {
    ad_tape_set_error(t, "too many dimensions");
    return NULL;
  }
  vi_type ty = shape->type;
  ty.base = base_complex_of(ty.base);
  size_t dims[AD_MAX_DIMS];
  for (int d = 0; d < shape->ndims; d++) dims[d] = shape->dims[d];
  dims[shape->ndims] = 2;
  return ad_new_nd(t, ty, shape->ndims + 1, dims, nd, with_adj);
}

ad_val *ad_re_like(ad_tape *t, const ad_val *shape, size_t nd, int with_adj)
{
  if (!base_is_complex(shape->type.base)) {
    vi_type ty = shape->type;
    if (ty.base == VT_INT) ty.base = VT_REAL;
    return ad_new_nd(t, ty, shape->ndims, shape->dims, nd, with_adj);
  }
  vi_type ty = shape->type;
  ty.base = base_real_of(ty.base);
  return ad_new_nd(t, ty, shape->ndims - 1, shape->dims, nd, with_adj);
}

/* ---- promotion ---------------------------------------------------------------------- */

static void to_complex_backward(ad_tape *t, ad_node *node)
{
  (void)t;
  ad_val *a = node->in[0], *y = node->out;
  if (!a->adj) return;
  size_t n = a->len, nd = y->nd;
  for (size_t k = 0; k < n; k++)
    for (size_t s = 0; s < nd; s++) a->adj[k * a->nd + (a->nd == 1 ? 0 : s)] +=
        y->adj[2 * k * nd + s];
}

ad_val *ad_to_complex(ad_tape *t, ad_val *a)
{
  if (!a) return NULL;
  if (base_is_complex(a->type.base)) return a;
  int adj = a->adj && ad_tape_recording(t);
  ad_val *y = ad_cx_like(t, a, a->nd, adj);
  if (!y) return NULL;
  for (size_t k = 0; k < a->len; k++)
    for (size_t s = 0; s < a->nd; s++) {
      y->x[2 * k * a->nd + s] = a->x[k * a->nd + s];
      y->x[(2 * k + 1) * a->nd + s] = 0;
    }
  ad_val *in[1] = {a};
  ad_push(t, to_complex_backward, y, 1, in);
  return y;
}

/* ---- elementwise binary ------------------------------------------------------------- */

enum { CX_ADD, CX_SUB, CX_MUL, CX_DIV, CX_POW };

static inline cplx cx_apply(int op, cplx a, cplx b)
{
  switch (op) {
  case CX_ADD: return a + b;
  case CX_SUB: return a - b;
  case CX_MUL: return a * b;
  case CX_DIV: return a / b;
  default:
    /* real integer powers exactly (z^2 by multiplication, as std::pow does for ints) */
    if (cimag(b) == 0 && creal(b) == 2) return a * a;
    return cpow(a, b);
  }
}

static inline void cx_partials(int op, cplx a, cplx b, cplx w, cplx *da, cplx *db)
{
  switch (op) {
  case CX_ADD: *da = 1; *db = 1; break;
  case CX_SUB: *da = 1; *db = -1; break;
  case CX_MUL: *da = b; *db = a; break;
  case CX_DIV: *da = 1 / b; *db = -w / b; break;
  default:
    *da = (cimag(b) == 0 && creal(b) == 2) ? 2 * a : b * cpow(a, b - 1);
    *db = a == 0 ? 0 : w * clog(a);
    break;
  }
}

static void map2_backward(ad_tape *t, ad_node *node)
{
  (void)t;
  ad_val *a = node->in[0], *b = node->in[1], *y = node->out;
  int op = (int)node->iarg[0];
  size_t L = ad_cx_count(y), nd = y->nd;
  size_t ea = ad_cx_count(a) == 1 ? 0 : 1, eb = ad_cx_count(b) == 1 ? 0 : 1;
  for (size_t k = 0; k < L; k++)
    for (size_t s = 0; s < nd; s++) {
      cplx za = cget(a, k * ea, s), zb = cget(b, k * eb, s), w = cget(y, k, s);
      cplx g = cgetadj(y, k, s), da, db;
      cx_partials(op, za, zb, w, &da, &db);
      if (a->adj) caddadj(a, k * ea, s, conj(da) * g);
      if (b->adj) caddadj(b, k * eb, s, conj(db) * g);
    }
}

/* a op b elementwise; a and b complex, one may be a complex scalar. */
static ad_val *cx_map2(ad_tape *t, int op, ad_val *a, ad_val *b)
{
  int sa = ad_cx_count(a) == 1 && type_rank(a->type) == 1;
  int sb = ad_cx_count(b) == 1 && type_rank(b->type) == 1;
  ad_val *shape = sa ? b : a;
  if (!sa && !sb) {
    int ok = a->ndims == b->ndims && a->len == b->len;
    for (int d = 0; ok && d < a->ndims; d++) ok = a->dims[d] == b->dims[d];
    if (!ok) {
      ad_tape_set_error(t, "size mismatch (%zu complex elements vs %zu)", ad_cx_count(a),
                        ad_cx_count(b));
      return NULL;
    }
  }
  size_t nd = ad_nd2(a, b), L = ad_cx_count(shape);
  int adj = ad_tape_recording(t) && (a->adj || b->adj);
  ad_val *y = ad_new_nd(t, shape->type, shape->ndims, shape->dims, nd, adj);
  if (!y) return NULL;
  size_t ea = sa ? 0 : 1, eb = sb ? 0 : 1;
  for (size_t k = 0; k < L; k++)
    for (size_t s = 0; s < nd; s++)
      cset(y, k, s, cx_apply(op, cget(a, k * ea, s), cget(b, k * eb, s)));
  ad_val *in[2] = {a, b};
  ad_node *node = ad_push(t, map2_backward, y, 2, in);
  if (node) { node->iarg[0] = op; ad_mark_shared(y); }
  return y;
}

/* ---- elementwise unary (holomorphic) ------------------------------------------------ */

static void map1_backward(ad_tape *t, ad_node *node)
{
  (void)t;
  ad_val *a = node->in[0], *y = node->out;
  ad_cfn df = (ad_cfn)node->ptr;
  size_t L = ad_cx_count(y), nd = y->nd;
  for (size_t k = 0; k < L; k++)
    for (size_t s = 0; s < nd; s++)
      caddadj(a, k, s, conj(df(cget(a, k, s))) * cgetadj(y, k, s));
}

ad_val *ad_cx_map1(ad_tape *t, ad_val *a, ad_cfn f, ad_cfn df)
{
  if (!(a = ad_to_complex(t, a))) return NULL;
  int adj = ad_tape_recording(t) && a->adj && df;
  ad_val *y = ad_new_nd(t, a->type, a->ndims, a->dims, a->nd, adj);
  if (!y) return NULL;
  size_t L = ad_cx_count(a);
  for (size_t k = 0; k < L; k++)
    for (size_t s = 0; s < a->nd; s++) cset(y, k, s, f(cget(a, k, s)));
  if (adj) {
    ad_val *in[1] = {a};
    ad_node *node = ad_push(t, map1_backward, y, 1, in);
    if (node) node->ptr = (void *)df;
  }
  return y;
}

/* ---- complex -> real, real pairs -> complex ------------------------------------------ */

static double part_value(int kind, cplx z)
{
  switch (kind) {
  case AD_CX_REAL: return creal(z);
  case AD_CX_IMAG: return cimag(z);
  case AD_CX_ABS: return cabs(z);
  case AD_CX_ARG: return carg(z);
  default: return creal(z) * creal(z) + cimag(z) * cimag(z);   /* norm: |z|^2 */
  }
}

/* d value / d(x, y) as the complex number dx + i dy (so zbar += g * that). */
static cplx part_grad(int kind, cplx z, double v)
{
  double x = creal(z), y = cimag(z), r2 = x * x + y * y;
  switch (kind) {
  case AD_CX_REAL: return 1;
  case AD_CX_IMAG: return I;
  case AD_CX_ABS: return v > 0 ? CMPLX(x / v, y / v) : 0;
  case AD_CX_ARG: return r2 > 0 ? CMPLX(-y / r2, x / r2) : 0;
  default: return CMPLX(2 * x, 2 * y);
  }
}

static void part_backward(ad_tape *t, ad_node *node)
{
  (void)t;
  ad_val *a = node->in[0], *y = node->out;
  int kind = (int)node->iarg[0];
  size_t L = ad_cx_count(a), nd = y->nd;
  for (size_t k = 0; k < L; k++)
    for (size_t s = 0; s < nd; s++) {
      double g = y->adj[k * nd + s];
      if (g != 0) caddadj(a, k, s, g * part_grad(kind, cget(a, k, s), y->x[k * nd + s]));
    }
}

ad_val *ad_cx_part(ad_tape *t, ad_val *a, int kind)
{
  if (!(a = ad_to_complex(t, a))) return NULL;
  int adj = ad_tape_recording(t) && a->adj;
  ad_val *y = ad_re_like(t, a, a->nd, adj);
  if (!y) return NULL;
  size_t L = ad_cx_count(a);
  for (size_t k = 0; k < L; k++)
    for (size_t s = 0; s < a->nd; s++) y->x[k * a->nd + s] = part_value(kind, cget(a, k, s));
  ad_val *in[1] = {a};
  ad_node *node = ad_push(t, part_backward, y, 1, in);
  if (node) { node->iarg[0] = kind; ad_mark_shared(y); }
  return y;
}

/* (x, y) from the reals (p, q): to_complex(p, q) = (p, q), polar(p, q) = p (cos q,
 * sin q); J holds dx/dp, dx/dq, dy/dp, dy/dq. */
static void pair_eval(int kind, double p, double q, double *x, double *y, double *J)
{
  if (kind == AD_CX_POLAR) {
    double c = cos(q), s = sin(q);
    *x = p * c; *y = p * s;
    if (J) { J[0] = c; J[1] = -p * s; J[2] = s; J[3] = p * c; }
  } else {
    *x = p; *y = q;
    if (J) { J[0] = 1; J[1] = 0; J[2] = 0; J[3] = 1; }
  }
}

static void pair_backward(ad_tape *t, ad_node *node)
{
  (void)t;
  ad_val *p = node->in[0], *q = node->in[1], *y = node->out;
  int kind = (int)node->iarg[0];
  size_t L = ad_cx_count(y), nd = y->nd;
  size_t ep = p->len == 1 ? 0 : 1, eq = q->len == 1 ? 0 : 1;
  for (size_t k = 0; k < L; k++)
    for (size_t s = 0; s < nd; s++) {
      double pv = ad_get(p, k * ep, s), qv = ad_get(q, k * eq, s), x, yy, J[4];
      pair_eval(kind, pv, qv, &x, &yy, J);
      cplx g = cgetadj(y, k, s);
      if (p->adj) *ad_adjp(p, k * ep, s) += creal(g) * J[0] + cimag(g) * J[2];
      if (q->adj) *ad_adjp(q, k * eq, s) += creal(g) * J[1] + cimag(g) * J[3];
    }
}

ad_val *ad_cx_from_pair(ad_tape *t, ad_val *p, ad_val *q, int kind)
{
  ad_val *shape = ad_ew_shape(t, p, q, kind == AD_CX_POLAR ? "polar" : "to_complex");
  if (!shape) return NULL;
  size_t nd = ad_nd2(p, q), L = shape->len;
  int adj = ad_tape_recording(t) && (p->adj || q->adj);
  ad_val *y = ad_cx_like(t, shape, nd, adj);
  if (!y) return NULL;
  size_t ep = p->len == 1 ? 0 : 1, eq = q->len == 1 ? 0 : 1;
  for (size_t k = 0; k < L; k++)
    for (size_t s = 0; s < nd; s++) {
      double x, yy;
      pair_eval(kind, ad_get(p, k * ep, s), ad_get(q, k * eq, s), &x, &yy, NULL);
      cset(y, k, s, CMPLX(x, yy));
    }
  ad_val *in[2] = {p, q};
  ad_node *node = ad_push(t, pair_backward, y, 2, in);
  if (node) node->iarg[0] = kind;
  return y;
}

static void conj_backward(ad_tape *t, ad_node *node)
{
  (void)t;
  ad_val *a = node->in[0], *y = node->out;
  size_t L = ad_cx_count(y), nd = y->nd;
  for (size_t k = 0; k < L; k++)
    for (size_t s = 0; s < nd; s++) caddadj(a, k, s, conj(cgetadj(y, k, s)));
}

ad_val *ad_cx_conj(ad_tape *t, ad_val *a)
{
  if (!(a = ad_to_complex(t, a))) return NULL;
  int adj = ad_tape_recording(t) && a->adj;
  ad_val *y = ad_new_nd(t, a->type, a->ndims, a->dims, a->nd, adj);
  if (!y) return NULL;
  size_t L = ad_cx_count(a);
  for (size_t k = 0; k < L; k++)
    for (size_t s = 0; s < a->nd; s++) cset(y, k, s, conj(cget(a, k, s)));
  ad_val *in[1] = {a};
  ad_push(t, conj_backward, y, 1, in);
  return y;
}

/* ---- products, transpose, literals -------------------------------------------------- */

static void cx_shape2(const ad_val *v, size_t *r, size_t *c)
{
  int a = v->type.ndims;
  switch (base_real_of(v->type.base)) {
  case VT_VECTOR: *r = v->dims[a]; *c = 1; break;
  case VT_ROW_VECTOR: *r = 1; *c = v->dims[a]; break;
  case VT_MATRIX: *r = v->dims[a]; *c = v->dims[a + 1]; break;
  default: *r = 1; *c = 1; break;
  }
}

static void matmul_backward(ad_tape *t, ad_node *node)
{
  (void)t;
  ad_val *A = node->in[0], *B = node->in[1], *C = node->out;
  size_t m = (size_t)node->iarg[0], k = (size_t)node->iarg[1], p = (size_t)node->iarg[2];
  size_t nd = C->nd;
  for (size_t s = 0; s < nd; s++)
    for (size_t j = 0; j < p; j++)
      for (size_t i = 0; i < m; i++) {
        cplx g = cgetadj(C, i + j * m, s);
        if (g == 0) continue;
        for (size_t l = 0; l < k; l++) {
          if (A->adj) caddadj(A, i + l * m, s, g * conj(cget(B, l + j * k, s)));
          if (B->adj) caddadj(B, l + j * k, s, conj(cget(A, i + l * m, s)) * g);
        }
      }
}

/* The matrix product of complex vectors / matrices (column-major, as real ones). */
static ad_val *cx_matmul(ad_tape *t, ad_val *A, ad_val *B)
{
  size_t m, k, k2, p;
  cx_shape2(A, &m, &k);
  cx_shape2(B, &k2, &p);
  if (k != k2) {
    ad_tape_set_error(t, "matrix product: %zu columns times %zu rows", k, k2);
    return NULL;
  }
  vi_basetype ra = base_real_of(A->type.base), rbb = base_real_of(B->type.base), rb;
  if (ra == VT_ROW_VECTOR) rb = rbb == VT_VECTOR ? VT_REAL : VT_ROW_VECTOR;
  else if (ra == VT_VECTOR) rb = VT_MATRIX;              /* vector * row_vector */
  else rb = rbb == VT_VECTOR ? VT_VECTOR : VT_MATRIX;
  size_t nd = ad_nd2(A, B);
  int adj = ad_tape_recording(t) && (A->adj || B->adj);
  ad_val *R = ad_new_mat(t, rb, m, p, nd, 0);   /* the real shape, for the dims */
  if (!R) return NULL;
  ad_val *C = ad_cx_like(t, R, nd, adj);
  if (!C) return NULL;
  for (size_t s = 0; s < nd; s++)
    for (size_t j = 0; j < p; j++)
      for (size_t i = 0; i < m; i++) {
        cplx acc = 0;
        for (size_t l = 0; l < k; l++) acc += cget(A, i + l * m, s) * cget(B, l + j * k, s);
        cset(C, i + j * m, s, acc);
      }
  ad_val *in[2] = {A, B};
  ad_node *node = ad_push(t, matmul_backward, C, 2, in);
  if (node) { node->iarg[0] = (long)m; node->iarg[1] = (long)k; node->iarg[2] = (long)p; }
  return C;
}

ad_val *ad_cx_transpose(ad_tape *t, ad_val *a)
{
  size_t r, c;
  cx_shape2(a, &r, &c);
  vi_basetype b = base_real_of(a->type.base);
  vi_basetype rb = b == VT_VECTOR ? VT_ROW_VECTOR : b == VT_ROW_VECTOR ? VT_VECTOR : VT_MATRIX;
  ad_val *R = ad_new_mat(t, rb, c, r, 1, 0);
  ad_val *y = R ? ad_cx_like(t, R, a->nd, a->adj != NULL) : NULL;
  size_t *ii = y ? ad_alloc(t, (2 * r * c > 0 ? 2 * r * c : 1) * sizeof *ii) : NULL;
  if (!ii) return NULL;
  for (size_t i = 0; i < r; i++)
    for (size_t j = 0; j < c; j++)
      for (size_t q = 0; q < 2; q++) ii[2 * (j + i * c) + q] = 2 * (i + j * r) + q;
  ad_gather(t, y, a, 2 * r * c, NULL, ii);
  return y;
}

ad_val *ad_cx_row_vector_literal(ad_tape *t, ad_val **el, int n)
{
  size_t nd = 1, cols = 0;
  int adj = 0, rows = 0;
  for (int i = 0; i < n; i++) {
    if (!(el[i] = ad_to_complex(t, el[i]))) return NULL;
    if (el[i]->nd > nd) nd = el[i]->nd;
    if (el[i]->adj) adj = 1;
    if (base_real_of(el[i]->type.base) == VT_ROW_VECTOR) rows = 1;
  }
  if (n <= 0) {
    ad_tape_set_error(t, "empty row vector literal");
    return NULL;
  }
  if (rows) cols = ad_cx_count(el[0]);
  for (int i = 0; i < n; i++)
    if (rows ? (el[i]->type.base != VT_COMPLEX_ROW_VECTOR || el[i]->type.ndims ||
                ad_cx_count(el[i]) != cols)
             : el[i]->type.base != VT_COMPLEX || el[i]->type.ndims) {
      ad_tape_set_error(t, "matrix literal rows must be row vectors of equal size");
      return NULL;
    }
  ad_val *R = rows ? ad_new_mat(t, VT_MATRIX, (size_t)n, cols, 1, 0)
                   : ad_new_mat(t, VT_ROW_VECTOR, 1, (size_t)n, 1, 0);
  ad_val *out = R ? ad_cx_like(t, R, nd, adj) : NULL;
  if (!out) return NULL;
  size_t m = rows ? cols : 1;
  for (int i = 0; i < n; i++) {
    size_t *oi = ad_alloc(t, 2 * (m ? m : 1) * sizeof *oi);
    if (!oi) return NULL;
    for (size_t j = 0; j < m; j++)
      for (size_t q = 0; q < 2; q++)
        oi[2 * j + q] = 2 * (rows ? (size_t)i + j * (size_t)n : (size_t)i) + q;
    ad_gather(t, out, el[i], 2 * m, oi, NULL);
  }
  return out;
}

/* ---- the operators ------------------------------------------------------------------ */

static int cx_scalar(const ad_val *v) { return v->type.base == VT_COMPLEX && !v->type.ndims; }

ad_val *ad_cx_binary(ad_tape *t, vi_op op, ad_val *a, ad_val *b)
{
  if (!(a = ad_to_complex(t, a)) || !(b = ad_to_complex(t, b))) return NULL;
  int sa = cx_scalar(a), sb = cx_scalar(b);
  switch (op) {
  case OP_ADD: return cx_map2(t, CX_ADD, a, b);
  case OP_SUB: return cx_map2(t, CX_SUB, a, b);
  case OP_MUL: return sa || sb ? cx_map2(t, CX_MUL, a, b) : cx_matmul(t, a, b);
  case OP_EMUL: return cx_map2(t, CX_MUL, a, b);
  case OP_DIV: case OP_EDIV:
    if (op == OP_DIV && !sb) break;
    return cx_map2(t, CX_DIV, a, b);
  case OP_POW: case OP_EPOW: return cx_map2(t, CX_POW, a, b);
  case OP_EQ: case OP_NE: {
    if (!sa || !sb) break;
    size_t nd = ad_nd2(a, b);
    vi_type ti = {VT_INT, 0, NULL};
    ad_val *y = ad_new_nd(t, ti, 0, NULL, nd, 0);
    if (!y) return NULL;
    for (size_t s = 0; s < nd; s++) {
      int eq = cget(a, 0, s) == cget(b, 0, s);
      y->x[s] = op == OP_EQ ? eq : !eq;
    }
    return y;
  }
  default: break;
  }
  ad_tape_set_error(t, "this operator is not defined on complex values");
  return NULL;
}

static cplx c_neg(cplx z) { return -z; }
static cplx c_mone(cplx z) { (void)z; return -1; }

ad_val *ad_cx_unary(ad_tape *t, vi_op op, ad_val *a)
{
  switch (op) {
  case OP_PLUS: return a;
  case OP_NEG: return ad_cx_map1(t, a, c_neg, c_mone);
  case OP_TRANSPOSE: return ad_cx_transpose(t, a);
  default:
    ad_tape_set_error(t, "this operator is not defined on complex values");
    return NULL;
  }
}
