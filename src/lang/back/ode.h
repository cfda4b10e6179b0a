/* ode.h: solving an ODE system dy/dt = f(t, y) on the AD tape, for the model language's
 * ode_* and integrate_ode_* functions.
 *
 * Discretise, then differentiate: an adaptive Dormand-Prince 5(4) method (Dormand &
 * Prince 1980; Hairer, Norsett & Wanner, "Solving ODEs I", II.4-5) whose stages are
 * ordinary tape operations, so the reverse sweep gives the exact gradient of the
 * computed solution with respect to y0 and everything f reads (parameters included).
 * The step sizes are chosen from the values only and shared by all draws of the batch:
 * the error norm is the largest over the draws, so every draw meets the tolerances. */
#ifndef VI_LANG_ODE_H
#define VI_LANG_ODE_H

#include <stddef.h>
#include "lang/ad/ad.h"

/* The right-hand side: f(t, y) for y a vector value of n elements; returns a vector of
 * n elements, or NULL after recording its own error (the solve then stops). */
typedef ad_val *(*ode_rhs_fn)(void *ctx, double t, ad_val *y);

typedef struct ode_options {
  double rtol, atol;   /* per component: |err| <= atol + rtol * |y| */
  long max_steps;      /* attempted steps between two output times */
  const double *atolv; /* the stiff solver: one atol per component (NULL: atol) */
  int detect_stiff;    /* ode_solve: give up (3) when the system proves stiff */
} ode_options;

/* Most steps of one solve in all (each step's stages stay on the tape), and most tape
 * memory one solve may take: past it a batch is better solved one draw at a time (the
 * stiffest draw sets the step size of a shared sequence), and one draw by the stiff
 * solver, off the tape (a mode search's long step to a rate of e^11 blew the solution
 * up in 200,000 steps, 2.8 GB of tape and 25 s, before it failed). */
#define ODE_MAX_TOTAL_STEPS 200000L
#define ODE_BATCH_BYTES ((size_t)256 << 20)

/* Solve from (t0, y0) to each of the nts increasing times ts (all >= t0); out[k] is the
 * state at ts[k] (a vector value).  Draws whose state becomes non-finite are left out
 * of the step control and end as NaN.  Returns 0; -1 when f failed; 1 when the step
 * budget ran out or the step size underflowed (the reason in why); 2 when the solve
 * outgrew ODE_BATCH_BYTES. */
int ode_solve(ad_tape *t, ode_rhs_fn f, void *ctx, ad_val *y0, double t0, const double *ts,
              size_t nts, const ode_options *opt, ad_val **out, char *why, size_t whylen);
/* (With opt->detect_stiff, also 3: Hairer & Wanner's stiffness test fired; the caller
 * then releases what the solve recorded and uses ode_stiff_solve.) */

/* The stiff solver (ode_stiff.c on ode_bdf.c: variable-order BDF with forward
 * sensitivities, solved per draw on plain doubles, off the tape).  f(t, y, args) is the
 * system for one draw: t a real scalar, y a vector, args the arguments after y (the
 * solver passes copies of those that vary by draw); NULL after recording its error.
 * Gradients flow to y0 and to the args that carry adjoints; t0 and ts are data.
 * Returns as ode_solve (never 2). */
typedef ad_val *(*ode_rhs_args_fn)(void *ctx, ad_val *t, ad_val *y, ad_val **args);
int ode_stiff_solve(ad_tape *t, ode_rhs_args_fn f, void *ctx, int nargs, ad_val **args,
                    ad_val *y0, double t0, const double *ts, size_t nts,
                    const ode_options *opt, ad_val **out, char *why, size_t whylen);

/* Accepted steps of all solves so far (both solvers; for tests and benchmarks). */
long ode_steps_taken(void);
void ode_count_steps(long steps);

#endif
