/* operators.c: the model language's operators on the AD tape (see ad.h): arithmetic,
 * comparison and logic with Stan's semantics and broadcasting over draws, the matrix
 * product (one cblas_dgemm over all draws when one operand is constant), the matrix
 * divisions (through solve.c), negation, transpose and the sum of all elements. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <gsl/gsl_cblas.h>
#include "lang/ad/ad.h"
#include "lang/ad/ad_kernels.h"

/* ---- arithmetic ---------------------------------------------------------------- */

/* Loop over elements and draws of a broadcast binary op; A and B are the operands'
 * values, EXPR the result. */
#define EW_FORWARD(EXPR)                                                               \
  for (size_t e = 0; e < L; e++) {                                                     \
    const double *pa = a->x + e * ea * a->nd, *pb = b->x + e * eb * b->nd;             \
    double *po = y->x + e * nd;                                                        \
    if (sa && sb)                                                                      \
      for (size_t s = 0; s < nd; s++) { double A = pa[s], B = pb[s]; po[s] = (EXPR); } \
    else if (sa) {                                                                     \
      double B = pb[0];                                                                \
      for (size_t s = 0; s < nd; s++) { double A = pa[s]; po[s] = (EXPR); }            \
    } else if (sb) {                                                                   \
      double A = pa[0];                                                                \
      for (size_t s = 0; s < nd; s++) { double B = pb[s]; po[s] = (EXPR); }            \
    } else {                                                                           \
      double A = pa[0], B = pb[0], v = (EXPR);                                         \
      for (size_t s = 0; s < nd; s++) po[s] = v;                                       \
    }                                                                                  \
  }

static double d_pow_a(double a, double b, double y)
{
  (void)y;
  if (b == 0) return 0;
  return b * pow(a, b - 1);
}
static double d_pow_b(double a, double b, double y)
{
  (void)b;
  if (y == 0) return 0;
  return y * log(a);
}

/* Reverse sweep of a broadcast binary op: DA and DB are the adjoint contributions in
 * terms of A, B (operand values), Y (result) and G (result adjoint); an operand shared by
 * all draws (nd = 1) sums its contributions over the draws. */
#define ARITH_BW_SIDE(gx, sx, so, px, po, D, X1, X0)                                    \
  if (gx) {                                                                             \
    if (sx && so) {                                                                     \
      for (size_t s = 0; s < nd; s++) {                                                 \
        double X1 = px[s], X0 = po[s], Y = py[s], G = gy[s];                            \
        (void)X1; (void)X0; (void)Y;                                                    \
        gx[s] += (D);                                                                   \
      }                                                                                 \
    } else if (sx) {                                                                    \
      double X0 = po[0];                                                                \
      for (size_t s = 0; s < nd; s++) {                                                 \
        double X1 = px[s], Y = py[s], G = gy[s];                                        \
        (void)X1; (void)X0; (void)Y;                                                    \
        gx[s] += (D);                                                                   \
      }                                                                                 \
    } else {                                                                            \
      double acc = 0, X1 = px[0];                                                       \
      for (size_t s = 0; s < nd; s++) {                                                 \
        double X0 = po[so ? s : 0], Y = py[s], G = gy[s];                               \
        (void)X1; (void)X0; (void)Y;                                                    \
        acc += (D);                                                                     \
      }                                                                                 \
      gx[0] += acc;                                                                     \
    }                                                                                   \
  }
#define ARITH_BW(DA, DB)                                                                \
  for (size_t e = 0; e < L; e++) {                                                      \
    const double *pa = a->x + e * ea * a->nd, *pb = b->x + e * eb * b->nd;              \
    const double *py = y->x + e * nd, *gy = y->adj + e * nd;                            \
    double *ga = a->adj ? a->adj + e * ea * a->nd : NULL;                               \
    double *gb = b->adj ? b->adj + e * eb * b->nd : NULL;                               \
    ARITH_BW_SIDE(ga, sa, sb, pa, pb, DA, A, B)                                         \
    ARITH_BW_SIDE(gb, sb, sa, pb, pa, DB, B, A)                                         \
  }

