/* algebra_solver.h: roots of f(x, theta) = 0 for the model language's solve_newton,
 * solve_powell (and _tol) and algebra_solver(_newton), per draw with GSL's
 * gsl_multiroot_fdfsolver off the tape, and the root as one tape op whose reverse step
 * follows the implicit function theorem.
 *
 * At the root, f(x*(theta), theta) = 0, so the root has the derivative
 * -[df/dx]^-1 df/dtheta in theta (Margossian & Betancourt, "Efficient automatic differentiation of implicit functions",
 * 2022; Stan's own adjoint): the reverse step solves [df/dx]^T lambda = xbar and hands
 * -lambda to the adjoint of F = f(x*, theta), a value the caller evaluated on the tape
 * with x* held constant, so the tape's own sweep forms -(df/dtheta)^T lambda. */
#ifndef VI_LANG_ALGEBRA_SOLVER_H
#define VI_LANG_ALGEBRA_SOLVER_H

#include <stddef.h>
#include "lang/ad/ad.h"

/* The system at x (n values) for one draw: f (n values) and, when jac is not NULL, the
 * Jacobian df_i/dx_j at jac[i * n + j].  0, or -1 after the callee recorded an error
 * (the solve stops and returns -1). */
typedef int (*alg_system_fn)(void *ctx, const double *x, double *f, double *jac);

typedef struct alg_options {
  int newton;          /* 1: Newton with a line search (gnewton); 0: Powell's hybrid
                          dogleg (hybridsj) */
  double xtol;         /* relative step below which the iteration has converged */
  double ftol;         /* the root is accepted when ||f||_2 <= ftol */
  long max_steps;      /* iterations */
} alg_options;

/* Solve from x (n values, the guess; the root on success).  jac (n * n) is left holding
 * the Jacobian at the root.  0 on success; 1 when no acceptable root was found (the
 * reason in why); -1 when the system failed. */
int alg_solve(alg_system_fn f, void *ctx, size_t n, const alg_options *opt, double *x,
              double *jac, char *why, size_t whylen);

/* The root as a vector value of n elements and nd draws (x: n * nd values in the ad_val
 * layout), with the reverse step of the implicit function theorem: F is f(root, theta)
 * on the tape (root held constant, same n and nd), jac the per-draw Jacobians at the
 * root (nd blocks of n * n, arena memory kept by the node).  Without a recording tape
 * or an F with an adjoint, a plain value.  NULL on OOM. */
ad_val *alg_root_value(ad_tape *t, size_t n, size_t nd, const double *x, ad_val *F,
                       double *jac);

#endif
