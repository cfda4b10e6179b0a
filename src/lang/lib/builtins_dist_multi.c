/* builtins_dist_multi.c: the densities whose arguments are vectors or matrices --
 * categorical, categorical_logit, multinomial, dirichlet, multi_normal,
 * multi_normal_cholesky, lkj_corr_cholesky, lkj_corr, wishart, inv_wishart and
 * ordered_logistic -- batched over the
 * draws with hand-written gradients (Stan's parameterisations; the LKJ normalising
 * constant is Lewandowski, Kurowicka & Joe 2009, eq. 16, with the Jacobian of the
 * Cholesky factorisation).  Each loops over draws outside and elements inside,
 * accumulating partials into arena arrays that the shared reverse step of
 * builtins_dist.c (dist_push_partials) multiplies by the output's adjoint.  Element k
 * of a value v in draw s is v->x[k * v->nd + s] (s = 0 when v does not vary); a
 * matrix is column-major, an array of vectors row by row. */
#include <string.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_linalg.h>
#include "lang/lib/lib.h"
#include "lang/lib/dist_impl.h"

static inline size_t dsel(const ad_val *v, size_t s) { return v->nd > 1 ? s : 0; }
static inline double at(const ad_val *v, size_t k, size_t s)
{
  return v->x[k * v->nd + dsel(v, s)];
}

/* Partial array for args[i] (len elements x ndo draws), or NULL when no gradient is
 * wanted; *fail set on OOM. */
static double *partials(ad_tape *t, ad_val *out, ad_val *a, int *fail)
{
  if (!out->adj || !a->adj) return NULL;
  double *p = dist_zeros(t, a->len * out->nd);
  if (!p) *fail = 1;
  return p;
}

/* Number of observations of an int or int[] argument. */
static size_t count_of(const ad_val *y) { return type_rank(y->type) > 0 ? y->len : 1; }

/* ---- categorical ------------------------------------------------------------ */

static ad_val *categorical_common(ad_tape *t, ad_val **args, int logit)
{
  ad_val *y = args[0], *th = args[1];
  ad_val *out = dist_new_result(t, args, 2);
  if (!out) return NULL;
  int fail = 0;
  double *P[2] = {NULL, partials(t, out, th, &fail)};
  if (fail) return NULL;
  const size_t K = th->len, M = count_of(y), ndo = out->nd;
  for (size_t s = 0; s < ndo; s++) {
    double lp = 0, lse = 0;
    if (logit) {
      double mx = -INFINITY;
      for (size_t k = 0; k < K; k++) if (at(th, k, s) > mx) mx = at(th, k, s);
      double z = 0;
      for (size_t k = 0; k < K; k++) z += exp(at(th, k, s) - mx);
      lse = mx + log(z);
      if (K == 0 || isnan(lse)) { out->x[s] = K == 0 && M == 0 ? 0 : K == 0 ? -INFINITY : NAN; continue; }
    } else if (!dist_is_simplex(th->x + dsel(th, s), K, th->nd)) {
      int nan = 0;
      for (size_t k = 0; k < K; k++) if (isnan(at(th, k, s))) nan = 1;
      out->x[s] = nan ? NAN : -INFINITY;
      continue;
    }
    int bad = 0;
    for (size_t i = 0; i < M; i++) {
      double yi = at(y, i, s);
      if (!(yi >= 1 && yi <= (double)K)) { bad = 1; break; }
      size_t k = (size_t)yi - 1;
      double v = at(th, k, s);
      if (logit) {
        lp += v;
        if (P[1]) P[1][k * ndo + s] += 1;
      } else {
        lp += log(v);
        if (P[1]) P[1][k * ndo + s] += 1 / v;
      }
    }
    if (bad) {
      out->x[s] = -INFINITY;
      if (P[1]) for (size_t k = 0; k < K; k++) P[1][k * ndo + s] = 0;
      continue;
    }
    if (logit) {
      lp -= (double)M * lse;
      if (P[1])
        for (size_t k = 0; k < K; k++) P[1][k * ndo + s] -= (double)M * exp(at(th, k, s) - lse);
    }
    out->x[s] = lp;
  }
  if (dist_push_partials(t, out, args, 2, P)) return NULL;
  return out;
}

ad_val *dist_categorical_lpmf(ad_tape *t, ad_val **a, int n)
{
  return categorical_common(t, a, 0);
}

ad_val *dist_categorical_logit_lpmf(ad_tape *t, ad_val **a, int n)
{
  return categorical_common(t, a, 1);
}

/* ---- multinomial ------------------------------------------------------------ */

