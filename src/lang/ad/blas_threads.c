/* blas_threads.c: OpenBLAS's own thread count, lowered while the back end evaluates
 * chunks of draws on threads of its own (program.c).  Each of our threads then calls
 * single-threaded GEMMs: the pthread build of OpenBLAS (Debian's default variant) would
 * otherwise start its full thread pool from each of them, oversubscribing the cores, and
 * it serialises concurrent threaded level-3 calls on one lock.  The setting is
 * process-wide (OpenBLAS has no per-call count), hence save and restore.  Without
 * openblas_set_num_threads (another BLAS), nothing to do. */
#ifdef HAVE_CONFIG_H   /* not in the fuzz build, which runs no configure */
#include <config.h>
#endif
#include "lang/ad/ad.h"

#ifdef HAVE_OPENBLAS_SET_NUM_THREADS
void openblas_set_num_threads(int n);
int openblas_get_num_threads(void);
#endif

int ad_blas_threads_set(int n)
{
#if defined HAVE_OPENBLAS_SET_NUM_THREADS && defined HAVE_OPENBLAS_GET_NUM_THREADS
  int old = openblas_get_num_threads();
  if (n > 0 && n != old) openblas_set_num_threads(n);
  return old;
#else
  (void)n;
  return 0;
#endif
}
