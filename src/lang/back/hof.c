/* hof.c: the evaluator's part of three higher-order builtins whose first argument
 * names a user-defined function (Stan Functions Reference 2.36, "Higher-order
 * functions"): the algebraic solvers (solve_newton, solve_powell, their _tol forms,
 * algebra_solver and algebra_solver_newton), integrate_1d and map_rect.
 *
 * The solvers and the integrator evaluate the user function many times per draw, at
 * points the iteration chooses: those evaluations run on a tape of their own (c->sub,
 * reset per evaluation), one draw's arguments copied onto it, so the main tape holds
 * only the result.  The system's Jacobian comes from one reverse sweep over n copies
 * of the unknowns (copy i seeded with output i: row i of the Jacobian).  The root goes
 * on the main tape through the implicit function theorem (algebra_solver.h);
 * integrate_1d's derivatives are integrals of the integrand's derivatives
 * (differentiation under the integral sign, Stan's approach) plus the integrand at a
 * finite limit.  map_rect is a loop of ordinary calls on the main tape, the results
 * concatenated (Stan runs the jobs in parallel; the values are the same).  eval.c hands
 * over the calls back into the evaluator (hof_ops). */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <vi/status.h>
#include "lang/ad/ad_kernels.h"
#include "lang/back/back.h"
#include "lang/back/algebra_solver.h"
#include "lang/back/integrate_1d.h"

/* ---- the second tape ------------------------------------------------------------------ */

typedef struct sub_tape {
  ev_ctx *c;
  const hof_ops *ops;
  ad_tape *main, *t;
  size_t main_n;
  int owned;
} sub_tape;

static int sub_open(ev_ctx *c, const hof_ops *ops, sub_tape *r)
{
  r->c = c;
  r->ops = ops;
  r->main = c->t;
  r->main_n = c->n;
  r->owned = 0;
  if (!c->sub_busy) {
    if (!c->sub && !(c->sub = ad_tape_alloc())) return -1;
    r->t = c->sub;
    c->sub_busy = 1;
    return 0;
  }
  r->owned = 1;   /* a call inside a call: a tape of its own */
  return (r->t = ad_tape_alloc()) ? 0 : -1;
}

static void sub_close(sub_tape *r)
{
  if (r->owned) ad_tape_free(r->t);
  else r->c->sub_busy = 0;
}

/* Start an evaluation of n draws on the second tape. */
static ad_tape *sub_begin(sub_tape *r, size_t n, int grad)
{
  ad_tape_reset(r->t, n, grad);
  r->c->t = r->t;
  r->c->n = ad_tape_n(r->t);
  return r->t;
}

static void sub_end(sub_tape *r)
{
  r->c->t = r->main;
  r->c->n = r->main_n;
}

/* Draw s of v as a value of one draw on tape t (an adjoint when with_adj). */
static ad_val *draw_copy(ad_tape *t, const ad_val *v, size_t s, int with_adj)
{
  ad_val *o = ad_new_nd(t, v->type, v->ndims, v->dims, 1, with_adj);
  if (!o) return NULL;
  for (size_t e = 0; e < v->len; e++) o->x[e] = ad_get(v, e, s);
  return o;
}

static ad_val *fail_tape(ev_ctx *c, const hof_ops *ops, ad_tape *t, vi_loc loc,
                         const char *what)
{
  const char *m = ad_tape_error(t);
  int oom = !m || strstr(m, "out of memory");
  ops->error(c, oom ? VI_ENOMEM : VI_ERUNTIME, loc, "%s: %s", what, m ? m : "out of memory");
  return NULL;
}

/* A failure of the numerical method in a draw: as Stan rejects the draw; a batch of
 * draws is re-run one at a time (the caller's EV_DIVERGE) so only that draw is. */
static ad_val *reject(ev_ctx *c, const hof_ops *ops, const vi_expr *e, const char *why)
{
  ops->error(c, VI_ERUNTIME, e->loc, "%s: %s", e->str, why);
  c->rc = c->n > 1 ? EV_DIVERGE : EV_REJECT;
  return NULL;
}

