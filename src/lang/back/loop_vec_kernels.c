/* loop_vec_kernels.c: two kernels of loop_vec.c's folded loops that keep per-draw work
 * per draw: normal_lpdf with one sigma per draw and log_mix with one theta per draw, as
 * the library's kernels compute them for one element (the same operations in the same
 * order, so the same values), but with log(sigma), and log(theta) and log1m(theta),
 * taken once per draw instead of once per iteration and draw (they were most of the cost
 * of a mixture).  Operands are folded (lf 1: one scalar per iteration and draw) or plain
 * (lf 0) scalars over n draws and L iterations. */
#include <math.h>
#include "lang/ad/ad_kernels.h"
#include "lang/back/loop_vec_kernels.h"

/* Operands: folded (lf, nd N: e * n + s), per iteration only (lf, nd L: e), per draw
 * (nd n: s) or constant (nd 1). */
static inline size_t opk(const ad_val *v, int lf, size_t e, size_t s, size_t n, size_t N)
{
  return v->nd == 1 ? 0 : !lf ? s : v->nd == N ? e * n + s : e;
}

static inline double opx(const ad_val *v, int lf, size_t e, size_t s, size_t n, size_t N)
{
  return v->x[opk(v, lf, e, s, n, N)];
}

static inline double *opadj(const ad_val *v, int lf, size_t e, size_t s, size_t n, size_t N)
{
  return v->adj + opk(v, lf, e, s, n, N);
}

/* Operand v of iteration e as a row over the draws: row[s * *ds] */
static inline const double *oprow(const ad_val *v, int lf, size_t e, size_t n, size_t N,
                                  size_t *ds)
{
  *ds = v->nd == 1 || (lf && v->nd != N) ? 0 : 1;
  return v->x + opk(v, lf, e, 0, n, N);
}

static inline double *adjrow(const ad_val *v, int lf, size_t e, size_t n, size_t N)
{
  return v->adj + opk(v, lf, e, 0, n, N);
}

static const double LV_LOG_SQRT_2PI = 0.918938533204672741780329736406;

static void normal_backward(ad_tape *t, ad_node *nd)
{
  (void)t;
  const ad_val *o = nd->out;
  ad_val *y = nd->in[0], *mu = nd->in[1], *sg = nd->in[2];
  const double *isg = nd->saved;
  size_t n = (size_t)nd->iarg[0], L = (size_t)nd->iarg[1], N = n * L, dy, dm;
  size_t dsg = sg->nd == 1 ? 0 : 1;
  int ly = (int)(nd->iarg[2] & 1), lm = (int)(nd->iarg[2] >> 1 & 1);
  for (size_t e = 0; e < L; e++) {
    const double *yr = oprow(y, ly, e, n, N, &dy), *mr = oprow(mu, lm, e, n, N, &dm);
    const double *g = o->adj + e * n;
    double *ya = y->adj ? adjrow(y, ly, e, n, N) : NULL, *ma = mu->adj ? adjrow(mu, lm, e, n, N) : NULL;
    for (size_t s = 0; s < n; s++) {
      double z = (yr[s * dy] - mr[s * dm]) * isg[s], gz = g[s] * (z * isg[s]);
      if (ya) ya[s * dy] -= gz;
      if (ma) ma[s * dm] += gz;
      if (sg->adj && sg->x[s * dsg] > 0) sg->adj[s * dsg] += g[s] * (z * z * isg[s] - isg[s]);
    }
  }
}

