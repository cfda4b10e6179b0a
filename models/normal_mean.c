/* normal_mean.c: the conjugate normal-mean model, y_i ~ N(theta, sigma^2) with sigma
 * known and theta ~ N(m0, s0^2).  The posterior is normal with precision
 * n / sigma^2 + 1 / s0^2 (Gelman et al., "Bayesian Data Analysis", 3rd ed., sec. 2.5), and
 * the evidence follows from Bayes' rule at any theta:
 * log p(y) = log p(y, theta) - log p(theta | y), evaluated at the posterior mean.
 * The data enter only through n, sum y and sum y^2, so a batch of points costs O(1) each. */
#include <math.h>
#include <stdlib.h>
#include <vi/status.h>
#include "c_models.h"

#define LOG_2PI 1.8378770664093454836

struct cm_normal {
  size_t n;
  double s1, s2;          /* sum y, sum y^2 */
  double sigma, m0, s0;
  double post_mean, post_sd, log_evidence;
};

static double cm_normal_lp1(const cm_normal *c, double th, double *g)
{
  double n = (double)c->n, v = c->sigma * c->sigma, w = c->s0 * c->s0;
  double ss = c->s2 - 2.0 * th * c->s1 + n * th * th;   /* sum (y_i - theta)^2 */
  double d = th - c->m0;
  if (g) *g = (c->s1 - n * th) / v - d / w;
  return -0.5 * n * (LOG_2PI + log(v)) - 0.5 * ss / v - 0.5 * (LOG_2PI + log(w)) -
         0.5 * d * d / w;
}

static int cm_normal_log_joint(void *ctx, size_t n, const double *z, double *lp, double *grad)
{
  const cm_normal *c = ctx;
  for (size_t s = 0; s < n; s++) lp[s] = cm_normal_lp1(c, z[s], grad ? grad + s : NULL);
  return VI_SUCCESS;
}

static int cm_normal_log_lik(void *ctx, size_t n, const double *z, double *ll)
{
  const cm_normal *c = ctx;
  double nn = (double)c->n, v = c->sigma * c->sigma;
  for (size_t s = 0; s < n; s++)
    ll[s] = -0.5 * nn * (LOG_2PI + log(v)) -
            0.5 * (c->s2 - 2.0 * z[s] * c->s1 + nn * z[s] * z[s]) / v;
  return VI_SUCCESS;
}

cm_normal *cm_normal_alloc(const double *y, size_t n, double sigma, double m0, double s0)
{
  if (!(sigma > 0.0) || !(s0 > 0.0) || (n > 0 && !y)) return NULL;
  cm_normal *c = calloc(1, sizeof *c);
  if (!c) return NULL;
  c->n = n;
  for (size_t i = 0; i < n; i++) {
    c->s1 += y[i];
    c->s2 += y[i] * y[i];
  }
  c->sigma = sigma;
  c->m0 = m0;
  c->s0 = s0;
  double prec = (double)n / (sigma * sigma) + 1.0 / (s0 * s0);
  c->post_sd = 1.0 / sqrt(prec);
  c->post_mean = (c->s1 / (sigma * sigma) + m0 / (s0 * s0)) / prec;
  /* log p(theta | y) at its mean is -0.5 log(2 pi post_sd^2) */
  c->log_evidence = cm_normal_lp1(c, c->post_mean, NULL) + 0.5 * LOG_2PI + log(c->post_sd);
  return c;
}

void cm_normal_model(cm_normal *c, vi_model *m)
{
  static const char *const names[] = {"theta"};
  *m = (vi_model){0};
  m->dim = 1;
  m->names = names;
  m->log_joint = cm_normal_log_joint;
  m->ctx = c;
  m->has_log_evidence = 1;
  m->log_evidence = c->log_evidence;
  m->log_lik = cm_normal_log_lik;
}

void cm_normal_posterior(const cm_normal *c, double *mean, double *sd)
{
  if (mean) *mean = c->post_mean;
  if (sd) *sd = c->post_sd;
}

double cm_normal_log_evidence(const cm_normal *c) { return c->log_evidence; }

void cm_normal_free(cm_normal *c) { free(c); }
