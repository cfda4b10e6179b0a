/* ode_stiff.c: the model language's stiff ODE solves (ode_bdf, ode_bdf_tol,
 * integrate_ode_bdf, ode_adjoint_tol_ctl; see ode.h) on top of the integrator of
 * ode_bdf.c.
 *
 * Each draw is solved on plain doubles with its own step sequence: nothing of the Newton
 * iterations reaches the tape.  The user's system function is evaluated for one draw at
 * a time (its arguments copied as values with nd = 1) inside a tape mark that is
 * released afterwards; when the integrator wants the Jacobian, the evaluation records
 * and N reverse sweeps over the mark's nodes give the rows of df/dy and df/dp (the
 * arguments that carry adjoints), as in Stan's cvodes_ode_data, which also takes one
 * reverse sweep per state.  The solution at each output time goes onto the main tape as
 * one node whose reverse step applies the forward sensitivities dy(t)/d(y0, p) to the
 * adjoints (the chain rule; Hindmarsh et al., "SUNDIALS", ACM TOMS 31(3), 2005,
 * section 3 on forward sensitivity analysis). */
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include "lang/ad/ad_kernels.h"
#include "lang/back/ode.h"
#include "lang/back/ode_bdf.h"

/* one draw's evaluation of f (and J, df/dp) */
typedef struct draw_ctx {
  ad_tape *t;
  ode_rhs_args_fn f;
  void *fctx;
  int nargs;
  ad_val **args, **cargs;    /* the arguments, and this draw's copies */
  size_t s, N, P, py0;       /* draw, states, parameters, of which y0's (N or 0) */
} draw_ctx;

static int draw_eval(void *vctx, double tt, const double *y, double *f, double *J, double *Fp)
{
  draw_ctx *d = vctx;
  ad_tape *t = d->t;
  size_t N = d->N;
  int jac = J != NULL;
  ad_mark m;
  ad_tape_mark(t, &m, 1);
  if (jac) ad_tape_set_recording(t, 1);
  vi_type vt = {VT_VECTOR, 0, NULL};
  ad_val *tv = ad_scalar(t, tt, 0);
  ad_val *yv = ad_new_nd(t, vt, 1, &N, 1, jac);
  ad_val *r = NULL;
  if (!tv || !yv) goto fail;
  memcpy(yv->x, y, N * sizeof *y);
  for (int i = 0; i < d->nargs; i++) {
    ad_val *a = d->args[i];
    if (a->nd == 1 && !a->adj) { d->cargs[i] = a; continue; }
    ad_val *cp = ad_new_nd(t, a->type, a->ndims, a->dims, 1, jac && a->adj);
    if (!cp) goto fail;
    for (size_t e = 0; e < a->len; e++) cp->x[e] = ad_get(a, e, d->s);
    d->cargs[i] = cp;
  }
  if (!(r = d->f(d->fctx, tv, yv, d->cargs))) goto fail;
  if (r->len != N) {
    ad_tape_set_error(t, "the ODE function returned %zu values for a state of %zu", r->len, N);
    goto fail;
  }
  for (size_t i = 0; i < N; i++) f[i] = ad_get(r, i, 0);
  if (jac) {
    memset(J, 0, N * N * sizeof *J);
    if (d->P) memset(Fp, 0, N * d->P * sizeof *Fp);
    for (size_t i = 0; i < N && r->adj; i++) {
      ad_tape_zero_adj(t, &m);
      r->adj[i * r->nd] = 1;   /* draw 0: the only one of an nd = 1 evaluation */
      ad_tape_backward_since(t, &m);
      if (yv->adj)
        for (size_t j = 0; j < N; j++) J[i * N + j] = yv->adj[j];
      size_t col = d->py0;
      for (int k = 0; k < d->nargs; k++) {
        const ad_val *a = d->args[k], *cp = d->cargs[k];
        if (!a->adj) continue;
        for (size_t e = 0; e < a->len; e++) Fp[i * d->P + col++] = cp->adj ? cp->adj[e] : 0;
      }
    }
    if (ad_tape_error(t)) goto fail;
  }
  ad_tape_release(t, &m);
  return 0;
fail:
  ad_tape_release(t, &m);
  return -1;
}

/* ---- the node: dy(ts[q]) = S dp for every draw ------------------------------------ */

typedef struct sens_op {
  size_t N, P, nts, q;
  const double *S;           /* per draw s: nts x N x P at S + s nts N P */
  ad_val **colv;             /* per column: the value and element it differentiates */
  const size_t *cole;
} sens_op;

static void sens_backward(ad_tape *t, ad_node *node)
{
  (void)t;
  const sens_op *op = node->ptr;
  ad_val *o = node->out;
  size_t nd = o->nd, N = op->N, P = op->P;
  for (size_t s = 0; s < nd; s++) {
    const double *S = op->S + (s * op->nts + op->q) * N * P;
    for (size_t k = 0; k < P; k++) {
      double g = 0;
      for (size_t i = 0; i < N; i++) g += o->adj[i * nd + s] * S[i * P + k];
      ad_val *v = op->colv[k];
      if (g != 0 && v->adj) *ad_adjp(v, op->cole[k], s) += g;
    }
  }
}

