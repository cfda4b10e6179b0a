/* check_ad.c: the AD tape (ad.c, operators.c, solve.c).  Operators with Stan's semantics
 * (integer division, matrix products, broadcasting), each gradient against central
 * finite differences and each batched evaluation against one draw at a time
 * (ad_testutil.h); the GEMM paths against the per-draw loop; indexing and in-place
 * assignment (a recurrence through the container, gradient against finite differences);
 * literals; the arena's reuse of its memory; large values. */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <gsl/gsl_errno.h>
#include "ad_testutil.h"

/* ---- integer semantics ---------------------------------------------------------- */

static double int_op(vi_op op, double a, double b, const char **err)
{
  ad_tape *t = ad_tape_alloc();
  ad_tape_reset(t, 1, 0);
  ad_val *y = ad_binary(t, op, ad_scalar(t, a, 1), ad_scalar(t, b, 1));
  double r = NAN;
  static char buf[256];
  *err = NULL;
  if (y) {
    ck_assert_int_eq(y->type.base, VT_INT);
    r = y->x[0];
  } else {
    snprintf(buf, sizeof buf, "%s", ad_tape_error(t));
    *err = buf;
  }
  ad_tape_free(t);
  return r;
}

START_TEST(t_int_semantics)
{
  const char *err;
  ck_assert(int_op(OP_DIV, 7, 2, &err) == 3);
  ck_assert(int_op(OP_DIV, -7, 2, &err) == -3);
  ck_assert(int_op(OP_DIV, 7, -2, &err) == -3);
  ck_assert(int_op(OP_INTDIV, 7, 2, &err) == 3);
  ck_assert(int_op(OP_MOD, 7, 3, &err) == 1);
  ck_assert(int_op(OP_MOD, -7, 3, &err) == -1);
  ck_assert(int_op(OP_ADD, 7, 3, &err) == 10);
  ck_assert(int_op(OP_SUB, 7, 3, &err) == 4);
  ck_assert(int_op(OP_MUL, 7, 3, &err) == 21);
  ck_assert(int_op(OP_LT, 7, 3, &err) == 0);
  ck_assert(int_op(OP_GE, 7, 3, &err) == 1);
  ck_assert(int_op(OP_AND, 7, 0, &err) == 0);
  ck_assert(int_op(OP_OR, 7, 0, &err) == 1);
  int_op(OP_DIV, 7, 0, &err);
  ck_assert_ptr_nonnull(err);
  ck_assert_str_eq(err, "integer division by zero");
  int_op(OP_MOD, 7, 0, &err);
  ck_assert_str_eq(err, "integer division by zero");
  ck_assert(int_op(OP_ADD, 2147483646, 1, &err) == 2147483647);
  int_op(OP_ADD, 2147483647, 1, &err);
  ck_assert_ptr_nonnull(err);
  ck_assert_ptr_nonnull(strstr(err, "integer overflow"));
  int_op(OP_MUL, 65536, 65536, &err);
  ck_assert_ptr_nonnull(err);
  /* int ^ int is real; int / real is real */
  ad_tape *t = ad_tape_alloc();
  ad_tape_reset(t, 1, 0);
  ad_val *y = ad_binary(t, OP_POW, ad_scalar(t, 2, 1), ad_scalar(t, -1, 1));
  ck_assert_int_eq(y->type.base, VT_REAL);
  ck_assert(y->x[0] == 0.5);
  y = ad_binary(t, OP_DIV, ad_scalar(t, 7, 1), ad_scalar(t, 2, 0));
  ck_assert_int_eq(y->type.base, VT_REAL);
  ck_assert(y->x[0] == 3.5);
  y = ad_unary(t, OP_NEG, ad_scalar(t, 7, 1));
  ck_assert_int_eq(y->type.base, VT_INT);
  ck_assert(y->x[0] == -7);
  y = ad_unary(t, OP_NOT, ad_scalar(t, 0.5, 0));
  ck_assert(y->x[0] == 0);
  y = ad_to_real(t, ad_scalar(t, 3, 1));
  ck_assert(y->type.base == VT_REAL && y->x[0] == 3);
  ad_tape_free(t);
}
END_TEST

