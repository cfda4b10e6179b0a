/* builtins_hmm.c: Stan's hidden Markov model functions.  hmm_marginal(log_omega, Gamma,
 * rho) is the log marginal density of the observations with the discrete hidden states
 * summed out; hmm_hidden_state_prob the posterior probability of each state at each time
 * (K x N); hmm_latent_rng a draw of the whole state path from its posterior.  K states, N time points, log_omega[k, t] the log density of observation t in
 * state k, Gamma[i, j] the probability of moving from state i to state j (rows are
 * simplexes), rho the distribution of the first state (a simplex).
 *
 * The forward algorithm with a normaliser per step (Rabiner, "A tutorial on hidden
 * Markov models", Proc. IEEE 77(2), 1989, sec. V.A): with w_t = exp(log_omega[, t] -
 * max_k log_omega[k, t]),
 *   a_1 = rho .* w_1,  a_t = (Gamma' ahat_{t-1}) .* w_t,  c_t = sum(a_t),  ahat_t = a_t / c_t,
 *   log p = sum_t log c_t + max_k log_omega[k, t].
 * Reverse mode by the scaled backward pass of the same paper: beta_N = 1,
 * beta_{t-1} = Gamma (w_t .* beta_t) / c_t, and then
 *   d log p / d log_omega[k, t] = ahat_t[k] beta_t[k]     (the state's posterior marginal),
 *   d log p / d rho[k]          = w_1[k] beta_1[k] / c_1,
 *   d log p / d Gamma[i, j]     = sum_{t >= 2} ahat_{t-1}[i] w_t[j] beta_t[j] / c_t.
 *
 * The state probabilities are ahat_t .* beta_t; the path is drawn backwards (forward
 * filtering, backward sampling: z_N ~ ahat_N, then z_t ~ ahat_t .* Gamma[, z_{t+1}]).
 * Neither has a gradient (in Stan their values are constants for autodiff), so the
 * checker allows them only in transformed data and generated quantities.
 *
 * As in Stan, Gamma's rows and rho must be simplexes (within 1e-8): an argument that is
 * the same in every draw (data) and is not one is an error; a draw of a varying one that
 * is not gets NaN. */
#include <math.h>
#include <string.h>
#include <gsl/gsl_rng.h>
#include "lang/ad/ad_kernels.h"
#include "lang/lib/dist_impl.h"
#include "lang/lib/lib.h"

/* Is Gamma (K x K) row-stochastic in draw s?  If not, the first bad row (1-based) goes
 * to *row. */
static int hmm_gamma_valid(const ad_val *G, size_t K, size_t s, size_t *row)
{
  for (size_t i = 0; i < K; i++)
    if (!dist_is_simplex(G->x + i * G->nd + (G->nd == 1 ? 0 : s), K, K * G->nd)) {
      *row = i + 1;
      return 0;
    }
  return 1;
}

static int hmm_rho_valid(const ad_val *rho, size_t K, size_t s)
{
  return dist_is_simplex(rho->x + (rho->nd == 1 ? 0 : s), K, rho->nd);
}

/* w_t of draw s into w (K): the densities of column t scaled by their largest, whose log
 * is returned (-inf when every state has density zero). */
static double hmm_column(const ad_val *lw, size_t K, size_t t, size_t s, double *w)
{
  double m = -INFINITY;
  for (size_t k = 0; k < K; k++) {
    double v = ad_get(lw, k + t * K, s);
    if (v > m || isnan(v)) m = v;
  }
  for (size_t k = 0; k < K; k++) w[k] = isfinite(m) ? exp(ad_get(lw, k + t * K, s) - m) : 0;
  return m;
}

/* The forward pass of draw s: ahat (K x N, column t the normalised a_t) and c (N) into
 * the caller's arrays; returns log p. */
static double hmm_forward(const ad_val *lw, const ad_val *G, const ad_val *rho, size_t K,
                          size_t N, size_t s, double *ahat, double *c, double *w)
{
  double lp = 0;
  for (size_t t = 0; t < N; t++) {
    double m = hmm_column(lw, K, t, s, w), sum = 0;
    double *a = ahat + t * K;
    for (size_t j = 0; j < K; j++) {
      double p;
      if (t == 0) {
        p = ad_get(rho, j, s);
      } else {
        p = 0;
        for (size_t i = 0; i < K; i++) p += ad_get(G, i + j * K, s) * ahat[(t - 1) * K + i];
      }
      a[j] = p * w[j];
      sum += a[j];
    }
    c[t] = sum;
    if (!(sum > 0) || !isfinite(m)) return isnan(m) || isnan(sum) ? NAN : -INFINITY;
    for (size_t j = 0; j < K; j++) a[j] /= sum;
    lp += log(sum) + m;
  }
  return lp;
}

