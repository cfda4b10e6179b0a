/* ode_bdf.c: the stiff integrator of ode_bdf.h.
 *
 * The method is the quasi-constant step size NDF/BDF family of Shampine & Reichelt,
 * "The MATLAB ODE Suite", SIAM J. Sci. Comput. 18(1), 1997, section 2 (orders 1-5,
 * Klopfenstein's kappa of their Table 1; kappa = 0 gives the classic BDFs): the solution
 * is kept as backward differences D[0..k+2] on a grid of equal steps h; a change of h
 * re-interpolates the differences onto the new grid (their matrices R and U); the
 * corrector y = y_pred + d solves (1 - kappa) gamma_k d = h f(t + h, y) - sum_m gamma_m
 * D[m] by a simplified Newton iteration with the matrix I - c J, c = h / alpha_k; the
 * local error is err_const_k d; the order moves by at most one after k + 1 equal steps,
 * to whichever of k - 1, k, k + 1 allows the longest step (Byrne & Hindmarsh's rule as in
 * ode15s).  Newton's convergence test and the safety factors follow Hairer & Wanner,
 * "Solving ODEs II", IV.8.
 *
 * Sensitivities (staggered direct method, Caracotsios & Stewart 1985, as in CVODES):
 * once the state of a step has converged, the Jacobian J and df/dp are evaluated at the
 * new point and the linear sensitivity system S' = J S + df/dp is advanced by the same
 * formula, one exact linear solve with I - c J(t + h); its differences are kept and
 * rescaled like the state's.  The error test covers the sensitivities too (CVODES with
 * error control on the sensitivities, as Stan runs it), so the gradients meet the
 * tolerances as well as the values.  With sensitivities the Jacobian is fresh every step
 * and serves the next step's Newton iteration; without, it is re-evaluated only when
 * Newton fails to converge. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "lang/back/ode_bdf.h"

#define MAXORD 5
#define NEWTON_MAXITER 4
#define MIN_FACTOR 0.2
#define MAX_FACTOR 10.0

/* Shampine & Reichelt, Table 1 (order 5 is the plain BDF: the NDF would lose stability) */
static const double KAPPA[MAXORD + 1] = {0, -0.1850, -1.0 / 9, -0.0823, -0.0415, 0};

typedef struct coef {
  double gamma[MAXORD + 2], alpha[MAXORD + 1], errc[MAXORD + 2];
} coef;

static void make_coef(coef *c)
{
  c->gamma[0] = 0;
  for (int k = 1; k <= MAXORD + 1; k++) c->gamma[k] = c->gamma[k - 1] + 1.0 / k;
  for (int k = 0; k <= MAXORD; k++) {
    c->alpha[k] = (1 - KAPPA[k]) * c->gamma[k];
    c->errc[k] = KAPPA[k] * c->gamma[k] + 1.0 / (k + 1);
  }
  c->errc[MAXORD + 1] = 1.0 / (MAXORD + 2);
}

/* ---- dense LU with partial pivoting (N is small: a handful of states) ------------ */

static int lu_factor(size_t n, double *A, size_t *perm)
{
  for (size_t k = 0; k < n; k++) {
    size_t p = k;
    for (size_t i = k + 1; i < n; i++)
      if (fabs(A[i * n + k]) > fabs(A[p * n + k])) p = i;
    if (!(A[p * n + k] != 0) || !isfinite(A[p * n + k])) return 1;
    perm[k] = p;
    if (p != k)
      for (size_t j = 0; j < n; j++) {
        double tmp = A[k * n + j];
        A[k * n + j] = A[p * n + j];
        A[p * n + j] = tmp;
      }
    for (size_t i = k + 1; i < n; i++) {
      double l = A[i * n + k] /= A[k * n + k];
      if (l != 0)
        for (size_t j = k + 1; j < n; j++) A[i * n + j] -= l * A[k * n + j];
    }
  }
  return 0;
}

