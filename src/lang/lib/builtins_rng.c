/* builtins_rng.c: the _rng functions of the model language, drawing with GSL's
 * random-number distributions (gsl_ran_*) from the tape's generator (ad_tape_rng).
 * Parameterisations are Stan's, converted where GSL differs (exponential and gamma take
 * a scale, not a rate; weibull is gsl (a = sigma, b = alpha)).  A call makes one
 * independent draw per draw column: the result has nd = n when the tape has n draws.
 * Vectorised forms (any argument a container) return an array of the common length.
 * Outputs carry no adjoint.  An invalid parameter (sigma <= 0, p outside [0, 1]) is an
 * error naming the function and the offending values, as Stan rejects such a call. */
#include <stdio.h>
#include <string.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_linalg.h>
#include "lang/lib/lib.h"
#include "lang/lib/dist_impl.h"

#define RMAX 3

/* A sampler returns one draw given the argument values, or NaN if they are invalid. */
typedef double (*rng_sampler)(gsl_rng *r, const double *a);

typedef struct {
  const char *name;
  const char *argn[RMAX];
  int is_int;
} rng_desc;

static gsl_rng *rng_get(ad_tape *t, const char *name)
{
  gsl_rng *r = ad_tape_rng(t);
  if (!r)
    ad_tape_set_error(t, "%s: random numbers are only available in transformed data and "
                         "generated quantities", name);
  return r;
}

/* The message for invalid arguments: "normal_rng: invalid argument(s): mu = 0,
 * sigma = -1". */
static void rng_bad(ad_tape *t, const rng_desc *d, int na, const double *a)
{
  char buf[256];
  size_t o = 0;
  buf[0] = 0;
  for (int i = 0; i < na && o < sizeof buf; i++) {
    int k = snprintf(buf + o, sizeof buf - o, "%s%s = %g", i ? ", " : "", d->argn[i], a[i]);
    if (k < 0) break;
    o += (size_t)k;
  }
  ad_tape_set_error(t, "%s: invalid argument(s): %s", d->name, buf);
}

static ad_val *rng_run(ad_tape *t, const rng_desc *d, ad_val **args, int na, rng_sampler f)
{
  gsl_rng *r = rng_get(t, d->name);
  if (!r) return NULL;
  size_t N = 1;
  int first = -1;
  for (int i = 0; i < na; i++) {
    if (type_rank(args[i]->type) == 0) continue;
    if (first < 0) { first = i; N = args[i]->len; }
    else if (args[i]->len != N) {
      ad_tape_set_error(t, "%s: size of %s (%zu) and %s (%zu) differ", d->name,
                        d->argn[first], N, d->argn[i], args[i]->len);
      return NULL;
    }
  }
  vi_type rt = {d->is_int ? VT_INT : VT_REAL, first >= 0 ? 1 : 0, NULL};
  size_t dims[1] = {N};
  ad_val *out = ad_new(t, rt, rt.ndims, dims, 1, 0);
  if (!out) { ad_tape_set_error(t, "%s: out of memory", d->name); return NULL; }
  const size_t nd = out->nd;
  for (size_t e = 0; e < N; e++)
    for (size_t s = 0; s < nd; s++) {
      double a[RMAX];
      for (int i = 0; i < na; i++) {
        const ad_val *v = args[i];
        size_t es = type_rank(v->type) > 0 ? v->nd : 0, ds = v->nd > 1 ? 1 : 0;
        a[i] = v->x[e * es + s * ds];
      }
      double y = f(r, a);
      if (isnan(y)) { rng_bad(t, d, na, a); return NULL; }
      out->x[e * nd + s] = y;
    }
  return out;
}