/* ---- operators: finite differences and batching -------------------------------- */

typedef struct opcase {
  vi_op op;
  int nargs;
  targ a, b;
  vi_basetype rbase;
  size_t rlen;
} opcase;

static const opcase op_cases[] = {
  {OP_ADD, 2, TR(1.5), TR(-0.5), VT_REAL, 1},
  {OP_SUB, 2, TR(1.5), TR(-0.5), VT_REAL, 1},
  {OP_MUL, 2, TR(1.5), TR(-0.5), VT_REAL, 1},
  {OP_DIV, 2, TR(1.5), TR(-0.5), VT_REAL, 1},
  {OP_POW, 2, TR(1.5), TR(-0.5), VT_REAL, 1},
  {OP_ADD, 2, TV(3, 1, 2, 3), TV(3, 0.5, -1, 2), VT_VECTOR, 3},
  {OP_SUB, 2, TR(0.7), TV(3, 0.5, -1, 2), VT_VECTOR, 3},
  {OP_ADD, 2, TM(2, 2, 1, 2, 3, 4), TR(0.7), VT_MATRIX, 4},
  {OP_MUL, 2, TR(0.7), TM(2, 2, 1, 2, 3, 4), VT_MATRIX, 4},
  {OP_MUL, 2, TRV(3, 1, 2, 3), TR(-2), VT_ROW_VECTOR, 3},
  {OP_DIV, 2, TV(3, 1, 2, 3), TR(-2), VT_VECTOR, 3},
  {OP_EMUL, 2, TV(3, 1, 2, 3), TV(3, 0.5, -1, 2), VT_VECTOR, 3},
  {OP_EDIV, 2, TV(3, 1, 2, 3), TV(3, 0.5, -1, 2), VT_VECTOR, 3},
  {OP_EDIV, 2, TR(2), TV(3, 0.5, -1, 2), VT_VECTOR, 3},
  {OP_EPOW, 2, TV(3, 1, 2, 3), TV(3, 0.5, -1, 2), VT_VECTOR, 3},
  {OP_EMUL, 2, TM(2, 2, 1, 2, 3, 4), TM(2, 2, 0.5, -1, 2, 3), VT_MATRIX, 4},
  {OP_EMUL, 2, TAR(3, 1, 2, 3), TAR(3, 0.5, -1, 2), VT_REAL, 3},
  /* matrix products */
  {OP_MUL, 2, TRV(3, 1, 2, 3), TV(3, 0.5, -1, 2), VT_REAL, 1},
  {OP_MUL, 2, TV(2, 1, 2), TRV(3, 0.5, -1, 2), VT_MATRIX, 6},
  {OP_MUL, 2, TM(2, 3, 1, 2, 3, 4, 5, 6), TV(3, 0.5, -1, 2), VT_VECTOR, 2},
  {OP_MUL, 2, TRV(2, 0.5, -1), TM(2, 3, 1, 2, 3, 4, 5, 6), VT_ROW_VECTOR, 3},
  {OP_MUL, 2, TM(2, 3, 1, 2, 3, 4, 5, 6), TM(3, 2, 0.5, -1, 2, 1, 0, 3), VT_MATRIX, 4},
  /* matrix division */
  {OP_LDIV, 2, TM(2, 2, 2, 1, 0.5, 3), TV(2, 1, -1), VT_VECTOR, 2},
  {OP_LDIV, 2, TM(2, 2, 2, 1, 0.5, 3), TM(2, 2, 1, -1, 0.3, 2), VT_MATRIX, 4},
  {OP_DIV, 2, TRV(2, 1, -1), TM(2, 2, 2, 1, 0.5, 3), VT_ROW_VECTOR, 2},
  {OP_DIV, 2, TM(2, 2, 1, -1, 0.3, 2), TM(2, 2, 2, 1, 0.5, 3), VT_MATRIX, 4},
  /* unary */
  {OP_NEG, 1, TV(3, 1, -2, 3), TR(0), VT_VECTOR, 3},
  {OP_TRANSPOSE, 1, TV(3, 1, -2, 3), TR(0), VT_ROW_VECTOR, 3},
  {OP_TRANSPOSE, 1, TM(2, 3, 1, 2, 3, 4, 5, 6), TR(0), VT_MATRIX, 6},
};

