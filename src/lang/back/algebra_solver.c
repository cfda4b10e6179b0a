/* algebra_solver.c: the roots of algebra_solver.h.  The iteration is GSL's
 * (gsl_multiroot_fdfsolver: gnewton, Newton's method with a step that always lowers
 * |f|^2, for the Newton solvers; hybridsj, Powell's hybrid dogleg method with a scaled
 * trust region, for the Powell solvers; Powell 1970, More, Garbow & Hillstrom, MINPACK),
 * with the system's Jacobian from the caller (the user function differentiated on a
 * tape of its own).  The stopping rules follow Stan's: a relative step below xtol ends
 * the iteration, more than max_steps iterations or a final ||f||_2 above ftol reject
 * the root, and so does a non-finite value of f or its Jacobian.  The reverse step is
 * the implicit function theorem (see the header). */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_blas.h>
#include <gsl/gsl_linalg.h>
#include <gsl/gsl_multiroots.h>
#include "lang/ad/ad_kernels.h"
#include "lang/back/algebra_solver.h"

typedef struct sys {
  alg_system_fn f;
  void *ctx;
  size_t n;
  int failed;        /* the system recorded an error */
  int nonfinite;     /* it returned a value that is not finite */
} sys;

static int finite_all(const double *v, size_t m)
{
  for (size_t i = 0; i < m; i++)
    if (!isfinite(v[i])) return 0;
  return 1;
}

static int sys_eval(sys *s, const gsl_vector *x, gsl_vector *f, gsl_matrix *J)
{
  if (s->failed) return GSL_EFAILED;
  /* GSL's vectors and matrices here are contiguous (stride 1, tda n) */
  if (s->f(s->ctx, x->data, f ? f->data : NULL, J ? J->data : NULL)) {
    s->failed = 1;
    return GSL_EFAILED;
  }
  if ((f && !finite_all(f->data, s->n)) || (J && !finite_all(J->data, s->n * s->n))) {
    s->nonfinite = 1;
    return GSL_EBADFUNC;
  }
  return GSL_SUCCESS;
}

static int sys_f(const gsl_vector *x, void *p, gsl_vector *f) { return sys_eval(p, x, f, NULL); }
static int sys_df(const gsl_vector *x, void *p, gsl_matrix *J) { return sys_eval(p, x, NULL, J); }
static int sys_fdf(const gsl_vector *x, void *p, gsl_vector *f, gsl_matrix *J)
{
  return sys_eval(p, x, f, J);
}

static int solve_with(gsl_multiroot_fdfsolver *so, sys *s, const alg_options *opt,
                      double *x, char *why, size_t whylen)
{
  size_t n = s->n;
  gsl_vector_view xv = gsl_vector_view_array(x, n);
  gsl_multiroot_function_fdf fdf = {sys_f, sys_df, sys_fdf, n, s};
  int status = gsl_multiroot_fdfsolver_set(so, &fdf, &xv.vector);
  long iter = 0;
  while (status == GSL_SUCCESS) {
    if (gsl_blas_dnrm2(so->f) == 0) break;   /* an exact root */
    if (iter >= opt->max_steps) {
      snprintf(why, whylen, "no root within the maximum number of steps (%ld); the norm "
               "of the function is %g", opt->max_steps, gsl_blas_dnrm2(so->f));
      return 1;
    }
    status = gsl_multiroot_fdfsolver_iterate(so);
    iter++;
    if (status == GSL_SUCCESS
        && gsl_multiroot_test_delta(so->dx, so->x, opt->xtol, opt->xtol) == GSL_SUCCESS)
      break;
  }
  if (s->failed) return -1;
  if (s->nonfinite) {
    snprintf(why, whylen, "the system returned a value that is not finite (or its "
             "Jacobian did)");
    return 1;
  }
  double fn = gsl_blas_dnrm2(so->f);
  if (!(fn <= opt->ftol)) {
    /* the iteration stopped (GSL: no progress, singular Jacobian) away from a root */
    snprintf(why, whylen, "the norm of the function at the solution is %g, above the "
             "function tolerance %g%s%s", fn, opt->ftol, status ? " (" : "",
             status ? gsl_strerror(status) : "");
    if (status) strncat(why, ")", whylen - strlen(why) - 1);
    return 1;
  }
  memcpy(x, so->x->data, n * sizeof *x);
  return 0;
}

