/* transforms.c: Stan's constraint transforms (Stan Reference Manual, "Constraint
 * transforms", as implemented in Stan Math 2.3x: lb_constrain, ub_constrain,
 * lub_constrain, offset_multiplier_constrain, ordered_constrain,
 * positive_ordered_constrain, simplex_constrain (stick-breaking), unit_vector_constrain,
 * cholesky_factor_constrain, cov_matrix_constrain), each with its log-Jacobian and a
 * hand-written reverse step.  The batched tape form records two custom nodes per
 * parameter: the constrained value and the log-Jacobian, both reading the unconstrained
 * coordinates straight out of the evaluator's z vector (element e of draw s at
 * z->x[e * n + s]), so no slice copies are made. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <vi/status.h>
#include "lang/back/transforms.h"

#define VI_LN2 0.69314718055994530942
#define TR_TOL 1e-8   /* sums, norms, symmetry and unit diagonals in checks */

/* ---- elementwise kinds ------------------------------------------------------------ */

enum { EK_NONE, EK_LOWER, EK_UPPER, EK_BOTH, EK_AFFINE };

static double inv_logit(double u)
{
  if (u < 0) { double e = exp(u); return e / (1 + e); }
  return 1 / (1 + exp(-u));
}

/* The effective kind of one element: Stan drops an infinite bound. */
static int ek_kind(const tr_spec *s, double lb, double ub)
{
  if (s->con == CON_OFFSET_MULT) return EK_AFFINE;
  if (s->con != CON_BOUNDS) return EK_NONE;
  int lo = s->has_lb && !(isinf(lb) && lb < 0);
  int hi = s->has_ub && !(isinf(ub) && ub > 0);
  return lo && hi ? EK_BOTH : lo ? EK_LOWER : hi ? EK_UPPER : EK_NONE;
}

static double ek_fwd(int k, double u, double lb, double ub, double *lj)
{
  switch (k) {
  case EK_LOWER: *lj += u; return lb + exp(u);
  case EK_UPPER: *lj += u; return ub - exp(u);
  case EK_BOTH: {
    double d = ub - lb;
    *lj += log(d) - fabs(u) - 2 * log1p(exp(-fabs(u)));
    return lb + d * inv_logit(u);
  }
  case EK_AFFINE: *lj += log(ub); return lb + ub * u;
  default: return u;
  }
}

/* Reverse step of one element: adds into *du, *dlb, *dub. */
static void ek_back(int k, double u, double lb, double ub, double xadj, double jadj,
                    double *du, double *dlb, double *dub)
{
  switch (k) {
  case EK_LOWER: *du += xadj * exp(u) + jadj; *dlb += xadj; break;
  case EK_UPPER: *du += -xadj * exp(u) + jadj; *dub += xadj; break;
  case EK_BOTH: {
    double d = ub - lb, s = inv_logit(u);
    *du += xadj * d * s * (1 - s) + jadj * (1 - 2 * s);
    *dlb += xadj * (1 - s) - jadj / d;
    *dub += xadj * s + jadj / d;
    break;
  }
  case EK_AFFINE: *du += xadj * ub; *dlb += xadj; *dub += xadj * u + jadj / ub; break;
  default: *du += xadj; break;
  }
}

static int ek_free(int k, double x, double lb, double ub, double *u)
{
  switch (k) {
  case EK_LOWER: if (!(x >= lb)) return VI_EDATA; *u = log(x - lb); return 0;
  case EK_UPPER: if (!(x <= ub)) return VI_EDATA; *u = log(ub - x); return 0;
  case EK_BOTH: {
    if (!(x >= lb && x <= ub)) return VI_EDATA;
    double p = (x - lb) / (ub - lb);
    *u = log(p) - log1p(-p);
    return 0;
  }
  case EK_AFFINE: if (!(ub > 0)) return VI_EDATA; *u = (x - lb) / ub; return 0;
  default: *u = x; return 0;
  }
}

/* ---- structured kinds, one element, contiguous -------------------------------------- */

/* Each structured constraint type: its size rule and, for one array element with the
 * constrained values x (column-major) and the unconstrained u, the forward map (returns
 * the log-Jacobian), its reverse step (du += J' xadj + jadj * d logJ / du; xadj may be
 * NULL), the inverse (VI_EDATA when x violates the constraint) and the check of a value
 * (-1 if it holds, else the offending index and a message in why).  The elementwise
 * kinds (none, bounds, offset/multiplier) are the ek_* maps above. */

/* Infinity would pass the sum, norm and Cholesky tests below (ordered allows it). */
static long check_finite(const tr_spec *s, const ad_val *v, size_t b, size_t draw,
                         const char *name, char *why, size_t whylen);

#define X(k) elem(v, b + (k), draw)
static double elem(const ad_val *v, size_t e, size_t s)
{
  return v->x[(v->len == 1 ? 0 : e) * v->nd + (v->nd == 1 ? 0 : s)];
}

/* The lower Cholesky factor L (K x K, column-major) of the symmetric x; VI_EDATA when x
 * is not positive definite. */
static int cholesky_lower(size_t K, const double *x, double *L)
{
  size_t i, j, k;
  for (i = 0; i < K * K; i++) L[i] = 0;
  for (j = 0; j < K; j++) {
    double d = x[j + j * K];
    for (k = 0; k < j; k++) d -= L[j + k * K] * L[j + k * K];
    if (!(d > 0)) return VI_EDATA;
    L[j + j * K] = sqrt(d);
    for (i = j + 1; i < K; i++) {
      double a = x[i + j * K];
      for (k = 0; k < j; k++) a -= L[i + k * K] * L[j + k * K];
      L[i + j * K] = a / L[j + j * K];
    }
  }
  return 0;
}