static void hmm_marginal_backward(ad_tape *t, ad_node *node)
{
  UNUSED(t);
  ad_val *lw = node->in[0], *G = node->in[1], *rho = node->in[2], *o = node->out;
  size_t K = (size_t)node->iarg[0], N = (size_t)node->iarg[1], nd = o->nd;
  size_t per = K * N + N;
  double *beta = node->saved + nd * per, *next = beta + K, *w = next + K;
  for (size_t s = 0; s < nd; s++) {
    double g = o->adj[s];
    if (g == 0 || !isfinite(o->x[s])) continue;
    const double *ahat = node->saved + s * per, *c = ahat + K * N;
    for (size_t k = 0; k < K; k++) beta[k] = 1;
    for (size_t t = N; t-- > 0;) {
      const double *a = ahat + t * K;
      if (lw->adj)
        for (size_t k = 0; k < K; k++) *ad_adjp(lw, k + t * K, s) += g * a[k] * beta[k];
      hmm_column(lw, K, t, s, w);
      /* next = w_t .* beta_t / c_t, the factor every earlier quantity meets */
      for (size_t k = 0; k < K; k++) next[k] = w[k] * beta[k] / c[t];
      if (t == 0) {
        if (rho->adj)
          for (size_t k = 0; k < K; k++) *ad_adjp(rho, k, s) += g * next[k];
        break;
      }
      const double *aprev = ahat + (t - 1) * K;
      if (G->adj)
        for (size_t j = 0; j < K; j++)
          for (size_t i = 0; i < K; i++) *ad_adjp(G, i + j * K, s) += g * aprev[i] * next[j];
      for (size_t i = 0; i < K; i++) {
        double acc = 0;
        for (size_t j = 0; j < K; j++) acc += ad_get(G, i + j * K, s) * next[j];
        beta[i] = acc;
      }
    }
  }
}

/* Shapes: log_omega K x N, Gamma K x K, rho K.  0, or -1 with the tape's error set. */
static int hmm_shapes(ad_tape *t, const char *fn, ad_val *lw, ad_val *G, ad_val *rho,
                      size_t *K, size_t *N)
{
  size_t gr, gc;
  ad_shape2(lw, K, N);
  ad_shape2(G, &gr, &gc);
  if (gr != gc) {
    ad_tape_set_error(t, "%s: Gamma must be square, found %zu x %zu", fn, gr, gc);
    return -1;
  }
  if (gr == 0) {
    ad_tape_set_error(t, "%s: Gamma has no states (0 x 0)", fn);
    return -1;
  }
  if (*K != gr) {
    ad_tape_set_error(t, "%s: log_omega has %zu rows, Gamma has %zu states", fn, *K, gr);
    return -1;
  }
  if (rho->len != gr) {
    ad_tape_set_error(t, "%s: rho has %zu elements, Gamma has %zu states", fn, rho->len, gr);
    return -1;
  }
  if (*N == 0) {
    ad_tape_set_error(t, "%s: log_omega has no columns (no observations)", fn);
    return -1;
  }
  /* a constant argument that is not a simplex is wrong in every draw: say so */
  size_t row;
  if (G->nd == 1 && !hmm_gamma_valid(G, gr, 0, &row)) {
    ad_tape_set_error(t, "%s: row %zu of Gamma is not a simplex", fn, row);
    return -1;
  }
  if (rho->nd == 1 && !hmm_rho_valid(rho, gr, 0)) {
    ad_tape_set_error(t, "%s: rho is not a simplex", fn);
    return -1;
  }
  return 0;
}

static ad_val *b_hmm_marginal(ad_tape *t, ad_val **a, int nargs)
{
  UNUSED(nargs);
  ad_val *lw = a[0], *G = a[1], *rho = a[2];
  size_t K, N;
  if (hmm_shapes(t, "hmm_marginal", lw, G, rho, &K, &N) != 0) return NULL;
  size_t nd = ad_nd2(lw, G);
  if (rho->nd > nd) nd = rho->nd;
  ad_val *o = ad_new_mat(t, VT_REAL, 0, 0, nd, ad_wants_adj(t, a, 3));
  /* per draw ahat (K N) and c (N); then beta, next and w (K each) for the sweeps */
  size_t per = K * N + N;
  double *saved = ad_alloc(t, (nd * per + 3 * K) * sizeof(double));
  if (!o || !saved) return NULL;
  double *w = saved + nd * per;
  for (size_t s = 0; s < nd; s++) {
    double *ahat = saved + s * per, *c = ahat + K * N;
    size_t row;
    o->x[s] = hmm_gamma_valid(G, K, s, &row) && hmm_rho_valid(rho, K, s)
                  ? hmm_forward(lw, G, rho, K, N, s, ahat, c, w)
                  : NAN;
  }
  ad_node *node = ad_push(t, hmm_marginal_backward, o, 3, a);
  if (node) {
    node->iarg[0] = (long)K;
    node->iarg[1] = (long)N;
    node->saved = saved;
  }
  return o;
}

/* The forward pass of every draw for the value-only functions: ahat and c per draw (as
 * hmm_marginal saves them) into an arena array; log p per draw into lp.  NULL with the
 * tape's error when a shape is wrong or Gamma / rho are not simplexes. */