/* B (n x m, row-major) <- A^-1 B with A's factors */
static void lu_solve(size_t n, const double *A, const size_t *perm, double *B, size_t m)
{
  for (size_t k = 0; k < n; k++)
    if (perm[k] != k)
      for (size_t j = 0; j < m; j++) {
        double tmp = B[k * m + j];
        B[k * m + j] = B[perm[k] * m + j];
        B[perm[k] * m + j] = tmp;
      }
  for (size_t i = 1; i < n; i++)
    for (size_t l = 0; l < i; l++) {
      double a = A[i * n + l];
      if (a != 0)
        for (size_t j = 0; j < m; j++) B[i * m + j] -= a * B[l * m + j];
    }
  for (size_t i = n; i-- > 0;) {
    for (size_t l = i + 1; l < n; l++) {
      double a = A[i * n + l];
      if (a != 0)
        for (size_t j = 0; j < m; j++) B[i * m + j] -= a * B[l * m + j];
    }
    for (size_t j = 0; j < m; j++) B[i * m + j] /= A[i * n + i];
  }
}

/* I - c J into A, factored; 0 or 1 (singular) */
static int iteration_matrix(size_t n, const double *J, double c, double *A, size_t *perm)
{
  for (size_t i = 0; i < n * n; i++) A[i] = -c * J[i];
  for (size_t i = 0; i < n; i++) A[i * n + i] += 1;
  return lu_factor(n, A, perm);
}

/* ---- differences ---------------------------------------------------------------- */

/* Re-interpolate the differences D[0..k] (each w numbers) from step h to step
 * factor * h: D <- (R U)' D, R_ij = prod_{m=1..i} (m - 1 - factor j) / m (the i-th
 * basis polynomial at the new grid point j) and U the same with factor 1
 * (Shampine & Reichelt 1997, section 2.3). */
static void rescale(double *D, size_t w, int k, double factor, double *tmp)
{
  double R[MAXORD + 1][MAXORD + 1], U[MAXORD + 1][MAXORD + 1], RU[MAXORD + 1][MAXORD + 1];
  for (int j = 0; j <= k; j++) { R[0][j] = 1; U[0][j] = 1; }
  for (int i = 1; i <= k; i++)
    for (int j = 0; j <= k; j++) {
      R[i][j] = R[i - 1][j] * (i - 1 - factor * j) / i;
      U[i][j] = U[i - 1][j] * (i - 1 - (double)j) / i;
    }
  for (int i = 0; i <= k; i++)
    for (int j = 0; j <= k; j++) {
      double acc = 0;
      for (int l = 0; l <= k; l++) acc += R[i][l] * U[l][j];
      RU[i][j] = acc;
    }
  for (int j = 0; j <= k; j++)
    for (size_t e = 0; e < w; e++) {
      double acc = 0;
      for (int i = 0; i <= k; i++) acc += RU[i][j] * D[(size_t)i * w + e];
      tmp[(size_t)j * w + e] = acc;
    }
  memcpy(D, tmp, (size_t)(k + 1) * w * sizeof *D);
}

/* After an accepted step with correction d: D[k+2] = d - D[k+1], D[k+1] = d, and the
 * lower differences updated to end at the new point. */
static void update_differences(double *D, size_t w, int k, const double *d)
{
  double *Dk1 = D + (size_t)(k + 1) * w, *Dk2 = D + (size_t)(k + 2) * w;
  for (size_t e = 0; e < w; e++) {
    Dk2[e] = d[e] - Dk1[e];
    Dk1[e] = d[e];
  }
  for (int i = k; i >= 0; i--)
    for (size_t e = 0; e < w; e++) D[(size_t)i * w + e] += D[(size_t)(i + 1) * w + e];
}

/* The interpolating polynomial of D[0..k] (grid t, t - h, ...) at tq. */
static void interpolate(const double *D, size_t w, int k, double t, double h, double tq,
                        double *out)
{
  memcpy(out, D, w * sizeof *out);
  double p = 1;
  for (int j = 1; j <= k; j++) {
    p *= (tq - (t - (j - 1) * h)) / (j * h);
    for (size_t e = 0; e < w; e++) out[e] += p * D[(size_t)j * w + e];
  }
}

/* RMS of v_i / (atol_i + rtol |ref_i|) (ref NULL: the scale in sc); w entries, the
 * state's atol repeated over the P columns of a sensitivity matrix. */