static void arith_backward(ad_tape *t, ad_node *node)
{
  (void)t;
  ad_val *a = node->in[0], *b = node->in[1], *y = node->out;
  vi_op op = (vi_op)node->iarg[0];
  size_t nd = y->nd, L = y->len;
  size_t ea = a->len == L ? 1 : 0, eb = b->len == L ? 1 : 0;
  size_t sa = a->nd == nd && nd > 1 ? 1 : 0, sb = b->nd == nd && nd > 1 ? 1 : 0;
  switch (op) {
  case OP_ADD: ARITH_BW(G, G); break;
  case OP_SUB: ARITH_BW(G, -G); break;
  case OP_MUL: case OP_EMUL: ARITH_BW(G * B, G * A); break;
  case OP_DIV: case OP_EDIV: ARITH_BW(G / B, -G * Y / B); break;
  case OP_POW: case OP_EPOW: ARITH_BW(G * d_pow_a(A, B, Y), G * d_pow_b(A, B, Y)); break;
  default: break;
  }
}

/* Stan's int is 32-bit: an int result outside its range is an error, not a wrap. */
static int int_overflow(ad_tape *t, const ad_val *y, const char *opname)
{
  size_t n = y->len * y->nd;
  for (size_t i = 0; i < n; i++)
    if (y->x[i] > 2147483647.0 || y->x[i] < -2147483648.0) {
      ad_tape_set_error(t, "integer overflow in %s: %.0f is outside the range of int",
                        opname, y->x[i]);
      return 1;
    }
  return 0;
}

static ad_val *elementwise_arith(ad_tape *t, vi_op op, ad_val *a, ad_val *b,
                                 const char *opname)
{
  ad_val *shape = ad_ew_shape(t, a, b, opname);
  if (!shape) return NULL;
  int ints = a->type.base == VT_INT && b->type.base == VT_INT;
  int cmp = op >= OP_EQ && op <= OP_OR;
  int intres = cmp || (ints && (op == OP_ADD || op == OP_SUB || op == OP_MUL ||
                                op == OP_DIV || op == OP_INTDIV || op == OP_MOD ||
                                op == OP_EMUL));
  if ((op == OP_INTDIV || op == OP_MOD) && !ints) {
    ad_tape_set_error(t, "operator %s requires int operands", opname);
    return NULL;
  }
  vi_type ty = shape->type;
  ty.base = intres ? VT_INT : (ty.base == VT_INT ? VT_REAL : ty.base);
  size_t nd = ad_nd2(a, b), L = shape->len;
  int adj = !intres && ad_tape_recording(t) && (a->adj || b->adj);
  ad_val *y = ad_new_nd(t, ty, shape->ndims, shape->dims, nd, adj);
  if (!y) return NULL;
  size_t ea = a->len == L ? 1 : 0, eb = b->len == L ? 1 : 0;
  size_t sa = a->nd == nd && nd > 1 ? 1 : 0, sb = b->nd == nd && nd > 1 ? 1 : 0;
  if (intres && (op == OP_DIV || op == OP_INTDIV || op == OP_MOD)) {
    size_t nb = b->len * b->nd;
    for (size_t i = 0; i < nb; i++)
      if (b->x[i] == 0) {
        ad_tape_set_error(t, "integer division by zero");
        return NULL;
      }
  }
  switch (op) {
  case OP_ADD: EW_FORWARD(A + B); break;
  case OP_SUB: EW_FORWARD(A - B); break;
  case OP_MUL: case OP_EMUL: EW_FORWARD(A * B); break;
  case OP_DIV: case OP_EDIV: case OP_INTDIV:
    if (intres) { EW_FORWARD(trunc(A / B)); } else { EW_FORWARD(A / B); }
    break;
  case OP_MOD: EW_FORWARD(fmod(A, B)); break;
  case OP_POW: case OP_EPOW: EW_FORWARD(pow(A, B)); break;
  case OP_EQ: EW_FORWARD((double)(A == B)); break;
  case OP_NE: EW_FORWARD((double)(A != B)); break;
  case OP_LT: EW_FORWARD((double)(A < B)); break;
  case OP_LE: EW_FORWARD((double)(A <= B)); break;
  case OP_GT: EW_FORWARD((double)(A > B)); break;
  case OP_GE: EW_FORWARD((double)(A >= B)); break;
  case OP_AND: EW_FORWARD((double)(A != 0 && B != 0)); break;
  case OP_OR: EW_FORWARD((double)(A != 0 || B != 0)); break;
  default:
    ad_tape_set_error(t, "unsupported operator");
    return NULL;
  }
  if (intres && !cmp && int_overflow(t, y, opname)) return NULL;
  if (adj) {
    ad_val *in[2] = {a, b};
    ad_node *node = ad_push(t, arith_backward, y, 2, in);
    if (node) node->iarg[0] = op;
    if (op == OP_DIV || op == OP_EDIV || op == OP_POW || op == OP_EPOW) ad_mark_shared(y);
  } else {
    ad_mark_shared(a);
    ad_mark_shared(b);
  }
  return y;
}