/* ordered, positive_ordered: x_0 = u_0 (or exp(u_0)), x_i = x_{i-1} + exp(u_i) */
static double ordered_fwd(const tr_spec *s, const double *u, double *x)
{
  size_t K = s->rows, i;
  double lj = 0;
  if (K == 0) return 0;
  if (s->con == CON_POSITIVE_ORDERED) { x[0] = exp(u[0]); lj = u[0]; }
  else x[0] = u[0];
  for (i = 1; i < K; i++) { x[i] = x[i - 1] + exp(u[i]); lj += u[i]; }
  return lj;
}
static void ordered_back(const tr_spec *s, const double *u, const double *x,
                         const double *xadj, double jadj, double *du)
{
  size_t K = s->rows, i;
  double acc = 0;
  (void)x;
  for (i = K; i-- > 0;) {
    if (xadj) acc += xadj[i];
    if (i == 0 && s->con == CON_ORDERED) du[0] += acc;
    else du[i] += exp(u[i]) * acc + jadj;
  }
}
static int ordered_free(const tr_spec *s, const double *x, double *u)
{
  size_t K = s->rows, i;
  if (K == 0) return 0;
  if (s->con == CON_POSITIVE_ORDERED) { if (!(x[0] > 0)) return VI_EDATA; u[0] = log(x[0]); }
  else u[0] = x[0];
  for (i = 1; i < K; i++) {
    if (!(x[i] > x[i - 1])) return VI_EDATA;
    u[i] = log(x[i] - x[i - 1]);
  }
  return 0;
}
static long ordered_check(const tr_spec *s, const ad_val *v, size_t b, size_t draw,
                          char *why, size_t whylen)
{
  for (size_t i = 0; i < s->rows; i++) {
    if (s->con == CON_POSITIVE_ORDERED && !(X(i) >= 0)) {
      snprintf(why, whylen, "is %g, must be >= 0 (positive_ordered)", X(i)); return (long)(b + i);
    }
    if (i > 0 && !(X(i) > X(i - 1))) {
      snprintf(why, whylen, "is %g, must be > the previous element %g (ordered)", X(i), X(i - 1));
      return (long)(b + i);
    }
  }
  return -1;
}

/* simplex: stick-breaking with the log(K - k) centring */
static int simplex_init(tr_spec *s, char *why, size_t whylen)
{
  if (s->rows == 0) { snprintf(why, whylen, "a simplex must have at least 1 element"); return VI_EDATA; }
  s->usize = s->rows - 1;
  return VI_SUCCESS;
}
static double simplex_fwd(const tr_spec *s, const double *u, double *x)
{
  size_t K = s->rows, i;
  double lj = 0, stick = 1;
  for (i = 0; i + 1 < K; i++) {
    double a = u[i] - log((double)(K - 1 - i));
    double z = inv_logit(a);
    x[i] = stick * z;
    lj += log(stick) - log1p(exp(-a)) - log1p(exp(a));
    stick -= x[i];
  }
  x[K - 1] = stick;
  return lj;
}
static void simplex_back(const tr_spec *s, const double *u, const double *x,
                         const double *xadj, double jadj, double *du)
{
  size_t K = s->rows, i;
  if (K < 2) return;
  /* the stick lengths, rebuilt from the end: L_{K-1} = x_{K-1}, L_i = L_{i+1} + x_i */
  double Ladj = xadj ? xadj[K - 1] : 0, Lnext = x[K - 1];
  for (i = K - 1; i-- > 0;) {
    double a = u[i] - log((double)(K - 1 - i));
    double z = inv_logit(a), L = Lnext + x[i];
    double xa = xadj ? xadj[i] : 0;
    du[i] += (xa - Ladj) * L * z * (1 - z) + jadj * (1 - 2 * z);
    Ladj = xa * z + Ladj * (1 - z) + jadj / L;
    Lnext = L;
  }
}
static int simplex_free(const tr_spec *s, const double *x, double *u)
{
  size_t K = s->rows, i;
  if (K == 0) return VI_EDATA;
  double stick = x[K - 1];
  for (i = K - 1; i-- > 0;) {
    stick += x[i];
    double z = x[i] / stick;
    u[i] = log(z) - log1p(-z) + log((double)(K - 1 - i));
  }
  return 0;
}
static long simplex_check(const tr_spec *s, const ad_val *v, size_t b, size_t draw,
                          char *why, size_t whylen)
{
  long bad = check_finite(s, v, b, draw, "simplex", why, whylen);
  if (bad >= 0) return bad;
  double sum = 0;
  for (size_t i = 0; i < s->rows; i++) {
    if (!(X(i) >= 0)) { snprintf(why, whylen, "is %g, must be >= 0 (simplex)", X(i)); return (long)(b + i); }
    sum += X(i);
  }
  if (fabs(sum - 1) > TR_TOL) {
    snprintf(why, whylen, "simplex elements sum to %.17g, must sum to 1", sum);
    return (long)b;
  }
  return -1;
}

/* unit_vector: x = u / |u|, with the standard normal's -|u|^2 / 2 as "Jacobian" */
static int unit_vector_init(tr_spec *s, char *why, size_t whylen)
{
  if (s->rows == 0) { snprintf(why, whylen, "a unit_vector must have at least 1 element"); return VI_EDATA; }
  s->usize = s->rows;
  return VI_SUCCESS;
}
static double unit_vector_fwd(const tr_spec *s, const double *u, double *x)
{
  size_t K = s->rows, i;
  double ss = 0;
  for (i = 0; i < K; i++) ss += u[i] * u[i];
  double r = sqrt(ss);
  for (i = 0; i < K; i++) x[i] = u[i] / r;
  return -0.5 * ss;
}
static void unit_vector_back(const tr_spec *s, const double *u, const double *x,
                             const double *xadj, double jadj, double *du)
{
  size_t K = s->rows, i;
  double ss = 0, dot = 0;
  for (i = 0; i < K; i++) { ss += u[i] * u[i]; if (xadj) dot += x[i] * xadj[i]; }
  double r = sqrt(ss);
  for (i = 0; i < K; i++)
    du[i] += (xadj ? (xadj[i] - x[i] * dot) / r : 0) - jadj * u[i];
}
static int unit_vector_free(const tr_spec *s, const double *x, double *u)
{
  for (size_t i = 0; i < s->rows; i++) u[i] = x[i];
  return 0;
}
static long unit_vector_check(const tr_spec *s, const ad_val *v, size_t b, size_t draw,
                              char *why, size_t whylen)
{
  long bad = check_finite(s, v, b, draw, "unit_vector", why, whylen);
  if (bad >= 0) return bad;
  double ss = 0;
  for (size_t i = 0; i < s->rows; i++) ss += X(i) * X(i);
  if (fabs(ss - 1) > TR_TOL) { snprintf(why, whylen, "unit_vector has squared norm %g, must be 1", ss); return (long)b; }
  return -1;
}