int alg_solve(alg_system_fn f, void *ctx, size_t n, const alg_options *opt, double *x,
              double *jac, char *why, size_t whylen)
{
  if (n == 0) return 0;
  sys s = {f, ctx, n, 0, 0};
  gsl_error_handler_t *old = gsl_set_error_handler_off();
  gsl_multiroot_fdfsolver *so = gsl_multiroot_fdfsolver_alloc(
      opt->newton ? gsl_multiroot_fdfsolver_gnewton : gsl_multiroot_fdfsolver_hybridsj, n);
  int rc;
  if (!so) {
    snprintf(why, whylen, "out of memory");
    rc = 1;
  } else {
    rc = solve_with(so, &s, opt, x, why, whylen);
    gsl_multiroot_fdfsolver_free(so);
  }
  gsl_set_error_handler(old);
  if (rc) return rc;
  /* the Jacobian at the root itself, for the reverse step */
  if (f(ctx, x, NULL, jac)) return -1;
  if (!finite_all(jac, n * n)) {
    snprintf(why, whylen, "the Jacobian of the system at the root is not finite");
    return 1;
  }
  return 0;
}

/* ---- the root on the tape ----------------------------------------------------------- */

typedef struct root_op {
  size_t n, nd;
  double *jac;       /* nd blocks of n * n */
  double *lu;        /* n * n scratch */
  size_t *perm;      /* n */
  double *lam;       /* n */
} root_op;

/* Fbar -= J^-T xbar, per draw: the adjoint of the constraint f(x*, theta) = 0. */
static void root_backward(ad_tape *t, ad_node *node)
{
  (void)t;
  const root_op *op = node->ptr;
  ad_val *o = node->out, *F = node->in[0];
  size_t n = op->n;
  for (size_t s = 0; s < op->nd; s++) {
    int any = 0;
    for (size_t i = 0; i < n; i++) {
      op->lam[i] = o->adj[i * o->nd + s];
      any |= op->lam[i] != 0;
    }
    if (!any) continue;
    /* LU of J^T (the transpose copied row-major) */
    const double *J = op->jac + s * n * n;
    for (size_t i = 0; i < n; i++)
      for (size_t j = 0; j < n; j++) op->lu[i * n + j] = J[j * n + i];
    gsl_matrix_view A = gsl_matrix_view_array(op->lu, n, n);
    gsl_permutation p = {n, op->perm};
    gsl_vector_view lv = gsl_vector_view_array(op->lam, n);
    int sg;
    gsl_error_handler_t *old = gsl_set_error_handler_off();
    int bad = gsl_linalg_LU_decomp(&A.matrix, &p, &sg)
              || gsl_linalg_LU_svx(&A.matrix, &p, &lv.vector);
    gsl_set_error_handler(old);
    for (size_t i = 0; i < n; i++)
      *ad_adjp(F, i, s) -= bad ? NAN : op->lam[i];   /* singular: no derivative */
  }
}

ad_val *alg_root_value(ad_tape *t, size_t n, size_t nd, const double *x, ad_val *F,
                       double *jac)
{
  ad_val *in[1] = {F};
  int grad = F && F->adj && ad_wants_adj(t, in, 1);
  ad_val *o = ad_new_mat(t, VT_VECTOR, n, 1, nd, grad);
  if (!o) return NULL;
  memcpy(o->x, x, n * nd * sizeof *x);
  if (!grad || n == 0) return o;
  root_op *op = ad_alloc(t, sizeof *op);
  if (!op) return NULL;
  op->n = n;
  op->nd = nd;
  op->jac = jac;
  op->lu = ad_alloc(t, n * n * sizeof *op->lu);
  op->perm = ad_alloc(t, n * sizeof *op->perm);
  op->lam = ad_alloc(t, n * sizeof *op->lam);
  if (!op->lu || !op->perm || !op->lam) return NULL;
  ad_node *node = ad_push(t, root_backward, o, 1, in);
  if (node) node->ptr = op;
  return o;
}
