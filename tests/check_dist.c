/* check_dist.c: tests of the model language's distributions (builtins_dist.c,
 * builtins_dist_multi.c, builtins_rng.c), called through the builtin table as the
 * evaluator calls them.  Each univariate density is checked at several points for:
 * its value against GSL (log of gsl_ran_*_pdf, gsl_cdf_*) or a hand formula; every real
 * argument's gradient against central finite differences; a vectorised call against the
 * sum of scalar calls (containers and broadcast scalars, with gradients); a batch of 4
 * draws against one draw at a time (varying and non-varying arguments with adjoints);
 * -inf for invalid parameters and NaN for NaN.  Multivariate densities get the same
 * kinds of checks by hand.  Each _rng: mean and variance of 20,000 draws (one call on a
 * tape of 20,000 draws, fixed seed) within 5 standard errors, and its support. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <check.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_cdf.h>
#include <gsl/gsl_sf_gamma.h>
#include <gsl/gsl_sf_psi.h>
#include <gsl/gsl_linalg.h>
#include <gsl/gsl_permutation.h>
#include <gsl/gsl_integration.h>
#include <gsl/gsl_sf_bessel.h>
#include "lang/front/front.h"
#include "lang/lib/lib.h"
#include "lang/lib/dist_impl.h"


/* ---- harness ---------------------------------------------------------------------- */

static ad_tape *T;

static void setup(void)
{
  gsl_set_error_handler_off();
  T = ad_tape_alloc();
  ck_assert_ptr_nonnull(T);
}

static void teardown(void) { ad_tape_free(T); T = NULL; }

/* A value in the arena: kind 's' scalar, 'v' vector[len], 'a' array[len], 'm' matrix
 * len x len, 'V' array[len / K] of vector[K] (dims given by k2); nd draws; with an
 * adjoint if adj (and the tape records).  x in the tape layout (e * nd + s). */
static ad_val *mk(int is_int, char kind, size_t len, size_t k2, size_t nd, int adj,
                  const double *x)
{
  vi_type ty = {is_int ? VT_INT : VT_REAL, 0};
  size_t dims[2] = {len, 0};
  int ndims = 0;
  switch (kind) {
  case 's': break;
  case 'v': ty.base = VT_VECTOR; ndims = 1; break;
  case 'a': ty.ndims = 1; ndims = 1; break;
  case 'm': ty.base = VT_MATRIX; ndims = 2; dims[1] = len; break;
  case 'V': ty.base = VT_VECTOR; ty.ndims = 1; ndims = 2; dims[0] = len / k2; dims[1] = k2; break;
  case 'M': ty.base = VT_MATRIX; ndims = 2; dims[1] = k2; break;   /* len x k2 */
  }
  ad_val *v = ad_new(T, ty, ndims, dims, nd > 1, adj);
  ck_assert_ptr_nonnull(v);
  ck_assert_uint_eq(v->nd, nd);
  size_t n = (kind == 'm' ? len * len : kind == 'M' ? len * k2 : kind == 's' ? 1 : len) * nd;
  ck_assert_uint_eq(v->len * v->nd, n);
  memcpy(v->x, x, n * sizeof *x);
  return v;
}

static ad_val *call(const char *name, ad_val **args, int na)
{
  vi_type ty[6], ret;
  ck_assert_int_le(na, 6);
  char why[512];
  for (int i = 0; i < na; i++) ty[i] = args[i]->type;
  int id = builtin_resolve(name, ty, na, &ret, why, sizeof why);
  ck_assert_msg(id >= 0, "resolve %s: %s", name, why);
  ck_assert_msg(builtin_name(id) && strcmp(builtin_name(id), name) == 0, "%s", name);
  return builtin_call(T, id, args, na);
}

static void backward_seed(ad_val *out)
{
  ck_assert_ptr_nonnull(out->adj);
  for (size_t s = 0; s < out->nd; s++) out->adj[s] = 1;
  ad_tape_backward(T);
}

static int close_to(double a, double b, double tol)
{
  if (isinf(a) || isinf(b)) return a == b;
  return fabs(a - b) <= tol * fmax(1, fmax(fabs(a), fabs(b)));
}

#define CK_CLOSE(a, b, tol, ...)                                                      \
  ck_assert_msg(close_to((a), (b), (tol)), __VA_ARGS__)

/* ---- univariate densities: table-driven ------------------------------------------- */

typedef double (*ref_fn)(const double *a);

typedef struct {
  const char *name;
  const char *kinds;     /* one letter per argument: 'I' int, 'R' real */
  ref_fn ref;
  double pts[3][4];      /* valid points */
  int nbad;
  double bad[4][4];      /* invalid points: -inf expected */
} utest;

static double inv_logit(double x) { return 1 / (1 + exp(-x)); }

static double r_normal(const double *a) { return log(gsl_ran_gaussian_pdf(a[0] - a[1], a[2])); }
static double r_std_normal(const double *a) { return log(gsl_ran_ugaussian_pdf(a[0])); }
static double r_student_t(const double *a)
{
  return log(gsl_ran_tdist_pdf((a[0] - a[2]) / a[3], a[1]) / a[3]);
}
static double r_cauchy(const double *a) { return log(gsl_ran_cauchy_pdf(a[0] - a[1], a[2])); }
static double r_dexp(const double *a) { return log(gsl_ran_laplace_pdf(a[0] - a[1], a[2])); }
static double r_logistic(const double *a) { return log(gsl_ran_logistic_pdf(a[0] - a[1], a[2])); }
static double r_exponential(const double *a) { return log(gsl_ran_exponential_pdf(a[0], 1 / a[1])); }
static double r_gamma(const double *a) { return log(gsl_ran_gamma_pdf(a[0], a[1], 1 / a[2])); }
static double r_inv_gamma(const double *a)
{
  return log(gsl_ran_gamma_pdf(1 / a[0], a[1], 1 / a[2]) / (a[0] * a[0]));
}
static double r_lognormal(const double *a) { return log(gsl_ran_lognormal_pdf(a[0], a[1], a[2])); }
static double r_chi_square(const double *a) { return log(gsl_ran_chisq_pdf(a[0], a[1])); }
static double r_inv_chi_square(const double *a)
{
  return log(gsl_ran_chisq_pdf(1 / a[0], a[1]) / (a[0] * a[0]));
}
static double r_sinvchi2(const double *a)
{
  double c = a[1] * a[2] * a[2];   /* y = c / X, X ~ chi2(nu) */
  return log(gsl_ran_chisq_pdf(c / a[0], a[1]) * c / (a[0] * a[0]));
}
static double r_weibull(const double *a) { return log(gsl_ran_weibull_pdf(a[0], a[2], a[1])); }
static double r_frechet(const double *a)
{
  double y = a[0], al = a[1], sg = a[2];
  return log(al / sg * pow(y / sg, -1 - al) * exp(-pow(y / sg, -al)));
}
static double r_pareto(const double *a) { return log(gsl_ran_pareto_pdf(a[0], a[2], a[1])); }
static double r_beta(const double *a) { return log(gsl_ran_beta_pdf(a[0], a[1], a[2])); }
static double r_beta_prop(const double *a)
{
  return log(gsl_ran_beta_pdf(a[0], a[1] * a[2], (1 - a[1]) * a[2]));
}
static double r_uniform(const double *a) { return log(gsl_ran_flat_pdf(a[0], a[1], a[2])); }
static double r_bernoulli(const double *a) { return log(gsl_ran_bernoulli_pdf((unsigned)a[0], a[1])); }
static double r_bernoulli_logit(const double *a)
{
  return log(gsl_ran_bernoulli_pdf((unsigned)a[0], inv_logit(a[1])));
}
static double r_binomial(const double *a)
{
  return log(gsl_ran_binomial_pdf((unsigned)a[0], a[2], (unsigned)a[1]));
}
static double r_binomial_logit(const double *a)
{
  return log(gsl_ran_binomial_pdf((unsigned)a[0], inv_logit(a[2]), (unsigned)a[1]));
}
static double r_beta_binomial(const double *a)
{
  double n = a[0], N = a[1], al = a[2], be = a[3];
  return gsl_sf_lnchoose((unsigned)N, (unsigned)n) + gsl_sf_lnbeta(n + al, N - n + be)
         - gsl_sf_lnbeta(al, be);
}
static double r_poisson(const double *a) { return log(gsl_ran_poisson_pdf((unsigned)a[0], a[1])); }
static double r_poisson_log(const double *a)
{
  return log(gsl_ran_poisson_pdf((unsigned)a[0], exp(a[1])));
}
static double r_neg_binomial(const double *a)
{
  return log(gsl_ran_negative_binomial_pdf((unsigned)a[0], a[2] / (1 + a[2]), a[1]));
}
static double r_nb2(const double *a)
{
  return log(gsl_ran_negative_binomial_pdf((unsigned)a[0], a[2] / (a[1] + a[2]), a[2]));
}
static double r_nb2_log(const double *a)
{
  double mu = exp(a[1]);
  return log(gsl_ran_negative_binomial_pdf((unsigned)a[0], a[2] / (mu + a[2]), a[2]));
}
static double r_normal_lcdf(const double *a) { return log(gsl_cdf_gaussian_P(a[0] - a[1], a[2])); }
static double r_normal_lccdf(const double *a) { return log(gsl_cdf_gaussian_Q(a[0] - a[1], a[2])); }
static double r_normal_cdf(const double *a) { return gsl_cdf_gaussian_P(a[0] - a[1], a[2]); }
static double r_std_normal_lcdf(const double *a) { return log(gsl_cdf_ugaussian_P(a[0])); }
static double r_std_normal_lccdf(const double *a) { return log(gsl_cdf_ugaussian_Q(a[0])); }
static double r_std_normal_cdf(const double *a) { return gsl_cdf_ugaussian_P(a[0]); }
static double r_exp_lcdf(const double *a) { return log(gsl_cdf_exponential_P(a[0], 1 / a[1])); }
static double r_exp_lccdf(const double *a) { return log(gsl_cdf_exponential_Q(a[0], 1 / a[1])); }
static double r_exp_cdf(const double *a) { return gsl_cdf_exponential_P(a[0], 1 / a[1]); }
static double r_logis_lcdf(const double *a) { return log(gsl_cdf_logistic_P(a[0] - a[1], a[2])); }
static double r_logis_lccdf(const double *a) { return log(gsl_cdf_logistic_Q(a[0] - a[1], a[2])); }
static double r_logis_cdf(const double *a) { return gsl_cdf_logistic_P(a[0] - a[1], a[2]); }
static double r_lnorm_lcdf(const double *a) { return log(gsl_cdf_lognormal_P(a[0], a[1], a[2])); }
static double r_lnorm_lccdf(const double *a) { return log(gsl_cdf_lognormal_Q(a[0], a[1], a[2])); }
static double r_lnorm_cdf(const double *a) { return gsl_cdf_lognormal_P(a[0], a[1], a[2]); }

static double r_cauchy_lcdf(const double *a) { return log(gsl_cdf_cauchy_P(a[0] - a[1], a[2])); }
static double r_cauchy_lccdf(const double *a) { return log(gsl_cdf_cauchy_Q(a[0] - a[1], a[2])); }
static double r_cauchy_cdf(const double *a) { return gsl_cdf_cauchy_P(a[0] - a[1], a[2]); }
static double r_dexp_lcdf(const double *a) { return log(gsl_cdf_laplace_P(a[0] - a[1], a[2])); }
static double r_dexp_lccdf(const double *a) { return log(gsl_cdf_laplace_Q(a[0] - a[1], a[2])); }
static double r_dexp_cdf(const double *a) { return gsl_cdf_laplace_P(a[0] - a[1], a[2]); }
static double r_unif_lcdf(const double *a) { return log(gsl_cdf_flat_P(a[0], a[1], a[2])); }
static double r_unif_lccdf(const double *a) { return log(gsl_cdf_flat_Q(a[0], a[1], a[2])); }
static double r_unif_cdf(const double *a) { return gsl_cdf_flat_P(a[0], a[1], a[2]); }
static double r_weib_lcdf(const double *a) { return log(gsl_cdf_weibull_P(a[0], a[2], a[1])); }
static double r_weib_lccdf(const double *a) { return log(gsl_cdf_weibull_Q(a[0], a[2], a[1])); }
static double r_weib_cdf(const double *a) { return gsl_cdf_weibull_P(a[0], a[2], a[1]); }
static double r_gamma_lcdf(const double *a) { return log(gsl_cdf_gamma_P(a[0], a[1], 1 / a[2])); }
static double r_gamma_lccdf(const double *a) { return log(gsl_cdf_gamma_Q(a[0], a[1], 1 / a[2])); }
static double r_gamma_cdf(const double *a) { return gsl_cdf_gamma_P(a[0], a[1], 1 / a[2]); }
static double r_pois_lcdf(const double *a) { return log(gsl_cdf_poisson_P((unsigned)a[0], a[1])); }
static double r_pois_lccdf(const double *a) { return log(gsl_cdf_poisson_Q((unsigned)a[0], a[1])); }
static double r_pois_cdf(const double *a) { return gsl_cdf_poisson_P((unsigned)a[0], a[1]); }
static double r_von_mises(const double *a)
{
  return a[2] * cos(a[0] - a[1]) - log(2 * M_PI * gsl_sf_bessel_I0(a[2]));
}
static double r_t_lcdf(const double *a) { return log(gsl_cdf_tdist_P((a[0] - a[2]) / a[3], a[1])); }
static double r_t_lccdf(const double *a) { return log(gsl_cdf_tdist_Q((a[0] - a[2]) / a[3], a[1])); }
static double r_t_cdf(const double *a) { return gsl_cdf_tdist_P((a[0] - a[2]) / a[3], a[1]); }
static double r_gumbel(const double *a) { return log(gsl_ran_gumbel1_pdf(a[0] - a[1], 1 / a[2], 1)); }
static double r_gumbel_lcdf(const double *a) { return log(gsl_cdf_gumbel1_P(a[0] - a[1], 1 / a[2], 1)); }
static double r_gumbel_lccdf(const double *a) { return log(gsl_cdf_gumbel1_Q(a[0] - a[1], 1 / a[2], 1)); }
static double r_gumbel_cdf(const double *a) { return gsl_cdf_gumbel1_P(a[0] - a[1], 1 / a[2], 1); }
static double r_rayleigh(const double *a) { return log(gsl_ran_rayleigh_pdf(a[0], a[1])); }
static double r_skew_normal(const double *a)
{
  double z = (a[0] - a[1]) / a[2];
  return log(2 / a[2] * gsl_ran_ugaussian_pdf(z) * gsl_cdf_ugaussian_P(a[3] * z));
}
static double r_exp_mod_normal(const double *a)
{
  double y = a[0], mu = a[1], sg = a[2], la = a[3];
  return log(la / 2 * exp(la / 2 * (2 * mu + la * sg * sg - 2 * y)) *
             erfc((mu + la * sg * sg - y) / (sqrt(2) * sg)));
}
static double r_skew_dexp(const double *a)
{
  double y = a[0], mu = a[1], sg = a[2], tau = a[3];
  double e = y < mu ? (1 - tau) * (mu - y) : tau * (y - mu);
  return log(2 * tau * (1 - tau) / sg * exp(-2 / sg * e));
}
static double r_loglogistic(const double *a)
{
  double q = a[0] / a[1], b = a[2];
  return log(b / a[1] * pow(q, b - 1) / ((1 + pow(q, b)) * (1 + pow(q, b))));
}
static double r_pareto2(const double *a)
{
  return log(a[3] / a[2] * pow(1 + (a[0] - a[1]) / a[2], -(a[3] + 1)));
}
static double r_discrete_range(const double *a) { return -log(a[2] - a[1] + 1); }
static double r_binom_lcdf(const double *a) { return log(gsl_cdf_binomial_P((unsigned)a[0], a[2], (unsigned)a[1])); }
static double r_binom_lccdf(const double *a) { return log(gsl_cdf_binomial_Q((unsigned)a[0], a[2], (unsigned)a[1])); }
static double r_binom_cdf(const double *a) { return gsl_cdf_binomial_P((unsigned)a[0], a[2], (unsigned)a[1]); }
static double r_nb2_lcdf(const double *a)
{
  return log(gsl_cdf_negative_binomial_P((unsigned)a[0], a[2] / (a[1] + a[2]), a[2]));
}
static double r_nb2_lccdf(const double *a)
{
  return log(gsl_cdf_negative_binomial_Q((unsigned)a[0], a[2] / (a[1] + a[2]), a[2]));
}
static double r_nb2_cdf(const double *a)
{
  return gsl_cdf_negative_binomial_P((unsigned)a[0], a[2] / (a[1] + a[2]), a[2]);
}

