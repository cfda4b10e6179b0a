/* ode_bdf.h: a stiff ODE integrator on plain doubles, with forward sensitivities: the
 * variable-step, variable-order (1-5) numerical differentiation formulas of Shampine &
 * Reichelt (the BDFs with Klopfenstein's kappa corrections, as MATLAB's ode15s), with the
 * sensitivity equations S' = J S + df/dp solved alongside by the same formula (ode_bdf.c
 * says how).  It knows nothing of the tape: the caller evaluates f, its Jacobian df/dy
 * and df/dp (ode_stiff.c does so for the model language's user-defined systems). */
#ifndef VI_LANG_ODE_BDF_H
#define VI_LANG_ODE_BDF_H

#include <stddef.h>

/* f(t, y) into f[N]; when J is not NULL also J[i N + j] = df_i/dy_j and Fp[i P + k] =
 * df_i/dp_k.  Returns 0, or -1 for an error that ends the solve (its message is the
 * caller's).  Values that are not finite are allowed: the step is retried shorter. */
typedef int (*bdf_eval_fn)(void *ctx, double t, const double *y, double *f, double *J,
                           double *Fp);

typedef struct bdf_system {
  size_t N;            /* states */
  size_t P;            /* sensitivity parameters (0: the state only) */
  bdf_eval_fn eval;
  void *ctx;
} bdf_system;

typedef struct bdf_options {
  double rtol;         /* per component: |err_i| <= atol[i] + rtol |y_i| (RMS norm) */
  const double *atol;  /* N values */
  long max_steps;      /* accepted steps between two output times (Stan's max_num_steps) */
} bdf_options;

/* What a solve took (added to, so a caller may sum over solves). */
typedef struct bdf_stats {
  long steps, rejected, fevals, jevals, lus;
} bdf_stats;

/* Bytes of work space bdf_solve needs for N states and P parameters. */
size_t bdf_work_bytes(size_t N, size_t P);

/* Solve from (t0, y0), S(t0) = S0 (N x P row-major; NULL: zero) to each of the nts
 * times ts (sorted, ts[0] > t0): yout[q N + i] = y_i(ts[q]), Sout[(q N + i) P + k] =
 * dy_i(ts[q])/dp_k (Sout may be NULL when P = 0).  Steps never pass ts[nts - 1]; the
 * earlier outputs are interpolated.  Returns 0; -1 when eval failed; 1 when max_steps
 * ran out or the step size underflowed (the reason in why). */
int bdf_solve(const bdf_system *sys, const bdf_options *o, double t0, const double *y0,
              const double *S0, const double *ts, size_t nts, double *yout, double *Sout,
              void *work, bdf_stats *st, char *why, size_t whylen);

#endif