/* multinomial(y | theta) and multinomial_logit(y | gamma), theta = softmax(gamma) */
static ad_val *multinomial_common(ad_tape *t, ad_val **args, int logit)
{
  const char *name = logit ? "multinomial_logit_lpmf" : "multinomial_lpmf";
  ad_val *y = args[0], *th = args[1];
  const size_t K = th->len;
  if (y->len != K) {
    ad_tape_set_error(t, "%s: size of y (%zu) and %s (%zu) differ", name, y->len,
                      logit ? "gamma" : "theta", K);
    return NULL;
  }
  ad_val *out = dist_new_result(t, args, 2);
  if (!out) return NULL;
  int fail = 0;
  double *P[2] = {NULL, partials(t, out, th, &fail)};
  if (fail) return NULL;
  const size_t ndo = out->nd;
  for (size_t s = 0; s < ndo; s++) {
    double lse = 0;
    if (logit) {
      double mx = -INFINITY, z = 0;
      for (size_t k = 0; k < K; k++) if (at(th, k, s) > mx) mx = at(th, k, s);
      for (size_t k = 0; k < K; k++) z += exp(at(th, k, s) - mx);
      lse = mx + log(z);
      if (isnan(lse)) { out->x[s] = NAN; continue; }
    } else if (!dist_is_simplex(th->x + dsel(th, s), K, th->nd)) {
      out->x[s] = -INFINITY;
      continue;
    }
    double lp = 0, N = 0;
    int bad = 0;
    for (size_t k = 0; k < K; k++) {
      double yk = at(y, k, s), tk = at(th, k, s);
      if (yk < 0) { bad = 1; break; }
      N += yk;
      lp -= lgamma(yk + 1);
      if (yk > 0) {
        lp += yk * (logit ? tk - lse : log(tk));
        if (P[1]) P[1][k * ndo + s] = logit ? yk : yk / tk;
      }
    }
    if (bad) {
      out->x[s] = -INFINITY;
      if (P[1]) for (size_t k = 0; k < K; k++) P[1][k * ndo + s] = 0;
      continue;
    }
    if (logit && P[1])
      for (size_t k = 0; k < K; k++) P[1][k * ndo + s] -= N * exp(at(th, k, s) - lse);
    out->x[s] = lp + lgamma(N + 1);
  }
  if (dist_push_partials(t, out, args, 2, P)) return NULL;
  return out;
}

ad_val *dist_multinomial_lpmf(ad_tape *t, ad_val **a, int n)
{
  return multinomial_common(t, a, 0);
}

ad_val *dist_multinomial_logit_lpmf(ad_tape *t, ad_val **a, int n)
{
  return multinomial_common(t, a, 1);
}

/* ---- dirichlet -------------------------------------------------------------- */

ad_val *dist_dirichlet_lpdf(ad_tape *t, ad_val **args, int n)
{
  ad_val *th = args[0], *al = args[1];
  const size_t K = th->len;
  if (al->len != K) {
    ad_tape_set_error(t, "dirichlet_lpdf: size of theta (%zu) and alpha (%zu) differ", K,
                      al->len);
    return NULL;
  }
  ad_val *out = dist_new_result(t, args, 2);
  if (!out) return NULL;
  int fail = 0;
  double *P[2] = {partials(t, out, th, &fail), partials(t, out, al, &fail)};
  if (fail) return NULL;
  const size_t ndo = out->nd;
  for (size_t s = 0; s < ndo; s++) {
    double sa = 0;
    int bad = !dist_is_simplex(th->x + dsel(th, s), K, th->nd), nan = 0;
    for (size_t k = 0; k < K; k++) {
      double a = at(al, k, s);
      if (isnan(a) || isnan(at(th, k, s))) nan = 1;
      if (!(a > 0)) bad = 1;
      sa += a;
    }
    if (nan || bad) { out->x[s] = nan ? NAN : -INFINITY; continue; }
    double lp = lgamma(sa), dsa = P[1] ? dist_digamma(sa) : 0;
    for (size_t k = 0; k < K; k++) {
      double a = at(al, k, s), tk = at(th, k, s), lt = log(tk);
      lp += -lgamma(a) + (a == 1 ? 0 : (a - 1) * lt);
      if (P[0]) P[0][k * ndo + s] = (a - 1) / tk;
      if (P[1]) P[1][k * ndo + s] = dsa - dist_digamma(a) + lt;
    }
    out->x[s] = lp;
  }
  if (dist_push_partials(t, out, args, 2, P)) return NULL;
  return out;
}

/* ---- multi_normal and multi_normal_cholesky --------------------------------- */

