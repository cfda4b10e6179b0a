/* engine/adam.h: internal: the Adam update (Kingma & Ba 2015) as a propose / commit pair,
 * so that a step whose new point is infeasible can be dropped without touching the
 * moment estimates. */
#ifndef VI_ENGINE_ADAM_H
#define VI_ENGINE_ADAM_H
#include <stddef.h>

typedef struct vi_adam {
  size_t n;
  double beta1, beta2, eps;
  unsigned long t;                 /* steps committed */
  double *m, *v, *m_new, *v_new;
} vi_adam;

vi_adam *vi_adam_alloc(size_t n);
void vi_adam_free(vi_adam *a);
/* The ascent step delta (n values) for gradient g and learning rate lr; the state is only
 * updated by vi_adam_commit. */
void vi_adam_propose(vi_adam *a, const double *g, double lr, double *delta);
void vi_adam_commit(vi_adam *a);

#endif
