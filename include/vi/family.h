/* vi/family.h: the Gaussian families a fit can take for q(z) over the unconstrained space,
 * GSL-style: each family is a type (a const table of functions inside libvi), named by a
 * pointer, and a fit is asked for one through vi_options.family.
 *
 *   vi_family_meanfield  q = N(mu, diag(sd)^2), 2 D parameters (mu, log sd).  The default.
 *   vi_family_lowrank    q = N(mu, diag(sd)^2 + F F'), F D x K: D (K + 2) parameters; the
 *                        rank K is vi_options.family_rank (1 <= K <= D).
 *   vi_family_fullrank   q = N(mu, L L'), L lower triangular with a positive diagonal:
 *                        D + D (D + 1) / 2 parameters (Stan's full-rank ADVI family).
 *
 * Every family has an exact entropy (log det), is sampled by reparameterisation from
 * standard normal draws and fits with the same estimators, optimisers and diagnostics.
 * The types are immutable and safe to share between threads. */
#ifndef VI_FAMILY_H
#define VI_FAMILY_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct vi_family_type vi_family_type;

extern const vi_family_type *const vi_family_meanfield;
extern const vi_family_type *const vi_family_lowrank;
extern const vi_family_type *const vi_family_fullrank;

/* The family's name: "meanfield", "lowrank" or "fullrank" (what `vi fit --family` takes). */
const char *vi_family_name(const vi_family_type *t);
/* 1 when the family takes a rank K (lowrank), else 0. */
int vi_family_ranked(const vi_family_type *t);
/* The family of that name, or NULL. */
const vi_family_type *vi_family_lookup(const char *name);
/* All families, NULL-terminated, the default first (static storage). */
const vi_family_type *const *vi_family_types(void);
/* The number of free parameters of q for dimension D and rank K (K ignored when the family
 * takes none); 0 when K is out of range. */
size_t vi_family_n_params(const vi_family_type *t, size_t D, size_t K);

#ifdef __cplusplus
}
#endif
#endif