#define NINF (-INFINITY)
static const utest UT[] = {
  {"normal_lpdf", "RRR", r_normal, {{0.3, -0.2, 1.5}, {-2, 1, 0.7}, {5, 4.5, 3}}, 2,
   {{0, 0, 0}, {1, 0, -1}}},
  {"std_normal_lpdf", "R", r_std_normal, {{0.3}, {-2.5}, {1.1}}, 0, {{0}}},
  {"student_t_lpdf", "RRRR", r_student_t, {{0.3, 3, -0.2, 1.5}, {-2, 7.5, 1, 0.7}, {5, 1.2, 4.5, 3}}, 2,
   {{0, 0, 0, 1}, {0, 1, 0, -2}}},
  {"cauchy_lpdf", "RRR", r_cauchy, {{0.3, -0.2, 1.5}, {-2, 1, 0.7}, {5, 4.5, 3}}, 1, {{0, 0, 0}}},
  {"double_exponential_lpdf", "RRR", r_dexp, {{0.3, -0.2, 1.5}, {-2, 1, 0.7}, {5, 4.5, 3}}, 1, {{0, 0, -1}}},
  {"logistic_lpdf", "RRR", r_logistic, {{0.3, -0.2, 1.5}, {-2, 1, 0.7}, {25, 4.5, 3}}, 1, {{0, 0, 0}}},
  {"exponential_lpdf", "RR", r_exponential, {{0.3, 1.5}, {2, 0.7}, {5, 3}}, 2, {{-1, 1}, {1, 0}}},
  {"gamma_lpdf", "RRR", r_gamma, {{0.3, 1.5, 2}, {2, 0.7, 0.5}, {5, 3, 1}}, 3,
   {{-1, 1, 1}, {1, 0, 1}, {1, 1, -1}}},
  {"inv_gamma_lpdf", "RRR", r_inv_gamma, {{0.3, 1.5, 2}, {2, 0.7, 0.5}, {5, 3, 1}}, 3,
   {{-1, 1, 1}, {1, -1, 1}, {1, 1, 0}}},
  {"lognormal_lpdf", "RRR", r_lognormal, {{0.3, -0.2, 1.5}, {2, 1, 0.7}, {5, 1.5, 3}}, 3,
   {{0, 0, 1}, {-1, 0, 1}, {1, 0, 0}}},
  {"chi_square_lpdf", "RR", r_chi_square, {{0.3, 1.5}, {2, 0.7}, {5, 3}}, 2, {{-1, 1}, {1, 0}}},
  {"inv_chi_square_lpdf", "RR", r_inv_chi_square, {{0.3, 1.5}, {2, 0.7}, {5, 3}}, 2, {{0, 1}, {1, -3}}},
  {"scaled_inv_chi_square_lpdf", "RRR", r_sinvchi2, {{0.3, 1.5, 2}, {2, 0.7, 0.5}, {5, 3, 1}}, 3,
   {{-1, 1, 1}, {1, 0, 1}, {1, 1, 0}}},
  {"weibull_lpdf", "RRR", r_weibull, {{0.3, 1.5, 2}, {2, 0.7, 0.5}, {5, 3, 4}}, 3,
   {{-1, 1, 1}, {1, 0, 1}, {1, 1, -1}}},
  {"frechet_lpdf", "RRR", r_frechet, {{0.3, 1.5, 2}, {2, 0.7, 0.5}, {5, 3, 4}}, 3,
   {{0, 1, 1}, {1, 0, 1}, {1, 1, -1}}},
  {"pareto_lpdf", "RRR", r_pareto, {{2.3, 1.5, 2}, {2, 0.7, 0.5}, {5, 3, 4}}, 3,
   {{1, 1.5, 1}, {2, 0, 1}, {2, 1, 0}}},
  {"beta_lpdf", "RRR", r_beta, {{0.3, 1.5, 2}, {0.9, 0.7, 0.5}, {0.5, 3, 4}}, 4,
   {{-0.1, 1, 1}, {1.1, 1, 1}, {0.5, 0, 1}, {0.5, 1, -1}}},
  {"beta_proportion_lpdf", "RRR", r_beta_prop, {{0.3, 0.4, 2}, {0.9, 0.7, 5}, {0.5, 0.2, 4}}, 3,
   {{-0.1, 0.5, 1}, {0.5, 1, 1}, {0.5, 0.5, 0}}},
  {"uniform_lpdf", "RRR", r_uniform, {{0.3, -0.2, 1.5}, {0.9, 0.7, 2.5}, {0.5, 0.2, 4}}, 3,
   {{-0.3, -0.2, 1.5}, {2, 0, 1}, {0.5, 1, 0}}},
  {"von_mises_lpdf", "RRR", r_von_mises, {{0.3, -0.2, 1.5}, {-2, 1, 0.07}, {5, 2.5, 30}}, 2,
   {{0, 0, 0}, {1, 0, -1}}},
  {"student_t_lcdf", "RRRR", r_t_lcdf, {{0.3, 3, -0.2, 1.5}, {-20, 7.5, 1, 0.7}, {5, 1.2, 4.5, 3}}, 1,
   {{0, 0, 0, 1}}},
  {"student_t_lccdf", "RRRR", r_t_lccdf, {{0.3, 3, -0.2, 1.5}, {-2, 7.5, 1, 0.7}, {50, 1.2, 4.5, 3}}, 1,
   {{0, 1, 0, -1}}},
  {"student_t_cdf", "RRRR", r_t_cdf, {{0.3, 3, -0.2, 1.5}, {-2, 7.5, 1, 0.7}, {5, 1.2, 4.5, 3}}, 0, {{0}}},
  {"gumbel_lpdf", "RRR", r_gumbel, {{0.3, -0.2, 1.5}, {-2, 1, 0.7}, {5, 4.5, 3}}, 1, {{0, 0, 0}}},
  {"gumbel_lcdf", "RRR", r_gumbel_lcdf, {{0.3, -0.2, 1.5}, {-2, 1, 0.7}, {5, 4.5, 3}}, 1, {{0, 0, 0}}},
  {"gumbel_lccdf", "RRR", r_gumbel_lccdf, {{0.3, -0.2, 1.5}, {-2, 1, 0.7}, {5, 4.5, 3}}, 1, {{0, 0, 0}}},
  {"gumbel_cdf", "RRR", r_gumbel_cdf, {{0.3, -0.2, 1.5}, {-2, 1, 0.7}, {5, 4.5, 3}}, 0, {{0}}},
  {"rayleigh_lpdf", "RR", r_rayleigh, {{0.3, 1.5}, {2, 0.7}, {5, 3}}, 2, {{-1, 1}, {1, 0}}},
  {"skew_normal_lpdf", "RRRR", r_skew_normal, {{0.3, -0.2, 1.5, 2}, {-2, 1, 0.7, -0.5}, {5, 4.5, 3, 0}}, 1,
   {{0, 0, 0, 1}}},
  {"exp_mod_normal_lpdf", "RRRR", r_exp_mod_normal, {{0.3, -0.2, 1.5, 2}, {-2, 1, 0.7, 0.5}, {5, 4.5, 3, 1.1}}, 2,
   {{0, 0, 0, 1}, {0, 0, 1, -1}}},
  {"skew_double_exponential_lpdf", "RRRR", r_skew_dexp, {{0.3, -0.2, 1.5, 0.2}, {-2, 1, 0.7, 0.5}, {5, 4.5, 3, 0.9}}, 3,
   {{0, 0, 0, 0.5}, {0, 0, 1, 0}, {0, 0, 1, 1}}},
  {"loglogistic_lpdf", "RRR", r_loglogistic, {{0.3, 1.5, 2}, {2, 0.7, 0.5}, {5, 3, 4}}, 3,
   {{-1, 1, 1}, {1, 0, 1}, {1, 1, -1}}},
  {"pareto_type_2_lpdf", "RRRR", r_pareto2, {{0.3, -0.2, 1.5, 2}, {2, 1, 0.7, 0.5}, {5, 4.5, 3, 1.1}}, 3,
   {{0, 0.5, 1, 1}, {1, 0, 0, 1}, {1, 0, 1, 0}}},
  {"discrete_range_lpmf", "III", r_discrete_range, {{3, 1, 5}, {0, 0, 0}, {-2, -4, 10}}, 3,
   {{0, 1, 5}, {6, 1, 5}, {1, 2, 1}}},
  {"bernoulli_lpmf", "IR", r_bernoulli, {{1, 0.3}, {0, 0.7}, {1, 0.9}}, 3,
   {{2, 0.5}, {1, 1.5}, {0, -0.1}}},
  {"bernoulli_logit_lpmf", "IR", r_bernoulli_logit, {{1, 0.3}, {0, -1.7}, {1, 2.9}}, 2,
   {{2, 0.5}, {-1, 0.5}}},
  {"binomial_lpmf", "IIR", r_binomial, {{3, 10, 0.3}, {0, 5, 0.7}, {4, 4, 0.9}}, 4,
   {{11, 10, 0.5}, {-1, 10, 0.5}, {3, 10, 1.2}, {3, 10, -0.1}}},
  {"binomial_logit_lpmf", "IIR", r_binomial_logit, {{3, 10, 0.3}, {0, 5, -1.7}, {4, 4, 2.9}}, 2,
   {{11, 10, 0.5}, {-1, 10, 0.5}}},
  {"beta_binomial_lpmf", "IIRR", r_beta_binomial, {{3, 10, 0.3, 2}, {0, 5, 1.7, 0.4}, {4, 4, 2.9, 3}}, 3,
   {{11, 10, 0.5, 1}, {3, 10, 0, 1}, {3, 10, 1, -1}}},
  {"poisson_lpmf", "IR", r_poisson, {{3, 2.5}, {0, 0.7}, {12, 9.5}}, 2, {{-1, 1}, {1, -1}}},
  {"poisson_log_lpmf", "IR", r_poisson_log, {{3, 0.5}, {0, -0.7}, {12, 2.1}}, 1, {{-1, 1}}},
  {"neg_binomial_lpmf", "IRR", r_neg_binomial, {{3, 2.5, 0.5}, {0, 0.7, 2}, {12, 9.5, 1.1}}, 3,
   {{-1, 1, 1}, {1, 0, 1}, {1, 1, -1}}},
  {"neg_binomial_2_lpmf", "IRR", r_nb2, {{3, 2.5, 0.5}, {0, 0.7, 2}, {12, 9.5, 1.1}}, 3,
   {{-1, 1, 1}, {1, 0, 1}, {1, 1, -1}}},
  {"neg_binomial_2_log_lpmf", "IRR", r_nb2_log, {{3, 0.5, 0.5}, {0, -0.7, 2}, {12, 2.1, 1.1}}, 2,
   {{-1, 1, 1}, {1, 1, 0}}},
  {"normal_lcdf", "RRR", r_normal_lcdf, {{0.3, -0.2, 1.5}, {-12, 1, 0.7}, {5, 4.5, 3}}, 1, {{0, 0, 0}}},
  {"normal_lccdf", "RRR", r_normal_lccdf, {{0.3, -0.2, 1.5}, {-2, 1, 0.7}, {14, 4.5, 0.5}}, 1, {{0, 0, 0}}},
  {"normal_cdf", "RRR", r_normal_cdf, {{0.3, -0.2, 1.5}, {-2, 1, 0.7}, {5, 4.5, 3}}, 0, {{0}}},
  {"std_normal_lcdf", "R", r_std_normal_lcdf, {{0.3}, {-25}, {3}}, 0, {{0}}},
  {"std_normal_lccdf", "R", r_std_normal_lccdf, {{0.3}, {-2}, {25}}, 0, {{0}}},
  {"std_normal_cdf", "R", r_std_normal_cdf, {{0.3}, {-2}, {1}}, 0, {{0}}},
  {"exponential_lcdf", "RR", r_exp_lcdf, {{0.3, 1.5}, {2, 0.7}, {0.01, 3}}, 1, {{1, 0}}},
  {"exponential_lccdf", "RR", r_exp_lccdf, {{0.3, 1.5}, {2, 0.7}, {5, 3}}, 1, {{1, -1}}},
  {"exponential_cdf", "RR", r_exp_cdf, {{0.3, 1.5}, {2, 0.7}, {5, 3}}, 0, {{0}}},
  {"logistic_lcdf", "RRR", r_logis_lcdf, {{0.3, -0.2, 1.5}, {-2, 1, 0.7}, {5, 4.5, 3}}, 1, {{0, 0, 0}}},
  {"logistic_lccdf", "RRR", r_logis_lccdf, {{0.3, -0.2, 1.5}, {-2, 1, 0.7}, {5, 4.5, 3}}, 1, {{0, 0, 0}}},
  {"logistic_cdf", "RRR", r_logis_cdf, {{0.3, -0.2, 1.5}, {-2, 1, 0.7}, {5, 4.5, 3}}, 0, {{0}}},
  {"lognormal_lcdf", "RRR", r_lnorm_lcdf, {{0.3, -0.2, 1.5}, {2, 1, 0.7}, {5, 1.5, 3}}, 1, {{1, 0, 0}}},
  {"lognormal_lccdf", "RRR", r_lnorm_lccdf, {{0.3, -0.2, 1.5}, {2, 1, 0.7}, {5, 1.5, 3}}, 1, {{1, 0, 0}}},
  {"lognormal_cdf", "RRR", r_lnorm_cdf, {{0.3, -0.2, 1.5}, {2, 1, 0.7}, {5, 1.5, 3}}, 0, {{0}}},
  {"cauchy_lcdf", "RRR", r_cauchy_lcdf, {{0.3, -0.2, 1.5}, {-200, 1, 0.7}, {5, 4.5, 3}}, 1, {{0, 0, 0}}},
  {"cauchy_lccdf", "RRR", r_cauchy_lccdf, {{0.3, -0.2, 1.5}, {-2, 1, 0.7}, {500, 4.5, 3}}, 1, {{0, 0, 0}}},
  {"cauchy_cdf", "RRR", r_cauchy_cdf, {{0.3, -0.2, 1.5}, {-2, 1, 0.7}, {5, 4.5, 3}}, 0, {{0}}},
  {"double_exponential_lcdf", "RRR", r_dexp_lcdf, {{0.3, -0.2, 1.5}, {-2, 1, 0.7}, {5, 4.5, 3}}, 1, {{0, 0, 0}}},
  {"double_exponential_lccdf", "RRR", r_dexp_lccdf, {{0.3, -0.2, 1.5}, {-2, 1, 0.7}, {5, 4.5, 3}}, 1, {{0, 0, 0}}},
  {"double_exponential_cdf", "RRR", r_dexp_cdf, {{0.3, -0.2, 1.5}, {-2, 1, 0.7}, {5, 4.5, 3}}, 0, {{0}}},
  {"uniform_lcdf", "RRR", r_unif_lcdf, {{0.3, -0.2, 1.5}, {0.9, 0.7, 2.5}, {0.5, 0.2, 4}}, 2,
   {{-0.3, -0.2, 1.5}, {0.5, 1, 0}}},
  {"uniform_lccdf", "RRR", r_unif_lccdf, {{0.3, -0.2, 1.5}, {0.9, 0.7, 2.5}, {0.5, 0.2, 4}}, 2,
   {{1.6, -0.2, 1.5}, {0.5, 1, 0}}},
  {"uniform_cdf", "RRR", r_unif_cdf, {{0.3, -0.2, 1.5}, {0.9, 0.7, 2.5}, {0.5, 0.2, 4}}, 0, {{0}}},
  {"weibull_lcdf", "RRR", r_weib_lcdf, {{0.3, 1.5, 2}, {2, 0.7, 0.5}, {5, 3, 4}}, 2, {{1, 0, 1}, {1, 1, -1}}},
  {"weibull_lccdf", "RRR", r_weib_lccdf, {{0.3, 1.5, 2}, {2, 0.7, 0.5}, {5, 3, 4}}, 2, {{1, 0, 1}, {1, 1, -1}}},
  {"weibull_cdf", "RRR", r_weib_cdf, {{0.3, 1.5, 2}, {2, 0.7, 0.5}, {5, 3, 4}}, 0, {{0}}},
  {"gamma_lcdf", "RRR", r_gamma_lcdf, {{0.3, 1.5, 2}, {2, 0.7, 0.5}, {5, 3, 1}}, 2, {{1, 0, 1}, {1, 1, -1}}},
  {"gamma_lccdf", "RRR", r_gamma_lccdf, {{0.3, 1.5, 2}, {2, 0.7, 0.5}, {5, 3, 1}}, 2, {{1, 0, 1}, {1, 1, -1}}},
  {"gamma_cdf", "RRR", r_gamma_cdf, {{0.3, 1.5, 2}, {2, 0.7, 0.5}, {5, 3, 1}}, 0, {{0}}},
  {"binomial_lcdf", "IIR", r_binom_lcdf, {{3, 10, 0.3}, {0, 5, 0.7}, {2, 4, 0.9}}, 2, {{-1, 10, 0.5}, {3, 10, 1.2}}},
  {"binomial_lccdf", "IIR", r_binom_lccdf, {{3, 10, 0.3}, {0, 5, 0.7}, {2, 4, 0.9}}, 2, {{10, 10, 0.5}, {3, 10, -0.2}}},
  {"binomial_cdf", "IIR", r_binom_cdf, {{3, 10, 0.3}, {0, 5, 0.7}, {2, 4, 0.9}}, 0, {{0}}},
  {"neg_binomial_2_lcdf", "IRR", r_nb2_lcdf, {{3, 2.5, 0.5}, {0, 0.7, 2}, {12, 9.5, 1.1}}, 3,
   {{-1, 1, 1}, {1, 0, 1}, {1, 1, -1}}},
  {"neg_binomial_2_lccdf", "IRR", r_nb2_lccdf, {{3, 2.5, 0.5}, {0, 0.7, 2}, {12, 9.5, 1.1}}, 2,
   {{1, 0, 1}, {1, 1, -1}}},
  {"neg_binomial_2_cdf", "IRR", r_nb2_cdf, {{3, 2.5, 0.5}, {0, 0.7, 2}, {12, 9.5, 1.1}}, 0, {{0}}},
  {"poisson_lcdf", "IR", r_pois_lcdf, {{3, 2.5}, {0, 0.7}, {12, 9.5}}, 2, {{-1, 1}, {1, -1}}},
  {"poisson_lccdf", "IR", r_pois_lccdf, {{3, 2.5}, {0, 0.7}, {12, 9.5}}, 1, {{1, -1}}},
  {"poisson_cdf", "IR", r_pois_cdf, {{3, 2.5}, {0, 0.7}, {12, 9.5}}, 0, {{0}}},
};
#define NUT (int)(sizeof UT / sizeof UT[0])