/* sum_to_zero_vector: x = sum_k u_k h_k over the orthonormal Helmert basis of
 * {x : sum x = 0}: h_k = (1, ..., 1, -k, 0, ...) / sqrt(k (k + 1)), k ones (an
 * isometry: no Jacobian) */
static int sum_to_zero_init(tr_spec *s, char *why, size_t whylen)
{
  if (s->rows == 0) { snprintf(why, whylen, "a sum_to_zero_vector must have at least 1 element"); return VI_EDATA; }
  s->usize = s->rows - 1;
  return VI_SUCCESS;
}
static double sum_to_zero_fwd(const tr_spec *s, const double *u, double *x)
{
  size_t K = s->rows, j;
  double S = 0;
  for (j = K; j >= 1; j--) {
    double w = j >= 2 ? u[j - 2] / sqrt((double)(j - 1) * (double)j) : 0;
    x[j - 1] = S - (double)(j - 1) * w;
    S += w;
  }
  return 0;
}
static void sum_to_zero_back(const tr_spec *s, const double *u, const double *x,
                             const double *xadj, double jadj, double *du)
{
  /* u_k's adjoint: (x_bar_1 + ... + x_bar_k - k x_bar_{k+1}) / sqrt(k (k + 1)) */
  (void)u; (void)x; (void)jadj;
  if (!xadj) return;
  double pre = 0;
  for (size_t k = 1; k < s->rows; k++) {
    pre += xadj[k - 1];
    du[k - 1] += (pre - (double)k * xadj[k]) / sqrt((double)k * (double)(k + 1));
  }
}
static int sum_to_zero_free(const tr_spec *s, const double *x, double *u)
{
  double pre = 0;   /* u_k = h_k . x */
  for (size_t k = 1; k < s->rows; k++) {
    pre += x[k - 1];
    u[k - 1] = (pre - (double)k * x[k]) / sqrt((double)k * (double)(k + 1));
  }
  return 0;
}
static long sum_to_zero_check(const tr_spec *s, const ad_val *v, size_t b, size_t draw,
                              char *why, size_t whylen)
{
  long bad = check_finite(s, v, b, draw, "sum_to_zero_vector", why, whylen);
  if (bad >= 0) return bad;
  double sum = 0;
  size_t K = s->rows;
  for (size_t i = 0; i < K; i++) sum += X(i);
  if (fabs(sum) > TR_TOL * fmax(1, (double)K)) {
    snprintf(why, whylen, "elements sum to %.17g, must sum to 0 (sum_to_zero_vector)", sum);
    return (long)b;
  }
  return -1;
}

/* cholesky_factor_cov, M x N: the strict lower part free, the diagonal exp'd */
static int cholesky_cov_init(tr_spec *s, char *why, size_t whylen)
{
  if (s->rows < s->cols) {
    snprintf(why, whylen, "cholesky_factor_cov needs rows >= columns, found %zu x %zu", s->rows, s->cols);
    return VI_EDATA;
  }
  s->usize = s->cols * (s->cols + 1) / 2 + (s->rows - s->cols) * s->cols;
  return VI_SUCCESS;
}
static double cholesky_cov_fwd(const tr_spec *s, const double *u, double *x)
{
  size_t M = s->rows, N = s->cols, pos = 0, i, j;
  double lj = 0;
  for (i = 0; i < M * N; i++) x[i] = 0;
  for (i = 0; i < N; i++) {
    for (j = 0; j < i; j++) x[i + j * M] = u[pos++];
    lj += u[pos];
    x[i + i * M] = exp(u[pos++]);
  }
  for (i = N; i < M; i++)
    for (j = 0; j < N; j++) x[i + j * M] = u[pos++];
  return lj;
}
static void cholesky_cov_back(const tr_spec *s, const double *u, const double *x,
                              const double *xadj, double jadj, double *du)
{
  size_t M = s->rows, N = s->cols, pos = 0, i, j;
  (void)u;
  for (i = 0; i < N; i++) {
    for (j = 0; j < i; j++, pos++) if (xadj) du[pos] += xadj[i + j * M];
    du[pos] += (xadj ? xadj[i + i * M] * x[i + i * M] : 0) + jadj;
    pos++;
  }
  for (i = N; i < M; i++)
    for (j = 0; j < N; j++, pos++) if (xadj) du[pos] += xadj[i + j * M];
}
static int cholesky_cov_free(const tr_spec *s, const double *x, double *u)
{
  size_t M = s->rows, N = s->cols, pos = 0, i, j;
  for (i = 0; i < N; i++) {
    for (j = 0; j < i; j++) u[pos++] = x[i + j * M];
    if (!(x[i + i * M] > 0)) return VI_EDATA;
    u[pos++] = log(x[i + i * M]);
  }
  for (i = N; i < M; i++)
    for (j = 0; j < N; j++) u[pos++] = x[i + j * M];
  return 0;
}
/* Both Cholesky factors: zero above the diagonal, positive on it; a correlation
 * factor's rows have unit norm. */
