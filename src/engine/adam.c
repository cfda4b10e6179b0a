/* adam.c: Adam, the stochastic first-order optimiser of Kingma & Ba ("Adam: a method for
 * stochastic optimization", ICLR 2015, Algorithm 1), used on the fresh-draw ELBO (ADVI)
 * where a line search is meaningless because every evaluation uses new draws.  Ascent
 * form: x <- x + lr * mhat / (sqrt(vhat) + eps). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "engine/adam.h"

adam_state *adam_alloc(size_t n)
{
  adam_state *a = calloc(1, sizeof *a);
  if (!a) return NULL;
  a->n = n;
  a->beta1 = 0.9;
  a->beta2 = 0.999;
  a->eps = 1e-8;
  a->m = calloc(4 * n, sizeof(double));
  if (!a->m) { free(a); return NULL; }
  a->v = a->m + n;
  a->m_new = a->m + 2 * n;
  a->v_new = a->m + 3 * n;
  return a;
}

void adam_free(adam_state *a)
{
  if (!a) return;
  free(a->m);
  free(a);
}

void adam_propose(adam_state *a, const double *g, double lr, double *delta)
{
  double t = (double)(a->t + 1);
  double c1 = 1.0 - pow(a->beta1, t), c2 = 1.0 - pow(a->beta2, t);
  for (size_t i = 0; i < a->n; i++) {
    a->m_new[i] = a->beta1 * a->m[i] + (1.0 - a->beta1) * g[i];
    a->v_new[i] = a->beta2 * a->v[i] + (1.0 - a->beta2) * g[i] * g[i];
    delta[i] = lr * (a->m_new[i] / c1) / (sqrt(a->v_new[i] / c2) + a->eps);
  }
}

void adam_commit(adam_state *a)
{
  memcpy(a->m, a->m_new, a->n * sizeof(double));
  memcpy(a->v, a->v_new, a->n * sizeof(double));
  a->t++;
}