/* Shape of a vector or array-of-vectors argument: count M and length K. */
static void mv_shape(const ad_val *v, size_t *M, size_t *K)
{
  if (v->type.ndims > 0) { *M = v->dims[0]; *K = v->dims[0] ? v->len / v->dims[0] : 0; }
  else { *M = 1; *K = v->len; }
}

enum { MVN_COV, MVN_CHOL, MVN_PREC, MVN_T };

/* The multivariate normal family: y ~ N(mu, Sigma) with Sigma given as a covariance
 * (MVN_COV), a Cholesky factor L (MVN_CHOL), a precision Omega (MVN_PREC), or the
 * multivariate Student t with nu degrees of freedom (MVN_T: arguments y, nu, mu,
 * Sigma).  y and mu are vectors or arrays of vectors (one mu may serve every y).  Per
 * draw: one Cholesky factorisation, then triangular solves per observation; the
 * matrix gradient is the symmetric one (d/dSigma_ij = d/dSigma_ji), except for L
 * (lower triangle only). */
static ad_val *mvn_common(ad_tape *t, ad_val **args, int mode)
{
  static const char *const names[] = {"multi_normal_lpdf", "multi_normal_cholesky_lpdf",
                                      "multi_normal_prec_lpdf", "multi_student_t_lpdf"};
  static const char *const snames[] = {"Sigma", "L", "Omega", "Sigma"};
  const char *name = names[mode], *sname = snames[mode];
  const int na = mode == MVN_T ? 4 : 3;
  ad_val *y = args[0], *nuv = mode == MVN_T ? args[1] : NULL;
  ad_val *mu = args[na - 2], *S = args[na - 1];
  size_t My, Ky, Mm, Km;
  mv_shape(y, &My, &Ky);
  mv_shape(mu, &Mm, &Km);
  size_t K = S->ndims == 2 ? S->dims[0] : 0;
  if (S->ndims != 2 || S->dims[1] != K) {
    ad_tape_set_error(t, "%s: %s is not square", name, sname);
    return NULL;
  }
  if (Ky != K || Km != K) {
    ad_tape_set_error(t, "%s: size of %s (%zu) and %s (%zux%zu) differ", name,
                      Ky != K ? "y" : "mu", Ky != K ? Ky : Km, sname, K, K);
    return NULL;
  }
  if (y->type.ndims > 0 && mu->type.ndims > 0 && My != Mm) {
    ad_tape_set_error(t, "%s: size of y (%zu) and mu (%zu) differ", name, My, Mm);
    return NULL;
  }
  const size_t M = y->type.ndims > 0 ? My : Mm;
  const size_t ym = y->type.ndims > 0 ? K : 0, mm = mu->type.ndims > 0 ? K : 0;
  const double Md = (double)M, Kd = (double)K;
  ad_val *out = dist_new_result(t, args, na);
  if (!out) return NULL;
  int fail = 0;
  double *Py = partials(t, out, y, &fail), *Pm = partials(t, out, mu, &fail);
  double *PS = partials(t, out, S, &fail), *Pn = nuv ? partials(t, out, nuv, &fail) : NULL;
  double *L = ad_alloc(t, (K * K + 2 * K + 1) * sizeof(double));
  if (fail || !L) { if (!L) ad_tape_set_error(t, "%s: out of memory", name); return NULL; }
  double *z = L + K * K, *a = z + K;
  const size_t ndo = out->nd;
  const int grad = Py || Pm || PS || Pn;
  gsl_error_handler_t *old = gsl_set_error_handler_off();
  for (size_t s = 0; s < ndo; s++) {
    int bad = 0, nan = 0;
    double nu = nuv ? at(nuv, 0, s) : 0;
    if (nuv) { if (isnan(nu)) nan = 1; else if (!(nu > 0)) bad = 1; }
    /* L row-major: L[i * K + j] = matrix(i, j) */
    for (size_t i = 0; i < K; i++)
      for (size_t j = 0; j < K; j++) {
        double v = at(S, j * K + i, s);
        if (isnan(v)) nan = 1;
        L[i * K + j] = v;
      }
    if (!nan && !bad && mode != MVN_CHOL) {
      for (size_t i = 0; i < K && !bad; i++)
        for (size_t j = 0; j < i; j++) {
          double u = L[i * K + j], w = L[j * K + i];
          if (fabs(u - w) > 1e-8 * fmax(1, fmax(fabs(u), fabs(w)))) { bad = 1; break; }
        }
      if (!bad) {
        gsl_matrix_view mv = gsl_matrix_view_array(L, K, K);
        if (gsl_linalg_cholesky_decomp1(&mv.matrix)) bad = 1;
      }
    }
    double logdet = 0;   /* sum log L_ii */
    for (size_t i = 0; i < K && !bad && !nan; i++) {
      if (!(L[i * K + i] > 0)) bad = 1;
      else logdet += log(L[i * K + i]);
    }
    if (nan || bad) { out->x[s] = nan ? NAN : -INFINITY; continue; }
    double lp = 0, dnu = 0;
    for (size_t m = 0; m < M; m++) {
      double q = 0;
      if (mode == MVN_PREC) {
        /* Omega = L L': z = L' r, q = z'z, a = L z = Omega r */
        for (size_t i = 0; i < K; i++) a[i] = at(y, m * ym + i, s) - at(mu, m * mm + i, s);
        for (size_t i = 0; i < K; i++) {
          double v = 0;
          for (size_t j = i; j < K; j++) v += L[j * K + i] * a[j];
          z[i] = v;
          q += v * v;
        }
        if (PS)
          for (size_t j = 0; j < K; j++)
            for (size_t i = 0; i < K; i++) PS[(j * K + i) * ndo + s] -= 0.5 * a[i] * a[j];
        for (size_t i = K; i-- > 0;) {
          double v = 0;
          for (size_t j = 0; j <= i; j++) v += L[i * K + j] * z[j];
          a[i] = v;
        }
      } else {
        /* z = L^-1 (y - mu) by forward substitution */
        for (size_t i = 0; i < K; i++) {
          double v = at(y, m * ym + i, s) - at(mu, m * mm + i, s);
          for (size_t j = 0; j < i; j++) v -= L[i * K + j] * z[j];
          z[i] = v / L[i * K + i];
          q += z[i] * z[i];
        }
        if (grad)   /* a = L^-T z = Sigma^-1 (y - mu) by back substitution */
          for (size_t i = K; i-- > 0;) {
            double v = z[i];
            for (size_t j = i + 1; j < K; j++) v -= L[j * K + i] * a[j];
            a[i] = v / L[i * K + i];
          }
      }
      double f = 1;
      if (mode == MVN_T) {
        lp -= 0.5 * (nu + Kd) * log1p(q / nu);
        f = (nu + Kd) / (nu + q);
        if (Pn) dnu += -0.5 * log1p(q / nu) + 0.5 * (nu + Kd) * q / (nu * (nu + q));
      } else {
        lp -= 0.5 * q;
      }
      if (!grad) continue;
      for (size_t i = 0; i < K; i++) {
        if (Py) Py[(m * ym + i) * ndo + s] -= f * a[i];
        if (Pm) Pm[(m * mm + i) * ndo + s] += f * a[i];
      }
      if (PS && mode != MVN_PREC)
        /* Sigma: 0.5 f a a' (the -0.5 M Sigma^-1 part below); L: a z' (lower part) */
        for (size_t j = 0; j < K; j++)
          for (size_t i = mode == MVN_CHOL ? j : 0; i < K; i++)
            PS[(j * K + i) * ndo + s] += mode == MVN_CHOL ? a[i] * z[j] : 0.5 * f * a[i] * a[j];
    }
    if (PS) {
      if (mode == MVN_CHOL) {
        for (size_t i = 0; i < K; i++) PS[(i * K + i) * ndo + s] -= Md / L[i * K + i];
      } else {
        /* -0.5 M Sigma^-1, or +0.5 M Omega^-1 */
        gsl_matrix_view mv = gsl_matrix_view_array(L, K, K);
        if (gsl_linalg_cholesky_invert(&mv.matrix) == 0) {
          double c = mode == MVN_PREC ? 0.5 * Md : -0.5 * Md;
          for (size_t j = 0; j < K; j++)
            for (size_t i = 0; i < K; i++) PS[(j * K + i) * ndo + s] += c * L[i * K + j];
        }
      }
    }
    if (mode == MVN_T) {
      double h = 0.5 * (nu + Kd);
      lp += Md * (lgamma(h) - lgamma(0.5 * nu) - 0.5 * Kd * (log(nu) + DIST_LOG_PI)) - Md * logdet;
      if (Pn) Pn[s] = dnu + Md * (0.5 * dist_digamma(h) - 0.5 * dist_digamma(0.5 * nu) - 0.5 * Kd / nu);
    } else {
      lp += -Md * Kd * DIST_LOG_SQRT_2PI + (mode == MVN_PREC ? Md : -Md) * logdet;
    }
    out->x[s] = lp;
  }
  gsl_set_error_handler(old);
  double *P[4];
  if (mode == MVN_T) { P[0] = Py; P[1] = Pn; P[2] = Pm; P[3] = PS; }
  else { P[0] = Py; P[1] = Pm; P[2] = PS; }
  if (dist_push_partials(t, out, args, na, P)) return NULL;
  return out;
}