#define RNG_DEFINE(nm, isint, ...)                                                   \
  static const rng_desc rdesc_##nm = {#nm "_rng", {__VA_ARGS__}, isint};            \
  ad_val *rng_##nm(ad_tape *t, ad_val **args, int nargs)                         \
  {                                                                                  \
    return rng_run(t, &rdesc_##nm, args, nargs, s_##nm);                            \
  }

/* Valid: finite location, positive finite scale. */
#define LOCSCALE_OK(mu, sg) (isfinite(mu) && (sg) > 0 && isfinite(sg))
#define POS_OK(x) ((x) > 0 && isfinite(x))

static double s_normal(gsl_rng *r, const double *a)
{
  return LOCSCALE_OK(a[0], a[1]) ? a[0] + gsl_ran_gaussian(r, a[1]) : NAN;
}
static double s_std_normal(gsl_rng *r, const double *a) { return gsl_ran_gaussian(r, 1); }
static double s_student_t(gsl_rng *r, const double *a)
{
  return POS_OK(a[0]) && LOCSCALE_OK(a[1], a[2]) ? a[1] + a[2] * gsl_ran_tdist(r, a[0]) : NAN;
}
static double s_cauchy(gsl_rng *r, const double *a)
{
  return LOCSCALE_OK(a[0], a[1]) ? a[0] + gsl_ran_cauchy(r, a[1]) : NAN;
}
static double s_double_exponential(gsl_rng *r, const double *a)
{
  return LOCSCALE_OK(a[0], a[1]) ? a[0] + gsl_ran_laplace(r, a[1]) : NAN;
}
static double s_logistic(gsl_rng *r, const double *a)
{
  return LOCSCALE_OK(a[0], a[1]) ? a[0] + gsl_ran_logistic(r, a[1]) : NAN;
}
/* GSL's exponential and gamma take a scale: 1 / Stan's rate. */
static double s_exponential(gsl_rng *r, const double *a)
{
  return POS_OK(a[0]) ? gsl_ran_exponential(r, 1 / a[0]) : NAN;
}
static double s_gamma(gsl_rng *r, const double *a)
{
  return POS_OK(a[0]) && POS_OK(a[1]) ? gsl_ran_gamma(r, a[0], 1 / a[1]) : NAN;
}
static double s_inv_gamma(gsl_rng *r, const double *a)
{
  return POS_OK(a[0]) && POS_OK(a[1]) ? 1 / gsl_ran_gamma(r, a[0], 1 / a[1]) : NAN;
}
static double s_lognormal(gsl_rng *r, const double *a)
{
  return LOCSCALE_OK(a[0], a[1]) ? gsl_ran_lognormal(r, a[0], a[1]) : NAN;
}
static double s_chi_square(gsl_rng *r, const double *a)
{
  return POS_OK(a[0]) ? gsl_ran_chisq(r, a[0]) : NAN;
}
static double s_inv_chi_square(gsl_rng *r, const double *a)
{
  return POS_OK(a[0]) ? 1 / gsl_ran_chisq(r, a[0]) : NAN;
}
static double s_scaled_inv_chi_square(gsl_rng *r, const double *a)
{
  return POS_OK(a[0]) && POS_OK(a[1]) ? a[0] * a[1] * a[1] / gsl_ran_chisq(r, a[0]) : NAN;
}
/* GSL's weibull(a, b) has density b / a^b x^(b-1) exp(-(x/a)^b): a = sigma, b = alpha */
static double s_weibull(gsl_rng *r, const double *a)
{
  return POS_OK(a[0]) && POS_OK(a[1]) ? gsl_ran_weibull(r, a[1], a[0]) : NAN;
}
/* Frechet by inversion: F(y) = exp(-(y / sigma)^-alpha) */
static double s_frechet(gsl_rng *r, const double *a)
{
  if (!(POS_OK(a[0]) && POS_OK(a[1]))) return NAN;
  return a[1] * pow(-log(gsl_rng_uniform_pos(r)), -1 / a[0]);
}
/* GSL's pareto(a, b): density (a / b) / (x / b)^(a + 1), x >= b: a = alpha, b = y_min */
static double s_pareto(gsl_rng *r, const double *a)
{
  return POS_OK(a[0]) && POS_OK(a[1]) ? gsl_ran_pareto(r, a[1], a[0]) : NAN;
}
static double s_beta(gsl_rng *r, const double *a)
{
  return POS_OK(a[0]) && POS_OK(a[1]) ? gsl_ran_beta(r, a[0], a[1]) : NAN;
}
static double s_beta_proportion(gsl_rng *r, const double *a)
{
  if (!(a[0] > 0 && a[0] < 1 && POS_OK(a[1]))) return NAN;
  return gsl_ran_beta(r, a[0] * a[1], (1 - a[0]) * a[1]);
}
static double s_uniform(gsl_rng *r, const double *a)
{
  return isfinite(a[0]) && isfinite(a[1]) && a[1] > a[0] ? gsl_ran_flat(r, a[0], a[1]) : NAN;
}
static double s_bernoulli(gsl_rng *r, const double *a)
{
  return a[0] >= 0 && a[0] <= 1 ? gsl_ran_bernoulli(r, a[0]) : NAN;
}
static double s_bernoulli_logit(gsl_rng *r, const double *a)
{
  return isnan(a[0]) ? NAN : gsl_ran_bernoulli(r, dist_inv_logit(a[0]));
}
/* Counts must fit GSL's unsigned int; Stan's own limit for rates is 2^30. */
#define COUNT_MAX 1073741824.0
static double s_binomial(gsl_rng *r, const double *a)
{
  if (!(a[0] >= 0 && a[0] <= COUNT_MAX && a[1] >= 0 && a[1] <= 1)) return NAN;
  return gsl_ran_binomial(r, a[1], (unsigned)a[0]);
}
static double s_binomial_logit(gsl_rng *r, const double *a)
{
  if (!(a[0] >= 0 && a[0] <= COUNT_MAX) || isnan(a[1])) return NAN;
  return gsl_ran_binomial(r, dist_inv_logit(a[1]), (unsigned)a[0]);
}
static double s_beta_binomial(gsl_rng *r, const double *a)
{
  if (!(a[0] >= 0 && a[0] <= COUNT_MAX && POS_OK(a[1]) && POS_OK(a[2]))) return NAN;
  return gsl_ran_binomial(r, gsl_ran_beta(r, a[1], a[2]), (unsigned)a[0]);
}
static double s_poisson(gsl_rng *r, const double *a)
{
  return a[0] >= 0 && a[0] < COUNT_MAX ? gsl_ran_poisson(r, a[0]) : NAN;
}
static double s_poisson_log(gsl_rng *r, const double *a)
{
  double la = exp(a[0]);
  return la < COUNT_MAX ? gsl_ran_poisson(r, la) : NAN;   /* NaN a[0]: NaN */
}
/* neg_binomial(alpha, beta) is GSL's negative binomial with p = beta / (1 + beta),
 * n = alpha; neg_binomial_2(mu, phi) is the gamma-Poisson mixture with shape phi and
 * mean mu. */
static double nb_gamma_poisson(gsl_rng *r, double mu, double phi)
{
  if (!(POS_OK(mu) && POS_OK(phi))) return NAN;
  double la = gsl_ran_gamma(r, phi, mu / phi);
  return la < COUNT_MAX ? gsl_ran_poisson(r, la) : NAN;
}
static double s_neg_binomial(gsl_rng *r, const double *a)
{
  if (!(POS_OK(a[0]) && POS_OK(a[1]))) return NAN;
  return nb_gamma_poisson(r, a[0] / a[1], a[0]);
}
static double s_neg_binomial_2(gsl_rng *r, const double *a)
{
  return nb_gamma_poisson(r, a[0], a[1]);
}
static double s_neg_binomial_2_log(gsl_rng *r, const double *a)
{
  return nb_gamma_poisson(r, exp(a[0]), a[1]);
}

/* von Mises by Best & Fisher (1979, Applied Statistics 28, 152-157): a wrapped-Cauchy
 * envelope with rejection; the result lies in [m - pi, m + pi], m = mu mod 2 pi (as
 * Stan).  Tiny kappa is uniform on the circle. */
static double s_von_mises(gsl_rng *r, const double *a)
{
  double mu = a[0], ka = a[1];
  if (!(isfinite(mu) && ka > 0 && isfinite(ka))) return NAN;
  const double pi = 3.14159265358979323846;
  double m = fmod(mu, 2 * pi);
  if (ka < 1e-6) return m + gsl_ran_flat(r, -pi, pi);
  double tau = 1 + sqrt(1 + 4 * ka * ka), rho = (tau - sqrt(2 * tau)) / (2 * ka);
  double rr = (1 + rho * rho) / (2 * rho), f;
  for (;;) {
    double u1 = gsl_rng_uniform(r), u2 = gsl_rng_uniform_pos(r);
    double z = cos(pi * u1);
    f = (1 + rr * z) / (rr + z);
    double c = ka * (rr - f);
    if (c * (2 - c) - u2 > 0 || log(c / u2) + 1 - c >= 0) break;
  }
  if (f > 1) f = 1;
  if (f < -1) f = -1;
  return m + (gsl_rng_uniform(r) < 0.5 ? -1 : 1) * acos(f);
}

/* gumbel by inversion: mu - beta log(-log U) */
static double s_gumbel(gsl_rng *r, const double *a)
{
  return LOCSCALE_OK(a[0], a[1]) ? a[0] - a[1] * log(-log(gsl_rng_uniform_pos(r))) : NAN;
}
static double s_rayleigh(gsl_rng *r, const double *a)
{
  return POS_OK(a[0]) ? gsl_ran_rayleigh(r, a[0]) : NAN;
}
/* skew normal: with delta = alpha / sqrt(1 + alpha^2), |u0| signs delta u0 +
 * sqrt(1 - delta^2) v (Azzalini's representation) */
static double s_skew_normal(gsl_rng *r, const double *a)
{
  if (!(LOCSCALE_OK(a[0], a[1]) && isfinite(a[2]))) return NAN;
  double d = a[2] / sqrt(1 + a[2] * a[2]);
  double u0 = gsl_ran_gaussian(r, 1), v = gsl_ran_gaussian(r, 1);
  double u1 = d * u0 + sqrt(1 - d * d) * v;
  return a[0] + a[1] * (u0 >= 0 ? u1 : -u1);
}

static double s_exp_mod_normal(gsl_rng *r, const double *a)
{
  if (!(LOCSCALE_OK(a[0], a[1]) && POS_OK(a[2]))) return NAN;
  return a[0] + gsl_ran_gaussian(r, a[1]) + gsl_ran_exponential(r, 1 / a[2]);
}
/* skew double exponential by inversion of its two exponential halves */
static double s_skew_double_exponential(gsl_rng *r, const double *a)
{
  double mu = a[0], sg = a[1], tau = a[2];
  if (!(LOCSCALE_OK(mu, sg) && tau > 0 && tau < 1)) return NAN;
  double u = gsl_rng_uniform_pos(r);
  return u < tau ? mu + sg / (2 * (1 - tau)) * log(u / tau)
                 : mu - sg / (2 * tau) * log((1 - u) / (1 - tau));
}
/* loglogistic by inversion: alpha (u / (1 - u))^(1 / beta) */
static double s_loglogistic(gsl_rng *r, const double *a)
{
  if (!(POS_OK(a[0]) && POS_OK(a[1]))) return NAN;
  double u = gsl_rng_uniform_pos(r);
  return a[0] * pow(u / (1 - u), 1 / a[1]);
}
/* pareto type 2 by inversion: mu + lambda ((1 - u)^(-1 / alpha) - 1) */
static double s_pareto_type_2(gsl_rng *r, const double *a)
{
  if (!(isfinite(a[0]) && POS_OK(a[1]) && POS_OK(a[2]))) return NAN;
  return a[0] + a[1] * expm1(-log(gsl_rng_uniform_pos(r)) / a[2]);
}
static double s_discrete_range(gsl_rng *r, const double *a)
{
  double lo = a[0], hi = a[1];
  if (!(hi >= lo && hi - lo < 4294967295.0)) return NAN;
  return lo + (double)gsl_rng_uniform_int(r, (unsigned long)(hi - lo) + 1);
}

RNG_DEFINE(von_mises, 0, "mu", "kappa")
RNG_DEFINE(exp_mod_normal, 0, "mu", "sigma", "lambda")
RNG_DEFINE(skew_double_exponential, 0, "mu", "sigma", "tau")
RNG_DEFINE(loglogistic, 0, "alpha", "beta")
RNG_DEFINE(pareto_type_2, 0, "mu", "lambda", "alpha")
RNG_DEFINE(discrete_range, 1, "lower", "upper")
RNG_DEFINE(gumbel, 0, "mu", "beta")
RNG_DEFINE(rayleigh, 0, "sigma")
RNG_DEFINE(skew_normal, 0, "xi", "omega", "alpha")
RNG_DEFINE(normal, 0, "mu", "sigma")
RNG_DEFINE(std_normal, 0, "")
RNG_DEFINE(student_t, 0, "nu", "mu", "sigma")
RNG_DEFINE(cauchy, 0, "mu", "sigma")
RNG_DEFINE(double_exponential, 0, "mu", "sigma")
RNG_DEFINE(logistic, 0, "mu", "sigma")
RNG_DEFINE(exponential, 0, "beta")
RNG_DEFINE(gamma, 0, "alpha", "beta")
RNG_DEFINE(inv_gamma, 0, "alpha", "beta")
RNG_DEFINE(lognormal, 0, "mu", "sigma")
RNG_DEFINE(chi_square, 0, "nu")
RNG_DEFINE(inv_chi_square, 0, "nu")
RNG_DEFINE(scaled_inv_chi_square, 0, "nu", "s")
RNG_DEFINE(weibull, 0, "alpha", "sigma")
RNG_DEFINE(frechet, 0, "alpha", "sigma")
RNG_DEFINE(pareto, 0, "y_min", "alpha")
RNG_DEFINE(beta, 0, "alpha", "beta")
RNG_DEFINE(beta_proportion, 0, "mu", "kappa")
RNG_DEFINE(uniform, 0, "alpha", "beta")
RNG_DEFINE(bernoulli, 1, "theta")
RNG_DEFINE(bernoulli_logit, 1, "alpha")
RNG_DEFINE(binomial, 1, "N", "theta")
RNG_DEFINE(binomial_logit, 1, "N", "alpha")
RNG_DEFINE(beta_binomial, 1, "N", "alpha", "beta")
RNG_DEFINE(poisson, 1, "lambda")
RNG_DEFINE(poisson_log, 1, "alpha")
RNG_DEFINE(neg_binomial, 1, "alpha", "beta")
RNG_DEFINE(neg_binomial_2, 1, "mu", "phi")
RNG_DEFINE(neg_binomial_2_log, 1, "eta", "phi")

/* ---- vector-valued and categorical _rng ---------------------------------------- */

/* Element k of value v in draw s. */
static inline double at(const ad_val *v, size_t k, size_t s)
{
  return v->x[k * v->nd + (v->nd > 1 ? s : 0)];
}

/* Index (1-based) drawn from K unnormalised nonnegative weights w (sum tot) by
 * inversion of the cdf. */
static double draw_index(gsl_rng *r, const double *w, size_t K, double tot)
{
  double u = gsl_rng_uniform(r) * tot, c = 0;
  for (size_t k = 0; k < K; k++) {
    c += w[k];
    if (u < c && w[k] > 0) return (double)(k + 1);
  }
  for (size_t k = K; k-- > 0;) if (w[k] > 0) return (double)(k + 1);
  return 1;
}

static ad_val *new_draws(ad_tape *t, vi_basetype b, int arr, int ndims, size_t d0,
                         size_t d1, const char *name)
{
  vi_type ty = {b, arr, NULL};
  size_t dims[2] = {d0, d1};
  ad_val *out = ad_new(t, ty, ndims, dims, 1, 0);
  if (!out) ad_tape_set_error(t, "%s: out of memory", name);
  return out;
}

static double *rng_buf(ad_tape *t, size_t n, const char *name)
{
  double *p = ad_alloc(t, (n ? n : 1) * sizeof *p);
  if (!p) ad_tape_set_error(t, "%s: out of memory", name);
  return p;
}

static ad_val *categorical_common(ad_tape *t, ad_val **args, int logit, const char *name)
{
  gsl_rng *r = rng_get(t, name);
  if (!r) return NULL;
  const ad_val *th = args[0];
  size_t K = th->len;
  if (K == 0) { ad_tape_set_error(t, "%s: the vector has size 0", name); return NULL; }
  ad_val *out = new_draws(t, VT_INT, 0, 0, 0, 0, name);
  double *w = rng_buf(t, K, name);
  if (!out || !w) return NULL;
  for (size_t s = 0; s < out->nd; s++) {
    double tot = 0, mx = -INFINITY;
    for (size_t k = 0; k < K; k++) { w[k] = at(th, k, s); if (w[k] > mx) mx = w[k]; }
    if (logit) {
      if (!isfinite(mx)) { ad_tape_set_error(t, "%s: non-finite log odds", name); return NULL; }
      for (size_t k = 0; k < K; k++) { w[k] = exp(w[k] - mx); tot += w[k]; }
    } else {
      if (!dist_is_simplex(w, K, 1)) {
        ad_tape_set_error(t, "%s: theta is not a simplex", name);
        return NULL;
      }
      for (size_t k = 0; k < K; k++) tot += w[k];
    }
    out->x[s] = draw_index(r, w, K, tot);
  }
  return out;
}

ad_val *rng_categorical(ad_tape *t, ad_val **a, int n)
{
  return categorical_common(t, a, 0, "categorical_rng");
}

ad_val *rng_categorical_logit(ad_tape *t, ad_val **a, int n)
{
  return categorical_common(t, a, 1, "categorical_logit_rng");
}

/* multinomial_rng(theta, N) and multinomial_logit_rng(gamma, N) (theta = softmax(gamma)):
 * the counts, by sequential conditional binomials. */
static ad_val *multinomial_rng_common(ad_tape *t, ad_val **args, int logit)
{
  const char *name = logit ? "multinomial_logit_rng" : "multinomial_rng";
  gsl_rng *r = rng_get(t, name);
  if (!r) return NULL;
  const ad_val *th = args[0];
  size_t K = th->len;
  double Nt = args[1]->x[0];
  if (!(Nt >= 0 && Nt <= COUNT_MAX)) {
    ad_tape_set_error(t, "%s: N is %g, must be nonnegative", name, Nt);
    return NULL;
  }
  ad_val *out = new_draws(t, VT_INT, 1, 1, K, 0, name);
  double *w = rng_buf(t, K, name);
  if (!out || !w) return NULL;
  for (size_t s = 0; s < out->nd; s++) {
    for (size_t k = 0; k < K; k++) w[k] = at(th, k, s);
    if (logit) {
      double mx = -INFINITY, tot = 0;
      for (size_t k = 0; k < K; k++) if (w[k] > mx) mx = w[k];
      if (!isfinite(mx)) { ad_tape_set_error(t, "%s: non-finite log odds", name); return NULL; }
      for (size_t k = 0; k < K; k++) { w[k] = exp(w[k] - mx); tot += w[k]; }
      for (size_t k = 0; k < K; k++) w[k] /= tot;
    } else if (!dist_is_simplex(w, K, 1)) {
      ad_tape_set_error(t, "%s: theta is not a simplex", name);
      return NULL;
    }
    double left = Nt, rest = 1;
    for (size_t k = 0; k < K; k++) {
      double c = 0;
      if (k + 1 == K) c = left;
      else if (left > 0 && rest > 0) {
        double p = w[k] / rest;
        c = gsl_ran_binomial(r, p > 1 ? 1 : p < 0 ? 0 : p, (unsigned)left);
      }
      out->x[k * out->nd + s] = c;
      left -= c;
      rest -= w[k];
    }
  }
  return out;
}

ad_val *rng_multinomial(ad_tape *t, ad_val **a, int n) { return multinomial_rng_common(t, a, 0); }
ad_val *rng_multinomial_logit(ad_tape *t, ad_val **a, int n) { return multinomial_rng_common(t, a, 1); }

ad_val *rng_dirichlet(ad_tape *t, ad_val **args, int n)
{
  const char *name = "dirichlet_rng";
  gsl_rng *r = rng_get(t, name);
  if (!r) return NULL;
  const ad_val *al = args[0];
  size_t K = al->len;
  ad_val *out = new_draws(t, VT_VECTOR, 0, 1, K, 0, name);
  double *w = rng_buf(t, 2 * K, name);
  if (!out || !w) return NULL;
  for (size_t s = 0; s < out->nd; s++) {
    for (size_t k = 0; k < K; k++) {
      w[k] = at(al, k, s);
      if (!POS_OK(w[k])) { ad_tape_set_error(t, "%s: alpha[%zu] is %g, must be positive", name, k + 1, w[k]); return NULL; }
    }
    /* normalised gammas; in log space when every shape is small, where the gammas
       themselves underflow */
    double mx = -INFINITY, tot = 0;
    for (size_t k = 0; k < K; k++) {
      double lg = w[k] < 1 ? log(gsl_ran_gamma(r, w[k] + 1, 1)) + log(gsl_rng_uniform_pos(r)) / w[k]
                           : log(gsl_ran_gamma(r, w[k], 1));
      w[K + k] = lg;
      if (lg > mx) mx = lg;
    }
    for (size_t k = 0; k < K; k++) { w[K + k] = exp(w[K + k] - mx); tot += w[K + k]; }
    for (size_t k = 0; k < K; k++) out->x[k * out->nd + s] = w[K + k] / tot;
  }
  return out;
}

/* mu + L z with z standard normal, L the Cholesky factor (lower, column-major) */
static ad_val *mvn_rng_common(ad_tape *t, ad_val **args, int chol, const char *name)
{
  gsl_rng *r = rng_get(t, name);
  if (!r) return NULL;
  const ad_val *mu = args[0], *S = args[1];
  size_t K = mu->len;
  if (S->ndims != 2 || S->dims[0] != K || S->dims[1] != K) {
    ad_tape_set_error(t, "%s: size of mu (%zu) and %s (%zux%zu) differ", name, K,
                      chol ? "L" : "Sigma", S->ndims == 2 ? S->dims[0] : 0,
                      S->ndims == 2 ? S->dims[1] : 0);
    return NULL;
  }
  ad_val *out = new_draws(t, VT_VECTOR, 0, 1, K, 0, name);
  double *L = rng_buf(t, K * K + K, name);
  if (!out || !L) return NULL;
  double *z = L + K * K;
  for (size_t s = 0; s < out->nd; s++) {
    /* L row-major in the buffer: L[i * K + j] = S(i, j) (column-major source) */
    for (size_t i = 0; i < K; i++)
      for (size_t j = 0; j < K; j++) L[i * K + j] = at(S, j * K + i, s);
    if (!chol) {
      gsl_matrix_view m = gsl_matrix_view_array(L, K, K);
      gsl_error_handler_t *old = gsl_set_error_handler_off();
      int st = gsl_linalg_cholesky_decomp1(&m.matrix);
      gsl_set_error_handler(old);
      if (st) { ad_tape_set_error(t, "%s: Sigma is not positive definite", name); return NULL; }
    }
    for (size_t k = 0; k < K; k++) z[k] = gsl_ran_gaussian(r, 1);
    for (size_t i = 0; i < K; i++) {
      double v = at(mu, i, s);
      for (size_t j = 0; j <= i; j++) v += L[i * K + j] * z[j];
      out->x[i * out->nd + s] = v;
    }
  }
  return out;
}

ad_val *rng_multi_normal(ad_tape *t, ad_val **a, int n)
{
  return mvn_rng_common(t, a, 0, "multi_normal_rng");
}

ad_val *rng_multi_normal_cholesky(ad_tape *t, ad_val **a, int n)
{
  return mvn_rng_common(t, a, 1, "multi_normal_cholesky_rng");
}

/* lkj_corr_cholesky_rng(K, eta) by the onion method (Lewandowski, Kurowicka & Joe
 * 2009, section 3.2), building the Cholesky factor row by row: row i (0-based, i >= 1)
 * is (sqrt(y) u, sqrt(1 - y)) with u uniform on the unit sphere in R^i and
 * y ~ beta(i / 2, b_i), b_1 = eta + (K - 2) / 2 and b_i = b_(i-1) - 1/2.  (For i = 1 a
 * random sign times sqrt(beta(1/2, b)) is the paper's 2 beta(b, b) - 1.) */
/* One onion draw of the Cholesky factor into L (row-major K x K, zeroed above). */
static void lkj_onion(gsl_rng *r, size_t K, double eta, double *L, double *u)
{
  memset(L, 0, K * K * sizeof *L);
  L[0] = 1;
  double beta = eta + 0.5 * ((double)K - 2);
  for (size_t i = 1; i < K; i++) {
    /* onion: the squared length of row i's off-diagonal part is beta(i/2, beta_i) */
    double y = gsl_ran_beta(r, 0.5 * (double)i, beta);
    beta -= 0.5;
    double nrm = 0;
    for (size_t j = 0; j < i; j++) { u[j] = gsl_ran_gaussian(r, 1); nrm += u[j] * u[j]; }
    nrm = sqrt(nrm);
    for (size_t j = 0; j < i; j++) L[i * K + j] = sqrt(y) * u[j] / nrm;
    L[i * K + i] = sqrt(1 - y);
  }
}

/* lkj_corr_cholesky_rng(K, eta) and lkj_corr_rng(K, eta) = L L' */
static ad_val *lkj_rng_common(ad_tape *t, ad_val **args, int full)
{
  const char *name = full ? "lkj_corr_rng" : "lkj_corr_cholesky_rng";
  gsl_rng *r = rng_get(t, name);
  if (!r) return NULL;
  double Kd = args[0]->x[0];
  if (!(Kd >= 1 && Kd <= 10000)) { ad_tape_set_error(t, "%s: K is %g, must be positive", name, Kd); return NULL; }
  size_t K = (size_t)Kd;
  ad_val *out = new_draws(t, VT_MATRIX, 0, 2, K, K, name);
  double *L = rng_buf(t, K * K + K, name);
  if (!out || !L) return NULL;
  const size_t nd = out->nd;
  for (size_t s = 0; s < nd; s++) {
    double eta = at(args[1], 0, s);
    if (!POS_OK(eta)) { ad_tape_set_error(t, "%s: eta is %g, must be positive", name, eta); return NULL; }
    lkj_onion(r, K, eta, L, L + K * K);
    for (size_t i = 0; i < K; i++)
      for (size_t j = 0; j < K; j++) {
        double v = L[i * K + j];
        if (full) {
          v = 0;
          for (size_t k = 0; k <= (i < j ? i : j); k++) v += L[i * K + k] * L[j * K + k];
          if (i == j) v = 1;
        }
        out->x[(j * K + i) * nd + s] = v;
      }
  }
  return out;
}

ad_val *rng_lkj_corr_cholesky(ad_tape *t, ad_val **args, int n)
{
  return lkj_rng_common(t, args, 0);
}

ad_val *rng_lkj_corr(ad_tape *t, ad_val **args, int n)
{
  return lkj_rng_common(t, args, 1);
}

/* wishart_rng(nu, S) by GSL (Bartlett decomposition on the Cholesky factor of S);
 * inv_wishart_rng(nu, S) as the inverse of a wishart(nu, S^-1) draw. */
static ad_val *wishart_rng_common(ad_tape *t, ad_val **args, int inv)
{
  const char *name = inv ? "inv_wishart_rng" : "wishart_rng";
  gsl_rng *r = rng_get(t, name);
  if (!r) return NULL;
  const ad_val *nv = args[0], *S = args[1];
  if (S->ndims != 2 || S->dims[0] != S->dims[1]) { ad_tape_set_error(t, "%s: Sigma is not square", name); return NULL; }
  size_t K = S->dims[0];
  ad_val *out = new_draws(t, VT_MATRIX, 0, 2, K, K, name);
  double *buf = rng_buf(t, 3 * K * K + 1, name);
  if (!out || !buf) return NULL;
  double *L = buf, *Wm = L + K * K, *work = Wm + K * K;
  gsl_matrix_view Lv = gsl_matrix_view_array(L, K, K), Wv = gsl_matrix_view_array(Wm, K, K),
                  Xv = gsl_matrix_view_array(work, K, K);
  gsl_error_handler_t *old = gsl_set_error_handler_off();
  ad_val *ret = out;
  for (size_t s = 0; s < out->nd && ret; s++) {
    double nu = at(nv, 0, s);
    for (size_t i = 0; i < K; i++)
      for (size_t j = 0; j < K; j++) L[i * K + j] = at(S, j * K + i, s);
    if (!(nu > (double)K - 1 && isfinite(nu)) || gsl_linalg_cholesky_decomp1(&Lv.matrix) ||
        (inv && (gsl_linalg_cholesky_invert(&Lv.matrix) || gsl_linalg_cholesky_decomp1(&Lv.matrix)))) {
      ad_tape_set_error(t, "%s: invalid argument(s): nu = %g must exceed K - 1 = %zu and "
                           "Sigma must be positive definite", name, nu, K - 1);
      ret = NULL;
      break;
    }
    for (size_t i = 0; i < K; i++)       /* GSL reads the lower triangle */
      for (size_t j = i + 1; j < K; j++) L[i * K + j] = 0;
    if (gsl_ran_wishart(r, nu, &Lv.matrix, &Wv.matrix, &Xv.matrix) ||
        (inv && (gsl_linalg_cholesky_decomp1(&Wv.matrix) || gsl_linalg_cholesky_invert(&Wv.matrix)))) {
      ad_tape_set_error(t, "%s: draw failed", name);
      ret = NULL;
      break;
    }
    for (size_t i = 0; i < K; i++)
      for (size_t j = 0; j < K; j++) out->x[(j * K + i) * out->nd + s] = Wm[i * K + j];
  }
  gsl_set_error_handler(old);
  return ret;
}

ad_val *rng_wishart(ad_tape *t, ad_val **args, int n) { return wishart_rng_common(t, args, 0); }
ad_val *rng_inv_wishart(ad_tape *t, ad_val **args, int n) { return wishart_rng_common(t, args, 1); }

/* ordered_logistic_rng(eta, c) and ordered_probit_rng(eta, c): P(y = k) =
 * F(eta - c[k-1]) - F(eta - c[k]), F the logistic or normal cdf */
static ad_val *ordinal_rng(ad_tape *t, ad_val **args, int probit)
{
  const char *name = probit ? "ordered_probit_rng" : "ordered_logistic_rng";
  gsl_rng *r = rng_get(t, name);
  if (!r) return NULL;
  const ad_val *eta = args[0], *c = args[1];
  size_t Km1 = c->len, K = Km1 + 1;
  ad_val *out = new_draws(t, VT_INT, 0, 0, 0, 0, name);
  double *w = rng_buf(t, K, name);
  if (!out || !w) return NULL;
  for (size_t s = 0; s < out->nd; s++) {
    double e = at(eta, 0, s), prev = 1, tot = 0;
    for (size_t k = 0; k < Km1; k++) {
      if (k > 0 && !(at(c, k, s) > at(c, k - 1, s))) {
        ad_tape_set_error(t, "%s: cut points are not increasing", name);
        return NULL;
      }
      double x = e - at(c, k, s);   /* P(y > k + 1) = F(x) */
      double q = probit ? 0.5 * erfc(-x / DIST_SQRT2) : dist_inv_logit(x);
      w[k] = prev - q; prev = q; tot += w[k];
    }
    w[Km1] = prev; tot += prev;
    if (!isfinite(e)) { ad_tape_set_error(t, "%s: eta is %g", name, e); return NULL; }
    out->x[s] = draw_index(r, w, K, tot);
  }
  return out;
}

ad_val *rng_ordered_logistic(ad_tape *t, ad_val **a, int n) { return ordinal_rng(t, a, 0); }
ad_val *rng_ordered_probit(ad_tape *t, ad_val **a, int n) { return ordinal_rng(t, a, 1); }

/* multi_student_t_rng(nu, mu, Sigma): mu + L z / sqrt(w / nu), w ~ chi-square(nu) */
ad_val *rng_multi_student_t(ad_tape *t, ad_val **args, int n)
{
  const char *name = "multi_student_t_rng";
  gsl_rng *r = rng_get(t, name);
  if (!r) return NULL;
  const ad_val *nuv = args[0], *mu = args[1], *S = args[2];
  size_t K = mu->len;
  if (S->ndims != 2 || S->dims[0] != K || S->dims[1] != K) {
    ad_tape_set_error(t, "%s: size of mu (%zu) and Sigma (%zux%zu) differ", name, K,
                      S->ndims == 2 ? S->dims[0] : 0, S->ndims == 2 ? S->dims[1] : 0);
    return NULL;
  }
  ad_val *out = new_draws(t, VT_VECTOR, 0, 1, K, 0, name);
  double *L = rng_buf(t, K * K + K, name);
  if (!out || !L) return NULL;
  double *z = L + K * K;
  gsl_error_handler_t *old = gsl_set_error_handler_off();
  ad_val *ret = out;
  for (size_t s = 0; s < out->nd; s++) {
    double nu = at(nuv, 0, s);
    for (size_t i = 0; i < K; i++)
      for (size_t j = 0; j < K; j++) L[i * K + j] = at(S, j * K + i, s);
    gsl_matrix_view m = gsl_matrix_view_array(L, K, K);
    if (!POS_OK(nu) || gsl_linalg_cholesky_decomp1(&m.matrix)) {
      ad_tape_set_error(t, "%s: invalid argument(s): nu = %g must be positive and Sigma "
                           "positive definite", name, nu);
      ret = NULL;
      break;
    }
    double sc = 1 / sqrt(gsl_ran_chisq(r, nu) / nu);
    for (size_t k = 0; k < K; k++) z[k] = gsl_ran_gaussian(r, 1);
    for (size_t i = 0; i < K; i++) {
      double v = 0;
      for (size_t j = 0; j <= i; j++) v += L[i * K + j] * z[j];
      out->x[i * out->nd + s] = at(mu, i, s) + sc * v;
    }
  }
  gsl_set_error_handler(old);
  return ret;
}
