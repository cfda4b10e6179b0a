/* dist_common.c: the plumbing every density shares (builtins_dist.c and the
 * multivariate and GLM files): the result value, zeroed partials arrays, and the one
 * "partials" node whose reverse step multiplies stored partial derivatives by the
 * output's adjoint.  Declared in dist_impl.h. */
#include <string.h>
#include "lang/lib/dist_impl.h"

#define DIST_MAX_ARGS 4

double *dist_zeros(ad_tape *t, size_t n)
{
  double *p = ad_alloc(t, (n ? n : 1) * sizeof *p);
  if (!p) { ad_tape_set_error(t, "out of memory in a density"); return NULL; }
  memset(p, 0, (n ? n : 1) * sizeof *p);
  return p;
}

ad_val *dist_new_result(ad_tape *t, ad_val **args, int nargs)
{
  int varying = 0, adj = 0;
  for (int i = 0; i < nargs; i++) {
    if (args[i]->nd > 1) varying = 1;
    if (args[i]->adj) adj = 1;
  }
  vi_type rt = {VT_REAL, 0, NULL};
  ad_val *out = ad_new(t, rt, 0, NULL, varying, adj && ad_tape_recording(t));
  if (!out) { ad_tape_set_error(t, "out of memory in a density"); return NULL; }
  for (size_t s = 0; s < out->nd; s++) out->x[s] = 0;
  return out;
}

/* Reverse step of every density: in.adj[e, s] += out.adj[s] * P[e, s], summing over
 * draws into inputs that do not vary. */
static void dist_backward(ad_tape *t, ad_node *node)
{
  (void)t;
  const ad_val *out = node->out;
  const size_t ndo = out->nd;
  double **P = node->ptr;
  for (int i = 0; i < node->nin; i++) {
    ad_val *a = node->in[i];
    if (!P[i] || !a->adj) continue;
    const double *p = P[i];
    size_t L = type_rank(a->type) > 0 ? a->len : 1;
    if (a->nd == ndo) {
      for (size_t e = 0; e < L; e++) {
        double *ad = a->adj + e * ndo;
        const double *pe = p + e * ndo;
        for (size_t s = 0; s < ndo; s++) ad[s] += out->adj[s] * pe[s];
      }
    } else {
      for (size_t e = 0; e < L; e++) {
        double acc = 0;
        const double *pe = p + e * ndo;
        for (size_t s = 0; s < ndo; s++) acc += out->adj[s] * pe[s];
        a->adj[e * a->nd] += acc;
      }
    }
  }
}

int dist_push_partials(ad_tape *t, ad_val *out, ad_val **args, int nargs, double **P)
{
  if (!out->adj) return 0;
  int any = 0;
  for (int i = 0; i < nargs; i++) if (args[i]->adj && P[i]) any = 1;
  if (!any) return 0;
  if (nargs > 4) { ad_tape_set_error(t, "internal: density with more than 4 arguments"); return -1; }
  double **keep = ad_alloc(t, DIST_MAX_ARGS * sizeof *keep);
  if (!keep) { ad_tape_set_error(t, "out of memory in a density"); return -1; }
  for (int i = 0; i < DIST_MAX_ARGS; i++) keep[i] = i < nargs ? P[i] : NULL;
  for (int i = 0; i < nargs; i++) args[i]->shared = 1;
  ad_node *node = ad_push(t, dist_backward, out, nargs, args);
  if (!node) { ad_tape_set_error(t, "out of memory in a density"); return -1; }
  node->ptr = keep;
  return 0;
}