/* A control argument (data: the same for every draw). */
static int control(ev_ctx *c, const hof_ops *ops, const vi_expr *e, ad_val **args, int i,
                   double *out)
{
  if (args[i]->nd > 1 || args[i]->adj) {
    ops->error(c, VI_ERUNTIME, e->args[i]->loc, "%s: this argument must be data", e->str);
    return -1;
  }
  *out = args[i]->x[0];
  return 0;
}

static size_t max_nd(ad_val **v, int n)
{
  size_t nd = 1;
  for (int i = 0; i < n; i++)
    if (v[i] && v[i]->nd > nd) nd = v[i]->nd;
  return nd;
}

static int any_adj(ad_val **v, int n)
{
  for (int i = 0; i < n; i++)
    if (v[i] && v[i]->adj) return 1;
  return 0;
}

/* ---- algebraic solvers ----------------------------------------------------------------- */

typedef struct solve_call {
  ev_ctx *c;
  const vi_expr *e;
  sub_tape *r;
  ad_val **sargs; int nsargs;   /* the system's arguments after the unknowns */
  size_t n, s;                  /* unknowns, draw */
} solve_call;

/* f(x, ...) of draw s; with jac, one sweep over n copies of x gives the Jacobian. */
static int solve_system(void *p, const double *x, double *f, double *jac)
{
  solve_call *q = p;
  ev_ctx *c = q->c;
  const hof_ops *ops = q->r->ops;
  size_t n = q->n, m = jac ? n : 1;
  ad_tape *t = sub_begin(q->r, m, jac != NULL);
  ad_val *stackargs[16], **fa = stackargs;
  int nf = 1 + q->nsargs, rc = -1;
  if (nf > 16 && !(fa = ad_alloc(t, (size_t)nf * sizeof *fa))) goto oom;
  if (!(fa[0] = ad_new_mat(t, VT_VECTOR, n, 1, m, jac != NULL))) goto oom;
  for (size_t i = 0; i < n; i++)
    for (size_t k = 0; k < m; k++) fa[0]->x[i * m + k] = x[i];
  for (int i = 0; i < q->nsargs; i++)
    if (!(fa[1 + i] = draw_copy(t, q->sargs[i], q->s, 0))) goto oom;
  ad_val *r = ops->call_user(c, q->e->func, fa, nf, q->e->loc);
  if (!r) goto out;
  if (r->len != n) {
    ops->error(c, VI_ERUNTIME, q->e->loc, "%s: the algebraic system '%s' returned %zu values "
             "for %zu unknowns", q->e->str, q->e->func->name, r->len, n);
    goto out;
  }
  if (f)
    for (size_t i = 0; i < n; i++) f[i] = r->x[i * r->nd];
  if (jac) {
    memset(jac, 0, n * n * sizeof *jac);
    if (r->adj && fa[0]->adj) {   /* else f does not depend on x: a zero Jacobian */
      for (size_t i = 0; i < n; i++) *ad_adjp(r, i, i) += 1;
      ad_tape_backward(t);
      for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) jac[i * n + j] = fa[0]->adj[j * m + i];
    }
  }
  rc = 0;
  goto out;
oom:
  fail_tape(c, ops, t, q->e->loc, q->e->str);
out:
  sub_end(q->r);
  return rc;
}

