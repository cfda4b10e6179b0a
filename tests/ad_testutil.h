/* ad_testutil.h: the generic gradient checker of the AD tests (check_ad.c,
 * check_math.c).  A test gives a function on the tape (a builtin id, an operator, or any
 * callback) and argument values; the checker
 *   1. evaluates it with every real argument varying and carrying an adjoint, seeds the
 *      output adjoint with fixed weights w and runs the reverse sweep;
 *   2. compares each argument adjoint with the central finite difference of
 *      J = sum_e w_e y_e;
 *   3. evaluates again over 5 draws with different values in each draw (and once with
 *      the first argument constant across draws) and compares every draw, value and
 *      gradient, with the one-draw-at-a-time result. */
#ifndef VI_TESTS_AD_TESTUTIL_H
#define VI_TESTS_AD_TESTUTIL_H

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "lang/ad/ad.h"
#include "lang/front/front.h"
#include "lang/lib/lib.h"

#define TA_MAXV 64

typedef struct targ {
  vi_basetype base;
  int arr;              /* array depth */
  int ndims;            /* total rank */
  size_t dims[3];
  double v[TA_MAXV];    /* one draw's values, in the element order of ad.h */
} targ;

#define TR(x) ((targ){VT_REAL, 0, 0, {0}, {x}})
#define TI(x) ((targ){VT_INT, 0, 0, {0}, {x}})
#define TV(n, ...) ((targ){VT_VECTOR, 0, 1, {n}, {__VA_ARGS__}})
#define TRV(n, ...) ((targ){VT_ROW_VECTOR, 0, 1, {n}, {__VA_ARGS__}})
#define TM(r, c, ...) ((targ){VT_MATRIX, 0, 2, {r, c}, {__VA_ARGS__}})
#define TAR(n, ...) ((targ){VT_REAL, 1, 1, {n}, {__VA_ARGS__}})
#define TAI(n, ...) ((targ){VT_INT, 1, 1, {n}, {__VA_ARGS__}})

typedef ad_val *(*ta_fn)(ad_tape *t, ad_val **args, int nargs, const void *ctx);

static ad_val *ta_call_builtin(ad_tape *t, ad_val **args, int nargs, const void *ctx)
{
  return builtin_call(t, *(const int *)ctx, args, nargs);
}

__attribute__((unused)) static ad_val *ta_call_op(ad_tape *t, ad_val **args, int nargs, const void *ctx)
{
  vi_op op = *(const vi_op *)ctx;
  return nargs == 1 ? ad_unary(t, op, args[0]) : ad_binary(t, op, args[0], args[1]);
}

static size_t ta_len(const targ *a)
{
  size_t l = 1;
  for (int i = 0; i < a->ndims; i++) l *= a->dims[i];
  return l;
}

/* Value of element e in draw s: draws differ by a small element-dependent shift. */
static double ta_val(const targ *a, size_t e, size_t s)
{
  if (a->base == VT_INT) return a->v[e];
  return a->v[e] + 0.004 * (double)s * (double)((e % 3) + 1);
}

/* Build argument i on the tape: nd draws (1 or the tape's n), adjoint if real and
 * with_adj; element pe of argument pi shifted by h. */
static ad_val *ta_make(ad_tape *t, const targ *a, size_t nd, int with_adj, int draw0,
                       long pe, double h)
{
  vi_type ty = {a->base, a->arr};
  int varying = nd > 1;
  ad_val *v = ad_new(t, ty, a->ndims, a->dims, varying, with_adj && a->base != VT_INT);
  ck_assert_ptr_nonnull(v);
  size_t L = ta_len(a);
  for (size_t e = 0; e < L; e++)
    for (size_t s = 0; s < nd; s++)
      v->x[e * nd + s] = ta_val(a, e, s + (size_t)draw0) + ((long)e == pe ? h : 0.0);
  return v;
}

static double ta_weight(size_t e) { return 1.0 + 0.37 * (double)((e * 7) % 5); }