/* ---- matrix product ------------------------------------------------------------ */

/* Y (m x p) = A (m x k) B (k x p), all column-major per draw, in the draw layout. */
static void matmul_backward(ad_tape *t, ad_node *node)
{
  (void)t;
  ad_val *A = node->in[0], *B = node->in[1], *Y = node->out;
  int m = (int)node->iarg[0], k = (int)node->iarg[1], p = (int)node->iarg[2];
  size_t n = Y->nd;
  int ni = (int)n;
  const double *dY = Y->adj;
  if (m == 0 || k == 0 || p == 0) return;
  if (A->nd == 1 && B->nd == 1) {
    if (A->adj)   /* dA += dY B^T */
      cblas_dgemm(CblasColMajor, CblasNoTrans, CblasTrans, m, k, p, 1.0, dY, m, B->x, k,
                  1.0, A->adj, m);
    if (B->adj)   /* dB += A^T dY */
      cblas_dgemm(CblasColMajor, CblasTrans, CblasNoTrans, k, p, m, 1.0, A->x, m, dY, m,
                  1.0, B->adj, k);
    return;
  }
  if (A->nd == 1) {   /* B varying: per column j of B, blocks are (n x k) col-major */
    for (int j = 0; j < p; j++) {
      const double *dYj = dY + (size_t)j * m * n;
      if (B->adj)   /* dB_j^T (n x k) += dY_j^T (n x m) A (m x k) */
        cblas_dgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, ni, k, m, 1.0, dYj, ni,
                    A->x, m, 1.0, B->adj + (size_t)j * k * n, ni);
      if (A->adj)   /* dA (m x k) += sum_s dY_j B_j^T */
        cblas_dgemm(CblasColMajor, CblasTrans, CblasNoTrans, m, k, ni, 1.0, dYj, ni,
                    B->x + (size_t)j * k * n, ni, 1.0, A->adj, m);
    }
    return;
  }
  if (B->nd == 1) {   /* A varying: per row i of A, (n x k) with leading dim m*n */
    for (int i = 0; i < m; i++) {
      if (A->adj)   /* dA_i (n x k) += dY_i (n x p) B^T */
        cblas_dgemm(CblasColMajor, CblasNoTrans, CblasTrans, ni, k, p, 1.0,
                    dY + (size_t)i * n, m * ni, B->x, k, 1.0, A->adj + (size_t)i * n, m * ni);
      if (B->adj)   /* dB (k x p) += A_i^T dY_i */
        cblas_dgemm(CblasColMajor, CblasTrans, CblasNoTrans, k, p, ni, 1.0,
                    A->x + (size_t)i * n, m * ni, dY + (size_t)i * n, m * ni, 1.0, B->adj, k);
    }
    return;
  }
  /* Both varying: loops with the draw axis innermost. */
  for (int j = 0; j < p; j++)
    for (int kk = 0; kk < k; kk++) {
      const double *b = B->x + ((size_t)kk + (size_t)j * k) * n;
      double *gb = B->adj ? B->adj + ((size_t)kk + (size_t)j * k) * n : NULL;
      for (int i = 0; i < m; i++) {
        const double *a = A->x + ((size_t)i + (size_t)kk * m) * n;
        const double *gy = dY + ((size_t)i + (size_t)j * m) * n;
        if (A->adj) {
          double *ga = A->adj + ((size_t)i + (size_t)kk * m) * n;
          for (size_t s = 0; s < n; s++) ga[s] += gy[s] * b[s];
        }
        if (gb)
          for (size_t s = 0; s < n; s++) gb[s] += gy[s] * a[s];
      }
    }
}