ad_val *dist_multi_normal_lpdf(ad_tape *t, ad_val **a, int n)
{
  return mvn_common(t, a, MVN_COV);
}

ad_val *dist_multi_normal_cholesky_lpdf(ad_tape *t, ad_val **a, int n)
{
  return mvn_common(t, a, MVN_CHOL);
}

ad_val *dist_multi_normal_prec_lpdf(ad_tape *t, ad_val **a, int n)
{
  return mvn_common(t, a, MVN_PREC);
}

ad_val *dist_multi_student_t_lpdf(ad_tape *t, ad_val **a, int n)
{
  return mvn_common(t, a, MVN_T);
}

/* ---- lkj_corr_cholesky ------------------------------------------------------ */

/* log of the LKJ normalising constant c_K(eta) (LKJ 2009, eq. 16) and its derivative:
 * c = prod_{k=1}^{K-1} 2^{(2 eta - 2 + K - k)(K - k)} B(b_k, b_k)^{K - k},
 * b_k = eta + (K - k - 1) / 2. */
static double lkj_log_c(double eta, size_t K, double *deta)
{
  double lc = 0, d = 0;
  for (size_t k = 1; k < K; k++) {
    double Kk = (double)(K - k), b = eta + 0.5 * (Kk - 1);
    lc += (2 * eta - 2 + Kk) * Kk * DIST_LOG_2 + Kk * dist_lbeta(b, b);
    if (deta) d += 2 * Kk * DIST_LOG_2 + 2 * Kk * (dist_digamma(b) - dist_digamma(2 * b));
  }
  if (deta) *deta = d;
  return lc;
}