START_TEST(t_ops)
{
  const opcase *c = &op_cases[_i];
  targ args[2] = {c->a, c->b};
  double y[TA_MAXV];
  size_t n;
  char what[64];
  snprintf(what, sizeof what, "op case %d", _i);
  ta_check(what, ta_call_op, &c->op, args, c->nargs, 1e-6, y, &n);
  ck_assert_uint_eq(n, c->rlen);
  /* values against a direct computation for a few */
  if (_i == 21) {   /* (2x3) * (3x2), column-major */
    const double *A = c->a.v, *B = c->b.v;
    for (int i = 0; i < 2; i++)
      for (int j = 0; j < 2; j++) {
        double s = 0;
        for (int k = 0; k < 3; k++) s += A[i + 2 * k] * B[k + 3 * j];
        ck_assert(fabs(y[i + 2 * j] - s) < 1e-14);
      }
  }
  if (_i == 22) {   /* A \\ b: A x = b */
    /* A = [2 0.5; 1 3], b = (1, -1): x = (7, -6) / 11 */
    ck_assert(fabs(y[0] - 7.0 / 11) < 1e-14 && fabs(y[1] + 6.0 / 11) < 1e-14);
  }
  if (_i == 28) {   /* transpose of 2x3: y(j,i) = a(i,j) */
    for (int i = 0; i < 2; i++)
      for (int j = 0; j < 3; j++) ck_assert(y[j + 3 * i] == c->a.v[i + 2 * j]);
  }
  ad_tape *t = ad_tape_alloc();
  ad_tape_reset(t, 1, 0);
  ad_val *av[2];
  for (int i = 0; i < c->nargs; i++) av[i] = ta_make(t, &args[i], 1, 0, 0, -1, 0);
  ad_val *r = ta_call_op(t, av, c->nargs, &c->op);
  ck_assert_int_eq(r->type.base, c->rbase);
  ad_tape_free(t);
}
END_TEST

START_TEST(t_shape_errors)
{
  ad_tape *t = ad_tape_alloc();
  ad_tape_reset(t, 3, 1);
  size_t d3 = 3, d2 = 2, d23[2] = {2, 3};
  vi_type V = {VT_VECTOR, 0}, M = {VT_MATRIX, 0};
  ad_val *v3 = ad_new(t, V, 1, &d3, 1, 1), *v2 = ad_new(t, V, 1, &d2, 1, 1);
  ad_val *m = ad_new(t, M, 2, d23, 0, 0);
  ck_assert_ptr_null(ad_binary(t, OP_ADD, v3, v2));
  ck_assert_ptr_nonnull(ad_tape_error(t));
  ad_tape_reset(t, 3, 1);
  v2 = ad_new(t, V, 1, &d2, 1, 1);
  m = ad_new(t, M, 2, d23, 0, 0);
  ck_assert_ptr_null(ad_binary(t, OP_MUL, m, v2));
  ck_assert_ptr_nonnull(strstr(ad_tape_error(t), "size mismatch"));
  ad_tape_reset(t, 3, 1);
  ck_assert_ptr_null(ad_tape_error(t));
  ad_tape_free(t);
}
END_TEST

/* ---- GEMM paths: constant x varying equals the per-draw product ----------------- */

