/* engine/evidence.h: internal: importance-sampling estimates with q as the proposal, from
 * log-weights lw_s = log p(x, z_s) - log q(z_s) (-inf allowed: zero weight). */
#ifndef VI_ENGINE_EVIDENCE_H
#define VI_ENGINE_EVIDENCE_H
#include <stddef.h>

/* log p(X) ~ log mean_s exp(lw_s), with the delta-method standard error
 * se(log mean w) = sd(w) / (sqrt(n) mean(w)).  All weights zero: -inf and se NaN. */
void evidence_is(const double *lw, size_t n, double *log_z, double *se);
/* KL(p(z|x) || q) by self-normalised importance sampling:
 * sum_s wbar_s lw_s - log mean_s w_s, with wbar the normalised weights (>= 0). */
double evidence_forward_kl(const double *lw, size_t n);

#endif