ad_val *dist_lkj_corr_cholesky_lpdf(ad_tape *t, ad_val **args, int n)
{
  ad_val *Lv = args[0], *ev = args[1];
  size_t K = Lv->ndims == 2 ? Lv->dims[0] : 0;
  if (Lv->ndims != 2 || Lv->dims[1] != K) {
    ad_tape_set_error(t, "lkj_corr_cholesky_lpdf: L is not square");
    return NULL;
  }
  ad_val *out = dist_new_result(t, args, 2);
  if (!out) return NULL;
  int fail = 0;
  double *P[2] = {partials(t, out, Lv, &fail), partials(t, out, ev, &fail)};
  if (fail) return NULL;
  const size_t ndo = out->nd;
  for (size_t s = 0; s < ndo; s++) {
    double eta = at(ev, 0, s);
    int bad = !(eta > 0), nan = isnan(eta);
    /* a Cholesky factor of a correlation matrix: lower triangular, positive diagonal,
       rows of unit length */
    for (size_t i = 0; i < K && !nan; i++) {
      double r2 = 0;
      for (size_t j = 0; j < K; j++) {
        double v = at(Lv, j * K + i, s);
        if (isnan(v)) nan = 1;
        if (j > i && v != 0) bad = 1;
        if (j <= i) r2 += v * v;
      }
      if (!(at(Lv, i * K + i, s) > 0) || fabs(r2 - 1) > 1e-8) bad = 1;
    }
    if (nan || bad) { out->x[s] = nan ? NAN : -INFINITY; continue; }
    double dc, lp = -lkj_log_c(eta, K, P[1] ? &dc : NULL), slog = 0;
    for (size_t r = 1; r < K; r++) {   /* 0-based row r: exponent K - r - 3 + 2 eta */
      double Lrr = at(Lv, r * K + r, s), c = (double)K - (double)r - 3 + 2 * eta;
      double l = log(Lrr);
      lp += c * l;
      slog += l;
      if (P[0]) P[0][(r * K + r) * ndo + s] = c / Lrr;
    }
    if (P[1]) P[1][s] = 2 * slog - dc;
    out->x[s] = lp;
  }
  if (dist_push_partials(t, out, args, 2, P)) return NULL;
  return out;
}

/* ---- symmetric positive-definite matrices: lkj_corr, wishart, inv_wishart ---------- */

/* Copy draw s of the K x K matrix v into buf (row-major; symmetric, so either order).
 * Returns 0, 1 if not symmetric (relative 1e-8), 2 if NaN. */