static long cholesky_check(const tr_spec *s, const ad_val *v, size_t b, size_t draw,
                           char *why, size_t whylen)
{
  size_t i, j;
  long bad = check_finite(s, v, b, draw, tr_name(s->con), why, whylen);
  if (bad >= 0) return bad;
  if (s->con == CON_CHOLESKY_CORR)
    for (i = 0; i < s->rows; i++) {
      double ss = 0;
      for (j = 0; j < s->cols; j++) ss += X(i + j * s->rows) * X(i + j * s->rows);
      if (fabs(ss - 1) > TR_TOL) {
        snprintf(why, whylen, "row %zu has squared norm %g, must be 1 (cholesky_factor_corr)", i + 1, ss);
        return (long)(b + i);
      }
    }
  for (j = 0; j < s->cols; j++)
    for (i = 0; i < s->rows; i++) {
      double x = X(i + j * s->rows);
      if (i < j && x != 0) { snprintf(why, whylen, "is %g, must be 0 above the diagonal (Cholesky factor)", x); return (long)(b + i + j * s->rows); }
      if (i == j && !(x > 0)) { snprintf(why, whylen, "is %g, the diagonal must be positive (Cholesky factor)", x); return (long)(b + i + j * s->rows); }
    }
  return -1;
}

/* cholesky_factor_corr, K x K: rows of canonical partial correlations tanh(u) */
static int corr_init(tr_spec *s, char *why, size_t whylen)
{
  size_t K = s->rows;
  if (K > 100) { snprintf(why, whylen, "correlation matrices larger than 100 x 100 are not supported"); return VI_EDATA; }
  s->usize = K * (K - (K > 0)) / 2;
  return VI_SUCCESS;
}
static double cholesky_corr_fwd(const tr_spec *s, const double *u, double *x)
{
  size_t K = s->rows, k = 0, i, j;
  double lj = 0;
  for (i = 0; i < K * K; i++) x[i] = 0;
  if (K == 0) return 0;
  x[0] = 1;
  for (i = 1; i < K; i++) {
    double z = tanh(u[k]);
    lj += log1p(-z * z);
    k++;
    x[i] = z;
    double ss = z * z;
    for (j = 1; j < i; j++) {
      double zj = tanh(u[k]);
      lj += log1p(-zj * zj);
      k++;
      lj += 0.5 * log1p(-ss);
      double v = zj * sqrt(1 - ss);
      x[i + j * K] = v;
      ss += v * v;
    }
    x[i + i * K] = sqrt(1 - ss);
  }
  return lj;
}
static void cholesky_corr_back(const tr_spec *s, const double *u, const double *x,
                               const double *xadj, double jadj, double *du)
{
  /* rows are independent; within row i rebuild the running sums S_j, then reverse */
  size_t K = s->rows, i, j;
  double S[K + 1];
  for (i = 1; i < K; i++) {
    size_t k0 = i * (i - 1) / 2;
    S[0] = 0;
    S[1] = x[i] * x[i];
    for (j = 1; j < i; j++) S[j + 1] = S[j] + x[i + j * K] * x[i + j * K];
    double xii = x[i + i * K];
    double aS = xadj ? -0.5 * xadj[i + i * K] / xii : 0;
    for (j = i - 1; j >= 1; j--) {
      double z = tanh(u[k0 + j]), r = sqrt(1 - S[j]), xij = x[i + j * K];
      double ax = (xadj ? xadj[i + j * K] : 0) + aS * 2 * xij;
      double az = ax * r;
      aS += ax * z * (-0.5) / r - jadj * 0.5 / (1 - S[j]);
      du[k0 + j] += az * (1 - z * z) - jadj * 2 * z;
    }
    double z0 = tanh(u[k0]);
    double ax0 = (xadj ? xadj[i] : 0) + aS * 2 * x[i];
    du[k0] += ax0 * (1 - z0 * z0) - jadj * 2 * z0;
  }
}
static int cholesky_corr_free(const tr_spec *s, const double *x, double *u)
{
  size_t K = s->rows, pos = 0, i, j;
  for (i = 1; i < K; i++) {
    double ss = 0;
    for (j = 0; j < i; j++) {
      double v = x[i + j * K];
      double z = j == 0 ? v : v / sqrt(1 - ss);
      if (!(fabs(z) < 1)) return VI_EDATA;
      u[pos++] = atanh(z);
      ss += v * v;
    }
  }
  return 0;
}

/* corr_matrix reads its canonical partial correlations column by column (Stan's
 * read_corr_L), cholesky_factor_corr row by row; both build the same factor L.  Position
 * of (r, c), r > c, in each order: */
static size_t cpc_colmajor(size_t K, size_t r, size_t c) { return c * K - c * (c + 1) / 2 + (r - c - 1); }
static size_t cpc_rowmajor(size_t r, size_t c) { return r * (r - 1) / 2 + c; }

/* corr_matrix: x = L L' with L from the CPCs tanh(u); log-Jacobian of Stan's
 * corr_matrix_constrain: sum log1m(z^2) (tanh) + 0.5 sum (K - c - 2) log1m(z_rc^2). */
static double corr_fwd(const tr_spec *s, const double *u, double *x)
{
  size_t K = s->rows;
  size_t m = K * (K - 1) / 2 + 1, r, c, k;
  double ur[m], L[K * K + 1], lj = 0;
  memset(ur, 0, sizeof ur);
  tr_spec cs = {0};
  cs.con = CON_CHOLESKY_CORR; cs.rows = cs.cols = K; cs.nelem = 1; cs.csize = K * K;
  for (r = 1; r < K; r++)
    for (c = 0; c < r; c++) {
      double uv = u[cpc_colmajor(K, r, c)], z = tanh(uv);
      ur[cpc_rowmajor(r, c)] = uv;
      lj += log1p(-z * z) * (1 + 0.5 * ((double)K - (double)c - 2));
    }
  cholesky_corr_fwd(&cs, ur, L);
  for (r = 0; r < K; r++)
    for (c = 0; c <= r; c++) {
      double acc = 0;
      for (k = 0; k <= c; k++) acc += L[r + k * K] * L[c + k * K];
      x[r + c * K] = acc; x[c + r * K] = acc;
    }
  return lj;
}