static int nargs_of(const utest *u) { return (int)strlen(u->kinds); }

/* One scalar evaluation (n = 1); gradient into g (per argument) when g != NULL. */
static double eval1(const utest *u, const double *a, double *g)
{
  int na = nargs_of(u);
  ad_tape_reset(T, 1, g != NULL);
  ad_val *args[4];
  for (int i = 0; i < na; i++)
    args[i] = mk(u->kinds[i] == 'I', 's', 1, 0, 1, g && u->kinds[i] == 'R', &a[i]);
  ad_val *out = call(u->name, args, na);
  ck_assert_msg(out != NULL, "%s: %s", u->name, ad_tape_error(T));
  ck_assert_uint_eq(out->nd, 1);
  double v = out->x[0];
  if (g) {
    if (out->adj) backward_seed(out);
    for (int i = 0; i < na; i++) g[i] = args[i]->adj ? args[i]->adj[0] : 0;
  }
  return v;
}

/* Value against the reference and gradient against central differences. */
START_TEST(test_univariate_value_grad)
{
  const utest *u = &UT[_i];
  int na = nargs_of(u);
  for (int p = 0; p < 3; p++) {
    const double *a = u->pts[p];
    double g[4], v = eval1(u, a, g), r = u->ref(a);
    CK_CLOSE(v, r, 1e-9, "%s point %d: %.15g vs reference %.15g", u->name, p, v, r);
    CK_CLOSE(eval1(u, a, NULL), v, 1e-15, "%s: value with and without gradient", u->name);
    for (int i = 0; i < na; i++) {
      if (u->kinds[i] != 'R') continue;
      double ap[4], am[4], h = 1e-6 * fmax(1, fabs(a[i]));
      memcpy(ap, a, sizeof ap); memcpy(am, a, sizeof am);
      ap[i] += h; am[i] -= h;
      double fd = (eval1(u, ap, NULL) - eval1(u, am, NULL)) / (2 * h);
      CK_CLOSE(g[i], fd, 1e-6, "%s point %d d/darg%d: %.10g vs FD %.10g", u->name, p, i, g[i], fd);
    }
  }
}
END_TEST

/* Invalid parameters or y outside the support give -inf (0 for a _cdf), NaN gives NaN. */
START_TEST(test_univariate_invalid)
{
  const utest *u = &UT[_i];
  int na = nargs_of(u);
  int is_cdf = strstr(u->name, "_cdf") != NULL;
  for (int b = 0; b < u->nbad; b++) {
    double g[4], v = eval1(u, u->bad[b], g);
    ck_assert_msg(v == (is_cdf ? 0 : -INFINITY), "%s bad point %d gives %g", u->name, b, v);
    for (int i = 0; i < na; i++) ck_assert_msg(g[i] == 0, "%s: gradient at an invalid point", u->name);
  }
  for (int i = 0; i < na; i++) {
    if (u->kinds[i] != 'R') continue;
    double a[4];
    memcpy(a, u->pts[0], sizeof a);
    a[i] = NAN;
    double v = eval1(u, a, NULL);
    ck_assert_msg(isnan(v), "%s: NaN argument %d gives %g", u->name, i, v);
  }
}
END_TEST

/* A vectorised call (every argument a container of the 3 points) equals the sum of the
 * scalar calls, with the same gradients; a container y with broadcast scalar parameters
 * equals 3 scalar calls, the scalars' gradients summed. */
START_TEST(test_univariate_vectorised)
{
  const utest *u = &UT[_i];
  int na = nargs_of(u);
  int is_cdf = strstr(u->name, "_cdf") != NULL;
  double gs[3][4], vs[3], sum = 0, prod = 1;
  for (int p = 0; p < 3; p++) {
    vs[p] = eval1(u, u->pts[p], gs[p]);
    sum += vs[p];
    prod *= vs[p];
  }
  ad_tape_reset(T, 1, 1);
  ad_val *args[4];
  for (int i = 0; i < na; i++) {
    double x[3] = {u->pts[0][i], u->pts[1][i], u->pts[2][i]};
    int isint = u->kinds[i] == 'I';
    args[i] = mk(isint, isint || i % 2 ? 'a' : 'v', 3, 0, 1, !isint, x);
  }
  ad_val *out = call(u->name, args, na);
  ck_assert_ptr_nonnull(out);
  /* _cdf is the product of the elements' cdfs (Stan), the rest the sum */
  double want = is_cdf ? prod : sum;
  CK_CLOSE(out->x[0], want, 1e-12, "%s vectorised %.15g vs %.15g", u->name, out->x[0], want);
  if (!strchr(u->kinds, 'R')) return;   /* all ints: no gradient */
  backward_seed(out);
  for (int i = 0; i < na; i++) {
    if (u->kinds[i] != 'R') continue;
    for (int p = 0; p < 3; p++) {
      double w = is_cdf ? gs[p][i] * prod / vs[p] : gs[p][i];
      CK_CLOSE(args[i]->adj[p], w, 1e-10, "%s vectorised grad arg %d elt %d", u->name, i, p);
    }
  }
  /* broadcast: y a container of 3 copies, the rest scalars */
  ad_tape_reset(T, 1, 1);
  for (int i = 0; i < na; i++) {
    double x[3] = {u->pts[0][i], u->pts[0][i], u->pts[0][i]};
    int isint = u->kinds[i] == 'I';
    args[i] = mk(isint, i == 0 ? (isint ? 'a' : 'v') : 's', i == 0 ? 3 : 1, 0, 1, !isint, x);
  }
  out = call(u->name, args, na);
  ck_assert_ptr_nonnull(out);
  want = is_cdf ? vs[0] * vs[0] * vs[0] : 3 * vs[0];
  CK_CLOSE(out->x[0], want, 1e-12, "%s broadcast %.15g vs %.15g", u->name, out->x[0], want);
  backward_seed(out);
  for (int i = 0; i < na; i++) {
    if (u->kinds[i] != 'R') continue;
    double f = is_cdf ? vs[0] * vs[0] : 1;
    if (i == 0)
      for (int p = 0; p < 3; p++) CK_CLOSE(args[0]->adj[p], f * gs[0][0], 1e-10, "%s bcast y grad", u->name);
    else
      CK_CLOSE(args[i]->adj[0], 3 * f * gs[0][i], 1e-10, "%s bcast grad arg %d: %g vs %g", u->name, i,
               args[i]->adj[0], 3 * f * gs[0][i]);
  }
}
END_TEST

/* 4 draws at once equal 4 separate evaluations: real arguments vary by draw (point
 * s % 3), ints are data; then the last real argument is made non-varying (one value
 * with an adjoint, shared by the draws): its gradient is the sum over draws. */
START_TEST(test_univariate_batched)
{
  const utest *u = &UT[_i];
  int na = nargs_of(u);
  const size_t n = 4;
  double want[4], wg[4][4], pt[4][4];
  int last = -1;
  for (int i = 0; i < na; i++) if (u->kinds[i] == 'R') last = i;
  int nreal = 0;
  for (int i = 0; i < na; i++) nreal += u->kinds[i] == 'R';
  if (nreal == 0) return;   /* all ints: nothing varies by draw */
  for (int pass = 0; pass < (nreal > 1 ? 2 : 1); pass++) {
    for (size_t s = 0; s < n; s++) {
      for (int i = 0; i < na; i++) {
        int fixed = u->kinds[i] == 'I' || (pass == 1 && i == last);
        pt[s][i] = u->pts[fixed ? 0 : s % 3][i];
      }
      want[s] = eval1(u, pt[s], wg[s]);
    }
    ad_tape_reset(T, n, 1);
    ad_val *args[4];
    for (int i = 0; i < na; i++) {
      int isint = u->kinds[i] == 'I', fixed = isint || (pass == 1 && i == last);
      double x[4];
      for (size_t s = 0; s < n; s++) x[s] = pt[s][i];
      args[i] = mk(isint, 's', 1, 0, fixed ? 1 : n, !isint, x);
    }
    ad_val *out = call(u->name, args, na);
    ck_assert_ptr_nonnull(out);
    ck_assert_uint_eq(out->nd, n);
    for (size_t s = 0; s < n; s++)
      CK_CLOSE(out->x[s], want[s], 1e-13, "%s batched draw %zu", u->name, s);
    backward_seed(out);
    for (int i = 0; i < na; i++) {
      if (u->kinds[i] != 'R') continue;
      if (args[i]->nd == n) {
        for (size_t s = 0; s < n; s++)
          CK_CLOSE(args[i]->adj[s], wg[s][i], 1e-11, "%s batched grad arg %d draw %zu", u->name, i, s);
      } else {
        double tot = 0;
        for (size_t s = 0; s < n; s++) tot += wg[s][i];
        CK_CLOSE(args[i]->adj[0], tot, 1e-11, "%s shared arg %d grad", u->name, i);
      }
    }
  }
}
END_TEST

START_TEST(test_lupdf_aliases)
{
  /* every density has its _lu alias with the same value */
  static const char *pairs[][2] = {{"normal_lpdf", "normal_lupdf"},
                                   {"poisson_log_lpmf", "poisson_log_lupmf"},
                                   {"beta_binomial_lpmf", "beta_binomial_lupmf"}};
  for (int k = 0; k < 3; k++) {
    const utest *u = NULL;
    for (int j = 0; j < NUT; j++) if (strcmp(UT[j].name, pairs[k][0]) == 0) u = &UT[j];
    ck_assert_ptr_nonnull(u);
    utest alias = *u;
    alias.name = pairs[k][1];
    CK_CLOSE(eval1(&alias, u->pts[1], NULL), eval1(u, u->pts[1], NULL), 0, "%s", pairs[k][1]);
  }
  int found = 0;
  for (const builtin_def *d = builtin_kernels_dist; d->name; d++) {
    size_t l = strlen(d->name);
    if (l > 5 && (strcmp(d->name + l - 5, "_lpdf") == 0 || strcmp(d->name + l - 5, "_lpmf") == 0)) {
      char alias[128];
      snprintf(alias, sizeof alias, "%.*s_lu%s", (int)(l - 5), d->name, d->name + l - 3);
      int ok = 0;
      for (const builtin_def *e = builtin_kernels_dist; e->name; e++)
        if (strcmp(e->name, alias) == 0 && strcmp(e->sig, d->sig) == 0 && e->impl == d->impl) ok = 1;
      ck_assert_msg(ok, "no alias %s for %s", alias, d->name);
      found++;
    }
  }
  ck_assert_int_ge(found, 30);
}
END_TEST

START_TEST(test_size_mismatch)
{
  double x[10] = {0};
  ad_tape_reset(T, 1, 0);
  ad_val *args[3] = {mk(0, 'v', 10, 0, 1, 0, x), mk(0, 'v', 9, 0, 1, 0, x), NULL};
  double one = 1;
  args[2] = mk(0, 's', 1, 0, 1, 0, &one);
  ck_assert_ptr_null(call("normal_lpdf", args, 3));
  ck_assert_str_eq(ad_tape_error(T), "normal_lpdf: size of y (10) and mu (9) differ");
  ad_tape_reset(T, 1, 0);
  args[0] = mk(1, 'a', 10, 0, 1, 0, x);
  args[1] = mk(0, 'v', 3, 0, 1, 0, x);
  ck_assert_ptr_null(call("bernoulli_logit_lpmf", args, 2));
  ck_assert_str_eq(ad_tape_error(T), "bernoulli_logit_lpmf: size of n (10) and alpha (3) differ");
  ad_tape_reset(T, 1, 0);
  args[0] = mk(0, 'v', 10, 0, 1, 0, x);
  args[1] = mk(0, 's', 1, 0, 1, 0, x);
  args[2] = mk(0, 'v', 4, 0, 1, 0, x);
  ck_assert_ptr_null(call("gamma_lpdf", args, 3));
  ck_assert_str_eq(ad_tape_error(T), "gamma_lpdf: size of y (10) and beta (4) differ");
  /* empty containers: log density 0 */
  ad_tape_reset(T, 1, 0);
  args[0] = mk(0, 'v', 0, 0, 1, 0, x);
  args[1] = mk(0, 'v', 0, 0, 1, 0, x);
  args[2] = mk(0, 's', 1, 0, 1, 0, &one);
  ad_val *out = call("normal_lpdf", args, 3);
  ck_assert_ptr_nonnull(out);
  ck_assert(out->x[0] == 0);
}
END_TEST

