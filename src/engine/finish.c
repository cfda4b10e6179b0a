/* finish.c: the final diagnostics of a fit (vi_fit_finish), from many fresh draws of q:
 * the ELBO (mean log-weight) with its Monte Carlo standard error, the importance-sampling log-evidence with
 * its standard error (or the model's exact value), KL(q || p) = log p(X) - ELBO, the PSIS
 * Pareto k-hat of the importance weights (Vehtari et al., JMLR 2024; Yao, Vehtari, Simpson
 * & Gelman, "Yes, but did it work?", ICML 2018), and the forward KL(p || q) by
 * self-normalised importance sampling, flagged unreliable when k-hat > 0.7.  Draws whose
 * log density is not finite (q puts mass outside the model's support, or the model gives
 * NaN there) are counted, and the first is kept (vi_fit_finish_fault): the estimates are
 * then not to be trusted, whatever k-hat says. */
#include <math.h>
#include <stdlib.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_randist.h>
#include <vi/info.h>
#include <vi/status.h>
#include "engine/evidence.h"
#include "engine/fit_internal.h"

/* Count the draws whose log density is not finite (fit_eval_draws made them -inf)
 * and keep the first: its z drawn again from replay (a copy of the RNG before the draws,
 * which fit_eval_draws consumes D normals per draw, in order) and its own lp. */
static int finish_failed_draws(vi_fit *f, gsl_rng *replay, const double *lp, size_t n)
{
  size_t D = f->dim, first = n;
  f->final_bad = 0;
  for (size_t i = 0; i < n; i++)
    if (!isfinite(lp[i]) && f->final_bad++ == 0) first = i;
  if (!f->final_bad) return VI_SUCCESS;
  if (!f->final_z && !(f->final_z = malloc(D * sizeof(double)))) return VI_ENOMEM;
  for (size_t i = 0; i <= first; i++)
    for (size_t j = 0; j < D; j++)
      f->final_z[j] = f->x[j] + f->sd[j] * gsl_ran_gaussian_ziggurat(replay, 1.0);
  double lp1 = -INFINITY;
  int st = f->model.log_joint(f->model.ctx, 1, f->final_z, &lp1, NULL);
  f->final_fault.iter = f->cur.iter;
  f->final_fault.draw = first;
  f->final_fault.lp = st == VI_SUCCESS ? lp1 : NAN;
  f->final_fault.status = VI_ENONFINITE;
  f->final_fault.z = f->final_z;
  return VI_SUCCESS;
}

const vi_fault *vi_fit_finish_fault(const vi_fit *f, size_t *count)
{
  if (count) *count = f ? f->final_bad : 0;
  return f && f->final_bad ? &f->final_fault : NULL;
}

static int fit_finish(vi_fit *f, vi_final *out);

int vi_fit_finish(vi_fit *f, vi_final *out)
{
  gsl_error_handler_t *saved = gsl_set_error_handler_off();   /* as vi_fit_alloc */
  int st = fit_finish(f, out);
  gsl_set_error_handler(saved);
  return st;
}

static int fit_finish(vi_fit *f, vi_final *out)
{
  if (!f || !out) return VI_EINVAL;
  size_t n = f->opt.eval_draws;
  double *lp = f->eval_lp, *lq = f->eval_lq, *ll = f->model.log_lik ? f->eval_ll : NULL;
  gsl_rng *replay = gsl_rng_clone(f->rng);   /* to find a failed draw's z again */
  if (!replay) return VI_ENOMEM;
  int st = fit_eval_draws(f, f->rng, n, lp, lq, ll);
  if (st == VI_SUCCESS) st = finish_failed_draws(f, replay, lp, n);
  gsl_rng_free(replay);
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
  evidence_is(lq, n, &lz, &lz_se);
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
  out->kl_forward = evidence_forward_kl(lq, n);
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