ad_val *ev_solve(ev_ctx *c, const hof_ops *ops, const vi_expr *e, ad_val **args)
{
  ad_tape *t = c->t;
  int kind = (int)e->ival, old = kind >= VI_SOLVE_OLD_POWELL;
  int tol = kind == VI_SOLVE_NEWTON_TOL || kind == VI_SOLVE_POWELL_TOL;
  alg_options opt = {0, 1e-10, 1e-6, 200};
  opt.newton = kind == VI_SOLVE_NEWTON || kind == VI_SOLVE_NEWTON_TOL
               || kind == VI_SOLVE_OLD_NEWTON;
  if (kind == VI_SOLVE_OLD_POWELL) opt.max_steps = 1000;   /* algebra_solver's default */
  int at = old ? (e->nargs == 8 ? 5 : 0) : tol ? 2 : 0;
  if (at) {
    double ctl[3];
    for (int i = 0; i < 3; i++)
      if (control(c, ops, e, args, at + i, &ctl[i])) return NULL;
    if (!(ctl[0] >= 0) || !(ctl[1] >= 0) || !(ctl[2] > 0)) {
      ops->error(c, VI_ERUNTIME, e->loc, "%s: the %s (%g) and the function tolerance (%g) "
               "must be non-negative and the maximum number of steps (%g) positive",
               e->str, opt.newton ? "scaling step" : "relative tolerance", ctl[0], ctl[1],
               ctl[2]);
      return NULL;
    }
    /* the Newton solvers' scaling step is KINSOL's stopping step; GSL's Newton steps
       stop at the smaller of it and 1e-10 (a precise root for the gradient) */
    opt.xtol = opt.newton ? fmin(ctl[0], 1e-10) : ctl[0];
    opt.ftol = ctl[1];
    opt.max_steps = ctl[2] < 1e9 ? (long)ctl[2] : 1000000000L;
  }
  ad_val *guess = args[1];
  ad_val **sargs = args + (old ? 2 : tol ? 5 : 2);
  int nsargs = old ? 3 : e->nargs - (tol ? 5 : 2);
  size_t n = guess->len, nd = guess->nd;
  if (max_nd(sargs, nsargs) > nd) nd = max_nd(sargs, nsargs);
  for (size_t i = 0; i < n * guess->nd; i++)
    if (!isfinite(guess->x[i])) return reject(c, ops, e, "the initial guess is not finite");
  double *x = ad_alloc(t, (n * nd > 0 ? n * nd : 1) * sizeof *x);
  double *jac = ad_alloc(t, (n * n * nd > 0 ? n * n * nd : 1) * sizeof *jac);
  double *xs = ad_alloc(t, (n ? n : 1) * sizeof *xs);
  if (!x || !jac || !xs) return fail_tape(c, ops, t, e->loc, e->str);
  sub_tape r;
  if (sub_open(c, ops, &r)) {
    ops->error(c, VI_ENOMEM, e->loc, "%s: out of memory", e->str);
    return NULL;
  }
  solve_call q = {c, e, &r, sargs, nsargs, n, 0};
  char why[300];
  for (size_t s = 0; s < nd; s++) {
    q.s = s;
    for (size_t i = 0; i < n; i++) xs[i] = ad_get(guess, i, s);
    int rc = alg_solve(solve_system, &q, n, &opt, xs, jac + s * n * n, why, sizeof why);
    if (rc) {
      sub_close(&r);
      return rc < 0 ? NULL : reject(c, ops, e, why);
    }
    for (size_t i = 0; i < n; i++) x[i * nd + s] = xs[i];
  }
  sub_close(&r);
  /* F = f(root, ...) on the main tape, the root held constant: its adjoint carries the
     implicit function theorem's step to the other arguments */
  ad_val *F = NULL;
  if (ad_tape_recording(t) && any_adj(sargs, nsargs) && n) {
    ad_val *stackargs[16], **fa = stackargs;
    if (1 + nsargs > 16 && !(fa = ad_alloc(t, (size_t)(1 + nsargs) * sizeof *fa)))
      return fail_tape(c, ops, t, e->loc, e->str);
    if (!(fa[0] = ad_new_mat(t, VT_VECTOR, n, 1, nd, 0)))
      return fail_tape(c, ops, t, e->loc, e->str);
    memcpy(fa[0]->x, x, n * nd * sizeof *x);
    for (int i = 0; i < nsargs; i++) fa[1 + i] = sargs[i];
    if (!(F = ops->call_user(c, e->func, fa, 1 + nsargs, e->loc))) return NULL;
    if (F->len != n) {
      ops->error(c, VI_ERUNTIME, e->loc, "%s: the algebraic system returned %zu values for %zu "
               "unknowns", e->str, F->len, n);
      return NULL;
    }
  }
  ad_val *o = alg_root_value(t, n, nd, x, F, jac);
  return o ? o : fail_tape(c, ops, t, e->loc, e->str);
}

