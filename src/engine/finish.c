/* finish.c: the final diagnostics of a fit (vi_fit_finish), from many fresh draws of q:
 * the ELBO (mean log-weight) with its Monte Carlo standard error, the importance-sampling log-evidence with
 * its standard error (or the model's exact value), KL(q || p) = log p(X) - ELBO, the PSIS
 * Pareto k-hat of the importance weights (Vehtari et al., JMLR 2024; Yao, Vehtari, Simpson
 * & Gelman, "Yes, but did it work?", ICML 2018), and the forward KL(p || q) by
 * self-normalised importance sampling, flagged unreliable when k-hat > 0.7.  Draws whose
 * log density is not finite (q puts mass outside the model's support, or the model gives
 * NaN there) are counted, and the first is kept (vi_fit_finish_fault): the estimates are
 * then not to be trusted, whatever k-hat says.
 * vi_fit_finish_shared draws as many as the standard errors need (a sequential stopping
 * rule checked a batch at a time, between a floor and a cap) and hands the first draws
 * back, with their log p and log q, so that a caller's output draws are these same draws
 * (`vi fit` then runs only the generated quantities on them): each draw's log p is
 * evaluated once, for the decomposition and the output alike. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
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

static int finish_stats(vi_fit *f, double *lp, double *lq, const double *ll, size_t n,
                        vi_final *out);

int vi_fit_finish(vi_fit *f, vi_final *out)
{
  if (!f || !out) return VI_EINVAL;
  gsl_error_handler_t *saved = gsl_set_error_handler_off();   /* as vi_fit_alloc */
  size_t n = f->opt.eval_draws;
  double *lp = f->eval_lp, *lq = f->eval_lq, *ll = f->model.log_lik ? f->eval_ll : NULL;
  gsl_rng *replay = gsl_rng_clone(f->rng);   /* to find a failed draw's z again */
  int st = replay ? fit_eval_draws(f, f->rng, n, lp, lq, ll) : VI_ENOMEM;
  if (st == VI_SUCCESS) st = finish_failed_draws(f, replay, lp, n);
  if (replay) gsl_rng_free(replay);
  if (st == VI_SUCCESS) st = finish_stats(f, lp, lq, ll, n, out);
  gsl_set_error_handler(saved);
  return st;
}

/* The standard errors that decide when the shared finish has drawn enough: those of the
 * ELBO (the mean log-weight) and of the importance-sampling log p(X), both from the
 * log-weights lw (n of them).  Infinite when either is not finite (a draw outside the
 * support: more draws do not help, the cap ends it). */
static double finish_se(const double *lp, const double *lq, double *lw, size_t n)
{
  double s = 0.0, ss = 0.0;
  for (size_t i = 0; i < n; i++) s += (lw[i] = lp[i] - lq[i]);
  double mean = s / (double)n;
  if (!isfinite(mean) || n < 2) return INFINITY;
  for (size_t i = 0; i < n; i++) ss += (lw[i] - mean) * (lw[i] - mean);
  double se_elbo = sqrt(ss / (double)(n - 1) / (double)n), lz, se_lz;
  evidence_is(lw, n, &lz, &se_lz);
  if (!isfinite(se_lz)) return INFINITY;
  return se_elbo > se_lz ? se_elbo : se_lz;
}

static int finish_shared(vi_fit *f, size_t n_min, size_t n_max, double target_se,
                         size_t n_keep, double *z_keep, double *lp_keep, double *lq_keep,
                         vi_final *out)
{
  if (n_min < 2) n_min = 2;
  if (n_max < n_min) n_max = n_min;
  if (n_keep > n_min) return VI_EINVAL;
  int has_ll = f->model.log_lik != NULL;
  double *lp = malloc(n_max * sizeof *lp), *lq = malloc(n_max * sizeof *lq);
  double *lw = malloc(n_max * sizeof *lw), *ll = has_ll ? malloc(n_max * sizeof *ll) : NULL;
  gsl_rng *replay = gsl_rng_clone(f->rng);
  int st = VI_ENOMEM;
  if (!lp || !lq || !lw || (has_ll && !ll) || !replay) goto done;
  /* n_min draws (the kept ones first), then a batch at a time until both standard
   * errors reach the target or the cap: the stopping point depends only on the seed */
  size_t n = 0, want = n_min;
  for (;;) {
    st = fit_eval_draws_keep(f, f->rng, want - n, lp + n, lq + n, ll ? ll + n : NULL,
                             n < n_keep ? n_keep - n : 0, z_keep ? z_keep + n * f->dim : NULL,
                             lp_keep ? lp_keep + n : NULL);
    if (st != VI_SUCCESS) goto done;
    n = want;
    if (n >= n_max || (target_se > 0 && finish_se(lp, lq, lw, n) <= target_se)) break;
    want = n + VI_FIT_BATCH < n_max ? n + VI_FIT_BATCH : n_max;
  }
  if (lq_keep) memcpy(lq_keep, lq, n_keep * sizeof *lq);
  if ((st = finish_failed_draws(f, replay, lp, n)) == VI_SUCCESS)
    st = finish_stats(f, lp, lq, ll, n, out);
done:
  free(lp); free(lq); free(lw); free(ll);
  if (replay) gsl_rng_free(replay);
  return st;
}

int vi_fit_finish_shared(vi_fit *f, size_t n_min, size_t n_max, double target_se,
                         size_t n_keep, double *z_keep, double *lp_keep, double *lq_keep,
                         vi_final *out)
{
  if (!f || !out) return VI_EINVAL;
  gsl_error_handler_t *saved = gsl_set_error_handler_off();   /* as vi_fit_alloc */
  int st = finish_shared(f, n_min, n_max, target_se, n_keep, z_keep, lp_keep, lq_keep, out);
  gsl_set_error_handler(saved);
  return st;
}

/* The final estimates from n evaluated draws (lq becomes the log-weights). */
static int finish_stats(vi_fit *f, double *lp, double *lq, const double *ll, size_t n,
                        vi_final *out)
{
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