ad_val *lvk_normal(ad_tape *t, size_t n, size_t L, ad_val **a, const int *lf)
{
  size_t N = n * L;
  ad_val *y = a[0], *mu = a[1], *sg = a[2];
  double *isg = ad_alloc(t, 2 * n * sizeof *isg), *lsg = isg + n;
  ad_val *o = ad_new_nd(t, (vi_type){VT_REAL, 0, NULL}, 0, NULL, N,
                        y->adj || mu->adj || sg->adj);
  if (!isg || !o) return NULL;
  for (size_t s = 0; s < n; s++) {
    double sigma = sg->x[sg->nd == 1 ? 0 : s];
    isg[s] = sigma > 0 ? 1.0 / sigma : isnan(sigma) ? sigma : 0;
    lsg[s] = log(sigma) + LV_LOG_SQRT_2PI;
  }
  size_t dy, dm, dsg = sg->nd == 1 ? 0 : 1;
  for (size_t e = 0; e < L; e++) {
    const double *yr = oprow(y, lf[0], e, n, N, &dy), *mr = oprow(mu, lf[1], e, n, N, &dm);
    double *ox = o->x + e * n;
    for (size_t s = 0; s < n; s++) {
      double z = (yr[s * dy] - mr[s * dm]) * isg[s];
      double acc = 0;
      acc -= 0.5 * z * z;
      ox[s] = sg->x[s * dsg] <= 0 ? -INFINITY : acc - lsg[s];
    }
  }
  ad_val *in[3] = {y, mu, sg};
  ad_node *nd = ad_push(t, normal_backward, o, 3, in);
  if (nd) {
    nd->saved = isg;
    nd->iarg[0] = (long)n; nd->iarg[1] = (long)L; nd->iarg[2] = lf[0] | lf[1] << 1;
  }
  return o;
}

static void mix_backward(ad_tape *t, ad_node *nd)
{
  (void)t;
  const ad_val *o = nd->out;
  ad_val *th = nd->in[0], *a = nd->in[1], *b = nd->in[2];
  const double *rr = nd->saved;
  size_t n = (size_t)nd->iarg[0], L = (size_t)nd->iarg[1], N = n * L;
  int la = (int)(nd->iarg[2] & 1), lb = (int)(nd->iarg[2] >> 1 & 1);
  for (size_t e = 0; e < L; e++)
    for (size_t s = 0; s < n; s++) {
      size_t k = e * n + s;
      double g = o->adj[k], r1 = rr[k], r2 = rr[N + k];
      if (g == 0) continue;
      if (a->adj) *opadj(a, la, e, s, n, N) += g * r1;
      if (b->adj) *opadj(b, lb, e, s, n, N) += g * r2;
      if (th->adj) {
        double x = th->x[th->nd == 1 ? 0 : s];
        *opadj(th, 0, e, s, n, N) += g * (r1 / x - r2 / (1 - x));
      }
    }
}

ad_val *lvk_log_mix(ad_tape *t, size_t n, size_t L, ad_val **a, const int *lf)
{
  size_t N = n * L;
  ad_val *th = a[0], *A = a[1], *B = a[2];
  int adj = th->adj || A->adj || B->adj;
  double *lt = ad_alloc(t, 2 * n * sizeof *lt), *rr = NULL;
  ad_val *o = ad_new_nd(t, (vi_type){VT_REAL, 0, NULL}, 0, NULL, N, adj);
  if (!lt || !o) return NULL;
  if (o->adj && !(rr = ad_alloc(t, 2 * N * sizeof *rr))) return NULL;
  for (size_t s = 0; s < n; s++) {
    double x = th->x[th->nd == 1 ? 0 : s];
    lt[s] = log(x);
    lt[n + s] = log1p(-x);
  }
  for (size_t e = 0; e < L; e++)
    for (size_t s = 0; s < n; s++) {
      double x = th->x[th->nd == 1 ? 0 : s];
      double xa = lt[s] + opx(A, lf[1], e, s, n, N), xb = lt[n + s] + opx(B, lf[2], e, s, n, N);
      double v, r1 = 0, r2 = 0;
      if (x < 0 || x > 1 || isnan(xa) || isnan(xb)) v = NAN;
      else if (xa == -INFINITY && xb == -INFINITY) v = -INFINITY;
      else if (xa == INFINITY || xb == INFINITY) v = INFINITY;
      else {
        int a_big = xa >= xb;
        double ex = exp(a_big ? xb - xa : xa - xb), w = 1.0 / (1.0 + ex);
        v = (a_big ? xa : xb) + log1p(ex);
        r1 = a_big ? w : ex * w;
        r2 = a_big ? ex * w : w;
      }
      size_t k = e * n + s;
      o->x[k] = v;
      if (rr) { rr[k] = r1; rr[N + k] = r2; }
    }
  ad_val *in[3] = {th, A, B};
  ad_node *nd = rr ? ad_push(t, mix_backward, o, 3, in) : NULL;
  if (nd) {
    nd->saved = rr;
    nd->iarg[0] = (long)n; nd->iarg[1] = (long)L; nd->iarg[2] = lf[1] | lf[2] << 1;
  }
  return o;
}