/* ---- integrate_1d ---------------------------------------------------------------------- */

typedef struct integ_call {
  ev_ctx *c;
  const vi_expr *e;
  sub_tape *r;
  ad_val **args;     /* a, b, theta, x_r, x_i at args[1..5] */
  size_t s;
  long k;            /* -1: the integrand; else its derivative in theta[k] */
} integ_call;

static double integrand(void *p, double x, double xc, int *failed)
{
  integ_call *q = p;
  ev_ctx *c = q->c;
  const hof_ops *ops = q->r->ops;
  ad_tape *t = sub_begin(q->r, 1, q->k >= 0);
  double v = NAN;
  ad_val *fa[5];
  if (!(fa[0] = ad_scalar(t, x, 0)) || !(fa[1] = ad_scalar(t, xc, 0))
      || !(fa[2] = draw_copy(t, q->args[3], q->s, q->k >= 0))
      || !(fa[3] = draw_copy(t, q->args[4], q->s, 0))
      || !(fa[4] = draw_copy(t, q->args[5], q->s, 0))) {
    fail_tape(c, ops, t, q->e->loc, q->e->str);
    *failed = 1;
  } else {
    ad_val *r = ops->call_user(c, q->e->func, fa, 5, q->e->loc);
    if (!r) *failed = 1;
    else if (q->k < 0) v = r->x[0];
    else if (!r->adj || !fa[2]->adj) v = 0;   /* f does not depend on theta */
    else {
      r->adj[0] = 1;
      ad_tape_backward(t);
      v = fa[2]->adj[q->k];
    }
  }
  sub_end(q->r);
  return v;
}

typedef struct integ_op {
  size_t K, nd;
  double *d;         /* per draw: d/da, d/db, then d/dtheta[0..K-1] */
} integ_op;

static void integ_backward(ad_tape *t, ad_node *node)
{
  (void)t;
  const integ_op *op = node->ptr;
  ad_val *o = node->out, *a = node->in[0], *b = node->in[1], *th = node->in[2];
  for (size_t s = 0; s < op->nd; s++) {
    double w = o->adj[s];
    if (w == 0) continue;
    const double *d = op->d + s * (op->K + 2);
    if (a->adj) *ad_adjp(a, 0, s) += w * d[0];
    if (b->adj) *ad_adjp(b, 0, s) += w * d[1];
    if (th->adj)
      for (size_t k = 0; k < op->K; k++) *ad_adjp(th, k, s) += w * d[2 + k];
  }
}

