/* builtins_sequences.c: data-only helpers of Stan 2.36 that build or summarise sequences:
 * linspaced_int_array(K, low, high), uniform_simplex(n) and quantile(x, p).
 *
 * linspaced_int_array follows Stan (which uses Eigen's integer LinSpaced): K = 1 gives
 * {high}; when high - low >= K - 1 the values are low + i d with the integer step
 * d = (high - low) / (K - 1), so high itself may be left out (K = 5 on [0, 11] is
 * 0, 2, 4, 6, 8); when there are fewer integers than K they repeat, low + i / r with
 * r = (K + high - low) / (high - low + 1) (integer division).
 * quantile is R's default sample quantile, type 7 of Hyndman & Fan ("Sample quantiles in
 * statistical packages", 1996), as Stan defines it: with x sorted and h = (n - 1) p,
 * Q(p) = x[floor h] + (h - floor h) (x[floor h + 1] - x[floor h]) (0-based). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "lang/ad/ad_kernels.h"
#include "lang/lib/lib.h"

static long int_at(const ad_val *v, size_t s) { return lround(ad_get(v, 0, s)); }

static ad_val *b_linspaced_int_array(ad_tape *t, ad_val **a, int n)
{
  UNUSED(n);
  long K = int_at(a[0], 0);
  if (K < 0) {
    ad_tape_set_error(t, "linspaced_int_array: size must be non-negative, found %ld", K);
    return NULL;
  }
  size_t nd = ad_nd2(a[1], a[2]), len = (size_t)K;
  ad_val *o = ad_new_nd(t, (vi_type){VT_INT, 1, NULL}, 1, &len, nd, 0);
  if (!o) return NULL;
  for (size_t s = 0; s < nd; s++) {
    long lo = int_at(a[1], s), hi = int_at(a[2], s);
    if (hi < lo) {
      ad_tape_set_error(t, "linspaced_int_array: high (%ld) is less than low (%ld)", hi, lo);
      return NULL;
    }
    for (long i = 0; i < K; i++) {
      long v;
      if (K == 1) v = hi;
      else if (hi - lo >= K - 1) v = lo + i * ((hi - lo) / (K - 1));
      else v = lo + i / ((K + hi - lo) / (hi - lo + 1));
      o->x[(size_t)i * nd + s] = (double)v;
    }
  }
  return o;
}

static ad_val *b_uniform_simplex(ad_tape *t, ad_val **a, int n)
{
  UNUSED(n);
  long K = int_at(a[0], 0);
  if (K < 1) {
    ad_tape_set_error(t, "uniform_simplex: size must be positive, found %ld", K);
    return NULL;
  }
  ad_val *o = ad_new_mat(t, VT_VECTOR, (size_t)K, 1, 1, 0);
  if (!o) return NULL;
  for (long i = 0; i < K; i++) o->x[i] = 1.0 / (double)K;
  return o;
}

static int cmp_double(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* quantile(x, p): p a real (returns real) or real[] (returns x's container type). */
static ad_val *b_quantile(ad_tape *t, ad_val **a, int n)
{
  UNUSED(n);
  ad_val *x = a[0], *p = a[1];
  if (x->adj || p->adj) {
    ad_tape_set_error(t, "quantile: its arguments must be data (they depend on parameters)");
    return NULL;
  }
  size_t N = x->len, np = p->len, nd = ad_nd2(x, p);
  if (N == 0) {
    ad_tape_set_error(t, "quantile: x has size 0");
    return NULL;
  }
  int scalar = ad_is_scalar(p);
  ad_val *o;
  if (scalar) o = ad_new_mat(t, VT_REAL, 0, 0, nd, 0);
  else if (x->type.base == VT_VECTOR || x->type.base == VT_ROW_VECTOR)
    o = ad_new_mat(t, x->type.base, x->type.base == VT_VECTOR ? np : 1,
                   x->type.base == VT_VECTOR ? 1 : np, nd, 0);
  else o = ad_new_nd(t, (vi_type){VT_REAL, 1, NULL}, 1, &np, nd, 0);
  double *xs = ad_alloc(t, (N + 1) * sizeof(double));
  if (!o || !xs) return NULL;
  for (size_t s = 0; s < nd; s++) {
    for (size_t i = 0; i < N; i++) {
      xs[i] = ad_get(x, i, s);
      if (isnan(xs[i])) {
        ad_tape_set_error(t, "quantile: x[%zu] is NaN", i + 1);
        return NULL;
      }
    }
    qsort(xs, N, sizeof *xs, cmp_double);
    for (size_t k = 0; k < np; k++) {
      double pk = ad_get(p, k, s);
      if (!(pk >= 0 && pk <= 1)) {
        ad_tape_set_error(t, "quantile: p = %g (element %zu) is not in [0, 1]", pk, k + 1);
        return NULL;
      }
      double h = (double)(N - 1) * pk, fl = floor(h);
      size_t j = (size_t)fl;
      double q = j + 1 < N ? xs[j] + (h - fl) * (xs[j + 1] - xs[j]) : xs[N - 1];
      o->x[k * nd + s] = q;
    }
  }
  return o;
}

#define BUILTIN(name, sig, impl) {name, sig, impl},
const builtin_def builtin_kernels_sequences[] = {
#include "lang/lib/table_sequences.def"
  {NULL, NULL, NULL}
};
#undef BUILTIN