static double wrms(const double *v, const double *ref, size_t w, size_t P, double rtol,
                   const double *atol)
{
  double ss = 0;
  for (size_t e = 0; e < w; e++) {
    double sc = atol[P ? e / P : e] + rtol * fabs(ref[e]);
    double r = v[e] / sc;
    ss += r * r;
  }
  return w ? sqrt(ss / (double)w) : 0;
}

/* ---- the solver ----------------------------------------------------------------- */

typedef struct work {
  double *D, *DS, *J, *Fp, *Jn, *Fpn, *LU, *LUn;
  double *ypred, *psi, *d, *ynew, *f, *dy, *scale, *tmp;
  double *Spred, *dS, *Snew, *tmpS;
  size_t *perm, *permn;
} work;

static size_t carve(work *w, void *mem, size_t N, size_t P)
{
  size_t NP = N * P, off = 0, rows = MAXORD + 3;
  size_t big = (MAXORD + 1) * (NP > N ? NP : N);
  double *base = mem;
#define TAKE(ptr, cnt) do { if (w) w->ptr = base + off; off += (cnt); } while (0)
  TAKE(D, rows * N); TAKE(DS, rows * NP);
  TAKE(J, N * N); TAKE(Fp, NP); TAKE(Jn, N * N); TAKE(Fpn, NP);
  TAKE(LU, N * N); TAKE(LUn, N * N);
  TAKE(ypred, N); TAKE(psi, N); TAKE(d, N); TAKE(ynew, N); TAKE(f, N); TAKE(dy, N); TAKE(scale, N);
  TAKE(tmp, big);
  TAKE(Spred, NP); TAKE(dS, NP); TAKE(Snew, NP); TAKE(tmpS, NP);
#undef TAKE
  size_t bytes = off * sizeof(double);
  if (w) {
    w->perm = (size_t *)((char *)mem + bytes);
    w->permn = w->perm + N;
  }
  return bytes + 2 * N * sizeof(size_t);
}

size_t bdf_work_bytes(size_t N, size_t P) { return carve(NULL, NULL, N, P); }

static int all_finite(const double *v, size_t n)
{
  for (size_t i = 0; i < n; i++)
    if (!isfinite(v[i])) return 0;
  return 1;
}

/* The simplified Newton iteration for d: (I - cJ) dy = c f(t, y_pred + d) - psi - d.
 * 1 when converged (y in ynew, the correction in d), 0 when not, -1 when eval failed;
 * *iters: the iterations taken. */
static int newton(const bdf_system *sys, work *w, double tnew, double c, const double *scale,
                  double tol, int *iters, bdf_stats *st)
{
  size_t N = sys->N;
  memcpy(w->ynew, w->ypred, N * sizeof *w->ynew);
  memset(w->d, 0, N * sizeof *w->d);
  double old = 0;
  for (int k = 0; k < NEWTON_MAXITER; k++) {
    *iters = k + 1;
    st->fevals++;
    if (sys->eval(sys->ctx, tnew, w->ynew, w->f, NULL, NULL)) return -1;
    if (!all_finite(w->f, N)) return 0;
    for (size_t i = 0; i < N; i++) w->dy[i] = c * w->f[i] - w->psi[i] - w->d[i];
    lu_solve(N, w->LU, w->perm, w->dy, 1);
    double nrm = 0;
    for (size_t i = 0; i < N; i++) {
      double r = w->dy[i] / scale[i];
      nrm += r * r;
    }
    nrm = sqrt(nrm / (double)N);
    if (!isfinite(nrm)) return 0;
    double rate = k ? nrm / old : -1;
    /* diverging, or too slow to converge within the iterations left */
    if (k && (rate >= 1 || pow(rate, NEWTON_MAXITER - k) / (1 - rate) * nrm > tol)) return 0;
    for (size_t i = 0; i < N; i++) { w->ynew[i] += w->dy[i]; w->d[i] += w->dy[i]; }
    if (nrm == 0 || (k && rate / (1 - rate) * nrm < tol)) return 1;
    old = nrm;
  }
  return 0;
}