static void corr_back(const tr_spec *s, const double *u, const double *x,
                      const double *xadj, double jadj, double *du)
{
  size_t K = s->rows;
  (void)x;
  size_t m = K * (K - 1) / 2 + 1, r, c, k;
  double ur[m], dur[m], L[K * K + 1], dL[K * K + 1];
  memset(ur, 0, sizeof ur); memset(dur, 0, sizeof dur);
  tr_spec cs = {0};
  cs.con = CON_CHOLESKY_CORR; cs.rows = cs.cols = K; cs.nelem = 1; cs.csize = K * K;
  for (r = 1; r < K; r++)
    for (c = 0; c < r; c++) {
      ur[cpc_rowmajor(r, c)] = u[cpc_colmajor(K, r, c)];
      dur[cpc_rowmajor(r, c)] = 0;
    }
  cholesky_corr_fwd(&cs, ur, L);
  for (r = 0; r < K * K; r++) dL[r] = 0;
  if (xadj)
    for (r = 0; r < K; r++)
      for (c = 0; c <= r; c++) {
        double acc = 0;
        for (k = 0; k < K; k++) acc += (xadj[r + k * K] + xadj[k + r * K]) * L[k + c * K];
        dL[r + c * K] = acc;
      }
  cholesky_corr_back(&cs, ur, L, dL, 0, dur);
  for (r = 1; r < K; r++)
    for (c = 0; c < r; c++) {
      size_t p = cpc_colmajor(K, r, c);
      double z = tanh(u[p]);
      du[p] += dur[cpc_rowmajor(r, c)] - jadj * 2 * z * (1 + 0.5 * ((double)K - (double)c - 2));
    }
}

static int corr_free(const tr_spec *s, const double *x, double *u)
{
  size_t K = s->rows, m = K * (K - 1) / 2 + 1, r, c;
  for (r = 0; r < K; r++) if (fabs(x[r + r * K] - 1) > 1e-8) return VI_EDATA;
  double *L = malloc((K * K + m) * sizeof *L), *ur = L + K * K;
  if (!L) return VI_ENOMEM;
  int st = cholesky_lower(K, x, L);
  tr_spec cs = {0};
  cs.con = CON_CHOLESKY_CORR; cs.rows = cs.cols = K; cs.nelem = 1; cs.csize = K * K;
  if (!st && cholesky_corr_free(&cs, L, ur)) st = VI_EDATA;
  if (!st)
    for (r = 1; r < K; r++)
      for (c = 0; c < r; c++) u[cpc_colmajor(K, r, c)] = ur[cpc_rowmajor(r, c)];
  free(L);
  return st;
}

/* cov_matrix, K x K: L lower (rows, diagonal exp'd), x = L L' */
static int cov_init(tr_spec *s, char *why, size_t whylen)
{
  size_t K = s->rows;
  if (K > 200) { snprintf(why, whylen, "cov_matrix larger than 200 x 200 is not supported"); return VI_EDATA; }
  s->usize = K * (K + 1) / 2;
  return VI_SUCCESS;
}
static double cov_fwd(const tr_spec *s, const double *u, double *x)
{
  /* L goes into x's lower triangle, then x = L L' in place from the last row back:
   * entry (i, j) is the last use of L(i, j), so no K x K scratch is needed */
  size_t K = s->rows, pos = 0, i, j, k;
  double lj = 0;
  for (i = 0; i < K; i++) {
    for (j = 0; j < i; j++) x[i + j * K] = u[pos++];
    x[i + i * K] = exp(u[pos]);
    lj += (double)(K - i + 1) * u[pos++];
  }
  lj += (double)K * VI_LN2;
  for (i = K; i-- > 0;)
    for (j = i + 1; j-- > 0;) {
      double acc = 0;
      for (k = 0; k <= j; k++) acc += x[i + k * K] * x[j + k * K];
      x[i + j * K] = acc; x[j + i * K] = acc;
    }
  return lj;
}
static void cov_back(const tr_spec *s, const double *u, const double *x,
                     const double *xadj, double jadj, double *du)
{
  size_t K = s->rows, pos = 0, i, j, k;
  double L[K * K > 0 ? K * K : 1], dL[K * K > 0 ? K * K : 1];
  (void)x;
  memset(L, 0, sizeof L); memset(dL, 0, sizeof dL);
  for (i = 0; i < K; i++) {
    for (j = 0; j < i; j++) L[i + j * K] = u[pos++];
    L[i + i * K] = exp(u[pos++]);
  }
  if (xadj) /* X = L L': dL = (G + G') L, lower part */
    for (i = 0; i < K; i++)
      for (j = 0; j <= i; j++) {
        double acc = 0;
        for (k = 0; k < K; k++)
          acc += (xadj[i + k * K] + xadj[k + i * K]) * L[k + j * K];
        dL[i + j * K] = acc;
      }
  pos = 0;
  for (i = 0; i < K; i++) {
    for (j = 0; j < i; j++) du[pos++] += dL[i + j * K];
    du[pos++] += dL[i + i * K] * L[i + i * K] + jadj * (double)(K - i + 1);
  }
}
static int cov_free(const tr_spec *s, const double *x, double *u)
{
  /* Cholesky factor of x, then as cholesky_factor_cov */
  size_t K = s->rows, pos = 0, i, j;
  double *L = malloc((K * K > 0 ? K * K : 1) * sizeof *L);
  if (!L) return VI_ENOMEM;
  int st = cholesky_lower(K, x, L);
  if (!st)
    for (i = 0; i < K; i++) {
      for (j = 0; j < i; j++) u[pos++] = L[i + j * K];
      u[pos++] = log(L[i + i * K]);
    }
  free(L);
  return st;
}
/* Both covariance and correlation matrices: symmetric, positive definite, a correlation
 * matrix with unit diagonal. */
