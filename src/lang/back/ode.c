/* ode.c: the adaptive Dormand-Prince 5(4) solver of ode.h on the AD tape.
 *
 * Each step evaluates the seven stages k_i = f(t + c_i h, y + h sum_j a_ij k_j) (the
 * last is the first of the next step: "first same as last"), advances with the
 * fifth-order weights and estimates the error with the difference to the embedded
 * fourth-order weights.  A stage input is one tape node (y plus a weighted sum of
 * earlier stages) so that the reverse sweep costs about as much as the forward one.
 * Step control as in Hairer, Norsett & Wanner II.4: accept when the RMS of
 * err_i / (atol + rtol max(|y_i|, |y_new_i|)) is at most 1, then scale h by
 * 0.9 err^(-1/5) within [0.2, 5].  Steps end exactly on the output times. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "lang/ad/ad_kernels.h"
#include "lang/back/ode.h"

/* The Dormand-Prince tableau (Hairer, Norsett & Wanner, Table II.5.2). */
static const double C[7] = {0, 1.0 / 5, 3.0 / 10, 4.0 / 5, 8.0 / 9, 1, 1};
static const double A[7][6] = {
  {0},
  {1.0 / 5},
  {3.0 / 40, 9.0 / 40},
  {44.0 / 45, -56.0 / 15, 32.0 / 9},
  {19372.0 / 6561, -25360.0 / 2187, 64448.0 / 6561, -212.0 / 729},
  {9017.0 / 3168, -355.0 / 33, 46732.0 / 5247, 49.0 / 176, -5103.0 / 18656},
  {35.0 / 384, 0, 500.0 / 1113, 125.0 / 192, -2187.0 / 6784, 11.0 / 84},
};
/* fifth-order minus fourth-order weights: the local error estimate */
static const double E[7] = {71.0 / 57600, 0, -71.0 / 16695, 71.0 / 1920,
                            -17253.0 / 339200, 22.0 / 525, -1.0 / 40};

/* ---- out = y + sum_j w_j k_j as one node ---------------------------------------- */

typedef struct lincomb {
  int m;
  double w[6];
  ad_val *k[6];
} lincomb;

static void lincomb_backward(ad_tape *t, ad_node *node)
{
  (void)t;
  const lincomb *lc = node->ptr;
  ad_val *o = node->out, *y = node->in[0];
  size_t n = o->len, nd = o->nd;
  for (size_t e = 0; e < n; e++)
    for (size_t s = 0; s < nd; s++) {
      double g = o->adj[e * nd + s];
      if (g == 0) continue;
      if (y->adj) *ad_adjp(y, e, s) += g;
      for (int j = 0; j < lc->m; j++)
        if (lc->k[j]->adj && lc->w[j] != 0) *ad_adjp(lc->k[j], e, s) += lc->w[j] * g;
    }
}

static ad_val *lincomb_new(ad_tape *t, ad_val *y, ad_val **k, const double *w, int m)
{
  ad_val *in[7] = {y};
  size_t nd = y->nd;
  for (int j = 0; j < m; j++) {
    in[j + 1] = k[j];
    if (k[j]->nd > nd) nd = k[j]->nd;
  }
  ad_val *o = ad_new_nd(t, y->type, y->ndims, y->dims, nd, ad_wants_adj(t, in, m + 1));
  if (!o) return NULL;
  for (size_t e = 0; e < y->len; e++)
    for (size_t s = 0; s < nd; s++) {
      double acc = ad_get(y, e, s);
      for (int j = 0; j < m; j++)
        if (w[j] != 0) acc += w[j] * ad_get(k[j], e, s);
      o->x[e * nd + s] = acc;
    }
  /* the weights first: a node must never be on the tape without them */
  lincomb *lc = ad_alloc(t, sizeof *lc);
  if (!lc) return NULL;
  lc->m = m;
  for (int j = 0; j < m; j++) { lc->w[j] = w[j]; lc->k[j] = k[j]; }
  ad_node *node = ad_push(t, lincomb_backward, o, m + 1, in);
  if (node) node->ptr = lc;
  return o;
}

/* ---- the solver ----------------------------------------------------------------- */

static ad_val *call_f(ad_tape *t, ode_rhs_fn f, void *ctx, double tt, ad_val *y)
{
  ad_val *k = f(ctx, tt, y);
  if (k && k->len != y->len) {
    ad_tape_set_error(t, "the ODE function returned %zu values for a state of %zu", k->len,
                      y->len);
    return NULL;
  }
  return k;
}

/* RMS error norm of step err = h sum E_i k_i, the largest over the draws.  A draw whose
 * state was already not finite is marked bad[s] and left out; one that becomes not
 * finite in this step makes the norm infinite (the step is too long: reject it). */
