/* evidence.c: importance sampling with the variational q as the proposal, for the
 * log-evidence log p(X) = log E_q[p(x, z) / q(z)] (unbiased in p(X), not in its log) and
 * the forward KL(p || q) (self-normalised IS; see Owen, "Monte Carlo theory, methods and
 * examples", 2013, ch. 9).  Weights are scaled by their maximum before exponentiating.
 *
 * Forward KL: KL(p || q) = E_p[log p(z|x) - log q(z)] = E_p[lw(z)] - log p(X) with
 * lw = log p(x, z) - log q(z).  Both terms are estimated from the same draws:
 * E_p[lw] ~ sum wbar_s lw_s and log p(X) ~ log mean w, so the estimate equals
 * KL(wbar || uniform) over the draws and is never negative. */
#include <math.h>
#include "engine/evidence.h"

void evidence_is(const double *lw, size_t n, double *log_z, double *se)
{
  double m = -INFINITY;
  for (size_t i = 0; i < n; i++)
    if (lw[i] > m) m = lw[i];
  if (n == 0 || !isfinite(m)) {
    *log_z = n == 0 ? NAN : m;
    *se = NAN;
    return;
  }
  double s = 0.0, ss = 0.0;
  for (size_t i = 0; i < n; i++) {
    double w = exp(lw[i] - m);
    s += w;
    ss += w * w;
  }
  double mean = s / (double)n;
  *log_z = m + log(mean);
  if (n < 2) { *se = NAN; return; }
  double var = (ss - (double)n * mean * mean) / (double)(n - 1);
  if (var < 0.0) var = 0.0;
  *se = sqrt(var / (double)n) / mean;
}

double evidence_forward_kl(const double *lw, size_t n)
{
  double m = -INFINITY;
  for (size_t i = 0; i < n; i++)
    if (lw[i] > m) m = lw[i];
  if (n == 0 || !isfinite(m)) return NAN;
  double s = 0.0, swl = 0.0;
  for (size_t i = 0; i < n; i++) {
    if (lw[i] == -INFINITY) continue;   /* zero weight: no contribution */
    double w = exp(lw[i] - m);
    s += w;
    swl += w * (lw[i] - m);
  }
  /* sum wbar (lw - m) - log(mean exp(lw - m)) */
  double kl = swl / s - log(s / (double)n);
  return kl < 0.0 ? 0.0 : kl;
}