static long cov_check(const tr_spec *s, const ad_val *v, size_t b, size_t draw,
                      char *why, size_t whylen)
{
  size_t K = s->rows, i, j;
  long bad = check_finite(s, v, b, draw, tr_name(s->con), why, whylen);
  if (bad >= 0) return bad;
  /* on the heap: K comes from data and may be large */
  double *M = malloc((K * K + K * (K + 1) / 2 + 1) * sizeof *M), *u = M + K * K;
  if (!M) { snprintf(why, whylen, "out of memory checking the matrix"); return (long)b; }
  for (i = 0; i < K * K; i++) M[i] = X(i);
  for (j = 0; j < K && bad < 0; j++)
    for (i = 0; i < j && bad < 0; i++)
      if (fabs(M[i + j * K] - M[j + i * K]) > TR_TOL * fmax(1, fabs(M[i + j * K]))) {
        snprintf(why, whylen, "matrix is not symmetric");
        bad = (long)(b + i + j * K);
      }
  if (s->con == CON_CORR_MATRIX)
    for (i = 0; i < K && bad < 0; i++)
      if (fabs(M[i + i * K] - 1) > TR_TOL) { snprintf(why, whylen, "is %g, a correlation matrix has unit diagonal", M[i + i * K]); bad = (long)(b + i + i * K); }
  if (bad < 0 && cov_free(s, M, u)) { snprintf(why, whylen, "matrix is not positive definite"); bad = (long)b; }
  free(M);
  return bad;
}

/* Bounds: elementwise, NaN fails (as in Stan's check_greater_or_equal: !(x >= lb)). */
static long bounds_check_all(const ad_val *v, size_t draw, const ad_val *lb,
                             const ad_val *ub, char *why, size_t whylen)
{
  for (size_t e = 0; e < v->len; e++) {
    double x = elem(v, e, draw);
    if (lb && !(x >= elem(lb, e, draw))) {
      snprintf(why, whylen, "is %g, must be >= %g", x, elem(lb, e, draw));
      return (long)e;
    }
    if (ub && !(x <= elem(ub, e, draw))) {
      snprintf(why, whylen, "is %g, must be <= %g", x, elem(ub, e, draw));
      return (long)e;
    }
  }
  return -1;
}

static long check_finite(const tr_spec *s, const ad_val *v, size_t b, size_t draw,
                         const char *name, char *why, size_t whylen)
{
  for (size_t i = 0; i < s->csize; i++)
    if (!isfinite(X(i))) { snprintf(why, whylen, "is %g, must be finite (%s)", X(i), name); return (long)(b + i); }
  return -1;
}
#undef X

/* ---- the table of constraint types ------------------------------------------------ */

typedef struct tr_type {
  const char *name;
  /* elementwise kinds map each scalar by ek_*, with these bounds' names and the
   * defaults of absent ones; the structured kinds have the functions below */
  int elementwise;
  const char *lower_name, *upper_name;
  double lower_default, upper_default;
  int (*init)(tr_spec *s, char *why, size_t whylen);   /* sets usize; NULL: = csize */
  double (*fwd)(const tr_spec *s, const double *u, double *x);
  void (*back)(const tr_spec *s, const double *u, const double *x, const double *xadj,
               double jadj, double *du);
  int (*unconstrain)(const tr_spec *s, const double *x, double *u);
  long (*check)(const tr_spec *s, const ad_val *v, size_t b, size_t draw, char *why,
                size_t whylen);
} tr_type;

