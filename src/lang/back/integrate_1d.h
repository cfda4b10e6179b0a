/* integrate_1d.h: the definite integral of a scalar function over a finite or infinite
 * interval, for the model language's integrate_1d (Stan Functions Reference, "1D
 * integrator"), by GSL's adaptive Gauss-Kronrod quadrature (QUADPACK, Piessens et al.
 * 1983): qags on finite intervals, qagiu / qagil / qagi on infinite ones.
 *
 * As in Stan, an integral over a finite interval that crosses zero is split there, and
 * the integrand receives besides x its complement xc: the distance to the nearer end of
 * the (split) interval, lo - x near lo and hi - x near hi, and NaN when a limit is
 * infinite.  (GSL hands over x only, so xc is computed from x: it carries no more
 * precision than x does, unlike Boost's tanh-sinh complement in Stan.)  The result is
 * accepted when GSL meets the relative tolerance, or when its error estimate is within
 * the tolerance times the integral of |f| (Stan's own test). */
#ifndef VI_LANG_INTEGRATE_1D_H
#define VI_LANG_INTEGRATE_1D_H

#include <stddef.h>

/* The integrand at (x, xc); on failure the callee sets *failed (the integration stops
 * and i1d_integrate returns -1). */
typedef double (*i1d_fn)(void *ctx, double x, double xc, int *failed);

/* The integral of f over [a, b], a <= b, into *result.  0 on success; 1 when the
 * tolerance was not met or f was not finite (the reason in why); -1 when f failed. */
int i1d_integrate(i1d_fn f, void *ctx, double a, double b, double rel_tol, double *result,
                  char *why, size_t whylen);

#endif