static atomic_long steps_taken;

long ode_steps_taken(void) { return atomic_load_explicit(&steps_taken, memory_order_relaxed); }

void ode_count_steps(long steps)
{
  atomic_fetch_add_explicit(&steps_taken, steps, memory_order_relaxed);
}

int ode_stiff_solve(ad_tape *t, ode_rhs_args_fn f, void *ctx, int nargs, ad_val **args,
                    ad_val *y0, double t0, const double *ts, size_t nts,
                    const ode_options *opt, ad_val **out, char *why, size_t whylen)
{
  size_t N = y0->len, nd = ad_tape_n(t);
  int varying = y0->nd > 1, grad = ad_tape_recording(t);
  for (int i = 0; i < nargs; i++) varying |= args[i]->nd > 1 || args[i]->adj != NULL;
  size_t ns = varying ? nd : 1;      /* data only: one solve serves every draw */
  /* the sensitivity columns: y0's elements, then every argument element with an adjoint */
  size_t py0 = grad && y0->adj ? N : 0, P = py0;
  for (int i = 0; i < nargs && grad; i++)
    if (args[i]->adj) P += args[i]->len;
  ad_val **cargs = ad_alloc(t, (size_t)(nargs ? nargs : 1) * sizeof *cargs);
  double *atol = ad_alloc(t, (N ? N : 1) * sizeof *atol);
  double *yo = ad_alloc(t, (nts * N > 0 ? nts * N : 1) * sizeof *yo);
  double *S = P ? ad_alloc(t, ns * nts * N * P * sizeof *S) : NULL;
  double *S0 = P ? ad_alloc(t, N * P * sizeof *S0) : NULL;
  double *yinit = ad_alloc(t, (N ? N : 1) * sizeof *yinit);
  void *work = ad_alloc(t, bdf_work_bytes(N, P));
  if (!cargs || !atol || !yo || (P && (!S || !S0)) || !yinit || !work) return -1;
  for (size_t i = 0; i < N; i++) atol[i] = opt->atolv ? opt->atolv[i] : opt->atol;
  if (P) {
    memset(S0, 0, N * P * sizeof *S0);
    for (size_t i = 0; i < py0; i++) S0[i * P + i] = 1;
  }
  vi_type vt = {VT_VECTOR, 0, NULL};
  for (size_t q = 0; q < nts; q++)
    if (!(out[q] = ad_new_nd(t, vt, 1, &N, ns, P > 0))) return -1;
  draw_ctx d = {t, f, ctx, nargs, args, cargs, 0, N, P, py0};
  bdf_system sys = {N, P, draw_eval, &d};
  bdf_options bo = {opt->rtol, atol, opt->max_steps};
  bdf_stats st = {0};
  for (size_t s = 0; s < ns; s++) {
    d.s = s;
    for (size_t i = 0; i < N; i++) {
      yinit[i] = ad_get(y0, i, s);
      if (!isfinite(yinit[i])) {
        snprintf(why, whylen, "the initial state is not finite (element %zu is %g)", i + 1,
                 yinit[i]);
        return 1;
      }
    }
    for (int k = 0; k < nargs; k++)
      for (size_t e = 0; e < args[k]->len && args[k]->type.base != VT_INT; e++)
        if (!isfinite(ad_get(args[k], e, s))) {
          snprintf(why, whylen, "argument %d of the system after the state is not finite "
                   "(element %zu is %g)", k + 1, e + 1, ad_get(args[k], e, s));
          return 1;
        }
    int rc = bdf_solve(&sys, &bo, t0, yinit, S0, ts, nts, yo, P ? S + s * nts * N * P : NULL,
                       work, &st, why, whylen);
    if (rc) { ode_count_steps(st.steps); return rc; }
    for (size_t q = 0; q < nts; q++)
      for (size_t i = 0; i < N; i++) out[q]->x[i * ns + s] = yo[q * N + i];
  }
  ode_count_steps(st.steps);
  if (!P) return 0;
  ad_val **colv = ad_alloc(t, P * sizeof *colv);
  size_t *cole = ad_alloc(t, P * sizeof *cole);
  ad_val **in = ad_alloc(t, (size_t)(nargs + 1) * sizeof *in);
  if (!colv || !cole || !in) return -1;
  int nin = 0;
  size_t col = 0;
  if (py0) {
    in[nin++] = y0;
    for (size_t i = 0; i < N; i++) { colv[col] = y0; cole[col++] = i; }
  }
  for (int k = 0; k < nargs; k++)
    if (args[k]->adj) {
      in[nin++] = args[k];
      for (size_t e = 0; e < args[k]->len; e++) { colv[col] = args[k]; cole[col++] = e; }
    }
  for (size_t q = 0; q < nts; q++) {
    sens_op *op = ad_alloc(t, sizeof *op);
    if (!op) return -1;
    *op = (sens_op){N, P, nts, q, S, colv, cole};
    ad_node *node = ad_push(t, sens_backward, out[q], nin, in);
    if (node) node->ptr = op;
  }
  return 0;
}