static ad_val *matmul(ad_tape *t, ad_val *A, ad_val *B)
{
  size_t m, k, k2, p;
  ad_shape2(A, &m, &k);
  ad_shape2(B, &k2, &p);
  vi_basetype ba = A->type.base, bb = B->type.base, rb;
  if (A->type.ndims || B->type.ndims) {
    ad_tape_set_error(t, "operator * is not defined for arrays");
    return NULL;
  }
  if (ba == VT_ROW_VECTOR && bb == VT_VECTOR) rb = VT_REAL;
  else if (ba == VT_VECTOR && bb == VT_ROW_VECTOR) rb = VT_MATRIX;
  else if (ba == VT_MATRIX && bb == VT_VECTOR) rb = VT_VECTOR;
  else if (ba == VT_ROW_VECTOR && bb == VT_MATRIX) rb = VT_ROW_VECTOR;
  else if (ba == VT_MATRIX && bb == VT_MATRIX) rb = VT_MATRIX;
  else {
    ad_tape_set_error(t, "operator * is not defined for these operand types");
    return NULL;
  }
  if (k != k2) {
    ad_tape_set_error(t, "matrix product: size mismatch (%zu x %zu) * (%zu x %zu)",
                      m, k, k2, p);
    return NULL;
  }
  size_t nd = ad_nd2(A, B);
  int adj = ad_tape_recording(t) && (A->adj || B->adj);
  ad_val *Y = ad_new_mat(t, rb, m, p, nd, adj);
  if (!Y) return NULL;
  int mi = (int)m, ki = (int)k, pi = (int)p, ni = (int)nd;
  if (Y->len * nd > 0) memset(Y->x, 0, Y->len * nd * sizeof(double));
  if (m && p && k) {
    if (A->nd == 1 && B->nd == 1) {
      cblas_dgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, mi, pi, ki, 1.0, A->x, mi,
                  B->x, ki, 0.0, Y->x, mi);
    } else if (A->nd == 1) {
      /* Column j of B over all draws is a (n x k) column-major block; Y_j^T = B_j^T A^T:
       * one GEMM per column of B (one in all for a vector). */
      for (size_t j = 0; j < p; j++)
        cblas_dgemm(CblasColMajor, CblasNoTrans, CblasTrans, ni, mi, ki, 1.0,
                    B->x + j * k * nd, ni, A->x, mi, 0.0, Y->x + j * m * nd, ni);
    } else if (B->nd == 1) {
      /* Row i of A over all draws is (n x k) with leading dimension m*n. */
      for (size_t i = 0; i < m; i++)
        cblas_dgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, ni, pi, ki, 1.0,
                    A->x + i * nd, mi * ni, B->x, ki, 0.0, Y->x + i * nd, mi * ni);
    } else {
      for (size_t j = 0; j < p; j++)
        for (size_t kk = 0; kk < k; kk++) {
          const double *b = B->x + (kk + j * k) * nd;
          for (size_t i = 0; i < m; i++) {
            const double *a = A->x + (i + kk * m) * nd;
            double *y = Y->x + (i + j * m) * nd;
            for (size_t s = 0; s < nd; s++) y[s] += a[s] * b[s];
          }
        }
    }
  }
  ad_val *in[2] = {A, B};
  ad_node *node = ad_push(t, matmul_backward, Y, 2, in);
  if (node) { node->iarg[0] = (long)m; node->iarg[1] = (long)k; node->iarg[2] = (long)p; }
  return Y;
}

static const char *op_name(vi_op op)
{
  static const char *names[] = {
    "=", "+", "-", "*", "/", "%/%", "%", "^", ".*", "./", ".^", "\\",
    "==", "!=", "<", "<=", ">", ">=", "&&", "||", "-", "+", "!", "'"};
  return (unsigned)op < sizeof names / sizeof names[0] ? names[op] : "?";
}

ad_val *ad_elementwise(ad_tape *t, vi_op op, ad_val *a, ad_val *b)
{
  if (!a || !b) {
    ad_tape_set_error(t, "missing operand");
    return NULL;
  }
  return elementwise_arith(t, op, a, b, op_name(op));
}

