/* integrate_1d.c: the quadrature of integrate_1d.h on GSL's QUADPACK routines. */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_integration.h>
#include "lang/back/integrate_1d.h"

/* Most subintervals of one adaptive integration (QUADPACK's own default is 50 to 500). */
#define I1D_LIMIT 1000

typedef struct integrand {
  i1d_fn f;
  void *ctx;
  double lo, hi;     /* the (split) finite interval, or NaN when a limit is infinite */
  int failed;        /* f failed: every further call returns 0 quickly */
  int nonfinite;     /* f returned a value that is not finite */
  double bad_x;      /* where */
  int absolute;      /* integrate |f| (the norm of Stan's test) */
} integrand;

static double gsl_integrand(double x, void *p)
{
  integrand *g = p;
  if (g->failed || g->nonfinite) return 0;
  double xc = NAN;
  if (!isnan(g->lo)) xc = x - g->lo <= g->hi - x ? g->lo - x : g->hi - x;
  double v = g->f(g->ctx, x, xc, &g->failed);
  if (g->failed) return 0;
  if (!isfinite(v)) {
    g->nonfinite = 1;
    g->bad_x = x;
    return 0;
  }
  return g->absolute ? fabs(v) : v;
}

/* One piece: finite [lo, hi], or an infinite range (lo = -inf and / or hi = +inf). */
static int piece(integrand *g, gsl_integration_workspace *w, double lo, double hi,
                 double tol, double *res, double *err)
{
  gsl_function F = {gsl_integrand, g};
  int fin_lo = isfinite(lo), fin_hi = isfinite(hi);
  g->lo = fin_lo && fin_hi ? lo : NAN;
  g->hi = hi;
  if (fin_lo && fin_hi) return gsl_integration_qags(&F, lo, hi, 0, tol, I1D_LIMIT, w, res, err);
  if (fin_lo) return gsl_integration_qagiu(&F, lo, 0, tol, I1D_LIMIT, w, res, err);
  if (fin_hi) return gsl_integration_qagil(&F, hi, 0, tol, I1D_LIMIT, w, res, err);
  return gsl_integration_qagi(&F, 0, tol, I1D_LIMIT, w, res, err);
}

/* The piece, accepted by GSL's test or by Stan's (error <= tol * integral of |f|). */
static int checked_piece(integrand *g, gsl_integration_workspace *w, double lo, double hi,
                         double tol, double *res, char *why, size_t whylen)
{
  double err;
  int st = piece(g, w, lo, hi, tol, res, &err);
  if (g->failed) return -1;
  if (g->nonfinite) {
    snprintf(why, whylen, "the integrand is not finite at x = %g", g->bad_x);
    return 1;
  }
  if (st == GSL_SUCCESS || (*res == 0 && err == 0)) return 0;
  double l1, err1;
  g->absolute = 1;
  piece(g, w, lo, hi, 1e-3, &l1, &err1);
  g->absolute = 0;
  if (g->failed) return -1;
  if (err <= tol * l1) return 0;
  snprintf(why, whylen, "the error estimate %g of the integral over [%g, %g] exceeds the "
           "relative tolerance %g times the integral of |f| (%g): %s", err, lo, hi, tol, l1,
           gsl_strerror(st));
  return 1;
}

int i1d_integrate(i1d_fn f, void *ctx, double a, double b, double rel_tol, double *result,
                  char *why, size_t whylen)
{
  *result = 0;
  if (a == b) return 0;
  /* QUADPACK refuses relative tolerances near the rounding error */
  double tol = fmax(rel_tol, 50 * DBL_EPSILON);
  integrand g = {f, ctx, NAN, NAN, 0, 0, 0, 0};
  gsl_error_handler_t *old = gsl_set_error_handler_off();
  gsl_integration_workspace *w = gsl_integration_workspace_alloc(I1D_LIMIT);
  int rc;
  if (!w) {
    snprintf(why, whylen, "out of memory");
    rc = 1;
  } else if (isfinite(a) && isfinite(b) && a < 0 && b > 0) {
    double r1 = 0, r2 = 0;
    rc = checked_piece(&g, w, a, 0, tol, &r1, why, whylen);
    if (!rc) rc = checked_piece(&g, w, 0, b, tol, &r2, why, whylen);
    *result = r1 + r2;
  } else {
    rc = checked_piece(&g, w, a, b, tol, result, why, whylen);
  }
  gsl_integration_workspace_free(w);
  gsl_set_error_handler(old);
  return rc;
}
