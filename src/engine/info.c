/* info.c: information-theoretic utilities of vi/info.h (entropy, cross-entropy and KL of
 * discrete distributions, KL between Gaussians, log-sum-exp), in nats.  The identities
 * KL(P||Q) = H(P,Q) - H(P) and the Gaussian KL formula follow Cover & Thomas, "Elements of
 * Information Theory" (2nd ed.), ch. 2 and 8. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <gsl/gsl_blas.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_linalg.h>
#include <gsl/gsl_matrix.h>
#include <vi/info.h>
#include <vi/status.h>

double vi_info_entropy(const double *p, size_t n)
{
  double h = 0.0;
  for (size_t i = 0; i < n; i++)
    if (p[i] > 0.0) h -= p[i] * log(p[i]);   /* 0 log 0 = 0 */
  return h;
}

double vi_info_cross_entropy(const double *p, const double *q, size_t n)
{
  double h = 0.0;
  for (size_t i = 0; i < n; i++) {
    if (p[i] <= 0.0) continue;
    if (q[i] <= 0.0) return INFINITY;
    h -= p[i] * log(q[i]);
  }
  return h;
}

double vi_info_kl_discrete(const double *p, const double *q, size_t n)
{
  /* Summed term by term (p log(p/q)) rather than as H(P,Q) - H(P): the same value, but
   * no cancellation between two large numbers.  Each term is >= p - q, so the sum of a
   * proper pair of distributions is >= 0 up to rounding; clamp that rounding away. */
  double kl = 0.0;
  for (size_t i = 0; i < n; i++) {
    if (p[i] <= 0.0) continue;
    if (q[i] <= 0.0) return INFINITY;
    kl += p[i] * log(p[i] / q[i]);
  }
  return kl < 0.0 && kl > -1e-12 ? 0.0 : kl;
}

double vi_info_kl_diag_gaussian(size_t d, const double *mu1, const double *sd1,
                                const double *mu2, const double *sd2)
{
  double kl = 0.0;
  for (size_t j = 0; j < d; j++) {
    double r = sd1[j] / sd2[j], dm = (mu1[j] - mu2[j]) / sd2[j];
    kl += 0.5 * (r * r + dm * dm - 1.0) - log(r);
  }
  return kl;
}

/* KL(N1 || N2) = 1/2 [ tr(S2^-1 S1) + (mu2-mu1)' S2^-1 (mu2-mu1) - d + log det S2 - log det S1 ]
 * through the Cholesky factors L1, L2: tr(S2^-1 S1) = |L2^-1 L1|_F^2. */
int vi_info_kl_gaussian(size_t d, const double *mu1, const double *S1,
                        const double *mu2, const double *S2, double *kl)
{
  if (d == 0 || !mu1 || !S1 || !mu2 || !S2 || !kl) return VI_EINVAL;
  gsl_error_handler_t *old = gsl_set_error_handler_off();
  int st = VI_ENOMEM;
  gsl_matrix *L1 = gsl_matrix_alloc(d, d), *L2 = gsl_matrix_alloc(d, d);
  gsl_vector *dm = gsl_vector_alloc(d);
  if (!L1 || !L2 || !dm) goto done;
  memcpy(L1->data, S1, d * d * sizeof(double));
  memcpy(L2->data, S2, d * d * sizeof(double));
  st = VI_EINVAL;
  if (gsl_linalg_cholesky_decomp1(L1) != GSL_SUCCESS) goto done;
  if (gsl_linalg_cholesky_decomp1(L2) != GSL_SUCCESS) goto done;
  double logdet1 = 0.0, logdet2 = 0.0;
  for (size_t i = 0; i < d; i++) {
    double a = gsl_matrix_get(L1, i, i), b = gsl_matrix_get(L2, i, i);
    if (!(a > 0.0) || !(b > 0.0)) goto done;
    logdet1 += 2.0 * log(a);
    logdet2 += 2.0 * log(b);
  }
  /* tr term: solve L2 X = L1 column by column (lower triangles only). */
  double tr = 0.0;
  gsl_vector *col = dm;
  for (size_t k = 0; k < d; k++) {
    for (size_t i = 0; i < d; i++) gsl_vector_set(col, i, i >= k ? gsl_matrix_get(L1, i, k) : 0.0);
    gsl_blas_dtrsv(CblasLower, CblasNoTrans, CblasNonUnit, L2, col);
    for (size_t i = 0; i < d; i++) tr += gsl_vector_get(col, i) * gsl_vector_get(col, i);
  }
  for (size_t i = 0; i < d; i++) gsl_vector_set(dm, i, mu2[i] - mu1[i]);
  gsl_blas_dtrsv(CblasLower, CblasNoTrans, CblasNonUnit, L2, dm);
  double maha = 0.0;
  for (size_t i = 0; i < d; i++) maha += gsl_vector_get(dm, i) * gsl_vector_get(dm, i);
  *kl = 0.5 * (tr + maha - (double)d + logdet2 - logdet1);
  st = VI_SUCCESS;
done:
  gsl_matrix_free(L1);
  gsl_matrix_free(L2);
  gsl_vector_free(dm);
  gsl_set_error_handler(old);
  return st;
}

double vi_info_log_sum_exp(const double *x, size_t n)
{
  if (n == 0) return -INFINITY;
  double m = -INFINITY;
  for (size_t i = 0; i < n; i++)
    if (x[i] > m || isnan(x[i])) m = x[i];
  if (isnan(m)) return NAN;
  if (!isfinite(m)) return m;   /* all -inf, or some +inf */
  double s = 0.0;
  for (size_t i = 0; i < n; i++) s += exp(x[i] - m);
  return m + log(s);
}