ad_val *ev_integrate_1d(ev_ctx *c, const hof_ops *ops, const vi_expr *e, ad_val **args)
{
  ad_tape *t = c->t;
  double tol = sqrt(DBL_EPSILON);   /* Stan's default */
  if (e->nargs == 7 && control(c, ops, e, args, 6, &tol)) return NULL;
  if (!(tol > 0)) {
    ops->error(c, VI_ERUNTIME, e->args[6]->loc, "%s: the relative tolerance must be positive "
             "(found %g)", e->str, tol);
    return NULL;
  }
  ad_val *a = args[1], *b = args[2], *th = args[3];
  size_t nd = max_nd(args + 1, 3), K = th->len;
  int rec = ad_tape_recording(t) && any_adj(args + 1, 3);
  ad_val *o = ad_new_nd(t, (vi_type){VT_REAL, 0, NULL}, 0, NULL, nd, rec);
  double *d = rec ? ad_alloc(t, nd * (K + 2) * sizeof *d) : NULL;
  if (!o || (rec && !d)) return fail_tape(c, ops, t, e->loc, e->str);
  sub_tape r;
  if (sub_open(c, ops, &r)) {
    ops->error(c, VI_ENOMEM, e->loc, "%s: out of memory", e->str);
    return NULL;
  }
  integ_call q = {c, e, &r, args, 0, -1};
  char why[400], msg[360];
  for (size_t s = 0; s < nd; s++) {
    double lo = ad_get(a, 0, s), hi = ad_get(b, 0, s);
    q.s = s;
    if (!(lo <= hi) || (lo == hi && isinf(lo))) {
      sub_close(&r);
      snprintf(why, sizeof why, "the lower limit (%g) must be below the upper limit (%g)",
               lo, hi);
      return reject(c, ops, e, why);
    }
    q.k = -1;
    int rc = i1d_integrate(integrand, &q, lo, hi, tol, &o->x[s], why, sizeof why);
    double *ds = rec ? d + s * (K + 2) : NULL;
    if (!rc && rec) {
      int fail = 0;
      /* d/da = -f(a), d/db = f(b) at a finite limit (xc = 0 there) */
      ds[0] = a->adj && isfinite(lo) && lo < hi ? -integrand(&q, lo, 0, &fail) : 0;
      ds[1] = b->adj && isfinite(hi) && lo < hi ? integrand(&q, hi, 0, &fail) : 0;
      if (fail) rc = -1;
      for (size_t k = 0; !rc && k < K; k++) {
        ds[2 + k] = 0;
        if (!th->adj) continue;
        q.k = (long)k;
        rc = i1d_integrate(integrand, &q, lo, hi, tol, &ds[2 + k], why, sizeof why);
        if (rc > 0) {
          snprintf(msg, sizeof msg, "the derivative in theta[%zu]: %.300s", k + 1, why);
          snprintf(why, sizeof why, "%s", msg);
        }
      }
    }
    if (rc) {
      sub_close(&r);
      return rc < 0 ? NULL : reject(c, ops, e, why);
    }
  }
  sub_close(&r);
  if (!rec) return o;
  integ_op *op = ad_alloc(t, sizeof *op);
  if (!op) return fail_tape(c, ops, t, e->loc, e->str);
  op->K = K;
  op->nd = nd;
  op->d = d;
  ad_val *in[3] = {a, b, th};
  ad_node *node = ad_push(t, integ_backward, o, 3, in);
  if (node) node->ptr = op;
  return o;
}

/* ---- map_rect -------------------------------------------------------------------------- */

ad_val *ev_map_rect(ev_ctx *c, const hof_ops *ops, const vi_expr *e, ad_val **args)
{
  ad_tape *t = c->t;
  ad_val *phi = args[1], *thetas = args[2], *xr = args[3], *xi = args[4];
  size_t J = thetas->dims[0];
  /* Stan's checks: one job per element of thetas, x_rs and x_is */
  if (xr->dims[0] != J || xi->dims[0] != J) {
    ops->error(c, VI_ERUNTIME, e->loc, "map_rect: the job parameters have %zu jobs, the real "
             "data %zu and the int data %zu: they must match", J, xr->dims[0], xi->dims[0]);
    return NULL;
  }
  ad_val **outs = ad_alloc(t, (J ? J : 1) * sizeof *outs);
  if (!outs) return fail_tape(c, ops, t, e->loc, e->str);
  size_t total = 0;
  for (size_t j = 0; j < J; j++) {
    ad_ix ix = {0, j, NULL, 0};
    ad_val *fa[4] = {phi, ad_index(t, thetas, &ix, 1), ad_index(t, xr, &ix, 1),
                     ad_index(t, xi, &ix, 1)};
    if (!fa[1] || !fa[2] || !fa[3]) return fail_tape(c, ops, t, e->loc, e->str);
    if (!(outs[j] = ops->call_user(c, e->func, fa, 4, e->loc))) return NULL;
    total += outs[j]->len;
  }
  ad_val *o = ad_new_mat(t, VT_VECTOR, total, 1, max_nd(outs, (int)J),
                         ad_tape_recording(t) && any_adj(outs, (int)J));
  if (!o) return fail_tape(c, ops, t, e->loc, e->str);
  size_t off = 0;
  for (size_t j = 0; j < J; j++) {
    size_t m = outs[j]->len;
    size_t *oi = ad_alloc(t, (m ? m : 1) * sizeof *oi);
    if (!oi) return fail_tape(c, ops, t, e->loc, e->str);
    for (size_t i = 0; i < m; i++) oi[i] = off + i;
    ad_gather(t, o, outs[j], m, oi, NULL);
    off += m;
  }
  return o;
}