static int load_sym(const ad_val *v, size_t s, double *buf, size_t K)
{
  int st = 0;
  for (size_t i = 0; i < K; i++)
    for (size_t j = 0; j < K; j++) {
      double a = at(v, j * K + i, s);
      if (isnan(a)) return 2;
      buf[i * K + j] = a;
    }
  for (size_t i = 0; i < K && !st; i++)
    for (size_t j = 0; j < i; j++) {
      double u = buf[i * K + j], w = buf[j * K + i];
      if (fabs(u - w) > 1e-8 * fmax(1, fmax(fabs(u), fabs(w)))) { st = 1; break; }
    }
  return st;
}

/* In place: buf (K x K, symmetric) becomes its inverse; *logdet = log det.  Returns 0,
 * or -1 if not positive definite. */
static int spd_inverse(double *buf, size_t K, double *logdet)
{
  gsl_matrix_view mv = gsl_matrix_view_array(buf, K, K);
  if (gsl_linalg_cholesky_decomp1(&mv.matrix)) return -1;
  double ld = 0;
  for (size_t i = 0; i < K; i++) {
    double d = buf[i * K + i];
    if (!(d > 0)) return -1;
    ld += 2 * log(d);
  }
  *logdet = ld;
  if (gsl_linalg_cholesky_invert(&mv.matrix)) return -1;
  return 0;
}

static size_t square_side(ad_tape *t, const char *name, const char *arg, const ad_val *v)
{
  if (v->ndims != 2 || v->dims[0] != v->dims[1]) {
    ad_tape_set_error(t, "%s: %s is not square", name, arg);
    return (size_t)-1;
  }
  return v->dims[0];
}

/* lkj_corr(R | eta) = (eta - 1) log det R - log c_K(eta), R a correlation matrix */
ad_val *dist_lkj_corr_lpdf(ad_tape *t, ad_val **args, int n)
{
  const char *name = "lkj_corr_lpdf";
  ad_val *Rv = args[0], *ev = args[1];
  size_t K = square_side(t, name, "y", Rv);
  if (K == (size_t)-1) return NULL;
  ad_val *out = dist_new_result(t, args, 2);
  if (!out) return NULL;
  int fail = 0;
  double *P[2] = {partials(t, out, Rv, &fail), partials(t, out, ev, &fail)};
  double *buf = ad_alloc(t, (K * K + 1) * sizeof *buf);
  if (fail || !buf) { if (!buf) ad_tape_set_error(t, "%s: out of memory", name); return NULL; }
  const size_t ndo = out->nd;
  gsl_error_handler_t *old = gsl_set_error_handler_off();
  for (size_t s = 0; s < ndo; s++) {
    double eta = at(ev, 0, s), ld = 0;
    int st = load_sym(Rv, s, buf, K);
    if (st == 2 || isnan(eta)) { out->x[s] = NAN; continue; }
    for (size_t i = 0; i < K && !st; i++) if (fabs(buf[i * K + i] - 1) > 1e-8) st = 1;
    if (st || !(eta > 0) || spd_inverse(buf, K, &ld)) { out->x[s] = -INFINITY; continue; }
    double dc, lc = lkj_log_c(eta, K, P[1] ? &dc : NULL);
    out->x[s] = (eta == 1 ? 0 : (eta - 1) * ld) - lc;
    if (P[0])
      for (size_t k = 0; k < K * K; k++) P[0][k * ndo + s] = (eta - 1) * buf[k];
    if (P[1]) P[1][s] = ld - dc;
  }
  gsl_set_error_handler(old);
  if (dist_push_partials(t, out, args, 2, P)) return NULL;
  return out;
}

/* log of the multivariate gamma function Gamma_K(a), and d/da */
static double lmgamma(size_t K, double a, double *da)
{
  double v = 0.25 * (double)K * ((double)K - 1) * DIST_LOG_PI, d = 0;
  for (size_t j = 1; j <= K; j++) {
    double b = a + 0.5 * (1 - (double)j);
    v += lgamma(b);
    if (da) d += dist_digamma(b);
  }
  if (da) *da = d;
  return v;
}