static double *hmm_filter_all(ad_tape *t, const char *fn, ad_val **a, size_t *K, size_t *N,
                              size_t *nd, double **lp, double **w)
{
  ad_val *lw = a[0], *G = a[1], *rho = a[2];
  if (hmm_shapes(t, fn, lw, G, rho, K, N) != 0) return NULL;
  *nd = ad_nd2(lw, G);
  if (rho->nd > *nd) *nd = rho->nd;
  size_t per = *K * *N + *N;
  double *saved = ad_alloc(t, (*nd * per + *nd + 3 * *K) * sizeof(double));
  if (!saved) return NULL;
  *lp = saved + *nd * per;
  *w = *lp + *nd;
  for (size_t s = 0; s < *nd; s++) {
    size_t row;
    if (!hmm_gamma_valid(G, *K, s, &row)) {
      ad_tape_set_error(t, "%s: row %zu of Gamma is not a simplex", fn, row);
      return NULL;
    }
    if (!hmm_rho_valid(rho, *K, s)) {
      ad_tape_set_error(t, "%s: rho is not a simplex", fn);
      return NULL;
    }
    double *ahat = saved + s * per;
    (*lp)[s] = hmm_forward(lw, G, rho, *K, *N, s, ahat, ahat + *K * *N, *w);
  }
  return saved;
}

static ad_val *b_hmm_hidden_state_prob(ad_tape *t, ad_val **a, int nargs)
{
  UNUSED(nargs);
  size_t K, N, nd;
  double *lp, *w;
  double *saved = hmm_filter_all(t, "hmm_hidden_state_prob", a, &K, &N, &nd, &lp, &w);
  if (!saved) return NULL;
  ad_val *lw = a[0], *G = a[1];
  ad_val *P = ad_new_mat(t, VT_MATRIX, K, N, nd, 0);
  if (!P) return NULL;
  double *beta = w + K, *next = beta + K;
  size_t per = K * N + N;
  for (size_t s = 0; s < nd; s++) {
    const double *ahat = saved + s * per, *c = ahat + K * N;
    if (!isfinite(lp[s])) {   /* no path has positive probability */
      for (size_t e = 0; e < K * N; e++) P->x[e * nd + s] = NAN;
      continue;
    }
    for (size_t k = 0; k < K; k++) beta[k] = 1;
    for (size_t t1 = N; t1-- > 0;) {
      for (size_t k = 0; k < K; k++)
        P->x[(k + t1 * K) * nd + s] = ahat[k + t1 * K] * beta[k];
      if (t1 == 0) break;
      hmm_column(lw, K, t1, s, w);
      for (size_t k = 0; k < K; k++) next[k] = w[k] * beta[k] / c[t1];
      for (size_t i = 0; i < K; i++) {
        double acc = 0;
        for (size_t j = 0; j < K; j++) acc += ad_get(G, i + j * K, s) * next[j];
        beta[i] = acc;
      }
    }
  }
  return P;
}

/* State k (0-based) with probability p[k] / sum(p). */
static size_t hmm_draw(gsl_rng *r, const double *p, size_t K)
{
  double tot = 0, acc = 0;
  for (size_t k = 0; k < K; k++) tot += p[k];
  double u = gsl_rng_uniform(r) * tot;
  size_t last = 0;
  for (size_t k = 0; k < K; k++) {
    if (!(p[k] > 0)) continue;
    acc += p[k];
    last = k;
    if (u < acc) return k;
  }
  return last;
}

static ad_val *b_hmm_latent_rng(ad_tape *t, ad_val **a, int nargs)
{
  UNUSED(nargs);
  const char *fn = "hmm_latent_rng";
  gsl_rng *r = ad_tape_rng(t);
  if (!r) {
    ad_tape_set_error(t, "%s: random numbers are only available in transformed data and "
                         "generated quantities", fn);
    return NULL;
  }
  size_t K, N, nd;
  double *lp, *w;
  double *saved = hmm_filter_all(t, fn, a, &K, &N, &nd, &lp, &w);
  if (!saved) return NULL;
  ad_val *G = a[1];
  vi_type ty = {VT_INT, 1, NULL};
  ad_val *z = ad_new(t, ty, 1, &N, 1, 0);
  if (!z) return NULL;
  size_t per = K * N + N;
  for (size_t s = 0; s < z->nd; s++) {
    size_t sd = nd == 1 ? 0 : s;
    const double *ahat = saved + sd * per;
    if (!isfinite(lp[sd])) {
      ad_tape_set_error(t, "%s: no path of hidden states has positive probability", fn);
      return NULL;
    }
    size_t next = hmm_draw(r, ahat + (N - 1) * K, K);
    z->x[(N - 1) * z->nd + s] = (double)(next + 1);
    for (size_t t1 = N - 1; t1-- > 0;) {
      for (size_t i = 0; i < K; i++) w[i] = ahat[i + t1 * K] * ad_get(G, i + next * K, s);
      next = hmm_draw(r, w, K);
      z->x[t1 * z->nd + s] = (double)(next + 1);
    }
  }
  return z;
}

#define BUILTIN(name, sig, impl) {name, sig, impl},
const builtin_def builtin_kernels_hmm[] = {
#include "lang/lib/table_hmm.def"
  {NULL, NULL, NULL}
};
#undef BUILTIN