START_TEST(t_gemm_paths)
{
  enum { R = 7, K = 5, P = 3, N = 6 };
  ad_tape *t = ad_tape_alloc();
  for (int which = 0; which < 4; which++) {
    /* which 0: data matrix * param vector; 1: data matrix * param matrix;
     * 2: param row_vector * data matrix; 3: param matrix * data matrix */
    ad_tape_reset(t, N, 1);
    vi_type M = {VT_MATRIX, 0}, V = {VT_VECTOR, 0}, RV = {VT_ROW_VECTOR, 0};
    size_t dA[2], dB[2];
    ad_val *A, *B;
    if (which <= 1) {
      dA[0] = R; dA[1] = K;
      A = ad_new(t, M, 2, dA, 0, 0);
      if (which == 0) { dB[0] = K; B = ad_new(t, V, 1, dB, 1, 1); }
      else { dB[0] = K; dB[1] = P; B = ad_new(t, M, 2, dB, 1, 1); }
    } else {
      if (which == 2) { dA[0] = K; A = ad_new(t, RV, 1, dA, 1, 1); }
      else { dA[0] = P; dA[1] = K; A = ad_new(t, M, 2, dA, 1, 1); }
      dB[0] = K; dB[1] = R;
      B = ad_new(t, M, 2, dB, 0, 0);
    }
    for (size_t i = 0; i < A->len * A->nd; i++) A->x[i] = sin(1.0 + 0.7 * (double)i);
    for (size_t i = 0; i < B->len * B->nd; i++) B->x[i] = cos(0.3 + 1.1 * (double)i);
    ad_val *Y = ad_binary(t, OP_MUL, A, B);
    ck_assert_ptr_nonnull(Y);
    ck_assert_uint_eq(Y->nd, N);
    for (size_t i = 0; i < Y->len * N; i++) Y->adj[i] = 1.0 + 0.1 * (double)(i % 7);
    ad_tape_backward(t);
    /* Per draw, with a varying copy of the constant operand (the loop path). */
    ad_tape *t2 = ad_tape_alloc();
    ad_tape_reset(t2, N, 1);
    ad_val *A2 = ad_new(t2, A->type, A->ndims, A->dims, 1, 1);
    ad_val *B2 = ad_new(t2, B->type, B->ndims, B->dims, 1, 1);
    for (size_t e = 0; e < A->len; e++)
      for (size_t s = 0; s < N; s++) A2->x[e * N + s] = A->x[e * A->nd + (A->nd > 1 ? s : 0)];
    for (size_t e = 0; e < B->len; e++)
      for (size_t s = 0; s < N; s++) B2->x[e * N + s] = B->x[e * B->nd + (B->nd > 1 ? s : 0)];
    ad_val *Y2 = ad_binary(t2, OP_MUL, A2, B2);
    for (size_t i = 0; i < Y2->len * N; i++) Y2->adj[i] = 1.0 + 0.1 * (double)(i % 7);
    ad_tape_backward(t2);
    for (size_t i = 0; i < Y->len * N; i++)
      ck_assert_msg(fabs(Y->x[i] - Y2->x[i]) < 1e-12, "case %d value %zu", which, i);
    ad_val *P1 = which <= 1 ? B : A, *P2 = which <= 1 ? B2 : A2;
    for (size_t i = 0; i < P1->len * N; i++)
      ck_assert_msg(fabs(P1->adj[i] - P2->adj[i]) < 1e-12, "case %d adj %zu", which, i);
    ad_tape_free(t2);
  }
  ad_tape_free(t);
}
END_TEST

/* ---- indexing and in-place assignment ------------------------------------------- */

/* f(a, x) = sum(exp(mu)) + dot(mu, mu) where mu[1] = x[1], mu[i] = a * mu[i-1] + x[i]:
 * a recurrence through the container, written in place. */
