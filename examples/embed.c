/* embed.c: the smallest use of libvi from C, as shown in the README.  The model is a
 * hand-written log joint with gradient: a correlated 2-D Gaussian "posterior"
 * N(m, S) with S = [[1, rho], [rho, 1]].  Its normaliser is known (log p(X) = 0 here, as
 * the density integrates to one), so the fit's KL(q || p) is exact.  The mean-field
 * optimum is known too: mean m, sd sqrt(1 - rho^2) (the reciprocal of the precision's
 * diagonal, square-rooted).  The linear-response covariance after the fit (vi/lrvb.h)
 * recovers S itself.  The program exits 0 when the fit and the covariance are right. */
#include <math.h>
#include <stdio.h>
#include <vi.h>

#define RHO 0.8
#define LOG_2PI 1.8378770664093454836

/* log N(z; m, S) and its gradient at n points z[s*2 .. s*2+1]. */
static int log_joint(void *ctx, size_t n, const double *z, double *lp, double *grad)
{
  const double *m = ctx, det = 1 - RHO * RHO;
  for (size_t s = 0; s < n; s++) {
    double a = z[2 * s] - m[0], b = z[2 * s + 1] - m[1];
    double pa = (a - RHO * b) / det, pb = (b - RHO * a) / det;   /* S^-1 (z - m) */
    lp[s] = -0.5 * (a * pa + b * pb) - LOG_2PI - 0.5 * log(det);
    if (grad) { grad[2 * s] = -pa; grad[2 * s + 1] = -pb; }
  }
  return VI_SUCCESS;
}

int main(void)
{
  double m[2] = {1.0, -2.0};
  vi_model model = {.dim = 2, .log_joint = log_joint, .ctx = m,
                    .has_log_evidence = 1, .log_evidence = 0.0};
  vi_options opt;
  vi_options_default(&opt);                /* fixed draws, M = 32, BFGS */

  int status;
  vi_fit *fit = vi_fit_alloc(&model, &opt, &status);
  if (!fit) { fprintf(stderr, "vi_fit_alloc: %s\n", vi_strerror(status)); return 1; }
  do {
    status = vi_fit_iterate(fit);
    if (status < 0) break;
    const vi_diag *d = vi_fit_diag(fit);
    printf("iter %3zu  ELBO %9.5f + KL %8.5f = log p(X) %g\n", d->iter, d->elbo, d->kl,
           d->log_evidence);
    status = vi_fit_test(fit);
  } while (status == VI_CONTINUE);
  printf("stopped: %s\n", vi_stop_reason_string(vi_fit_stop_reason(fit)));

  const double *mu = vi_fit_mean(fit), *sd = vi_fit_sd(fit);
  printf("q: mean (%.3f, %.3f)  sd (%.3f, %.3f)   optimum sd %.3f\n", mu[0], mu[1], sd[0],
         sd[1], sqrt(1 - RHO * RHO));
  int ok = fabs(mu[0] - m[0]) < 0.1 && fabs(mu[1] - m[1]) < 0.1 &&
           fabs(sd[0] - sqrt(1 - RHO * RHO)) < 0.1;

  double cov[4];                           /* D x D, row-major */
  status = vi_fit_lrvb(fit, cov, NULL);
  printf("LRVB: sd (%.6f, %.6f)  correlation %.6f   exact 1, 1, %.1f (%s)\n", sqrt(cov[0]),
         sqrt(cov[3]), cov[1] / sqrt(cov[0] * cov[3]), RHO, vi_strerror(status));
  ok = ok && status == VI_SUCCESS && fabs(cov[0] - 1) < 1e-6 && fabs(cov[1] - RHO) < 1e-6;
  vi_fit_free(fit);
  return ok ? 0 : 1;
}