/* The hot case: normal_lpdf(data vector y | varying vector mu, varying real sigma) and
 * bernoulli_logit(data ints | varying vector), n = 8 draws, against scalar calls. */
START_TEST(test_hot_paths)
{
  enum { N = 50, n = 8 };
  static double y[N], mu[N * n], sg[n], yi[N];
  for (int e = 0; e < N; e++) {
    y[e] = sin(e * 1.3);
    yi[e] = e % 3 == 0;
    for (int s = 0; s < n; s++) mu[e * n + s] = 0.5 * cos(e * 0.7 + s) + 0.1 * s;
  }
  for (int s = 0; s < n; s++) sg[s] = 0.5 + 0.25 * s;
  sg[3] = -1;   /* an invalid draw */
  ad_tape_reset(T, n, 1);
  ad_val *a[3] = {mk(0, 'v', N, 0, 1, 0, y), mk(0, 'v', N, 0, n, 1, mu), mk(0, 's', 1, 0, n, 1, sg)};
  ad_val *out = call("normal_lpdf", a, 3);
  ck_assert_ptr_nonnull(out);
  backward_seed(out);
  for (int s = 0; s < n; s++) {
    double want = 0, gs = 0;
    for (int e = 0; e < N; e++) {
      double z = (y[e] - mu[e * n + s]) / sg[s];
      want += log(gsl_ran_gaussian_pdf(y[e] - mu[e * n + s], sg[s]));
      gs += (z * z - 1) / sg[s];
      if (s != 3) CK_CLOSE(a[1]->adj[e * n + s], z / sg[s], 1e-12, "normal mu grad");
      else ck_assert(a[1]->adj[e * n + s] == 0);
    }
    if (s == 3) { ck_assert(out->x[s] == -INFINITY); ck_assert(a[2]->adj[s] == 0); continue; }
    CK_CLOSE(out->x[s], want, 1e-12, "normal hot draw %d", s);
    CK_CLOSE(a[2]->adj[s], gs, 1e-12, "normal sigma grad");
  }
  /* bernoulli_logit, including extreme log odds where naive formulas overflow */
  for (int s = 0; s < n; s++) mu[0 * n + s] = s % 2 ? 800 : -800;
  ad_tape_reset(T, n, 1);
  ad_val *b[2] = {mk(1, 'a', N, 0, 1, 0, yi), mk(0, 'v', N, 0, n, 1, mu)};
  out = call("bernoulli_logit_lpmf", b, 2);
  ck_assert_ptr_nonnull(out);
  backward_seed(out);
  for (int s = 0; s < n; s++) {
    double want = 0;
    for (int e = 0; e < N; e++) {
      double eta = mu[e * n + s], p = inv_logit(eta);
      double l = e == 0 ? (yi[e] ? (eta > 0 ? 0 : eta) : (eta > 0 ? -eta : 0))
                        : log(yi[e] ? p : 1 - p);
      want += l;
      CK_CLOSE(b[1]->adj[e * n + s], yi[e] - p, 1e-12, "bernoulli_logit grad");
    }
    ck_assert(isfinite(out->x[s]));
    CK_CLOSE(out->x[s], want, 1e-12, "bernoulli_logit draw %d", s);
  }
  /* poisson_log (vmath's exp per element's draws) against the formula, counts up to 40;
     a log rate of -inf (zero rate: a count of 0 has log probability 0) and of +inf
     (every count impossible) in draws 5 and 6 */
  static double cnt[N];
  for (int e = 0; e < N; e++) {
    cnt[e] = (e * 7) % 41;
    for (int s = 0; s < n; s++) mu[e * n + s] = 3 * cos(e * 0.3 + s) + 0.2 * s;
  }
  for (int e = 0; e < N; e++) { mu[e * n + 5] = e % 2 ? -1.5 : -INFINITY; cnt[e] = e % 2 ? cnt[e] : 0; }
  mu[7 * n + 6] = INFINITY;
  ad_tape_reset(T, n, 1);
  ad_val *pl[2] = {mk(1, 'a', N, 0, 1, 0, cnt), mk(0, 'v', N, 0, n, 1, mu)};
  out = call("poisson_log_lpmf", pl, 2);
  ck_assert_ptr_nonnull(out);
  backward_seed(out);
  for (int s = 0; s < n; s++) {
    double want = 0;
    for (int e = 0; e < N; e++) {
      double al = mu[e * n + s], k = cnt[e];
      want += al == -INFINITY ? (k == 0 ? 0 : -INFINITY) : k * al - exp(al) - lgamma(k + 1);
      if (s != 6)
        CK_CLOSE(pl[1]->adj[e * n + s], al == -INFINITY ? k : k - exp(al), 1e-12,
                 "poisson_log grad draw %d element %d", s, e);
    }
    if (s == 6) { ck_assert(out->x[s] == -INFINITY); continue; }
    ck_assert(isfinite(out->x[s]));
    CK_CLOSE(out->x[s], want, 1e-12, "poisson_log draw %d", s);
  }
}
END_TEST

/* log_sum_exp of a vector over many draws (blocks of 256 through vmath): 300 draws, the
 * value and gradient against the formula; draws with every element -inf, one +inf, one
 * NaN and one element -inf. */
START_TEST(test_log_sum_exp_draws)
{
  enum { L = 3, n = 300 };
  static double x[L * n];
  for (int e = 0; e < L; e++)
    for (int s = 0; s < n; s++) x[e * n + s] = 4 * sin(0.37 * s + 1.3 * e) + 0.01 * s;
  for (int e = 0; e < L; e++) x[e * n + 7] = -INFINITY;
  x[1 * n + 100] = INFINITY;
  x[2 * n + 257] = NAN;
  x[0 * n + 299] = -INFINITY;
  ad_tape_reset(T, n, 1);
  ad_val *a[1] = {mk(0, 'v', L, 0, n, 1, x)};
  ad_val *out = call("log_sum_exp", a, 1);
  ck_assert_ptr_nonnull(out);
  backward_seed(out);
  for (int s = 0; s < n; s++) {
    if (s == 7) { ck_assert(out->x[s] == -INFINITY); continue; }
    if (s == 100) { ck_assert(out->x[s] == INFINITY); continue; }
    if (s == 257) { ck_assert(isnan(out->x[s])); continue; }
    double m = -INFINITY, acc = 0;
    for (int e = 0; e < L; e++) m = fmax(m, x[e * n + s]);
    for (int e = 0; e < L; e++) acc += exp(x[e * n + s] - m);
    double want = m + log(acc);
    CK_CLOSE(out->x[s], want, 1e-14, "log_sum_exp draw %d", s);
    for (int e = 0; e < L; e++)
      CK_CLOSE(a[0]->adj[e * n + s], exp(x[e * n + s] - want), 1e-14,
               "log_sum_exp grad draw %d element %d", s, e);
  }
}
END_TEST

START_TEST(test_digamma_logphi)
{
  for (double x = 1e-3; x < 200; x *= 1.7)
    CK_CLOSE(dist_digamma(x), gsl_sf_psi(x), 1e-13, "digamma(%g)", x);
  for (double z = -35; z < 8; z += 0.37)
    CK_CLOSE(dist_log_Phi(z), log(gsl_cdf_ugaussian_P(z)), 1e-12, "log Phi(%g)", z);
  /* far tail: log Phi(z) ~ -z^2/2 - log(-z) - log sqrt(2 pi) */
  double z = -1e4;
  CK_CLOSE(dist_log_Phi(z), -0.5 * z * z - log(-z) - DIST_LOG_SQRT_2PI, 1e-12, "tail");
  CK_CLOSE(dist_dlog_Phi(z, dist_log_Phi(z)), -z, 1e-7, "tail slope");
}
END_TEST

/* neg_binomial_2 near its Poisson limit keeps full precision: log NB2 - log Poisson =
 * ((n - mu)^2 - n) / (2 phi) + O(1 / phi^2) */
START_TEST(test_negbin_limit)
{
  const utest *nb = NULL, *nbl = NULL;
  for (int j = 0; j < NUT; j++) {
    if (strcmp(UT[j].name, "neg_binomial_2_lpmf") == 0) nb = &UT[j];
    if (strcmp(UT[j].name, "neg_binomial_2_log_lpmf") == 0) nbl = &UT[j];
  }
  ck_assert_ptr_nonnull(nb);
  ck_assert_ptr_nonnull(nbl);
  for (double phi = 1e8; phi <= 1e14; phi *= 100) {
    double a[3] = {3, 2.5, phi}, al[3] = {3, log(2.5), phi};
    double want = log(gsl_ran_poisson_pdf(3, 2.5)) + ((3 - 2.5) * (3 - 2.5) - 3) / (2 * phi);
    double g[3];
    CK_CLOSE(eval1(nb, a, g), want, 1e-14, "nb2 phi=%g: %.17g vs %.17g", phi, eval1(nb, a, NULL), want);
    CK_CLOSE(g[1], 3 / 2.5 - 1, 1e-6, "nb2 dmu");
    ck_assert_msg(fabs(g[2]) < 10 / (phi * phi), "nb2 dphi %g at phi %g", g[2], phi);
    CK_CLOSE(eval1(nbl, al, g), want, 1e-14, "nb2_log phi=%g", phi);
  }
}
END_TEST

/* ---- multivariate densities --------------------------------------------------------- */

/* Evaluate name on args built by a callback (so FD can rebuild them with perturbed
 * values); the builder gets the flat values of each argument. */
typedef struct {
  const char *name;
  int na;
  int isint[5];
  char kind[5];
  size_t len[5], k2[5];   /* len: elements (matrix: side; 'M': rows, k2 columns) */
  int real[5];            /* gradient wanted and FD-checked */
  double *x[5];
} mcall;

static size_t nelem(const mcall *m, int i)
{
  return m->kind[i] == 'm' ? m->len[i] * m->len[i] : m->kind[i] == 'M' ? m->len[i] * m->k2[i]
         : m->kind[i] == 's' ? 1 : m->len[i];
}

static double meval(const mcall *m, double **g)
{
  ad_tape_reset(T, 1, g != NULL);
  ad_val *args[5];
  for (int i = 0; i < m->na; i++)
    args[i] = mk(m->isint[i], m->kind[i], m->len[i], m->k2[i], 1, g && m->real[i], m->x[i]);
  ad_val *out = call(m->name, args, m->na);
  ck_assert_msg(out != NULL, "%s: %s", m->name, ad_tape_error(T));
  double v = out->x[0];
  if (g && out->adj) {
    backward_seed(out);
    for (int i = 0; i < m->na; i++)
      if (g[i]) for (size_t k = 0; k < nelem(m, i); k++) g[i][k] = args[i]->adj ? args[i]->adj[k] : 0;
  }
  return v;
}

/* Gradient vs central differences; sym: argument index of a symmetric matrix (perturb
 * (i,j) and (j,i) together, compare with g_ij + g_ji); lower: argument whose upper
 * triangle is ignored. */
static int fd_skip_diag;   /* FD: leave a symmetric matrix's diagonal alone (correlations) */
static int fd_all_sym;     /* FD: every matrix argument is symmetric */

static void mgrad_check(mcall *m, int sym, int lower, double h0)
{
  double *g[5] = {0};
  for (int i = 0; i < m->na; i++)
    if (m->real[i]) g[i] = calloc(nelem(m, i), sizeof(double));
  meval(m, g);
  for (int i = 0; i < m->na; i++) {
    if (!m->real[i]) continue;
    size_t K = m->len[i];
    for (size_t k = 0; k < nelem(m, i); k++) {
      size_t r = k % K, c = k / K, kt = m->kind[i] == 'm' ? r * K + c : k;
      int symi = m->kind[i] == 'm' && (i == sym || fd_all_sym);
      if (m->kind[i] == 'm' && (symi || i == lower) && r < c) continue;
      if (symi && r == c && fd_skip_diag) continue;
      double *x = m->x[i], x0 = x[k], xt0 = x[kt], h = h0 * fmax(1, fabs(x0));
      int both = symi && r != c;
      x[k] = x0 + h; if (both) x[kt] = xt0 + h;
      double fp = meval(m, NULL);
      x[k] = x0 - h; if (both) x[kt] = xt0 - h;
      double fm = meval(m, NULL);
      x[k] = x0; if (both) x[kt] = xt0;
      double fd = (fp - fm) / (2 * h), ad = g[i][k] + (both ? g[i][kt] : 0);
      CK_CLOSE(ad, fd, 1e-5, "%s d/d arg %d elt %zu: %.10g vs FD %.10g", m->name, i, k, ad, fd);
    }
  }
  for (int i = 0; i < m->na; i++) free(g[i]);
}

/* Batched: 4 draws, draw s at the mixture (1 - s/4) x + (s/4) alt of the arguments in
 * vary (a bit mask; the others are data, nd = 1), against one draw at a time: values,
 * and gradients (summed over draws for non-varying arguments with adjoints). */
static void mbatch_check(mcall *m, double **alt, unsigned vary)
{
  enum { n = 4 };
  double want[n], *wg[n][5] = {{0}}, *mix[n][5] = {{0}};
  double *orig[5];
  for (int i = 0; i < m->na; i++) orig[i] = m->x[i];
  for (int s = 0; s < n; s++) {
    double w = s / 4.0;
    for (int i = 0; i < m->na; i++) {
      size_t ne = nelem(m, i);
      if (vary & (1u << i)) {
        mix[s][i] = malloc(ne * sizeof(double));
        for (size_t k = 0; k < ne; k++) mix[s][i][k] = (1 - w) * orig[i][k] + w * alt[i][k];
        m->x[i] = mix[s][i];
      }
      if (m->real[i]) wg[s][i] = calloc(ne, sizeof(double));
    }
    want[s] = meval(m, wg[s]);
    for (int i = 0; i < m->na; i++) m->x[i] = orig[i];
  }
  ad_tape_reset(T, n, 1);
  ad_val *args[5];
  for (int i = 0; i < m->na; i++) {
    size_t ne = nelem(m, i);
    if (vary & (1u << i)) {
      double *x = malloc(ne * n * sizeof(double));
      for (size_t k = 0; k < ne; k++) for (int s = 0; s < n; s++) x[k * n + s] = mix[s][i][k];
      args[i] = mk(m->isint[i], m->kind[i], m->len[i], m->k2[i], n, m->real[i], x);
      free(x);
    } else {
      args[i] = mk(m->isint[i], m->kind[i], m->len[i], m->k2[i], 1, m->real[i], m->x[i]);
    }
  }
  ad_val *out = call(m->name, args, m->na);
  ck_assert_msg(out != NULL, "%s: %s", m->name, ad_tape_error(T));
  ck_assert_uint_eq(out->nd, n);
  backward_seed(out);
  for (int s = 0; s < n; s++)
    CK_CLOSE(out->x[s], want[s], 1e-12, "%s batched draw %d: %.15g vs %.15g", m->name, s, out->x[s], want[s]);
  for (int i = 0; i < m->na; i++) {
    if (!m->real[i]) continue;
    for (size_t k = 0; k < nelem(m, i); k++) {
      if (vary & (1u << i)) {
        for (int s = 0; s < n; s++)
          CK_CLOSE(args[i]->adj[k * n + s], wg[s][i][k], 1e-10, "%s batched grad arg %d elt %zu draw %d",
                   m->name, i, k, s);
      } else {
        double tot = 0;
        for (int s = 0; s < n; s++) tot += wg[s][i][k];
        CK_CLOSE(args[i]->adj[k], tot, 1e-10, "%s shared grad arg %d elt %zu", m->name, i, k);
      }
    }
  }
  for (int s = 0; s < n; s++)
    for (int i = 0; i < 5; i++) { free(mix[s][i]); free(wg[s][i]); }
}