static ad_val *recurrence(ad_tape *t, ad_val **args, int nargs, const void *ctx)
{
  (void)nargs;
  int share = *(const int *)ctx;
  ad_val *a = args[0], *x = args[1];
  size_t N = x->len;
  vi_type V = {VT_VECTOR, 0};
  ad_val *mu = ad_new(t, V, 1, &N, 0, 0);
  for (size_t i = 0; i < N; i++) mu->x[i] = 0;
  ad_ix ix = {0, 0, NULL, 0};
  mu = ad_assign_index(t, mu, &ix, 1, ad_index(t, x, &ix, 1));
  ad_val *extra = NULL;
  for (size_t i = 1; i < N; i++) {
    ad_ix prev = {0, i - 1, NULL, 0}, cur = {0, i, NULL, 0};
    ad_val *m = ad_binary(t, OP_MUL, a, ad_index(t, mu, &prev, 1));
    ad_val *rhs = ad_binary(t, OP_ADD, m, ad_index(t, x, &cur, 1));
    if (share && i == 2) {
      /* An op that reads mu's values (and so marks it shared) before the next write. */
      extra = ad_binary(t, OP_MUL, ad_unary(t, OP_TRANSPOSE, mu), mu);
    }
    ad_val *before = mu;
    mu = ad_assign_index(t, mu, &cur, 1, rhs);
    ck_assert_ptr_nonnull(mu);
    if (!share || i != 2) ck_assert_ptr_eq(mu, before);   /* in place */
    else ck_assert_ptr_ne(mu, before);                     /* copied once */
  }
  ad_val *y = ad_sum_all(t, builtin_call(t, builtin_resolve("exp", &V, 1, NULL, NULL, 0),
                                            &mu, 1));
  y = ad_binary(t, OP_ADD, y, ad_binary(t, OP_MUL, ad_unary(t, OP_TRANSPOSE, mu), mu));
  if (extra) y = ad_binary(t, OP_ADD, y, extra);
  return y;
}

START_TEST(t_inplace_recurrence)
{
  targ args[2] = {TR(0.8), TV(6, 0.1, -0.2, 0.3, 0.05, -0.1, 0.2)};
  int share = 0;
  ta_check("recurrence", recurrence, &share, args, 2, 1e-6, NULL, NULL);
  share = 1;
  ta_check("recurrence (shared)", recurrence, &share, args, 2, 1e-6, NULL, NULL);
}
END_TEST

/* Indexing: rows, columns, multi-indexes and arrays, each as a function for the
 * checker.  ctx selects the case. */
static ad_val *index_case(ad_tape *t, ad_val **args, int nargs, const void *ctx)
{
  (void)nargs;
  int c = *(const int *)ctx;
  static const size_t p2[2] = {2, 0}, p3[3] = {1, 1, 0};
  ad_val *a = args[0];
  ad_ix ix[2];
  switch (c) {
  case 0:  /* matrix[2, 1] -> real */
    ix[0] = (ad_ix){0, 1, NULL, 0}; ix[1] = (ad_ix){0, 0, NULL, 0};
    return ad_index(t, a, ix, 2);
  case 1:  /* matrix[2] -> row_vector */
    ix[0] = (ad_ix){0, 1, NULL, 0};
    return ad_index(t, a, ix, 1);
  case 2:  /* matrix[:, 3] -> vector */
    ix[0] = (ad_ix){1, 0, p3, 2}; ix[1] = (ad_ix){0, 2, NULL, 0};
    return ad_index(t, a, ix, 2);
  case 3:  /* matrix[{2,1,1}, {3,1}] -> 3x2 matrix */
    ix[0] = (ad_ix){1, 0, p3, 3}; ix[1] = (ad_ix){1, 0, p2, 2};
    return ad_index(t, a, ix, 2);
  case 4:  /* vector[{3,1}] */
    ix[0] = (ad_ix){1, 0, p2, 2};
    return ad_index(t, a, ix, 1);
  case 6: { /* repeated position: v[{2, 2}] = w, the last write wins */
    static const size_t rep[2] = {1, 1};
    ad_val *v = ad_copy(t, a);
    ix[0] = (ad_ix){1, 0, rep, 2};
    v = ad_assign_index(t, v, ix, 1, args[1]);
    return ad_sum_all(t, ad_binary(t, OP_EMUL, v, v));
  }
  default: { /* assign into a copy: v[{3,1}] = w then sum(v .* v) */
    ad_val *v = ad_copy(t, a);
    ix[0] = (ad_ix){1, 0, p2, 2};
    ad_val *w = ad_binary(t, OP_MUL, args[1], ad_scalar(t, 2.0, 0));
    v = ad_assign_index(t, v, ix, 1, w);
    return ad_sum_all(t, ad_binary(t, OP_EMUL, v, v));
  }
  }
}