#define TR_ELEMENTWISE(NAME, LO, HI, DLO, DHI) {NAME, 1, LO, HI, DLO, DHI, NULL, NULL, NULL, NULL, NULL}
#define TR_STRUCTURED(NAME, INIT, P, CHECK) \
  {NAME, 0, "lower bound", "upper bound", -INFINITY, INFINITY, INIT, P##_fwd, P##_back, P##_free, CHECK}

/* Indexed by vi_constraint (ast.h): keep in step with its order. */
static const tr_type tr_types[] = {
  [CON_NONE] = TR_ELEMENTWISE("unconstrained", "lower bound", "upper bound", -INFINITY, INFINITY),
  [CON_BOUNDS] = TR_ELEMENTWISE("lower/upper", "lower bound", "upper bound", -INFINITY, INFINITY),
  [CON_OFFSET_MULT] = TR_ELEMENTWISE("offset/multiplier", "offset", "multiplier", 0, 1),
  [CON_SIMPLEX] = TR_STRUCTURED("simplex", simplex_init, simplex, simplex_check),
  [CON_ORDERED] = TR_STRUCTURED("ordered", NULL, ordered, ordered_check),
  [CON_POSITIVE_ORDERED] = TR_STRUCTURED("positive_ordered", NULL, ordered, ordered_check),
  [CON_UNIT_VECTOR] = TR_STRUCTURED("unit_vector", unit_vector_init, unit_vector,
                                    unit_vector_check),
  [CON_CHOLESKY_CORR] = TR_STRUCTURED("cholesky_factor_corr", corr_init, cholesky_corr,
                                      cholesky_check),
  [CON_CHOLESKY_COV] = TR_STRUCTURED("cholesky_factor_cov", cholesky_cov_init, cholesky_cov,
                                     cholesky_check),
  [CON_CORR_MATRIX] = TR_STRUCTURED("corr_matrix", corr_init, corr, cov_check),
  [CON_COV_MATRIX] = TR_STRUCTURED("cov_matrix", cov_init, cov, cov_check),
  [CON_SUM_TO_ZERO] = TR_STRUCTURED("sum_to_zero_vector", sum_to_zero_init, sum_to_zero,
                                    sum_to_zero_check),
};
#define TR_NTYPES (sizeof tr_types / sizeof tr_types[0])

static const tr_type *type_of(vi_constraint con)
{
  return (unsigned)con < TR_NTYPES ? &tr_types[con] : &tr_types[CON_NONE];
}

/* ---- public plain-double API ------------------------------------------------------ */

int tr_supported(vi_constraint con)
{
  return (unsigned)con < TR_NTYPES;
}

const char *tr_name(vi_constraint con)
{
  return type_of(con)->name;
}

int tr_spec_init(tr_spec *s, vi_constraint con, int has_lb, int has_ub, size_t nelem,
                 size_t rows, size_t cols, char *why, size_t whylen)
{
  memset(s, 0, sizeof *s);
  s->con = con; s->has_lb = has_lb; s->has_ub = has_ub;
  s->nelem = nelem; s->rows = rows; s->cols = cols;
  s->csize = rows * cols;
  s->usize = s->csize;
  const tr_type *ty = type_of(con);
  return ty->init ? ty->init(s, why, whylen) : VI_SUCCESS;
}

double tr_constrain_d(const tr_spec *s, const double *u, double lb, double ub, double *x)
{
  double lj = 0;
  const tr_type *ty = type_of(s->con);
  if (ty->elementwise) {
    int k = ek_kind(s, lb, ub);
    for (size_t i = 0; i < s->csize; i++) x[i] = ek_fwd(k, u[i], lb, ub, &lj);
    return lj;
  }
  return ty->fwd(s, u, x);
}

int tr_unconstrain_d(const tr_spec *s, const double *x, double lb, double ub, double *u)
{
  const tr_type *ty = type_of(s->con);
  if (ty->elementwise) {
    int k = ek_kind(s, lb, ub);
    for (size_t i = 0; i < s->csize; i++)
      if (ek_free(k, x[i], lb, ub, &u[i])) return VI_EDATA;
    return VI_SUCCESS;
  }
  return ty->unconstrain(s, x, u);
}

/* ---- checks --------------------------------------------------------------------- */

long tr_check(const tr_spec *s, const ad_val *v, size_t draw, const ad_val *lb,
              const ad_val *ub, char *why, size_t whylen)
{
  const tr_type *ty = type_of(s->con);
  if (s->con == CON_BOUNDS) return bounds_check_all(v, draw, lb, ub, why, whylen);
  if (ty->elementwise) return -1;
  for (size_t a = 0; a < s->nelem; a++) {
    long bad = ty->check(s, v, a * s->csize, draw, why, whylen);
    if (bad >= 0) return bad;
  }
  return -1;
}

/* ---- tape nodes ------------------------------------------------------------------- */

/* Node layout: in[0] = z, then the lower bound if iarg[1] & 1, the upper if iarg[1] & 2;
 * iarg[0] = offset into z; ptr = the tr_spec (arena copy); saved: for the log-Jacobian
 * node, the constrained values' x. */
static void bound_inputs(ad_node *nd, ad_val **lb, ad_val **ub)
{
  int k = 1;
  *lb = (nd->iarg[1] & 1) ? nd->in[k++] : NULL;
  *ub = (nd->iarg[1] & 2) ? nd->in[k] : NULL;
}

static double bnd(const ad_val *b, size_t e, size_t s, double dflt)
{
  return b ? elem(b, e, s) : dflt;
}

static double *bnd_adj(ad_val *b, size_t e, size_t s)
{
  static _Thread_local double sink;   /* bounds without an adjoint absorb into a dummy
                                         (one per thread: threads write it at once) */
  if (!b || !b->adj) return &sink;
  return &b->adj[(b->len == 1 ? 0 : e) * b->nd + (b->nd == 1 ? 0 : s)];
}

static void ew_dflt(const tr_spec *sp, double *dl, double *du)
{
  *dl = type_of(sp->con)->lower_default;
  *du = type_of(sp->con)->upper_default;
}

/* One reverse step over an elementwise parameter; x-node (jadj NULL) or log-J node. */
static void ew_backward(ad_tape *t, ad_node *nd, int is_lj)
{
  const tr_spec *sp = nd->ptr;
  ad_val *z = nd->in[0], *lb, *ub, *out = nd->out;
  size_t n = z->nd, off = (size_t)nd->iarg[0], len = sp->nelem * sp->csize, e, s;
  double dl, du;
  bound_inputs(nd, &lb, &ub);
  ew_dflt(sp, &dl, &du);
  for (e = 0; e < len; e++)
    for (s = 0; s < n; s++) {
      double l = bnd(lb, e, s, dl), h = bnd(ub, e, s, du);
      int k = ek_kind(sp, l, h);
      double xadj = is_lj ? 0 : out->adj[e * n + s];
      double jadj = is_lj ? out->adj[s] : 0;
      double gu = 0, gl = 0, gh = 0;
      if (xadj == 0 && jadj == 0) continue;
      ek_back(k, z->x[(off + e) * n + s], l, h, xadj, jadj, &gu, &gl, &gh);
      if (z->adj) z->adj[(off + e) * n + s] += gu;
      if (lb) *bnd_adj(lb, e, s) += gl;
      if (ub) *bnd_adj(ub, e, s) += gh;
    }
}

static void ew_back_x(ad_tape *t, ad_node *nd) { ew_backward(t, nd, 0); }
static void ew_back_lj(ad_tape *t, ad_node *nd) { ew_backward(t, nd, 1); }

/* Structured kinds: gather one element of one draw into contiguous scratch. */
static void st_backward(ad_tape *t, ad_node *nd, int is_lj)
{
  const tr_spec *sp = nd->ptr;
  ad_val *z = nd->in[0], *out = nd->out;
  const double *xv = is_lj ? nd->saved : out->x;
  size_t n = z->nd, off = (size_t)nd->iarg[0], a, i, s;
  size_t cs = sp->csize, us = sp->usize;
  if (!z->adj || !sp->scratch) return;
  double *u = sp->scratch;   /* allocated by the forward step: nothing can fail here */
  double *x = u + us, *xa = x + cs, *gu = xa + cs;
  for (a = 0; a < sp->nelem; a++)
    for (s = 0; s < n; s++) {
      for (i = 0; i < us; i++) { u[i] = z->x[(off + a * us + i) * n + s]; gu[i] = 0; }
      for (i = 0; i < cs; i++) {
        x[i] = xv[(a * cs + i) * n + s];
        xa[i] = is_lj ? 0 : out->adj[(a * cs + i) * n + s];
      }
      type_of(sp->con)->back(sp, u, x, is_lj ? NULL : xa, is_lj ? out->adj[s] : 0, gu);
      for (i = 0; i < us; i++) z->adj[(off + a * us + i) * n + s] += gu[i];
    }
}

static void st_back_x(ad_tape *t, ad_node *nd) { st_backward(t, nd, 0); }
static void st_back_lj(ad_tape *t, ad_node *nd) { st_backward(t, nd, 1); }

static int bound_ok(ad_tape *t, const ad_val *b, size_t len, const char *what)
{
  if (!b || b->len == 1 || b->len == len) return 1;
  ad_tape_set_error(t, "%s has %zu elements, the variable has %zu", what, b->len, len);
  return 0;
}

ad_val *tr_constrain(ad_tape *t, const tr_spec *sp, vi_type type, int ndims,
                     const size_t *dims, ad_val *z, size_t off, ad_val *lb, ad_val *ub,
                     ad_val **logj)
{
  size_t n = ad_tape_n(t), len = sp->nelem * sp->csize, e, s, a;
  const tr_type *ty = type_of(sp->con);
  int ew = ty->elementwise;
  const char *bn0 = ty->lower_name, *bn1 = ty->upper_name;
  *logj = NULL;
  if (!bound_ok(t, lb, len, bn0) || !bound_ok(t, ub, len, bn1)) return NULL;
  if (ew && !lb && !ub) {
    /* the identity: a view of z's own values and adjoints, no copy and no node (never
     * written in place: parameters cannot be assigned, and it is marked shared) */
    ad_val *v = ad_alloc(t, sizeof *v);
    if (!v) { ad_tape_set_error(t, "out of memory"); return NULL; }
    memset(v, 0, sizeof *v);
    v->type = type; v->ndims = ndims;
    for (int k = 0; k < ndims; k++) v->dims[k] = dims[k];
    v->len = len; v->nd = n;
    v->x = z->x + off * n;
    v->adj = z->adj ? z->adj + off * n : NULL;
    v->shared = 1;
    return v;
  }
  ad_val *out = ad_new(t, type, ndims, dims, 1, 1);
  if (!out) { ad_tape_set_error(t, "out of memory"); return NULL; }
  if (out->len != len) {
    ad_tape_set_error(t, "internal: transform size %zu, value size %zu", len, out->len);
    return NULL;
  }
  tr_spec *spc = ad_alloc(t, sizeof *spc);
  if (!spc) { ad_tape_set_error(t, "out of memory"); return NULL; }
  *spc = *sp;
  int need_lj = !(sp->con == CON_NONE || (sp->con == CON_BOUNDS && !sp->has_lb && !sp->has_ub)
                  || (sp->con == CON_OFFSET_MULT && !sp->has_ub));
  ad_val *lj = NULL;
  if (need_lj) {
    size_t one = 1;
    lj = ad_new(t, (vi_type){VT_REAL, 0, NULL}, 0, &one, 1, 1);
    if (!lj) { ad_tape_set_error(t, "out of memory"); return NULL; }
    for (s = 0; s < n; s++) lj->x[s] = 0;
  }
  if (ew) {
    double dl, du;
    ew_dflt(sp, &dl, &du);
    for (e = 0; e < len; e++)
      for (s = 0; s < n; s++) {
        double l = bnd(lb, e, s, dl), h = bnd(ub, e, s, du), j = 0;
        out->x[e * n + s] = ek_fwd(ek_kind(sp, l, h), z->x[(off + e) * n + s], l, h, &j);
        if (lj) lj->x[s] += j;
      }
  } else {
    size_t cs = sp->csize, us = sp->usize, i;
    double *u = ad_alloc(t, (cs + us + 1) * sizeof(double));
    if (!u) { ad_tape_set_error(t, "out of memory"); return NULL; }
    double *x = u + us;
    for (a = 0; a < sp->nelem; a++)
      for (s = 0; s < n; s++) {
        for (i = 0; i < us; i++) u[i] = z->x[(off + a * us + i) * n + s];
        double j = ty->fwd(sp, u, x);
        for (i = 0; i < cs; i++) out->x[(a * cs + i) * n + s] = x[i];
        if (lj) lj->x[s] += j;
      }
  }
  if (ad_tape_recording(t)) {
    if (!ew) {
      spc->scratch = ad_alloc(t, (2 * sp->csize + 2 * sp->usize + 1) * sizeof(double));
      if (!spc->scratch) { ad_tape_set_error(t, "out of memory"); return NULL; }
    }
    ad_val *in[3]; int nin = 0; long flags = 0;
    in[nin++] = z;
    if (lb) { in[nin++] = lb; flags |= 1; lb->shared = 1; }
    if (ub) { in[nin++] = ub; flags |= 2; ub->shared = 1; }
    ad_node *nx = ad_push(t, ew ? ew_back_x : st_back_x, out, nin, in);
    if (nx) { nx->iarg[0] = (long)off; nx->iarg[1] = flags; nx->ptr = spc; }
    if (lj) {
      ad_node *nj = ad_push(t, ew ? ew_back_lj : st_back_lj, lj, nin, in);
      if (nj) { nj->iarg[0] = (long)off; nj->iarg[1] = flags; nj->ptr = spc; nj->saved = out->x; }
    }
  }
  *logj = lj;
  return out;
}
