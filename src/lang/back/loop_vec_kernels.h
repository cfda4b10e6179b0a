/* loop_vec_kernels.h: internal to lang/back: the fused kernels of loop_vec.c's folded
 * loops (loop_vec_kernels.c).  a[] are the three operands of normal_lpdf(y | mu, sigma)
 * or log_mix(theta, lp1, lp2), lf[] whether each is folded (nd n * L, or L when it is
 * the same in every draw) or plain (nd n or 1); the result is folded (nd n * L). */
#ifndef VI_LANG_LOOP_VEC_KERNELS_H
#define VI_LANG_LOOP_VEC_KERNELS_H

#include <stddef.h>
#include "lang/ad/ad.h"

/* sigma plain */
ad_val *lvk_normal(ad_tape *t, size_t n, size_t L, ad_val **a, const int *lf);
/* theta plain, lp1 and lp2 folded */
ad_val *lvk_log_mix(ad_tape *t, size_t n, size_t L, ad_val **a, const int *lf);

#endif