START_TEST(t_indexing)
{
  targ m = TM(2, 3, 1, 2, 3, 4, 5, 6);
  double y[TA_MAXV];
  size_t n;
  int c = 0;
  ta_check("m[2,1]", index_case, &c, &m, 1, 1e-6, y, &n);
  ck_assert(n == 1 && y[0] == 2);
  c = 1;
  ta_check("m[2]", index_case, &c, &m, 1, 1e-6, y, &n);
  ck_assert(n == 3 && y[0] == 2 && y[1] == 4 && y[2] == 6);
  c = 2;
  ta_check("m[{2,2},3]", index_case, &c, &m, 1, 1e-6, y, &n);
  ck_assert(n == 2 && y[0] == 6 && y[1] == 6);
  c = 3;
  ta_check("m[{2,2,1},{3,1}]", index_case, &c, &m, 1, 1e-6, y, &n);
  /* result (i, j) = m[p3[i], p2[j]], column-major */
  const size_t p2[2] = {2, 0}, p3[3] = {1, 1, 0};
  ck_assert_uint_eq(n, 6);
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 2; j++) ck_assert(y[i + 3 * j] == m.v[p3[i] + 2 * p2[j]]);
  targ v = TV(3, 1, 2, 3);
  c = 4;
  ta_check("v[{3,1}]", index_case, &c, &v, 1, 1e-6, y, &n);
  ck_assert(n == 2 && y[0] == 3 && y[1] == 1);
  targ vw[2] = {TV(3, 1, 2, 3), TV(2, 0.5, -0.7)};
  c = 5;
  ta_check("v[{3,1}] = 2 w", index_case, &c, vw, 2, 1e-6, y, &n);
  ck_assert(fabs(y[0] - (1.4 * 1.4 + 4 + 1)) < 1e-14);
  c = 6;
  ta_check("v[{2,2}] = w", index_case, &c, vw, 2, 1e-6, y, &n);
  ck_assert(fabs(y[0] - (1 + 0.49 + 9)) < 1e-14);
  /* arrays of vectors: a[2] is a vector, a[2, 1] a real, a[:, 2] a real[] */
  ad_tape *t = ad_tape_alloc();
  ad_tape_reset(t, 1, 0);
  size_t dims[2] = {3, 2};
  vi_type AV = {VT_VECTOR, 1};
  ad_val *a = ad_new(t, AV, 2, dims, 0, 0);
  for (int i = 0; i < 6; i++) a->x[i] = i;
  ad_ix ix[2] = {{0, 1, NULL, 0}, {0, 0, NULL, 0}};
  ad_val *r = ad_index(t, a, ix, 1);
  ck_assert(r->type.base == VT_VECTOR && r->type.ndims == 0 && r->len == 2);
  ck_assert(r->x[0] == 2 && r->x[1] == 3);
  r = ad_index(t, a, ix, 2);
  ck_assert(r->type.base == VT_REAL && r->len == 1 && r->x[0] == 2);
  size_t all[3] = {0, 1, 2};
  ad_ix ix2[2] = {{1, 0, all, 3}, {0, 1, NULL, 0}};
  r = ad_index(t, a, ix2, 2);
  ck_assert(r->type.base == VT_REAL && r->type.ndims == 1 && r->len == 3);
  ck_assert(r->x[0] == 1 && r->x[1] == 3 && r->x[2] == 5);
  /* out of range: an error, not a crash */
  ad_ix bad = {0, 3, NULL, 0};
  ck_assert_ptr_null(ad_index(t, a, &bad, 1));
  ck_assert_ptr_nonnull(ad_tape_error(t));
  ad_tape_free(t);
}
END_TEST

