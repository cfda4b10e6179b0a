/* finish.c: the final diagnostics of a fit (vi_fit_finish), from many fresh draws of q:
 * the ELBO (mean log-weight) with its Monte Carlo standard error, the importance-sampling log-evidence with
 * its standard error (or the model's exact value), KL(q || p) = log p(X) - ELBO, the PSIS
 * Pareto k-hat of the importance weights (Vehtari et al., JMLR 2024; Yao, Vehtari, Simpson
 * & Gelman, "Yes, but did it work?", ICML 2018), and the forward KL(p || q) by
 * self-normalised importance sampling, flagged unreliable when k-hat > 0.7. */
#include <math.h>
#include <vi/info.h>
#include <vi/status.h>
#include "engine/evidence.h"
#include "engine/fit_internal.h"

int vi_fit_finish(vi_fit *f, vi_final *out)
{
  if (!f || !out) return VI_EINVAL;
  size_t n = f->opt.eval_draws;
  double *lp = f->eval_lp, *lq = f->eval_lq, *ll = f->model.log_lik ? f->eval_ll : NULL;
  int st = vi_fit_eval_draws_(f, f->rng, n, lp, lq, ll);
  if (st != VI_SUCCESS) return st;

  /* log-weights in place: lq <- lp - lq */
  for (size_t i = 0; i < n; i++) lq[i] = lp[i] - lq[i];
  out->draws = n;
  /* ELBO = E_q[log p(x,z) - log q(z)] as the mean log-weight (rather than the mean log
   * joint plus the exact entropy): its variance vanishes as q approaches the posterior
   * ("sticking the landing", Roeder, Wu & Duvenaud 2017), so a good fit reports a
   * precise ELBO and KL. */
  double s = 0.0, ss = 0.0;
  for (size_t i = 0; i < n; i++) s += lq[i];
  double mean = s / (double)n;
  if (isfinite(mean)) {
    for (size_t i = 0; i < n; i++) ss += (lq[i] - mean) * (lq[i] - mean);
    out->elbo = mean;
    out->elbo_se = sqrt(ss / (double)(n - 1) / (double)n);
  } else {
    out->elbo = -INFINITY;   /* q puts mass where the model has none */
    out->elbo_se = NAN;
  }

  double lz, lz_se;
  vi_evidence_is(lq, n, &lz, &lz_se);
  if (f->model.has_log_evidence) {
    out->log_evidence = f->model.log_evidence;
    out->log_evidence_se = 0.0;
    out->log_evidence_exact = 1;
  } else {
    out->log_evidence = lz;
    out->log_evidence_se = lz_se;
    out->log_evidence_exact = 0;
  }
  out->kl = out->log_evidence - out->elbo;
  /* the two estimates come from the same draws; adding variances is the cautious side */
  out->kl_se = sqrt(out->elbo_se * out->elbo_se + out->log_evidence_se * out->log_evidence_se);
  out->khat = vi_info_psis_khat(lq, n);
  out->kl_forward = vi_evidence_forward_kl(lq, n);
  out->kl_forward_reliable = isfinite(out->kl_forward) && out->khat <= 0.7;

  out->expected_log_lik = NAN;
  out->kl_prior = NAN;
  if (ll) {
    s = 0.0;
    for (size_t i = 0; i < n; i++) s += ll[i];
    out->expected_log_lik = s / (double)n;
    out->kl_prior = out->expected_log_lik - out->elbo;
  }
  return VI_SUCCESS;
}