START_TEST(test_categorical)
{
  double th[4] = {0.1, 0.2, 0.3, 0.4}, y[5] = {1, 4, 4, 2, 3}, beta[4] = {0.3, -1, 2, 0.5};
  mcall m = {"categorical_lpmf", 2, {1, 0}, {'a', 'v'}, {5, 4}, {0, 0}, {0, 1}, {y, th}};
  double want = log(0.1) + 2 * log(0.4) + log(0.2) + log(0.3);
  CK_CLOSE(meval(&m, NULL), want, 1e-13, "categorical");
  mgrad_check(&m, -1, -1, 1e-10);
  {
    double u[4] = {0.25, 0.25, 0.25, 0.25}, *alt[2] = {NULL, u};
    mbatch_check(&m, alt, 2);
  }
  m.kind[0] = 's'; m.len[0] = 1;
  CK_CLOSE(meval(&m, NULL), log(0.1), 1e-13, "categorical scalar");
  m.kind[0] = 'a'; m.len[0] = 5;
  y[2] = 5;
  ck_assert(meval(&m, NULL) == -INFINITY);
  y[2] = 0;
  ck_assert(meval(&m, NULL) == -INFINITY);
  y[2] = 4;
  th[0] = 0.2;   /* not a simplex */
  ck_assert(meval(&m, NULL) == -INFINITY);
  th[0] = 0.1;
  mcall c = {"categorical_logit_lpmf", 2, {1, 0}, {'a', 'v'}, {5, 4}, {0, 0}, {0, 1}, {y, beta}};
  double lse = log(exp(0.3) + exp(-1) + exp(2) + exp(0.5));
  want = 0.3 + 2 * 0.5 - 1 + 2 - 5 * lse;
  CK_CLOSE(meval(&c, NULL), want, 1e-13, "categorical_logit");
  mgrad_check(&c, -1, -1, 1e-6);
  {
    double b2[4] = {-1, 0.5, 0, 2}, *alt[2] = {NULL, b2};
    mbatch_check(&c, alt, 2);
  }
  y[1] = 7;
  ck_assert(meval(&c, NULL) == -INFINITY);
}
END_TEST

START_TEST(test_multinomial_dirichlet)
{
  double th[3] = {0.2, 0.5, 0.3}, y[3] = {2, 0, 5}, al[3] = {1.5, 0.7, 3};
  unsigned yu[3] = {2, 0, 5};
  mcall m = {"multinomial_lpmf", 2, {1, 0}, {'a', 'v'}, {3, 3}, {0, 0}, {0, 1}, {y, th}};
  CK_CLOSE(meval(&m, NULL), gsl_ran_multinomial_lnpdf(3, th, yu), 1e-12, "multinomial");
  mgrad_check(&m, -1, -1, 1e-10);
  double th2[3] = {0.6, 0.1, 0.3}, al2[3] = {0.5, 2, 1}, *alt[2] = {NULL, th2};
  mbatch_check(&m, alt, 2);
  y[1] = -1;
  ck_assert(meval(&m, NULL) == -INFINITY);
  y[1] = 0;
  mcall d = {"dirichlet_lpdf", 2, {0, 0}, {'v', 'v'}, {3, 3}, {0, 0}, {1, 1}, {th, al}};
  CK_CLOSE(meval(&d, NULL), gsl_ran_dirichlet_lnpdf(3, al, th), 1e-12, "dirichlet");
  mgrad_check(&d, -1, -1, 1e-10);
  {
    /* multinomial_logit(y | gamma) = multinomial(y | softmax(gamma)) */
    double gam[3] = {0.3, -1, 1.2}, sm[3], z = 0, g2[3] = {1, 1, -2};
    for (int k = 0; k < 3; k++) z += exp(gam[k]);
    for (int k = 0; k < 3; k++) sm[k] = exp(gam[k]) / z;
    mcall ml = {"multinomial_logit_lpmf", 2, {1, 0}, {'a', 'v'}, {3, 3}, {0, 0}, {0, 1}, {y, gam}};
    CK_CLOSE(meval(&ml, NULL), gsl_ran_multinomial_lnpdf(3, sm, yu), 1e-12, "multinomial_logit");
    mgrad_check(&ml, -1, -1, 1e-6);
    double *galt[2] = {NULL, g2};
    mbatch_check(&ml, galt, 2);
  }
  alt[0] = th2; alt[1] = al2;
  mbatch_check(&d, alt, 3);
  mbatch_check(&d, alt, 1);
  al[1] = -1;
  ck_assert(meval(&d, NULL) == -INFINITY);
  al[1] = 0.7;
  th[0] = 0.25;
  ck_assert(meval(&d, NULL) == -INFINITY);
  th[0] = 0.2;
  double al4[4] = {1, 1, 1, 1};
  d.x[1] = al4; d.len[1] = 4;
  ck_assert_ptr_null(NULL);
  ad_tape_reset(T, 1, 0);
  ad_val *a[2] = {mk(0, 'v', 3, 0, 1, 0, th), mk(0, 'v', 4, 0, 1, 0, al4)};
  ck_assert_ptr_null(call("dirichlet_lpdf", a, 2));
  ck_assert_str_eq(ad_tape_error(T), "dirichlet_lpdf: size of theta (3) and alpha (4) differ");
}
END_TEST

/* reference multi-normal log density by GSL: Cholesky + gsl_ran_multivariate_gaussian_log_pdf */
static double ref_mvn(const double *y, const double *mu, const double *S, size_t K)
{
  gsl_matrix *L = gsl_matrix_alloc(K, K);
  gsl_vector *w = gsl_vector_alloc(K);
  for (size_t i = 0; i < K; i++)
    for (size_t j = 0; j < K; j++) gsl_matrix_set(L, i, j, S[j * K + i]);
  gsl_linalg_cholesky_decomp1(L);
  gsl_vector_const_view yv = gsl_vector_const_view_array(y, K), mv = gsl_vector_const_view_array(mu, K);
  double r;
  gsl_ran_multivariate_gaussian_log_pdf(&yv.vector, &mv.vector, L, &r, w);
  gsl_matrix_free(L);
  gsl_vector_free(w);
  return r;
}

START_TEST(test_multi_normal)
{
  enum { K = 3 };
  double S[K * K] = {2, 0.3, -0.4, 0.3, 1, 0.2, -0.4, 0.2, 1.5};   /* symmetric */
  double y[2 * K] = {0.5, -1, 2, 0.1, 0.2, -0.3}, mu[2 * K] = {0, 0.5, 1, -0.2, 0.1, 0.4};
  mcall m = {"multi_normal_lpdf", 3, {0, 0, 0}, {'v', 'v', 'm'}, {K, K, K}, {0, 0, 0}, {1, 1, 1}, {y, mu, S}};
  double want = ref_mvn(y, mu, S, K);
  CK_CLOSE(meval(&m, NULL), want, 1e-12, "multi_normal");
  mgrad_check(&m, 2, -1, 1e-6);
  /* arrays of vectors: y[2] against mu[2] and against one mu */
  m.kind[0] = 'V'; m.len[0] = 2 * K; m.k2[0] = K;
  want = ref_mvn(y, mu, S, K) + ref_mvn(y + K, mu, S, K);
  CK_CLOSE(meval(&m, NULL), want, 1e-12, "multi_normal y[]");
  mgrad_check(&m, 2, -1, 1e-6);
  m.kind[1] = 'V'; m.len[1] = 2 * K; m.k2[1] = K;
  want = ref_mvn(y, mu, S, K) + ref_mvn(y + K, mu + K, S, K);
  CK_CLOSE(meval(&m, NULL), want, 1e-12, "multi_normal y[] mu[]");
  mgrad_check(&m, 2, -1, 1e-6);
  {
    double S2[K * K] = {1, 0, 0, 0, 2, -0.5, 0, -0.5, 1}, mu2[2 * K] = {1, 1, 1, -1, -1, 0};
    double *alt[3] = {NULL, mu2, S2};
    mbatch_check(&m, alt, 6);
    mbatch_check(&m, alt, 4);
  }
  /* Cholesky form: L of S */
  gsl_matrix *Lm = gsl_matrix_alloc(K, K);
  for (size_t i = 0; i < K; i++)
    for (size_t j = 0; j < K; j++) gsl_matrix_set(Lm, i, j, S[j * K + i]);
  gsl_linalg_cholesky_decomp1(Lm);
  double L[K * K];
  for (size_t i = 0; i < K; i++)
    for (size_t j = 0; j < K; j++) L[j * K + i] = i >= j ? gsl_matrix_get(Lm, i, j) : 0;
  gsl_matrix_free(Lm);
  mcall c = m;
  c.name = "multi_normal_cholesky_lpdf";
  c.x[2] = L;
  CK_CLOSE(meval(&c, NULL), want, 1e-12, "multi_normal_cholesky y[] mu[]");
  mgrad_check(&c, -1, 2, 1e-6);
  {
    double L2[K * K] = {1, 0.5, -0.3, 0, 2, 0.1, 0, 0, 0.7}, mu2[2 * K] = {1, 1, 1, -1, -1, 0};
    double *alt[3] = {NULL, mu2, L2};
    mbatch_check(&c, alt, 6);
  }
  c.kind[0] = c.kind[1] = 'v'; c.len[0] = c.len[1] = K;
  CK_CLOSE(meval(&c, NULL), ref_mvn(y, mu, S, K), 1e-12, "multi_normal_cholesky");
  mgrad_check(&c, -1, 2, 1e-6);
  /* not positive definite / not symmetric: -inf */
  m.kind[0] = m.kind[1] = 'v'; m.len[0] = m.len[1] = K;
  S[0] = -2;
  ck_assert(meval(&m, NULL) == -INFINITY);
  S[0] = 2; S[1] = 0.9;
  ck_assert(meval(&m, NULL) == -INFINITY);
  S[1] = 0.3;
  /* size mismatch */
  ad_tape_reset(T, 1, 0);
  ad_val *a[3] = {mk(0, 'v', 2, 0, 1, 0, y), mk(0, 'v', K, 0, 1, 0, mu), mk(0, 'm', K, 0, 1, 0, S)};
  ck_assert_ptr_null(call("multi_normal_lpdf", a, 3));
  ck_assert_str_eq(ad_tape_error(T), "multi_normal_lpdf: size of y (2) and Sigma (3x3) differ");
  /* batched: 4 draws of mu vs one at a time */
  double mub[K * 4];
  for (int k = 0; k < K; k++) for (int s = 0; s < 4; s++) mub[k * 4 + s] = mu[k] + 0.1 * s;
  ad_tape_reset(T, 4, 0);
  a[0] = mk(0, 'v', K, 0, 1, 0, y); a[1] = mk(0, 'v', K, 0, 4, 0, mub); a[2] = mk(0, 'm', K, 0, 1, 0, S);
  ad_val *out = call("multi_normal_lpdf", a, 3);
  ck_assert_ptr_nonnull(out);
  for (int s = 0; s < 4; s++) {
    double ms[K] = {mub[s], mub[4 + s], mub[8 + s]};
    CK_CLOSE(out->x[s], ref_mvn(y, ms, S, K), 1e-12, "multi_normal batched");
  }
}
END_TEST

/* GLMs against the unfused density of the linear predictor x beta + alpha */
static double glm_ref(int kind, const double *y, const double *x, const double *al, int alvec,
                      const double *be, const double *sg, int sgvec, size_t N, size_t D)
{
  double lp = 0;
  for (size_t i = 0; i < N; i++) {
    double eta = alvec ? al[i] : al[0];
    for (size_t d = 0; d < D; d++) eta += x[d * N + i] * be[d];
    if (kind == 0) lp += log(gsl_ran_bernoulli_pdf((unsigned)y[i], inv_logit(eta)));
    else if (kind == 1) lp += log(gsl_ran_poisson_pdf((unsigned)y[i], exp(eta)));
    else if (kind == 3) {
      double phi = sgvec ? sg[i] : sg[0], mu = exp(eta);
      lp += log(gsl_ran_negative_binomial_pdf((unsigned)y[i], phi / (mu + phi), phi));
    } else lp += log(gsl_ran_gaussian_pdf(y[i] - eta, sgvec ? sg[i] : sg[0]));
  }
  return lp;
}

START_TEST(test_glm)
{
  enum { N = 6, D = 3 };
  double x[N * D], be[D] = {0.4, -0.3, 0.8}, al[N], a0 = 0.2, yb[N] = {1, 0, 0, 1, 1, 0};
  double yp[N] = {0, 3, 1, 7, 2, 0}, yn[N], sg[N], s0 = 0.9;
  for (int k = 0; k < N * D; k++) x[k] = sin(1.7 * k + 0.3);
  for (int i = 0; i < N; i++) { al[i] = 0.1 * i - 0.2; yn[i] = cos(i); sg[i] = 0.5 + 0.2 * i; }
  const char *names[4] = {"bernoulli_logit_glm_lpmf", "poisson_log_glm_lpmf", "normal_id_glm_lpdf",
                          "neg_binomial_2_log_glm_lpmf"};
  double *ys[4] = {yb, yp, yn, yp};
  for (int kind = 0; kind < 4; kind++)
    for (int alvec = 0; alvec < 2; alvec++) {
      mcall m = {names[kind], kind >= 2 ? 5 : 4, {kind != 2, 0, 0, 0, 0},
                 {'a', 'M', alvec ? 'v' : 's', 'v', alvec ? 'v' : 's'},
                 {N, N, alvec ? N : 1, D, alvec ? N : 1}, {0, D, 0, 0, 0},
                 {kind == 2, 1, 1, 1, 1}, {ys[kind], x, alvec ? al : &a0, be, alvec ? sg : &s0}};
      if (kind == 2) m.kind[0] = 'v';
      double want = glm_ref(kind, ys[kind], x, alvec ? al : &a0, alvec, be, alvec ? sg : &s0, alvec, N, D);
      CK_CLOSE(meval(&m, NULL), want, 1e-12, "%s alpha %s", names[kind], alvec ? "vector" : "scalar");
      mgrad_check(&m, -1, -1, 1e-6);
      double be2[D] = {-0.2, 0.5, 0.1}, al2[N] = {0.3, 0, 0, -0.4, 0.2, 0.1}, a2 = -0.4;
      double sg2[N] = {1, 2, 1, 0.5, 0.7, 0.9}, s2 = 1.3, yn2[N] = {0, 1, 2, 3, 4, 5};
      double *alt[5] = {kind == 2 ? yn2 : NULL, NULL, alvec ? al2 : &a2, be2, alvec ? sg2 : &s2};
      mbatch_check(&m, alt, kind == 2 ? 0x1Du : kind == 3 ? 0x1Cu : 0x0Cu);
      mbatch_check(&m, alt, 0x08u);
    }
  /* batched: beta varying over 4 draws, x data */
  ad_tape_reset(T, 4, 1);
  double bb[D * 4];
  for (int d = 0; d < D; d++) for (int s = 0; s < 4; s++) bb[d * 4 + s] = be[d] + 0.3 * s - 0.1 * d;
  ad_val *a[4] = {mk(1, 'a', N, 0, 1, 0, yp), mk(0, 'M', N, D, 1, 0, x), mk(0, 's', 1, 0, 1, 1, &a0),
                  mk(0, 'v', D, 0, 4, 1, bb)};
  ad_val *out = call("poisson_log_glm_lpmf", a, 4);
  ck_assert_ptr_nonnull(out);
  backward_seed(out);
  double galpha = 0;
  for (int s = 0; s < 4; s++) {
    double bs[D] = {bb[s], bb[4 + s], bb[8 + s]};
    CK_CLOSE(out->x[s], glm_ref(1, yp, x, &a0, 0, bs, NULL, 0, N, D), 1e-12, "glm batched");
    for (int i = 0; i < N; i++) {
      double eta = a0;
      for (int d = 0; d < D; d++) eta += x[d * N + i] * bs[d];
      galpha += yp[i] - exp(eta);
    }
    for (int d = 0; d < D; d++) {
      double gd = 0;
      for (int i = 0; i < N; i++) {
        double eta = a0;
        for (int k = 0; k < D; k++) eta += x[k * N + i] * bs[k];
        gd += x[d * N + i] * (yp[i] - exp(eta));
      }
      CK_CLOSE(a[3]->adj[d * 4 + s], gd, 1e-12, "glm batched dbeta");
    }
  }
  CK_CLOSE(a[2]->adj[0], galpha, 1e-12, "glm shared alpha gradient");
  /* invalid outcome: -inf; size errors */
  double ybad[N] = {1, 0, 2, 1, 1, 0};
  mcall m = {names[0], 4, {1, 0, 0, 0}, {'a', 'M', 's', 'v'}, {N, N, 1, D}, {0, D, 0, 0},
             {0, 1, 1, 1}, {ybad, x, &a0, be}};
  ck_assert(meval(&m, NULL) == -INFINITY);
  ad_tape_reset(T, 1, 0);
  a[0] = mk(1, 'a', N, 0, 1, 0, yb); a[1] = mk(0, 'M', N, D, 1, 0, x);
  a[2] = mk(0, 's', 1, 0, 1, 0, &a0); a[3] = mk(0, 'v', 2, 0, 1, 0, be);
  ck_assert_ptr_null(call(names[0], a, 4));
  ck_assert_str_eq(ad_tape_error(T), "bernoulli_logit_glm_lpmf: size of beta (2) and columns of x (3) differ");
  ad_tape_reset(T, 1, 0);
  a[0] = mk(1, 'a', 4, 0, 1, 0, yb); a[1] = mk(0, 'M', N, D, 1, 0, x);
  a[2] = mk(0, 's', 1, 0, 1, 0, &a0); a[3] = mk(0, 'v', D, 0, 1, 0, be);
  ck_assert_ptr_null(call(names[0], a, 4));
  ck_assert_str_eq(ad_tape_error(T), "bernoulli_logit_glm_lpmf: size of y (4) and rows of x (6) differ");
}
END_TEST