/* ---- literals ------------------------------------------------------------------- */

static ad_val *literal_case(ad_tape *t, ad_val **args, int nargs, const void *ctx)
{
  int c = *(const int *)ctx;
  if (c == 0) return ad_row_vector_literal(t, args, nargs);
  if (c == 1) return ad_array_literal(t, args, nargs);
  /* [[a, b], [c, d]] */
  ad_val *r1 = ad_row_vector_literal(t, args, 2), *r2 = ad_row_vector_literal(t, args + 2, 2);
  ad_val *rows[2] = {r1, r2};
  return ad_row_vector_literal(t, rows, 2);
}

START_TEST(t_literals)
{
  targ s[4] = {TR(1.5), TI(2), TR(-0.5), TR(4)};
  double y[TA_MAXV];
  size_t n;
  int c = 0;
  ta_check("[a, b, c]", literal_case, &c, s, 3, 1e-6, y, &n);
  ck_assert(n == 3 && y[0] == 1.5 && y[1] == 2 && y[2] == -0.5);
  c = 1;
  ta_check("{a, b, c}", literal_case, &c, s, 3, 1e-6, y, &n);
  ck_assert(n == 3 && y[1] == 2);
  c = 2;
  ta_check("[[a, b], [c, d]]", literal_case, &c, s, 4, 1e-6, y, &n);
  ck_assert(n == 4 && y[0] == 1.5 && y[1] == -0.5 && y[2] == 2 && y[3] == 4);
  targ vv[2] = {TV(2, 1, 2), TV(2, 3, 4)};
  c = 1;
  ta_check("{v, w}", literal_case, &c, vv, 2, 1e-6, y, &n);
  ck_assert(n == 4 && y[2] == 3);
  /* types */
  ad_tape *t = ad_tape_alloc();
  ad_tape_reset(t, 1, 0);
  ad_val *ints[2] = {ad_scalar(t, 1, 1), ad_scalar(t, 2, 1)};
  ad_val *r = ad_array_literal(t, ints, 2);
  ck_assert(r->type.base == VT_INT && r->type.ndims == 1);
  r = ad_row_vector_literal(t, ints, 2);
  ck_assert(r->type.base == VT_ROW_VECTOR);
  ad_tape_free(t);
}
END_TEST

/* ---- arena ---------------------------------------------------------------------- */

static void small_eval(ad_tape *t, size_t n, size_t N)
{
  ad_tape_reset(t, n, 1);
  vi_type V = {VT_VECTOR, 0};
  ad_val *x = ad_new(t, V, 1, &N, 1, 1);
  for (size_t i = 0; i < N * n; i++) x->x[i] = 0.001 * (double)i;
  ad_val *y = x;
  for (int k = 0; k < 50; k++) y = ad_binary(t, OP_ADD, ad_binary(t, OP_EMUL, y, y), x);
  ad_val *s = ad_sum_all(t, y);
  for (size_t i = 0; i < n; i++) s->adj[i] = 1;
  ad_tape_backward(t);
}