/* J = sum_e w_e y_e for draw-0 shifted values (no gradient). */
static double ta_J(ad_tape *t, ta_fn fn, const void *ctx, const targ *args, int nargs,
                   int pi, long pe, double h)
{
  ad_tape_reset(t, 1, 0);
  ad_val *av[8];
  for (int i = 0; i < nargs; i++)
    av[i] = ta_make(t, &args[i], 1, 0, 0, i == pi ? pe : -1, h);
  ad_val *y = fn(t, av, nargs, ctx);
  ck_assert_msg(y != NULL, "evaluation failed: %s", ad_tape_error(t));
  double J = 0;
  for (size_t e = 0; e < y->len; e++) J += ta_weight(e) * y->x[e * y->nd];
  return J;
}

/* Run with n draws; arguments varying (nd = n) except argument `constant` (nd = 1;
 * -1: none).  Returns y; argument values in av. */
static ad_val *ta_run(ad_tape *t, ta_fn fn, const void *ctx, const targ *args, int nargs,
                      size_t n, int draw0, int constant, int grad, ad_val **av)
{
  ad_tape_reset(t, n, grad);
  for (int i = 0; i < nargs; i++)
    av[i] = ta_make(t, &args[i], i == constant ? 1 : n, 1, draw0, -1, 0);
  ad_val *y = fn(t, av, nargs, ctx);
  ck_assert_msg(y != NULL, "evaluation failed: %s", ad_tape_error(t));
  if (grad && y->adj) {
    for (size_t e = 0; e < y->len; e++)
      for (size_t s = 0; s < y->nd; s++) y->adj[e * y->nd + s] = ta_weight(e);
    ad_tape_backward(t);
  }
  return y;
}

static int ta_close(double a, double b, double tol)
{
  if (isnan(a) && isnan(b)) return 1;
  if (isinf(a) && a == b) return 1;
  return fabs(a - b) <= tol * (1.0 + fabs(b));
}