static double error_norm(ad_val **k, ad_val *y, ad_val *y5, double h, const ode_options *o,
                         unsigned char *bad, size_t nd)
{
  size_t n = y->len;
  double worst = 0;
  for (size_t s = 0; s < nd; s++) {
    if (bad[s]) continue;
    double ss = 0;
    for (size_t e = 0; e < n; e++) {
      double err = 0;
      for (int i = 0; i < 7; i++)
        if (E[i] != 0) err += E[i] * ad_get(k[i], e, s);
      err *= h;
      double y0 = ad_get(y, e, s), y1 = ad_get(y5, e, s);
      if (!isfinite(y0)) { bad[s] = 1; break; }
      if (!isfinite(y1) || !isfinite(err)) return INFINITY;
      double sc = o->atol + o->rtol * fmax(fabs(y0), fabs(y1));
      ss += (err / sc) * (err / sc);
    }
    if (!bad[s] && n) worst = fmax(worst, sqrt(ss / (double)n));
  }
  return worst;
}

int ode_solve(ad_tape *t, ode_rhs_fn f, void *ctx, ad_val *y0, double t0, const double *ts,
              size_t nts, const ode_options *opt, ad_val **out, char *why, size_t whylen)
{
  size_t nd = ad_tape_n(t);
  unsigned char *bad = ad_alloc(t, nd);
  if (!bad) return -1;
  memset(bad, 0, nd);
  ad_val *y = y0, *k[7];
  size_t bytes0 = ad_tape_used_bytes(t);
  long total = 0, accepted = 0, stiff = 0, nonstiff = 0;
  double tc = t0, span = ts[nts - 1] - t0;
  double h = span > 0 ? 1e-3 * span : 0;
  if (!(k[0] = call_f(t, f, ctx, tc, y))) return -1;
  for (size_t q = 0; q < nts; q++) {
    long steps = 0;
    while (tc < ts[q]) {
      if (++steps > opt->max_steps || ++total > ODE_MAX_TOTAL_STEPS) {
        snprintf(why, whylen, "more than %ld steps %s t = %g (a stiff system, or tolerances "
                 "too tight?)", steps > opt->max_steps ? opt->max_steps : ODE_MAX_TOTAL_STEPS,
                 steps > opt->max_steps ? "since the last output time, at" : "in all, at", tc);
        ode_count_steps(accepted);
        return 1;
      }
      if (ad_tape_used_bytes(t) - bytes0 > ODE_BATCH_BYTES) return 2;
      int last = h >= ts[q] - tc;
      if (last) h = ts[q] - tc;
      ad_val *stage = NULL, *stage6 = NULL;
      for (int i = 1; i < 7; i++) {
        if (i == 6) stage6 = stage;
        double w[6];
        for (int j = 0; j < i; j++) w[j] = h * A[i][j];
        if (!(stage = lincomb_new(t, y, k, w, i))) return -1;
        if (!(k[i] = call_f(t, f, ctx, last && i >= 5 ? ts[q] : tc + C[i] * h, stage)))
          return -1;
      }
      /* stage 7's input is the fifth-order solution (the last row of A) */
      double err = error_norm(k, y, stage, h, opt, bad, nd);
      if (err <= 1 && opt->detect_stiff) {
        /* Hairer & Wanner's test in DOPRI5 (I, IV.2): h |lambda| ~ h |k7 - k6| / |y7 - y6|
           beyond the stability boundary 3.25 in 15 accepted steps: the system is stiff */
        double hl = 0;
        for (size_t s = 0; s < nd; s++) {
          double num = 0, den = 0;
          for (size_t e = 0; e < y->len; e++) {
            double dk = ad_get(k[6], e, s) - ad_get(k[5], e, s);
            double dy = ad_get(stage, e, s) - ad_get(stage6, e, s);
            num += dk * dk;
            den += dy * dy;
          }
          if (den > 0 && isfinite(num)) hl = fmax(hl, h * sqrt(num / den));
        }
        if (hl > 3.25) {
          nonstiff = 0;
          if (++stiff >= 15) { ode_count_steps(accepted); return 3; }
        } else if (++nonstiff >= 6) {
          stiff = 0;
        }
      }
      if (err <= 1) {
        accepted++;
        tc = last ? ts[q] : tc + h;
        y = stage;
        k[0] = k[6];
      }
      double fac = err > 0 ? 0.9 * pow(err, -0.2) : 5;   /* inf: the smallest, 0.2 */
      h *= fmin(5, fmax(0.2, fac));
      if (!(h > 1e-14 * fmax(fabs(tc), span))) {
        snprintf(why, whylen, "the step size fell below 1e-14 at t = %g", tc);
        return 1;
      }
    }
    /* the output: a copy, so that a later write to it cannot reach the state */
    if (!(out[q] = ad_copy(t, y))) return -1;
  }
  ode_count_steps(accepted);
  /* draws that left the finite range end as NaN (their log density becomes NaN) */
  for (size_t q = 0; q < nts; q++)
    for (size_t s = 0; s < nd && out[q]->nd == nd; s++)
      if (bad[s])
        for (size_t e = 0; e < out[q]->len; e++) out[q]->x[e * nd + s] = NAN;
  return 0;
}