START_TEST(t_arena_reuse)
{
  ad_tape *t = ad_tape_alloc();
  small_eval(t, 32, 5000);
  size_t b1 = ad_tape_arena_bytes(t);
  small_eval(t, 32, 5000);
  size_t b2 = ad_tape_arena_bytes(t);
  small_eval(t, 32, 5000);
  size_t b3 = ad_tape_arena_bytes(t);
  small_eval(t, 32, 5000);
  size_t b4 = ad_tape_arena_bytes(t);
  ck_assert_uint_ge(b2, b1 / 2);
  ck_assert_uint_eq(b2, b3);
  ck_assert_uint_eq(b3, b4);
  ad_tape_free(t);
}
END_TEST

START_TEST(t_large_values)
{
  /* 100,000 elements x 32 draws (25 MB per value) */
  ad_tape *t = ad_tape_alloc();
  for (int rep = 0; rep < 2; rep++) {
    ad_tape_reset(t, 32, 1);
    size_t N = 100000;
    vi_type V = {VT_VECTOR, 0};
    ad_val *x = ad_new(t, V, 1, &N, 1, 1);
    ck_assert_ptr_nonnull(x);
    for (size_t i = 0; i < N * 32; i++) x->x[i] = 1e-5 * (double)(i % 1000);
    ad_val *y = ad_binary(t, OP_EMUL, x, x);
    ad_val *s = ad_sum_all(t, y);
    ck_assert_ptr_nonnull(s);
    for (size_t i = 0; i < 32; i++) s->adj[i] = 1;
    ad_tape_backward(t);
    ck_assert(fabs(x->adj[12345 * 32 + 7] - 2 * x->x[12345 * 32 + 7]) < 1e-15);
  }
  ad_tape_free(t);
}
END_TEST

START_TEST(t_make_varying_copy)
{
  ad_tape *t = ad_tape_alloc();
  ad_tape_reset(t, 4, 1);
  size_t N = 3;
  vi_type V = {VT_VECTOR, 0};
  ad_val *c = ad_new(t, V, 1, &N, 0, 0);
  c->x[0] = 1; c->x[1] = 2; c->x[2] = 3;
  ad_val *v = ad_make_varying(t, c);
  ck_assert_uint_eq(v->nd, 4);
  ck_assert_ptr_nonnull(v->adj);
  ck_assert(v->x[1 * 4 + 3] == 2);
  ad_val *cp = ad_copy(t, v);
  ck_assert(cp->nd == 4 && cp->adj != NULL && cp->x[8] == 3);
  ad_val *s = ad_sum_all(t, ad_binary(t, OP_EMUL, cp, cp));
  for (int i = 0; i < 4; i++) s->adj[i] = 1;
  ad_tape_backward(t);
  ck_assert(v->adj[2 * 4 + 1] == 6);
  /* persistent values */
  ad_val *p = ad_val_new_persistent(V, 1, &N);
  ck_assert(p->persistent && p->nd == 1 && p->len == 3);
  ad_val_free(p);
  ad_val_free(NULL);
  ad_tape_free(t);
  ad_tape_free(NULL);
}
END_TEST

int main(void)
{
  gsl_set_error_handler_off();
  Suite *s = suite_create("ad");
  TCase *tc = tcase_create("core");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, t_int_semantics);
  tcase_add_loop_test(tc, t_ops, 0, (int)(sizeof op_cases / sizeof op_cases[0]));
  tcase_add_test(tc, t_shape_errors);
  tcase_add_test(tc, t_gemm_paths);
  tcase_add_test(tc, t_inplace_recurrence);
  tcase_add_test(tc, t_indexing);
  tcase_add_test(tc, t_literals);
  tcase_add_test(tc, t_arena_reuse);
  tcase_add_test(tc, t_large_values);
  tcase_add_test(tc, t_make_varying_copy);
  suite_add_tcase(s, tc);
  SRunner *r = srunner_create(s);
  srunner_run_all(r, CK_NORMAL);
  int nf = srunner_ntests_failed(r);
  srunner_free(r);
  return nf ? EXIT_FAILURE : EXIT_SUCCESS;
}