/* The whole check; returns y's draw-0 values through yout (len elements) if non-NULL. */
static void ta_check(const char *what, ta_fn fn, const void *ctx, const targ *args,
                     int nargs, double fdtol, double *yout, size_t *ylen)
{
  ad_tape *t = ad_tape_alloc();
  ad_tape *t1 = ad_tape_alloc();
  ad_val *av[8];
  /* 1. gradient against finite differences, one draw. */
  ad_val *y = ta_run(t, fn, ctx, args, nargs, 1, 0, -1, 1, av);
  if (yout)
    for (size_t e = 0; e < y->len; e++) yout[e] = y->x[e];
  if (ylen) *ylen = y->len;
  int has_grad = y->adj != NULL;
  if (has_grad && fdtol > 0) {   /* fdtol <= 0: no finite differences (domain edges) */
    for (int i = 0; i < nargs; i++) {
      if (args[i].base == VT_INT) continue;
      size_t L = ta_len(&args[i]);
      double g[TA_MAXV];
      for (size_t e = 0; e < L; e++) g[e] = av[i]->adj ? av[i]->adj[e] : 0.0;
      for (size_t e = 0; e < L; e++) {
        double h = 1e-6 * (1.0 + fabs(args[i].v[e]));
        double jp = ta_J(t1, fn, ctx, args, nargs, i, (long)e, h);
        double jm = ta_J(t1, fn, ctx, args, nargs, i, (long)e, -h);
        double fd = (jp - jm) / (2 * h);
        ck_assert_msg(ta_close(g[e], fd, fdtol),
                      "%s: d/d arg%d[%zu]: AD %.10g, finite difference %.10g", what, i + 1,
                      e, g[e], fd);
      }
    }
  }
  /* 2. batched (5 draws, one argument constant or none) equals one draw at a time. */
  for (int constant = -1; constant < (nargs ? 1 : 0); constant++) {
    size_t n = 5;
    ad_val *yb = ta_run(t, fn, ctx, args, nargs, n, 0, constant, 1, av);
    for (size_t s = 0; s < n; s++) {
      ad_val *a1[8];
      /* A constant argument holds draw 0's values in every draw. */
      targ shifted[8];
      for (int i = 0; i < nargs; i++) {
        shifted[i] = args[i];
        if (i != constant)
          for (size_t e = 0; e < ta_len(&args[i]); e++)
            shifted[i].v[e] = ta_val(&args[i], e, s);
      }
      ad_val *y1 = ta_run(t1, fn, ctx, shifted, nargs, 1, 0, -1, 1, a1);
      ck_assert_uint_eq(y1->len, yb->len);
      for (size_t e = 0; e < yb->len; e++) {
        double vb = yb->x[e * yb->nd + (yb->nd > 1 ? s : 0)];
        ck_assert_msg(ta_close(vb, y1->x[e], 1e-12),
                      "%s: batched value draw %zu elem %zu: %.15g vs %.15g", what, s, e, vb,
                      y1->x[e]);
      }
      if (!has_grad) continue;
      for (int i = 0; i < nargs; i++) {
        if (args[i].base == VT_INT || i == constant) continue;
        for (size_t e = 0; e < ta_len(&args[i]); e++) {
          double gb = av[i]->adj[e * av[i]->nd + s], g1 = a1[i]->adj[e];
          ck_assert_msg(ta_close(gb, g1, 1e-10),
                        "%s: batched gradient draw %zu arg%d[%zu]: %.15g vs %.15g", what, s,
                        i + 1, e, gb, g1);
        }
      }
    }
    if (has_grad && constant >= 0 && args[constant].base != VT_INT && yb->nd > 1) {
      /* The constant argument's adjoint is the sum over draws. */
      ad_val *a1[8];
      for (size_t e = 0; e < ta_len(&args[constant]); e++) {
        double tot = 0;
        for (size_t s = 0; s < n; s++) {
          targ shifted[8];
          for (int i = 0; i < nargs; i++) {
            shifted[i] = args[i];
            if (i != constant)
              for (size_t k = 0; k < ta_len(&args[i]); k++)
                shifted[i].v[k] = ta_val(&args[i], k, s);
          }
          ta_run(t1, fn, ctx, shifted, nargs, 1, 0, -1, 1, a1);
          tot += a1[constant]->adj[e];
        }
        ck_assert_msg(ta_close(av[constant]->adj[e], tot, 1e-10),
                      "%s: constant-argument adjoint [%zu]: %.15g vs %.15g", what, e,
                      av[constant]->adj[e], tot);
      }
    }
  }
  ad_tape_free(t);
  ad_tape_free(t1);
}

/* Resolve name by the argument types and check it. */
__attribute__((unused)) static int ta_check_builtin(const char *name, const targ *args, int nargs, double fdtol,
                            double *yout, size_t *ylen)
{
  vi_type types[8] = {{VT_INT, 0}}, ret = {VT_VOID, 0};
  for (int i = 0; i < nargs; i++) {
    types[i].base = args[i].base;
    types[i].ndims = args[i].arr;
  }
  char why[512];
  int id = builtin_resolve(name, types, nargs, &ret, why, sizeof why);
  ck_assert_msg(id >= 0, "%s: %s", name, why);
  ta_check(name, ta_call_builtin, &id, args, nargs, fdtol, yout, ylen);
  /* The value has the type the resolver promised the checker. */
  ad_tape *t = ad_tape_alloc();
  ad_tape_reset(t, 1, 0);
  ad_val *av[8];
  for (int i = 0; i < nargs; i++) av[i] = ta_make(t, &args[i], 1, 0, 0, -1, 0);
  ad_val *y = builtin_call(t, id, av, nargs);
  ck_assert_ptr_nonnull(y);
  ck_assert_msg(y->type.base == ret.base && y->type.ndims == ret.ndims,
                "%s: value of type (%d, %d), resolved as (%d, %d)", name, y->type.base,
                y->type.ndims, ret.base, ret.ndims);
  ck_assert_int_eq(y->ndims, type_rank(y->type));
  ad_tape_free(t);
  return id;
}

#endif
