/* engine/adam.h: internal: the Adam update (Kingma & Ba 2015) as a propose / commit pair,
 * so that a step whose new point is infeasible can be dropped without touching the
 * moment estimates. */
#ifndef VI_ENGINE_ADAM_H
#define VI_ENGINE_ADAM_H
#include <stddef.h>

typedef struct adam_state {
  size_t n;
  double beta1, beta2, eps;
  unsigned long t;                 /* steps committed */
  double *m, *v, *m_new, *v_new;
} adam_state;

adam_state *adam_alloc(size_t n);
void adam_free(adam_state *a);
/* The ascent step delta (n values) for gradient g and learning rate lr; the state is only
 * updated by adam_commit. */
void adam_propose(adam_state *a, const double *g, double lr, double *delta);
void adam_commit(adam_state *a);

#endif