/* wishart log density by its formula (Stan Functions Reference), with determinants and
 * the inverse from GSL's LU decomposition (independent of the code under test) */
static double lu_logdet_inv(const double *A, double *Ai, size_t K)
{
  gsl_matrix *M = gsl_matrix_alloc(K, K), *I = gsl_matrix_alloc(K, K);
  gsl_permutation *p = gsl_permutation_alloc(K);
  int sg;
  for (size_t i = 0; i < K; i++) for (size_t j = 0; j < K; j++) gsl_matrix_set(M, i, j, A[j * K + i]);
  gsl_linalg_LU_decomp(M, p, &sg);
  double ld = gsl_linalg_LU_lndet(M);
  gsl_linalg_LU_invert(M, p, I);
  for (size_t i = 0; i < K; i++) for (size_t j = 0; j < K; j++) Ai[j * K + i] = gsl_matrix_get(I, i, j);
  gsl_matrix_free(M); gsl_matrix_free(I); gsl_permutation_free(p);
  return ld;
}

static double ref_wishart(const double *W, double nu, const double *S, size_t K)
{
  double Wi[16], Si[16], tr = 0;
  double ldW = lu_logdet_inv(W, Wi, K), ldS = lu_logdet_inv(S, Si, K);
  for (size_t i = 0; i < K; i++) for (size_t j = 0; j < K; j++) tr += Si[j * K + i] * W[i * K + j];
  double lmg = 0.25 * K * (K - 1.0) * log(M_PI);
  for (size_t j = 1; j <= K; j++) lmg += gsl_sf_lngamma(0.5 * nu + 0.5 * (1.0 - j));
  return 0.5 * (nu - K - 1) * ldW - 0.5 * tr - 0.5 * nu * K * log(2) - 0.5 * nu * ldS - lmg;
}

static void sym_inverse(const double *A, double *Ai, double *logdet, size_t K)
{
  gsl_matrix *M = gsl_matrix_alloc(K, K);
  for (size_t i = 0; i < K; i++) for (size_t j = 0; j < K; j++) gsl_matrix_set(M, i, j, A[j * K + i]);
  gsl_linalg_cholesky_decomp1(M);
  double ld = 0;
  for (size_t i = 0; i < K; i++) ld += 2 * log(gsl_matrix_get(M, i, i));
  gsl_linalg_cholesky_invert(M);
  for (size_t i = 0; i < K; i++) for (size_t j = 0; j < K; j++) Ai[j * K + i] = gsl_matrix_get(M, i, j);
  *logdet = ld;
  gsl_matrix_free(M);
}

START_TEST(test_wishart_lkj_corr)
{
  enum { K = 3 };
  double W[K * K] = {2, 0.3, -0.4, 0.3, 1, 0.2, -0.4, 0.2, 1.5};
  double S[K * K] = {1, -0.2, 0.1, -0.2, 0.8, 0.3, 0.1, 0.3, 1.2}, nu = 5.5;
  mcall m = {"wishart_lpdf", 3, {0, 0, 0}, {'m', 's', 'm'}, {K, 1, K}, {0, 0, 0}, {1, 1, 1}, {W, &nu, S}};
  CK_CLOSE(meval(&m, NULL), ref_wishart(W, nu, S, K), 1e-11, "wishart %.15g vs %.15g", meval(&m, NULL), ref_wishart(W, nu, S, K));
  fd_all_sym = 1;
  mgrad_check(&m, -1, -1, 1e-6);
  double W2[K * K] = {1, 0, 0, 0, 1, 0, 0, 0, 3}, S2[K * K] = {2, 0.5, 0, 0.5, 1, 0, 0, 0, 1}, nu2 = 9;
  double *walt[3] = {W2, &nu2, S2};
  mbatch_check(&m, walt, 7);
  mbatch_check(&m, walt, 4);
  /* inv_wishart(W | nu, S) = wishart(W^-1 | nu, S^-1) |W|^-(K+1) */
  double Wi[K * K], Si[K * K], ldW, ldS;
  sym_inverse(W, Wi, &ldW, K);
  sym_inverse(S, Si, &ldS, K);
  m.name = "inv_wishart_lpdf";
  CK_CLOSE(meval(&m, NULL), ref_wishart(Wi, nu, Si, K) - (K + 1) * ldW, 1e-11, "inv_wishart");
  mgrad_check(&m, -1, -1, 1e-6);
  mbatch_check(&m, walt, 7);
  fd_all_sym = 0;
  nu = 1.5;   /* nu <= K - 1 */
  ck_assert(meval(&m, NULL) == -INFINITY);
  nu = 5.5;
  W[0] = -2;
  ck_assert(meval(&m, NULL) == -INFINITY);
  W[0] = 2;
  /* lkj_corr: K = 3, eta = 1 is uniform over correlation matrices (volume pi^2 / 2) */
  double R[K * K] = {1, 0.3, -0.2, 0.3, 1, 0.25, -0.2, 0.25, 1}, eta = 1;
  mcall l = {"lkj_corr_lpdf", 2, {0, 0}, {'m', 's'}, {K, 1}, {0, 0}, {1, 1}, {R, &eta}};
  CK_CLOSE(meval(&l, NULL), -log(M_PI * M_PI / 2), 1e-12, "lkj_corr K=3 eta=1");
  eta = 2.7;
  double Ri[K * K], ldR;
  sym_inverse(R, Ri, &ldR, K);
  {
    /* lp(R, eta) - lp(R, 1) = (eta - 1) log det R + lp(I, eta) - lp(I, 1) */
    double one = 1, I3[K * K] = {1, 0, 0, 0, 1, 0, 0, 0, 1};
    mcall l1 = l, li = l, li1 = l;
    l1.x[1] = &one;
    li.x[0] = I3;
    li1.x[0] = I3; li1.x[1] = &one;
    double lhs = meval(&l, NULL) - meval(&l1, NULL);
    double rhs = 1.7 * ldR + meval(&li, NULL) - meval(&li1, NULL);
    CK_CLOSE(lhs, rhs, 1e-12, "lkj_corr (eta - 1) log det R");
  }
  fd_skip_diag = 1;
  mgrad_check(&l, 0, -1, 1e-6);
  fd_skip_diag = 0;
  {
    double R2[K * K] = {1, -0.5, 0, -0.5, 1, 0.1, 0, 0.1, 1}, e2 = 0.8, *alt[2] = {R2, &e2};
    mbatch_check(&l, alt, 3);
    mbatch_check(&l, alt, 1);
  }
  R[0] = 1.1;
  ck_assert(meval(&l, NULL) == -INFINITY);
  /* lkj_corr of L L' and lkj_corr_cholesky of L differ by the Jacobian log prod L_kk^(K-k) */
  double L[K * K] = {1, 0.3, -0.2, 0, sqrt(1 - 0.09), 0, 0, 0, 0};
  L[5] = (0.25 - 0.3 * -0.2) / L[4];
  L[8] = sqrt(1 - 0.04 - L[5] * L[5]);
  R[0] = 1;
  mcall c = {"lkj_corr_cholesky_lpdf", 2, {0, 0}, {'m', 's'}, {K, 1}, {0, 0}, {0, 0}, {L, &eta}};
  CK_CLOSE(meval(&c, NULL), meval(&l, NULL) + log(L[4]), 1e-12, "lkj_corr vs cholesky");
}
END_TEST


START_TEST(test_mvn_prec_student)
{
  enum { K = 3 };
  double S[K * K] = {2, 0.3, -0.4, 0.3, 1, 0.2, -0.4, 0.2, 1.5}, Om[K * K], ld;
  double y[2 * K] = {0.5, -1, 2, 0.1, 0.2, -0.3}, mu[2 * K] = {0, 0.5, 1, -0.2, 0.1, 0.4};
  ld = lu_logdet_inv(S, Om, K);
  (void)ld;
  /* multi_normal_prec(y | mu, Sigma^-1) = multi_normal(y | mu, Sigma) */
  mcall m = {"multi_normal_prec_lpdf", 3, {0, 0, 0}, {'V', 'v', 'm'}, {2 * K, K, K}, {K, 0, 0}, {1, 1, 1}, {y, mu, Om}};
  CK_CLOSE(meval(&m, NULL), ref_mvn(y, mu, S, K) + ref_mvn(y + K, mu, S, K), 1e-12, "multi_normal_prec");
  mgrad_check(&m, 2, -1, 1e-6);
  double O2[K * K] = {1, 0, 0.2, 0, 2, 0, 0.2, 0, 1}, mu2[K] = {1, -1, 0}, *alt[3] = {NULL, mu2, O2};
  mbatch_check(&m, alt, 6);
  /* multi_student_t by its formula */
  double nu = 4.5, Si[K * K], lds = lu_logdet_inv(S, Si, K), want = 0;
  for (int r = 0; r < 2; r++) {
    double d[K], q = 0;
    for (int i = 0; i < K; i++) d[i] = y[r * K + i] - mu[i];
    for (int i = 0; i < K; i++) for (int j = 0; j < K; j++) q += d[i] * Si[j * K + i] * d[j];
    want += gsl_sf_lngamma((nu + K) / 2) - gsl_sf_lngamma(nu / 2) - K / 2.0 * log(nu * M_PI)
            - 0.5 * lds - (nu + K) / 2 * log1p(q / nu);
  }
  mcall t = {"multi_student_t_lpdf", 4, {0, 0, 0, 0}, {'V', 's', 'v', 'm'}, {2 * K, 1, K, K}, {K, 0, 0, 0},
             {1, 1, 1, 1}, {y, &nu, mu, S}};
  CK_CLOSE(meval(&t, NULL), want, 1e-12, "multi_student_t %.15g vs %.15g", meval(&t, NULL), want);
  mgrad_check(&t, 3, -1, 1e-6);
  double nu2 = 20, S2[K * K] = {1, 0, 0, 0, 2, -0.5, 0, -0.5, 1}, *talt[4] = {NULL, &nu2, mu2, S2};
  mbatch_check(&t, talt, 14);
  /* large nu: the normal */
  nu = 1e9;
  CK_CLOSE(meval(&t, NULL), ref_mvn(y, mu, S, K) + ref_mvn(y + K, mu, S, K), 1e-6, "t -> normal");
  nu = -1;
  ck_assert(meval(&t, NULL) == -INFINITY);
}
END_TEST

START_TEST(test_ordered_probit)
{
  double c[3] = {-1, 0.5, 2}, eta = 0.3, y = 0;
  mcall m = {"ordered_probit_lpmf", 3, {1, 0, 0}, {'s', 's', 'v'}, {1, 1, 3}, {0, 0, 0}, {0, 1, 1}, {&y, &eta, c}};
  double etas[4] = {0.3, -6, 9, 40};
  for (int q = 0; q < 4; q++)
    for (int k = 1; k <= 4; k++) {
      y = k; eta = etas[q];
      double hi = k == 1 ? 1 : gsl_cdf_ugaussian_P(eta - c[k - 2]);
      double lo = k == 4 ? 0 : gsl_cdf_ugaussian_P(eta - c[k - 1]);
      double hq = k == 1 ? 0 : gsl_cdf_ugaussian_Q(eta - c[k - 2]);
      double lq = k == 4 ? 1 : gsl_cdf_ugaussian_Q(eta - c[k - 1]);
      double ref = eta - (k == 4 ? 0 : c[k - 1]) > 0 ? log(lq - hq) : log(hi - lo);
      double v = meval(&m, NULL);
      if (isinf(ref)) continue;   /* beyond double precision for the reference */
      CK_CLOSE(v, ref, 1e-9, "ordered_probit eta=%g k=%d: %.15g vs %.15g", eta, k, v, ref);
      if (q < 2) mgrad_check(&m, -1, -1, 1e-6);
    }
  double ys[3] = {1, 3, 4}, es[3] = {0.3, -1, 2}, e2[3] = {1, 0, -1}, c2[3] = {-3, -1, 0};
  mcall v = {"ordered_probit_lpmf", 3, {1, 0, 0}, {'a', 'v', 'v'}, {3, 3, 3}, {0, 0, 0}, {0, 1, 1}, {ys, es, c}};
  mgrad_check(&v, -1, -1, 1e-6);
  double *alt[3] = {NULL, e2, c2};
  mbatch_check(&v, alt, 6);
}
END_TEST

static double lkj2_eta;
static double lkj2_density(double rho, void *p)
{
  (void)p;
  double L[4] = {1, rho, 0, sqrt(1 - rho * rho)}, e = lkj2_eta;
  ad_tape_reset(T, 1, 0);
  ad_val *a[2] = {mk(0, 'm', 2, 0, 1, 0, L), mk(0, 's', 1, 0, 1, 0, &e)};
  ad_val *out = call("lkj_corr_cholesky_lpdf", a, 2);
  return exp(out->x[0]);
}