ad_val *ad_binary(ad_tape *t, vi_op op, ad_val *a, ad_val *b)
{
  if (!a || !b) {
    ad_tape_set_error(t, "missing operand");
    return NULL;
  }
  if (base_is_complex(a->type.base) || base_is_complex(b->type.base))
    return ad_cx_binary(t, op, a, b);
  int sa = ad_is_scalar(a), sb = ad_is_scalar(b);
  const char *nm = op_name(op);
  if (op == OP_MUL && !sa && !sb) {
    if (a->type.base == VT_INT || b->type.base == VT_INT) {
      ad_tape_set_error(t, "operator * is not defined for integer arrays");
      return NULL;
    }
    return matmul(t, a, b);
  }
  if (op == OP_LDIV) return ad_solve_left(t, a, b);
  if (op == OP_DIV && !sb && !sa) return ad_solve_right(t, a, b);
  if ((op >= OP_ADD && op <= OP_EPOW) || (op >= OP_EQ && op <= OP_OR)) {
    if ((a->type.ndims && !sa) || (b->type.ndims && !sb)) {
      if (op != OP_EMUL && op != OP_EDIV && op != OP_EPOW) {
        /* Stan defines arithmetic on vectors and matrices, not on arrays. */
        ad_tape_set_error(t, "operator %s is not defined for arrays", nm);
        return NULL;
      }
    }
    return elementwise_arith(t, op, a, b, nm);
  }
  ad_tape_set_error(t, "operator %s is not a binary operator", nm);
  return NULL;
}


static void neg_backward(ad_tape *t, ad_node *node)
{
  (void)t;
  ad_val *a = node->in[0], *y = node->out;
  size_t n = y->len * y->nd;
  for (size_t i = 0; i < n; i++) a->adj[i] -= y->adj[i];
}

ad_val *ad_unary(ad_tape *t, vi_op op, ad_val *a)
{
  if (!a) {
    ad_tape_set_error(t, "missing operand");
    return NULL;
  }
  if (base_is_complex(a->type.base)) return ad_cx_unary(t, op, a);
  switch (op) {
  case OP_PLUS:
    a->shared = 1;   /* the result aliases a: no in-place write through it */
    return a;
  case OP_TRANSPOSE:
    return ad_transpose(t, a);
  case OP_NEG: {
    ad_val *y = ad_new_nd(t, a->type, a->ndims, a->dims, a->nd, a->adj != NULL);
    if (!y) return NULL;
    size_t n = a->len * a->nd;
    for (size_t i = 0; i < n; i++) y->x[i] = -a->x[i];
    if (a->type.base == VT_INT && int_overflow(t, y, "unary -")) return NULL;
    ad_val *in[1] = {a};
    ad_push(t, neg_backward, y, 1, in);
    return y;
  }
  case OP_NOT: {
    vi_type ty = a->type;
    ty.base = VT_INT;
    ad_val *y = ad_new_nd(t, ty, a->ndims, a->dims, a->nd, 0);
    if (!y) return NULL;
    size_t n = a->len * a->nd;
    for (size_t i = 0; i < n; i++) y->x[i] = a->x[i] == 0;
    return y;
  }
  default:
    ad_tape_set_error(t, "operator %s is not a unary operator", op_name(op));
    return NULL;
  }
}

static void sum_backward(ad_tape *t, ad_node *node)
{
  (void)t;
  ad_val *a = node->in[0], *y = node->out;
  size_t nd = y->nd;
  for (size_t e = 0; e < a->len; e++) {
    double *g = a->adj + e * a->nd;
    if (a->nd == nd) for (size_t s = 0; s < nd; s++) g[s] += y->adj[s];
    else for (size_t s = 0; s < nd; s++) g[0] += y->adj[s];
  }
}

ad_val *ad_sum_all(ad_tape *t, ad_val *a)
{
  if (!a) { ad_tape_set_error(t, "missing operand"); return NULL; }
  vi_type ty = {VT_REAL, 0, NULL};
  size_t nd = a->nd;
  ad_val *y = ad_new_nd(t, ty, 0, NULL, nd, a->adj != NULL);
  if (!y) return NULL;
  for (size_t s = 0; s < nd; s++) y->x[s] = 0;
  for (size_t e = 0; e < a->len; e++) {
    const double *p = a->x + e * nd;
    for (size_t s = 0; s < nd; s++) y->x[s] += p[s];
  }
  ad_val *in[1] = {a};
  ad_push(t, sum_backward, y, 1, in);
  return y;
}