/* wishart(W | nu, S) and inv_wishart(W | nu, S) (Stan Functions Reference) */
static ad_val *wishart_common(ad_tape *t, ad_val **args, int inv)
{
  const char *name = inv ? "inv_wishart_lpdf" : "wishart_lpdf";
  ad_val *Wv = args[0], *nv = args[1], *Sv = args[2];
  size_t K = square_side(t, name, "W", Wv);
  if (K == (size_t)-1) return NULL;
  size_t KS = square_side(t, name, "Sigma", Sv);
  if (KS == (size_t)-1) return NULL;
  if (KS != K) {
    ad_tape_set_error(t, "%s: size of W (%zux%zu) and Sigma (%zux%zu) differ", name, K, K, KS, KS);
    return NULL;
  }
  ad_val *out = dist_new_result(t, args, 3);
  if (!out) return NULL;
  int fail = 0;
  double *P[3] = {partials(t, out, Wv, &fail), partials(t, out, nv, &fail),
                  partials(t, out, Sv, &fail)};
  double *W = ad_alloc(t, (3 * K * K + 1) * sizeof *W);
  if (fail || !W) { if (!W) ad_tape_set_error(t, "%s: out of memory", name); return NULL; }
  double *Wi = W + K * K, *Si = Wi + K * K;
  const size_t ndo = out->nd;
  const double Kd = (double)K;
  gsl_error_handler_t *old = gsl_set_error_handler_off();
  for (size_t s = 0; s < ndo; s++) {
    double nu = at(nv, 0, s), ldW, ldS;
    int a = load_sym(Wv, s, W, K), b = load_sym(Sv, s, Si, K);
    if (a == 2 || b == 2 || isnan(nu)) { out->x[s] = NAN; continue; }
    memcpy(Wi, W, K * K * sizeof *W);
    if (a || b || !(nu > Kd - 1) || spd_inverse(Wi, K, &ldW) || spd_inverse(Si, K, &ldS)) {
      out->x[s] = -INFINITY;
      continue;
    }
    /* S itself again (Si now holds its inverse) */
    double dmg, mg = lmgamma(K, 0.5 * nu, P[1] ? &dmg : NULL), tr = 0, lp;
    if (!inv) {
      for (size_t k = 0; k < K * K; k++) tr += Si[k] * W[k];   /* tr(S^-1 W), symmetric */
      lp = 0.5 * (nu - Kd - 1) * ldW - 0.5 * tr - 0.5 * nu * Kd * DIST_LOG_2 - 0.5 * nu * ldS - mg;
      if (P[0])
        for (size_t k = 0; k < K * K; k++) P[0][k * ndo + s] = 0.5 * (nu - Kd - 1) * Wi[k] - 0.5 * Si[k];
      if (P[2])
        for (size_t i = 0; i < K; i++)
          for (size_t j = 0; j < K; j++) {
            double q = 0;   /* (S^-1 W S^-1)_ij */
            for (size_t k = 0; k < K; k++)
              for (size_t l = 0; l < K; l++) q += Si[i * K + k] * W[k * K + l] * Si[l * K + j];
            P[2][(j * K + i) * ndo + s] = -0.5 * nu * Si[i * K + j] + 0.5 * q;
          }
      if (P[1]) P[1][s] = 0.5 * ldW - 0.5 * Kd * DIST_LOG_2 - 0.5 * ldS - 0.5 * dmg;
    } else {
      /* Sv's matrix is S, Si its inverse; tr(S W^-1) */
      for (size_t i = 0; i < K; i++)
        for (size_t j = 0; j < K; j++) tr += at(Sv, j * K + i, s) * Wi[j * K + i];
      lp = 0.5 * nu * ldS - 0.5 * nu * Kd * DIST_LOG_2 - mg - 0.5 * (nu + Kd + 1) * ldW - 0.5 * tr;
      if (P[0])
        for (size_t i = 0; i < K; i++)
          for (size_t j = 0; j < K; j++) {
            double q = 0;   /* (W^-1 S W^-1)_ij */
            for (size_t k = 0; k < K; k++)
              for (size_t l = 0; l < K; l++) q += Wi[i * K + k] * at(Sv, l * K + k, s) * Wi[l * K + j];
            P[0][(j * K + i) * ndo + s] = -0.5 * (nu + Kd + 1) * Wi[i * K + j] + 0.5 * q;
          }
      if (P[2])
        for (size_t k = 0; k < K * K; k++) P[2][k * ndo + s] = 0.5 * nu * Si[k] - 0.5 * Wi[k];
      if (P[1]) P[1][s] = 0.5 * ldS - 0.5 * Kd * DIST_LOG_2 - 0.5 * dmg - 0.5 * ldW;
    }
    out->x[s] = lp;
  }
  gsl_set_error_handler(old);
  if (dist_push_partials(t, out, args, 3, P)) return NULL;
  return out;
}

ad_val *dist_wishart_lpdf(ad_tape *t, ad_val **a, int n) { return wishart_common(t, a, 0); }
ad_val *dist_inv_wishart_lpdf(ad_tape *t, ad_val **a, int n) { return wishart_common(t, a, 1); }

/* ---- ordered_logistic --------------------------------------------------------- */

/* log(F(a) - F(b)), a > b, F the logistic or normal cdf, with its partials; a = +inf
 * and b = -inf stand for the open ends of the first and last categories. */