START_TEST(test_lkj_corr_cholesky)
{
  /* K = 2: the density of rho = L[2,1] integrates to 1 */
  gsl_integration_workspace *w = gsl_integration_workspace_alloc(1000);
  gsl_function F = {lkj2_density, NULL};
  double etas[3] = {0.8, 1, 2.5};
  for (int k = 0; k < 3; k++) {
    lkj2_eta = etas[k];
    double r, err;
    gsl_integration_qags(&F, -1 + 1e-12, 1 - 1e-12, 1e-10, 1e-9, 1000, w, &r, &err);
    CK_CLOSE(r, 1, 1e-6, "lkj K=2 eta=%g integrates to %g", etas[k], r);
  }
  gsl_integration_workspace_free(w);
  /* K = 3, eta = 1: uniform over correlation matrices, whose volume is pi^2 / 2; the
     Cholesky density adds log L_22 (the Jacobian of R = L L') */
  enum { K = 3 };
  double r21 = 0.3, r31 = -0.2, l32 = 0.4;
  double l22 = sqrt(1 - r21 * r21), l33 = sqrt(1 - r31 * r31 - l32 * l32);
  double L[K * K] = {1, r21, r31, 0, l22, l32, 0, 0, l33}, eta = 1;
  mcall m = {"lkj_corr_cholesky_lpdf", 2, {0, 0}, {'m', 's'}, {K, 1}, {0, 0}, {0, 1}, {L, &eta}};
  CK_CLOSE(meval(&m, NULL), -log(M_PI * M_PI / 2) + log(l22), 1e-12, "lkj K=3");
  eta = 2.3;
  mgrad_check(&m, -1, -1, 1e-6);
  {
    double e2 = 0.6, *alt[2] = {NULL, &e2};
    mbatch_check(&m, alt, 2);
  }
  /* gradient w.r.t. the diagonal: (K - r + 2 eta - 2) / L_rr (1-based r) */
  double *g[5] = {calloc(K * K, sizeof(double)), calloc(1, sizeof(double)), 0, 0, 0};
  m.real[0] = 1;
  meval(&m, g);
  CK_CLOSE(g[0][4], (3 - 2 + 2 * eta - 2) / l22, 1e-12, "lkj dL22");
  CK_CLOSE(g[0][8], (3 - 3 + 2 * eta - 2) / l33, 1e-12, "lkj dL33");
  free(g[0]); free(g[1]);
  L[3] = 0.1;   /* not lower triangular */
  ck_assert(meval(&m, NULL) == -INFINITY);
  L[3] = 0;
  L[4] = 0.5;   /* row not of unit length */
  ck_assert(meval(&m, NULL) == -INFINITY);
}
END_TEST

START_TEST(test_ordered_logistic)
{
  double c[3] = {-1, 0.5, 2}, eta = 0.3, y = 0;
  mcall m = {"ordered_logistic_lpmf", 3, {1, 0, 0}, {'s', 's', 'v'}, {1, 1, 3}, {0, 0, 0}, {0, 1, 1}, {&y, &eta, c}};
  for (int k = 1; k <= 4; k++) {
    y = k;
    double hi = k == 1 ? 1 : inv_logit(eta - c[k - 2]), lo = k == 4 ? 0 : inv_logit(eta - c[k - 1]);
    CK_CLOSE(meval(&m, NULL), log(hi - lo), 1e-12, "ordered_logistic k=%d", k);
    mgrad_check(&m, -1, -1, 1e-6);
  }
  y = 5;
  ck_assert(meval(&m, NULL) == -INFINITY);
  y = 2; c[1] = -2;
  ck_assert(meval(&m, NULL) == -INFINITY);
  c[1] = 0.5;
  /* vectorised: int[] y with vector eta */
  double ys[3] = {1, 3, 4}, etas[3] = {0.3, -1, 2};
  mcall v = {"ordered_logistic_lpmf", 3, {1, 0, 0}, {'a', 'v', 'v'}, {3, 3, 3}, {0, 0, 0}, {0, 1, 1}, {ys, etas, c}};
  double want = 0;
  for (int i = 0; i < 3; i++) {
    y = ys[i]; eta = etas[i];
    want += meval(&m, NULL);
  }
  CK_CLOSE(meval(&v, NULL), want, 1e-12, "ordered_logistic vectorised");
  mgrad_check(&v, -1, -1, 1e-6);
  {
    double e2[3] = {1, 0, -1}, c2[3] = {-3, -1, 0}, *alt[3] = {NULL, e2, c2};
    mbatch_check(&v, alt, 6);
    mbatch_check(&v, alt, 2);
  }
}
END_TEST

/* ---- _rng ------------------------------------------------------------------------- */

#define NR 20000

typedef struct {
  const char *name;
  const char *kinds;
  double a[3];
  double mean, var;
  double lo, hi;     /* support */
  int is_int;
} rtest;

static const rtest RT[] = {
  {"normal_rng", "RR", {1, 2}, 1, 4, -INFINITY, INFINITY, 0},
  {"std_normal_rng", "", {0}, 0, 1, -INFINITY, INFINITY, 0},
  {"student_t_rng", "RRR", {10, 1, 2}, 1, 4 * 10.0 / 8, -INFINITY, INFINITY, 0},
  {"double_exponential_rng", "RR", {1, 2}, 1, 8, -INFINITY, INFINITY, 0},
  {"logistic_rng", "RR", {1, 2}, 1, 4 * M_PI * M_PI / 3, -INFINITY, INFINITY, 0},
  {"exponential_rng", "R", {2.5}, 0.4, 0.16, 0, INFINITY, 0},
  {"gamma_rng", "RR", {3, 2}, 1.5, 0.75, 0, INFINITY, 0},
  {"inv_gamma_rng", "RR", {6, 2}, 0.4, 4.0 / (25 * 4), 0, INFINITY, 0},
  {"lognormal_rng", "RR", {0.5, 0.4}, 1.7860384307500734, 0.5534881011446781, 0, INFINITY, 0},
  {"chi_square_rng", "R", {3.5}, 3.5, 7, 0, INFINITY, 0},
  {"inv_chi_square_rng", "R", {12}, 0.1, 2.0 / (100 * 8), 0, INFINITY, 0},
  {"scaled_inv_chi_square_rng", "RR", {12, 1.5}, 12 * 2.25 / 10, 2 * 144 * 2.25 * 2.25 / (100 * 8), 0, INFINITY, 0},
  {"weibull_rng", "RR", {2, 3}, 2.658680776358274, 1.9314165294229646, 0, INFINITY, 0},
  {"frechet_rng", "RR", {5, 2}, 2.328459427450606, 0.5350456899676628, 0, INFINITY, 0},
  {"pareto_rng", "RR", {1.5, 5}, 1.875, 2.25 * 5 / (16 * 3), 1.5, INFINITY, 0},
  {"beta_rng", "RR", {2, 3}, 0.4, 6.0 / (25 * 6), 0, 1, 0},
  {"beta_proportion_rng", "RR", {0.3, 4}, 0.3, 0.21 / 5, 0, 1, 0},
  {"gumbel_rng", "RR", {1, 2}, 1 + 2 * 0.57721566490153286, 4 * M_PI * M_PI / 6, -INFINITY, INFINITY, 0},
  {"rayleigh_rng", "R", {1.5}, 1.5 * 1.2533141373155003, (4 - M_PI) / 2 * 2.25, 0, INFINITY, 0},
  {"skew_normal_rng", "RRR", {1, 2, 3}, 1 + 2 * 0.9486832980505138 * 0.7978845608028654,
   4 * (1 - 2 * 0.9 / M_PI), -INFINITY, INFINITY, 0},
  {"exp_mod_normal_rng", "RRR", {1, 2, 0.5}, 3, 8, -INFINITY, INFINITY, 0},
  {"skew_double_exponential_rng", "RRR", {1, 2, 0.3}, 1 - 0.3 * 2 / 1.4 + 0.7 * 2 / 0.6,
   0.3 * 2 * (2 / 1.4) * (2 / 1.4) + 0.7 * 2 * (2 / 0.6) * (2 / 0.6) - (0.7 * 2 / 0.6 - 0.3 * 2 / 1.4) * (0.7 * 2 / 0.6 - 0.3 * 2 / 1.4),
   -INFINITY, INFINITY, 0},
  {"loglogistic_rng", "RR", {2, 8}, 2.052344305954062, 0.2307657879763072, 0, INFINITY, 0},
  {"pareto_type_2_rng", "RRR", {1, 2, 6}, 1.4, 0.24, 1, INFINITY, 0},
  {"discrete_range_rng", "II", {2, 7}, 4.5, 35.0 / 12, 2, 7, 1},
  {"uniform_rng", "RR", {-1, 3}, 1, 16.0 / 12, -1, 3, 0},
  {"bernoulli_rng", "R", {0.3}, 0.3, 0.21, 0, 1, 1},
  {"bernoulli_logit_rng", "R", {-0.8472978603872037}, 0.3, 0.21, 0, 1, 1},
  {"binomial_rng", "IR", {10, 0.3}, 3, 2.1, 0, 10, 1},
  {"binomial_logit_rng", "IR", {10, -0.8472978603872037}, 3, 2.1, 0, 10, 1},
  {"beta_binomial_rng", "IRR", {10, 2, 3}, 4, 10 * 6.0 * 15 / (25 * 6), 0, 10, 1},
  {"poisson_rng", "R", {3.5}, 3.5, 3.5, 0, INFINITY, 1},
  {"poisson_log_rng", "R", {1.2527629684953681}, 3.5, 3.5, 0, INFINITY, 1},
  {"neg_binomial_rng", "RR", {3, 0.5}, 6, 18, 0, INFINITY, 1},
  {"neg_binomial_2_rng", "RR", {4, 2.5}, 4, 4 + 16 / 2.5, 0, INFINITY, 1},
  {"neg_binomial_2_log_rng", "RR", {1.3862943611198906, 2.5}, 4, 4 + 16 / 2.5, 0, INFINITY, 1},
};
#define NRT (int)(sizeof RT / sizeof RT[0])

static gsl_rng *R;

static void rng_setup(void)
{
  setup();
  R = gsl_rng_alloc(gsl_rng_mt19937);
  gsl_rng_set(R, 20261125);
  ad_tape_set_rng(T, R);
}

static void rng_teardown(void) { gsl_rng_free(R); teardown(); }

/* mean and variance of x[k * stride], k < n, within 5 standard errors of the truth
 * (the variance's standard error from the sample's fourth central moment) */
static void check_moments(const char *what, const double *x, size_t n, size_t stride,
                          double mean, double var)
{
  double m = 0, m2 = 0, m4 = 0;
  for (size_t k = 0; k < n; k++) m += x[k * stride];
  m /= (double)n;
  for (size_t k = 0; k < n; k++) {
    double d = x[k * stride] - m;
    m2 += d * d; m4 += d * d * d * d;
  }
  m2 /= (double)(n - 1);
  m4 /= (double)n;
  double se_m = sqrt(var / (double)n), se_v = sqrt(fmax(m4 - m2 * m2, 1e-300) / (double)n);
  ck_assert_msg(fabs(m - mean) <= 5 * se_m, "%s: mean %g, want %g (se %g)", what, m, mean, se_m);
  ck_assert_msg(fabs(m2 - var) <= 5 * se_v, "%s: variance %g, want %g (se %g)", what, m2, var, se_v);
}

START_TEST(test_rng_moments)
{
  const rtest *r = &RT[_i];
  int na = (int)strlen(r->kinds);
  ad_tape_reset(T, NR, 0);
  ad_val *args[3];
  for (int i = 0; i < na; i++) args[i] = mk(r->kinds[i] == 'I', 's', 1, 0, 1, 0, &r->a[i]);
  ad_val *out = call(r->name, args, na);
  ck_assert_msg(out != NULL, "%s: %s", r->name, ad_tape_error(T));
  ck_assert_uint_eq(out->nd, NR);
  ck_assert_uint_eq(out->len, 1);
  ck_assert_int_eq(out->type.base, r->is_int ? VT_INT : VT_REAL);
  ck_assert_int_eq(out->type.ndims, 0);
  ck_assert_ptr_null(out->adj);
  for (size_t s = 0; s < NR; s++) {
    double v = out->x[s];
    ck_assert_msg(v >= r->lo && v <= r->hi, "%s: %g outside the support", r->name, v);
    if (r->is_int) ck_assert_msg(v == floor(v), "%s: %g not an integer", r->name, v);
  }
  check_moments(r->name, out->x, NR, 1, r->mean, r->var);
}
END_TEST

START_TEST(test_rng_cauchy)
{
  /* no moments: P(y < mu + sigma) = 3/4 */
  double a[2] = {1, 2};
  ad_tape_reset(T, NR, 0);
  ad_val *args[2] = {mk(0, 's', 1, 0, 1, 0, &a[0]), mk(0, 's', 1, 0, 1, 0, &a[1])};
  ad_val *out = call("cauchy_rng", args, 2);
  ck_assert_ptr_nonnull(out);
  double f = 0, f0 = 0;
  for (size_t s = 0; s < NR; s++) { f += out->x[s] < 3; f0 += out->x[s] < 1; }
  f /= NR; f0 /= NR;
  double se = sqrt(0.75 * 0.25 / NR);
  ck_assert_msg(fabs(f - 0.75) < 5 * se, "cauchy quartile %g", f);
  ck_assert_msg(fabs(f0 - 0.5) < 5 * sqrt(0.25 / NR), "cauchy median %g", f0);
}
END_TEST

START_TEST(test_rng_wishart_lkj)
{
  enum { K = 3 };
  double S[K * K] = {1, -0.2, 0.1, -0.2, 0.8, 0.3, 0.1, 0.3, 1.2}, nu = 7;
  ad_tape_reset(T, NR, 0);
  ad_val *a[2] = {mk(0, 's', 1, 0, 1, 0, &nu), mk(0, 'm', K, 0, 1, 0, S)};
  ad_val *out = call("wishart_rng", a, 2);
  ck_assert_msg(out != NULL, "%s", ad_tape_error(T));
  for (size_t i = 0; i < K; i++)
    for (size_t j = 0; j < K; j++) {
      double sij = S[j * K + i];
      check_moments("wishart_rng", out->x + (j * K + i) * NR, NR, 1, nu * sij,
                    nu * (sij * sij + S[i * K + i] * S[j * K + j]));
    }
  ad_tape_reset(T, NR, 0);
  a[0] = mk(0, 's', 1, 0, 1, 0, &nu); a[1] = mk(0, 'm', K, 0, 1, 0, S);
  out = call("inv_wishart_rng", a, 2);
  ck_assert_msg(out != NULL, "%s", ad_tape_error(T));
  double c = nu - K - 1;
  for (size_t i = 0; i < K; i++) {
    double sii = S[i * K + i];
    check_moments("inv_wishart_rng", out->x + (i * K + i) * NR, NR, 1, sii / c,
                  2 * sii * sii / (c * c * (c - 2)));
  }
  double Kd = K, eta = 1.5;
  ad_tape_reset(T, NR, 0);
  a[0] = mk(1, 's', 1, 0, 1, 0, &Kd); a[1] = mk(0, 's', 1, 0, 1, 0, &eta);
  out = call("lkj_corr_rng", a, 2);
  ck_assert_ptr_nonnull(out);
  for (size_t s = 0; s < NR; s++)
    for (size_t i = 0; i < K; i++) {
      ck_assert(out->x[(i * K + i) * NR + s] == 1);
      for (size_t j = 0; j < K; j++) ck_assert(out->x[(j * K + i) * NR + s] == out->x[(i * K + j) * NR + s]);
    }
  check_moments("lkj_corr_rng", out->x + 1 * NR, NR, 1, 0, 1 / (2 * eta + K - 1));
  check_moments("lkj_corr_rng", out->x + 5 * NR, NR, 1, 0, 1 / (2 * eta + K - 1));
}
END_TEST