int bdf_solve(const bdf_system *sys, const bdf_options *o, double t0, const double *y0,
              const double *S0, const double *ts, size_t nts, double *yout, double *Sout,
              void *mem, bdf_stats *st, char *why, size_t whylen)
{
  size_t N = sys->N, P = sys->P, NP = N * P;
  const double rtol = o->rtol, *atol = o->atol;
  work w;
  carve(&w, mem, N, P);
  coef cf;
  make_coef(&cf);
  double tend = ts[nts - 1], t = t0;
  size_t q = 0;
  if (N == 0) return 0;

  /* the start: f, J and df/dp at t0 */
  memcpy(w.D, y0, N * sizeof *w.D);
  if (P) {
    if (S0) memcpy(w.DS, S0, NP * sizeof *w.DS);
    else memset(w.DS, 0, NP * sizeof *w.DS);
  }
  st->jevals++;
  st->fevals++;
  if (sys->eval(sys->ctx, t, y0, w.f, w.J, w.Fp)) return -1;
  if (!all_finite(w.f, N) || !all_finite(w.J, N * N) || !all_finite(w.Fp, NP)) {
    snprintf(why, whylen, "the system is not finite at the initial state (t = %g)", t);
    return 1;
  }
  /* the first step (Hairer, Norsett & Wanner I, II.4): from the sizes of y0, f and f' */
  double *scale = w.scale;
  for (size_t i = 0; i < N; i++) scale[i] = atol[i] + rtol * fabs(y0[i]);
  double d0 = 0, d1 = 0;
  for (size_t i = 0; i < N; i++) {
    d0 += (y0[i] / scale[i]) * (y0[i] / scale[i]);
    d1 += (w.f[i] / scale[i]) * (w.f[i] / scale[i]);
  }
  d0 = sqrt(d0 / (double)N);
  d1 = sqrt(d1 / (double)N);
  double span = tend - t0;
  double h0 = d0 < 1e-5 || d1 < 1e-5 ? 1e-6 : 0.01 * d0 / d1;
  h0 = fmin(h0, span);
  for (size_t i = 0; i < N; i++) w.ynew[i] = y0[i] + h0 * w.f[i];
  st->fevals++;
  if (sys->eval(sys->ctx, t + h0, w.ynew, w.dy, NULL, NULL)) return -1;
  double d2 = 0;
  for (size_t i = 0; i < N; i++) {
    double r = (w.dy[i] - w.f[i]) / scale[i];
    d2 += r * r;
  }
  d2 = sqrt(d2 / (double)N) / h0;
  double h;
  if (!isfinite(d2)) h = h0 * 0.1;
  else if (d1 <= 1e-15 && d2 <= 1e-15) h = fmax(1e-6, h0 * 1e-3);
  else h = fmin(100 * h0, sqrt(0.01 / fmax(d1, d2)));
  h = fmin(h, span);

  for (size_t i = 0; i < N; i++) w.D[N + i] = h * w.f[i];
  /* S' = J S + df/dp at t0 */
  for (size_t i = 0; i < N && P; i++)
    for (size_t k = 0; k < P; k++) {
      double acc = w.Fp[i * P + k];
      for (size_t j = 0; j < N; j++) acc += w.J[i * N + j] * w.DS[j * P + k];
      w.DS[NP + i * P + k] = h * acc;
    }
  int order = 1, neq = 0, jac_current = 1, lu_ok = 0;
  double lu_c = 0;
  long since_out = 0, attempts = 0;
  double newton_tol = fmax(10 * 2.220446049250313e-16 / rtol, fmin(0.03, sqrt(rtol)));

  while (q < nts) {
    if (++attempts > 1000) {   /* failed attempts in a row: the step size cannot recover */
      snprintf(why, whylen, "1000 failed steps in a row at t = %g", t);
      return 1;
    }
    int last = 0;
    if (h >= tend - t) {
      double hn = tend - t;
      if (hn != h) {
        rescale(w.D, N, order, hn / h, w.tmp);
        if (P) rescale(w.DS, NP, order, hn / h, w.tmp);
        h = hn;
        neq = 0;
        lu_ok = 0;
      }
      last = 1;
    }
    double tnew = last ? tend : t + h;
    if (!(tnew > t) || !(h >= 10 * (nextafter(t, INFINITY) - t))) {
      snprintf(why, whylen, "the step size fell to %g at t = %g (a singularity, or "
               "tolerances too tight?)", h, t);
      return 1;
    }
    /* predict */
    for (size_t i = 0; i < N; i++) {
      double acc = 0, ps = 0;
      for (int m = 0; m <= order; m++) acc += w.D[(size_t)m * N + i];
      for (int m = 1; m <= order; m++) ps += cf.gamma[m] * w.D[(size_t)m * N + i];
      w.ypred[i] = acc;
      w.psi[i] = ps / cf.alpha[order];
      w.scale[i] = atol[i] + rtol * fabs(acc);
    }
    double c = h / cf.alpha[order];
    int conv = 0, iters = 0, singular = 0;
    if (!lu_ok || c != lu_c) {
      st->lus++;
      singular = iteration_matrix(N, w.J, c, w.LU, w.perm);
      lu_ok = !singular;
      lu_c = c;
    }
    if (!singular) {
      conv = newton(sys, &w, tnew, c, w.scale, newton_tol, &iters, st);
      if (conv < 0) return -1;
    }
    if (!conv) {
      if (!jac_current && !singular) {
        /* a fresh Jacobian at the last accepted point, then the same step again */
        st->jevals++;
        st->fevals++;
        if (sys->eval(sys->ctx, t, w.D, w.f, w.J, w.Fp)) return -1;
        jac_current = 1;
        lu_ok = 0;
        continue;
      }
      st->rejected++;
      rescale(w.D, N, order, 0.5, w.tmp);
      if (P) rescale(w.DS, NP, order, 0.5, w.tmp);
      h *= 0.5;
      neq = 0;
      lu_ok = 0;
      continue;
    }
    /* sensitivities: (I - c Jn) dS = c (Jn S_pred + Fpn) - psi_S, at the new point */
    if (P) {
      st->jevals++;
      st->fevals++;
      if (sys->eval(sys->ctx, tnew, w.ynew, w.f, w.Jn, w.Fpn)) return -1;
      int bad = !all_finite(w.Jn, N * N) || !all_finite(w.Fpn, NP);
      if (!bad) {
        st->lus++;
        bad = iteration_matrix(N, w.Jn, c, w.LUn, w.permn);
      }
      if (bad) {
        st->rejected++;
        rescale(w.D, N, order, 0.5, w.tmp);
        rescale(w.DS, NP, order, 0.5, w.tmp);
        h *= 0.5;
        neq = 0;
        lu_ok = 0;
        continue;
      }
      for (size_t e = 0; e < NP; e++) {
        double acc = 0, ps = 0;
        for (int m = 0; m <= order; m++) acc += w.DS[(size_t)m * NP + e];
        for (int m = 1; m <= order; m++) ps += cf.gamma[m] * w.DS[(size_t)m * NP + e];
        w.Spred[e] = acc;
        w.tmpS[e] = ps / cf.alpha[order];
      }
      for (size_t i = 0; i < N; i++)
        for (size_t k = 0; k < P; k++) {
          double acc = w.Fpn[i * P + k];
          for (size_t j = 0; j < N; j++) acc += w.Jn[i * N + j] * w.Spred[j * P + k];
          w.dS[i * P + k] = c * acc - w.tmpS[i * P + k];
        }
      lu_solve(N, w.LUn, w.permn, w.dS, P);
      for (size_t e = 0; e < NP; e++) w.Snew[e] = w.Spred[e] + w.dS[e];
    }
    /* the error test */
    double safety = 0.9 * (2 * NEWTON_MAXITER + 1) / (2 * NEWTON_MAXITER + iters);
    for (size_t i = 0; i < N; i++) w.dy[i] = cf.errc[order] * w.d[i];
    double en = wrms(w.dy, w.ynew, N, 0, rtol, atol);
    if (P) {
      for (size_t e = 0; e < NP; e++) w.tmpS[e] = cf.errc[order] * w.dS[e];
      en = fmax(en, wrms(w.tmpS, w.Snew, NP, P, rtol, atol));
    }
    if (!(en <= 1)) {
      double factor = isfinite(en) ? fmax(MIN_FACTOR, safety * pow(en, -1.0 / (order + 1)))
                                   : MIN_FACTOR;
      st->rejected++;
      rescale(w.D, N, order, factor, w.tmp);
      if (P) rescale(w.DS, NP, order, factor, w.tmp);
      h *= factor;
      neq = 0;
      lu_ok = 0;
      continue;
    }
    /* accepted */
    st->steps++;
    since_out++;
    attempts = 0;
    t = tnew;
    update_differences(w.D, N, order, w.d);
    if (P) {
      update_differences(w.DS, NP, order, w.dS);
      double *sw;
      sw = w.J; w.J = w.Jn; w.Jn = sw;
      sw = w.Fp; w.Fp = w.Fpn; w.Fpn = sw;
      sw = w.LU; w.LU = w.LUn; w.LUn = sw;
      size_t *pw = w.perm; w.perm = w.permn; w.permn = pw;
      lu_ok = 1;
      lu_c = c;
      jac_current = 1;
    } else {
      jac_current = 0;
    }
    neq++;
    while (q < nts && ts[q] <= t) {
      if (ts[q] == t) {
        memcpy(yout + q * N, w.D, N * sizeof *yout);
        if (P) memcpy(Sout + q * NP, w.DS, NP * sizeof *Sout);
      } else {
        interpolate(w.D, N, order, t, h, ts[q], yout + q * N);
        if (P) interpolate(w.DS, NP, order, t, h, ts[q], Sout + q * NP);
      }
      q++;
      since_out = 0;
    }
    if (q == nts) break;
    if (since_out >= o->max_steps) {
      snprintf(why, whylen, "max_num_steps (%ld) reached between output times, at t = %g "
               "(the next output is at %g)", o->max_steps, t, ts[q]);
      return 1;
    }
    if (neq < order + 1) continue;
    /* the order for the next steps: the one allowing the longest step */
    double em = INFINITY, ep = INFINITY;
    if (order > 1) {
      for (size_t i = 0; i < N; i++) w.dy[i] = cf.errc[order - 1] * w.D[(size_t)order * N + i];
      em = wrms(w.dy, w.D, N, 0, rtol, atol);
      if (P) {
        for (size_t e = 0; e < NP; e++)
          w.tmpS[e] = cf.errc[order - 1] * w.DS[(size_t)order * NP + e];
        em = fmax(em, wrms(w.tmpS, w.DS, NP, P, rtol, atol));
      }
    }
    if (order < MAXORD) {
      for (size_t i = 0; i < N; i++)
        w.dy[i] = cf.errc[order + 1] * w.D[(size_t)(order + 2) * N + i];
      ep = wrms(w.dy, w.D, N, 0, rtol, atol);
      if (P) {
        for (size_t e = 0; e < NP; e++)
          w.tmpS[e] = cf.errc[order + 1] * w.DS[(size_t)(order + 2) * NP + e];
        ep = fmax(ep, wrms(w.tmpS, w.DS, NP, P, rtol, atol));
      }
    }
    double fm = em > 0 ? pow(em, -1.0 / order) : MAX_FACTOR;
    double f0 = en > 0 ? pow(en, -1.0 / (order + 1)) : MAX_FACTOR;
    double fp = ep > 0 ? pow(ep, -1.0 / (order + 2)) : MAX_FACTOR;
    if (!isfinite(em)) fm = 0;
    if (!isfinite(ep)) fp = 0;
    double best = f0;
    int delta = 0;
    if (fm > best) { best = fm; delta = -1; }
    if (fp > best) { best = fp; delta = 1; }
    order += delta;
    double factor = fmin(MAX_FACTOR, safety * best);
    rescale(w.D, N, order, factor, w.tmp);
    if (P) rescale(w.DS, NP, order, factor, w.tmp);
    h *= factor;
    neq = 0;
    lu_ok = 0;
  }
  return 0;
}