static double ordinal_term(int probit, double a, double b, double *da, double *db)
{
  *da = *db = 0;
  if (!probit) {
    if (b == -INFINITY) { *da = dist_inv_logit(-a); return -dist_log1p_exp(-a); }
    if (a == INFINITY) { *db = -dist_inv_logit(b); return -dist_log1p_exp(b); }
    /* log(inv_logit(a) - inv_logit(b)) = log inv_logit(a) + log inv_logit(-b)
       + log(1 - exp(b - a)) */
    double r = 1 / expm1(a - b);
    *da = dist_inv_logit(-a) + r;
    *db = -dist_inv_logit(b) - r;
    return -dist_log1p_exp(-a) - dist_log1p_exp(b) + log(-expm1(b - a));
  }
  if (b == -INFINITY) { double v = dist_log_Phi(a); *da = dist_dlog_Phi(a, v); return v; }
  if (a == INFINITY) { double v = dist_log_Phi(-b); *db = -dist_dlog_Phi(-b, v); return v; }
  /* difference of the tails on the side where they are small */
  double la, lb, v;
  if (b > 0) {
    la = dist_log_Phi(-a); lb = dist_log_Phi(-b);      /* upper tails: Q(b) - Q(a) */
    v = lb + log(-expm1(la - lb));
  } else {
    la = dist_log_Phi(a); lb = dist_log_Phi(b);
    v = la + log(-expm1(lb - la));
  }
  *da = exp(-0.5 * a * a - DIST_LOG_SQRT_2PI - v);
  *db = -exp(-0.5 * b * b - DIST_LOG_SQRT_2PI - v);
  return v;
}

static ad_val *ordinal_common(ad_tape *t, ad_val **args, int probit)
{
  const char *name = probit ? "ordered_probit_lpmf" : "ordered_logistic_lpmf";
  ad_val *y = args[0], *eta = args[1], *c = args[2];
  const size_t M = count_of(y), Km1 = c->len;
  int eta_vec = type_rank(eta->type) > 0;
  if (eta_vec && eta->len != M) {
    ad_tape_set_error(t, "%s: size of k (%zu) and eta (%zu) differ", name, M,
                      eta->len);
    return NULL;
  }
  ad_val *out = dist_new_result(t, args, 3);
  if (!out) return NULL;
  int fail = 0;
  double *P[3] = {NULL, partials(t, out, eta, &fail), partials(t, out, c, &fail)};
  if (fail) return NULL;
  const size_t ndo = out->nd;
  for (size_t s = 0; s < ndo; s++) {
    int bad = 0, nan = 0;
    for (size_t k = 0; k < Km1; k++) {
      if (isnan(at(c, k, s))) nan = 1;
      if (k > 0 && !(at(c, k, s) > at(c, k - 1, s))) bad = 1;
    }
    double lp = 0;
    for (size_t i = 0; i < M && !bad && !nan; i++) {
      double yi = at(y, i, s), e = at(eta, eta_vec ? i : 0, s);
      if (isnan(e)) { nan = 1; break; }
      if (!(yi >= 1 && yi <= (double)Km1 + 1) || Km1 == 0) { bad = 1; break; }
      size_t k = (size_t)yi;   /* 1-based category */
      double a = k == 1 ? INFINITY : e - at(c, k - 2, s);
      double b = k == Km1 + 1 ? -INFINITY : e - at(c, k - 1, s);
      double da, db;
      lp += ordinal_term(probit, a, b, &da, &db);
      double de = da + db, dlo = -da, dhi = -db;   /* d/d eta, d/d c[k-1], d/d c[k] */
      if (P[1]) P[1][(eta_vec ? i : 0) * ndo + s] += de;
      if (P[2]) {
        if (k >= 2) P[2][(k - 2) * ndo + s] += dlo;
        if (k <= Km1) P[2][(k - 1) * ndo + s] += dhi;
      }
    }
    if (nan || bad) {
      out->x[s] = nan ? NAN : -INFINITY;
      if (P[1]) for (size_t i = 0; i < (eta_vec ? M : 1); i++) P[1][i * ndo + s] = 0;
      if (P[2]) for (size_t k = 0; k < Km1; k++) P[2][k * ndo + s] = 0;
      continue;
    }
    out->x[s] = lp;
  }
  if (dist_push_partials(t, out, args, 3, P)) return NULL;
  return out;
}

ad_val *dist_ordered_logistic_lpmf(ad_tape *t, ad_val **a, int n)
{
  return ordinal_common(t, a, 0);
}

ad_val *dist_ordered_probit_lpmf(ad_tape *t, ad_val **a, int n)
{
  return ordinal_common(t, a, 1);
}