START_TEST(test_rng_ordinal_student)
{
  double c[3] = {-1, 0.5, 2}, e = 0.3, m1 = 0, m2 = 0;
  for (int k = 1; k <= 4; k++) {
    double p = (k == 1 ? 1 : gsl_cdf_ugaussian_P(e - c[k - 2])) - (k == 4 ? 0 : gsl_cdf_ugaussian_P(e - c[k - 1]));
    m1 += k * p; m2 += k * k * p;
  }
  ad_tape_reset(T, NR, 0);
  ad_val *a[3] = {mk(0, 's', 1, 0, 1, 0, &e), mk(0, 'v', 3, 0, 1, 0, c), NULL};
  ad_val *out = call("ordered_probit_rng", a, 2);
  ck_assert_ptr_nonnull(out);
  for (size_t s = 0; s < NR; s++) ck_assert(out->x[s] >= 1 && out->x[s] <= 4);
  check_moments("ordered_probit_rng", out->x, NR, 1, m1, m2 - m1 * m1);
  enum { K = 3 };
  double S[K * K] = {2, 0.3, -0.4, 0.3, 1, 0.2, -0.4, 0.2, 1.5}, mu[K] = {1, -2, 0.5}, nu = 10;
  ad_tape_reset(T, NR, 0);
  a[0] = mk(0, 's', 1, 0, 1, 0, &nu); a[1] = mk(0, 'v', K, 0, 1, 0, mu); a[2] = mk(0, 'm', K, 0, 1, 0, S);
  out = call("multi_student_t_rng", a, 3);
  ck_assert_ptr_nonnull(out);
  for (int k = 0; k < K; k++)
    check_moments("multi_student_t_rng", out->x + k * NR, NR, 1, mu[k], nu / (nu - 2) * S[k * K + k]);
}
END_TEST

static double vm_kappa;
static double vm_second_moment(double th, void *p)
{
  (void)p;
  return th * th * exp(vm_kappa * (cos(th) - 1)) / (2 * M_PI * gsl_sf_bessel_I0_scaled(vm_kappa));
}

START_TEST(test_rng_von_mises)
{
  /* mean mu, variance E[(y - mu)^2] by quadrature; support [mu - pi, mu + pi] */
  double kap[3] = {0.5, 2, 50}, mu = 0.5;
  for (int k = 0; k < 3; k++) {
    vm_kappa = kap[k];
    gsl_integration_workspace *w = gsl_integration_workspace_alloc(1000);
    gsl_function F = {vm_second_moment, NULL};
    double var, err;
    gsl_integration_qags(&F, -M_PI, M_PI, 1e-12, 1e-10, 1000, w, &var, &err);
    gsl_integration_workspace_free(w);
    double a[2] = {mu, kap[k]};
    ad_tape_reset(T, NR, 0);
    ad_val *args[2] = {mk(0, 's', 1, 0, 1, 0, &a[0]), mk(0, 's', 1, 0, 1, 0, &a[1])};
    ad_val *out = call("von_mises_rng", args, 2);
    ck_assert_ptr_nonnull(out);
    for (size_t s = 0; s < NR; s++) ck_assert(fabs(out->x[s] - mu) <= M_PI);
    check_moments("von_mises_rng", out->x, NR, 1, mu, var);
  }
}
END_TEST

START_TEST(test_rng_vectorised_and_errors)
{
  /* normal_rng(vector mu, real sigma): a real[3], each element its own mean */
  double mu[3] = {-5, 0, 7}, sg = 0.5;
  ad_tape_reset(T, NR, 0);
  ad_val *args[2] = {mk(0, 'v', 3, 0, 1, 0, mu), mk(0, 's', 1, 0, 1, 0, &sg)};
  ad_val *out = call("normal_rng", args, 2);
  ck_assert_ptr_nonnull(out);
  ck_assert_int_eq(out->type.base, VT_REAL);
  ck_assert_int_eq(out->type.ndims, 1);
  ck_assert_uint_eq(out->len, 3);
  for (int e = 0; e < 3; e++) check_moments("normal_rng[]", out->x + e * NR, NR, 1, mu[e], 0.25);
  /* poisson_rng over varying rates: draw s uses rate s's value */
  ad_tape_reset(T, 4, 0);
  double la[4] = {1e-300, 5, 0, 100};
  args[0] = mk(0, 's', 1, 0, 4, 0, la);
  out = call("poisson_rng", args, 1);
  ck_assert_ptr_nonnull(out);
  ck_assert(out->x[0] == 0 && out->x[2] == 0);
  ck_assert(out->x[3] > 40);
  /* invalid argument: an error naming the function and the values */
  ad_tape_reset(T, 2, 0);
  double bad = -1;
  args[0] = mk(0, 's', 1, 0, 1, 0, mu);
  args[1] = mk(0, 's', 1, 0, 1, 0, &bad);
  ck_assert_ptr_null(call("normal_rng", args, 2));
  ck_assert_str_eq(ad_tape_error(T), "normal_rng: invalid argument(s): mu = -5, sigma = -1");
  /* no generator: an error */
  ad_tape_set_rng(T, NULL);
  ad_tape_reset(T, 2, 0);
  args[0] = mk(0, 's', 1, 0, 1, 0, mu);
  args[1] = mk(0, 's', 1, 0, 1, 0, &sg);
  ck_assert_ptr_null(call("normal_rng", args, 2));
  ck_assert_ptr_nonnull(strstr(ad_tape_error(T), "normal_rng"));
  ad_tape_set_rng(T, R);
  /* deterministic: same seed, same draws */
  gsl_rng_set(R, 7);
  ad_tape_reset(T, 3, 0);
  args[0] = mk(0, 's', 1, 0, 1, 0, mu);
  args[1] = mk(0, 's', 1, 0, 1, 0, &sg);
  out = call("normal_rng", args, 2);
  double first[3] = {out->x[0], out->x[1], out->x[2]};
  gsl_rng_set(R, 7);
  ad_tape_reset(T, 3, 0);
  args[0] = mk(0, 's', 1, 0, 1, 0, mu);
  args[1] = mk(0, 's', 1, 0, 1, 0, &sg);
  out = call("normal_rng", args, 2);
  for (int s = 0; s < 3; s++) ck_assert(out->x[s] == first[s]);
  ck_assert(first[0] != first[1]);
}
END_TEST

START_TEST(test_rng_multivariate)
{
  double th[4] = {0.1, 0.2, 0.3, 0.4}, N = 12;
  ad_tape_reset(T, NR, 0);
  ad_val *a[2] = {mk(0, 'v', 4, 0, 1, 0, th), NULL};
  ad_val *out = call("categorical_rng", a, 1);
  ck_assert_ptr_nonnull(out);
  ck_assert_int_eq(out->type.base, VT_INT);
  for (size_t s = 0; s < NR; s++) ck_assert(out->x[s] >= 1 && out->x[s] <= 4);
  check_moments("categorical_rng", out->x, NR, 1, 3, 10 - 9);   /* E = 3, E[y^2] = 10 */
  double lth[4];
  for (int k = 0; k < 4; k++) lth[k] = log(th[k]) + 0.7;
  ad_tape_reset(T, NR, 0);
  a[0] = mk(0, 'v', 4, 0, 1, 0, lth);
  out = call("categorical_logit_rng", a, 1);
  ck_assert_ptr_nonnull(out);
  check_moments("categorical_logit_rng", out->x, NR, 1, 3, 1);
  /* multinomial: count k has mean N th_k, variance N th_k (1 - th_k) */
  ad_tape_reset(T, NR, 0);
  a[0] = mk(0, 'v', 4, 0, 1, 0, th);
  a[1] = mk(1, 's', 1, 0, 1, 0, &N);
  out = call("multinomial_rng", a, 2);
  ck_assert_ptr_nonnull(out);
  ck_assert_int_eq(out->type.ndims, 1);
  for (size_t s = 0; s < NR; s++) {
    double tot = 0;
    for (int k = 0; k < 4; k++) { ck_assert(out->x[k * NR + s] >= 0); tot += out->x[k * NR + s]; }
    ck_assert(tot == N);
  }
  for (int k = 0; k < 4; k++) check_moments("multinomial_rng", out->x + k * NR, NR, 1, N * th[k], N * th[k] * (1 - th[k]));
  ad_tape_reset(T, NR, 0);
  a[0] = mk(0, 'v', 4, 0, 1, 0, lth);
  a[1] = mk(1, 's', 1, 0, 1, 0, &N);
  out = call("multinomial_logit_rng", a, 2);
  ck_assert_ptr_nonnull(out);
  for (int k = 0; k < 4; k++) check_moments("multinomial_logit_rng", out->x + k * NR, NR, 1, N * th[k], N * th[k] * (1 - th[k]));
  /* dirichlet, including small concentrations */
  double al[3] = {0.05, 2, 3.5}, a0 = 5.55;
  ad_tape_reset(T, NR, 0);
  a[0] = mk(0, 'v', 3, 0, 1, 0, al);
  out = call("dirichlet_rng", a, 1);
  ck_assert_ptr_nonnull(out);
  ck_assert_int_eq(out->type.base, VT_VECTOR);
  for (size_t s = 0; s < NR; s++) {
    double tot = 0;
    for (int k = 0; k < 3; k++) { ck_assert(out->x[k * NR + s] >= 0); tot += out->x[k * NR + s]; }
    ck_assert(fabs(tot - 1) < 1e-12);
  }
  for (int k = 0; k < 3; k++)
    check_moments("dirichlet_rng", out->x + k * NR, NR, 1, al[k] / a0, al[k] * (a0 - al[k]) / (a0 * a0 * (a0 + 1)));
  /* multi_normal and multi_normal_cholesky: means, variances, and a covariance */
  enum { K = 3 };
  double S[K * K] = {2, 0.3, -0.4, 0.3, 1, 0.2, -0.4, 0.2, 1.5}, mu[K] = {1, -2, 0.5};
  double L[K * K] = {0};
  {
    gsl_matrix *Lm = gsl_matrix_alloc(K, K);
    for (size_t i = 0; i < K; i++) for (size_t j = 0; j < K; j++) gsl_matrix_set(Lm, i, j, S[j * K + i]);
    gsl_linalg_cholesky_decomp1(Lm);
    for (size_t i = 0; i < K; i++) for (size_t j = 0; j <= i; j++) L[j * K + i] = gsl_matrix_get(Lm, i, j);
    gsl_matrix_free(Lm);
  }
  for (int chol = 0; chol < 2; chol++) {
    ad_tape_reset(T, NR, 0);
    a[0] = mk(0, 'v', K, 0, 1, 0, mu);
    a[1] = mk(0, 'm', K, 0, 1, 0, chol ? L : S);
    out = call(chol ? "multi_normal_cholesky_rng" : "multi_normal_rng", a, 2);
    ck_assert_ptr_nonnull(out);
    for (int k = 0; k < K; k++) check_moments("multi_normal_rng", out->x + k * NR, NR, 1, mu[k], S[k * K + k]);
    static double prod[NR];
    for (size_t s = 0; s < NR; s++) prod[s] = (out->x[s] - mu[0]) * (out->x[NR + s] - mu[1]);
    /* E[(x0 - mu0)(x1 - mu1)] = S01, Var = S00 S11 + S01^2 */
    check_moments("multi_normal_rng cov", prod, NR, 1, S[1], S[0] * S[4] + S[1] * S[1]);
  }
  /* lkj_corr_cholesky: rows of unit length, lower triangular; off-diagonal correlations
     have mean 0 and variance 1 / (2 eta + K - 1) */
  double Kd = 3, eta = 2;
  ad_tape_reset(T, NR, 0);
  a[0] = mk(1, 's', 1, 0, 1, 0, &Kd);
  a[1] = mk(0, 's', 1, 0, 1, 0, &eta);
  out = call("lkj_corr_cholesky_rng", a, 2);
  ck_assert_ptr_nonnull(out);
  ck_assert_int_eq(out->type.base, VT_MATRIX);
  static double r12[NR], r23[NR];
  for (size_t s = 0; s < NR; s++) {
    double Lx[9];
    for (int k = 0; k < 9; k++) Lx[k] = out->x[k * NR + s];
    for (int i = 0; i < 3; i++) {
      double n2 = 0;
      for (int j = 0; j < 3; j++) {
        if (j > i) ck_assert(Lx[j * 3 + i] == 0);
        else n2 += Lx[j * 3 + i] * Lx[j * 3 + i];
      }
      ck_assert(fabs(n2 - 1) < 1e-12);
      ck_assert(Lx[i * 3 + i] > 0);
    }
    r12[s] = Lx[1];
    r23[s] = Lx[1] * Lx[2] + Lx[4] * Lx[5];
  }
  check_moments("lkj r12", r12, NR, 1, 0, 1.0 / (2 * eta + 2));
  check_moments("lkj r23", r23, NR, 1, 0, 1.0 / (2 * eta + 2));
  /* ordered_logistic: category frequencies */
  double c[3] = {-1, 0.5, 2}, e = 0.3, p[4], m1 = 0, m2 = 0;
  for (int k = 1; k <= 4; k++) {
    p[k - 1] = (k == 1 ? 1 : inv_logit(e - c[k - 2])) - (k == 4 ? 0 : inv_logit(e - c[k - 1]));
    m1 += k * p[k - 1]; m2 += k * k * p[k - 1];
  }
  ad_tape_reset(T, NR, 0);
  a[0] = mk(0, 's', 1, 0, 1, 0, &e);
  a[1] = mk(0, 'v', 3, 0, 1, 0, c);
  out = call("ordered_logistic_rng", a, 2);
  ck_assert_ptr_nonnull(out);
  check_moments("ordered_logistic_rng", out->x, NR, 1, m1, m2 - m1 * m1);
}
END_TEST

/* ---- suite -------------------------------------------------------------------------- */

static Suite *dist_suite(void)
{
  Suite *s = suite_create("dist");
  TCase *tc = tcase_create("univariate");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_loop_test(tc, test_univariate_value_grad, 0, NUT);
  tcase_add_loop_test(tc, test_univariate_invalid, 0, NUT);
  tcase_add_loop_test(tc, test_univariate_vectorised, 0, NUT);
  tcase_add_loop_test(tc, test_univariate_batched, 0, NUT);
  tcase_add_test(tc, test_lupdf_aliases);
  tcase_add_test(tc, test_size_mismatch);
  tcase_add_test(tc, test_hot_paths);
  tcase_add_test(tc, test_log_sum_exp_draws);
  tcase_add_test(tc, test_digamma_logphi);
  tcase_add_test(tc, test_negbin_limit);
  suite_add_tcase(s, tc);
  tc = tcase_create("multivariate");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, test_categorical);
  tcase_add_test(tc, test_multinomial_dirichlet);
  tcase_add_test(tc, test_multi_normal);
  tcase_add_test(tc, test_lkj_corr_cholesky);
  tcase_add_test(tc, test_ordered_logistic);
  tcase_add_test(tc, test_glm);
  tcase_add_test(tc, test_wishart_lkj_corr);
  tcase_add_test(tc, test_mvn_prec_student);
  tcase_add_test(tc, test_ordered_probit);
  suite_add_tcase(s, tc);
  tc = tcase_create("rng");
  tcase_add_checked_fixture(tc, rng_setup, rng_teardown);
  tcase_set_timeout(tc, 60);
  tcase_add_loop_test(tc, test_rng_moments, 0, NRT);
  tcase_add_test(tc, test_rng_cauchy);
  tcase_add_test(tc, test_rng_von_mises);
  tcase_add_test(tc, test_rng_wishart_lkj);
  tcase_add_test(tc, test_rng_ordinal_student);
  tcase_add_test(tc, test_rng_vectorised_and_errors);
  tcase_add_test(tc, test_rng_multivariate);
  suite_add_tcase(s, tc);
  return s;
}

int main(void)
{
  SRunner *sr = srunner_create(dist_suite());
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
