/* minibatch_rows.c: the fit's side of minibatches (vi_options.minibatch): stochastic
 * variational inference (Hoffman, Blei, Wang & Paisley, "Stochastic variational
 * inference", JMLR 2013, sec. 2.4 and 4) with the reparameterisation gradient of ADVI.
 * Before each fresh-draw step the fit draws B of the N rows uniformly at random without
 * replacement, hands them to the model (vi_options.minibatch_fn), which scales its
 * likelihood by N / B, and after the step gives it the whole data back: so the step's
 * ELBO and gradient are unbiased for the whole data's, and everything between steps (the
 * caller's own calls, vi_fit_finish) sees the whole data.
 *
 * The rows: a partial Fisher-Yates shuffle (Knuth, TAOCP 2, Algorithm 3.4.2P) of a
 * permutation kept from step to step, B swaps a step whatever N, then sorted (a gather in
 * row order reads memory forwards).  From a generator of its own, seeded by the seed and
 * vi_options.minibatch_stream, so that the fit's own generator, and with it the draws
 * from q, is the same with or without minibatches and on every MPI rank. */
#include <stdlib.h>
#include <string.h>
#include <vi/status.h>
#include "engine/fit_internal.h"

static int cmp_size(const void *a, const void *b)
{
  size_t x = *(const size_t *)a, y = *(const size_t *)b;
  return (x > y) - (x < y);
}

int fit_minibatch_init(vi_fit *f)
{
  size_t n = f->opt.minibatch_rows;
  if (!f->opt.minibatch) return VI_SUCCESS;
  f->mb_perm = malloc(n * sizeof *f->mb_perm);
  f->mb_rows = malloc(f->opt.minibatch * sizeof *f->mb_rows);
  f->rng_mb = gsl_rng_alloc(gsl_rng_mt19937);
  if (!f->mb_perm || !f->mb_rows || !f->rng_mb) return VI_ENOMEM;
  for (size_t i = 0; i < n; i++) f->mb_perm[i] = i;
  /* a stream per seed and rank; MT19937's seeding scrambles neighbouring seeds */
  gsl_rng_set(f->rng_mb,
              (f->opt.seed ^ 0x2545f491UL) + 0x9e3779b9UL * f->opt.minibatch_stream);
  return VI_SUCCESS;
}

void fit_minibatch_free(vi_fit *f)
{
  fit_minibatch_end(f);
  free(f->mb_perm);
  free(f->mb_rows);
  if (f->rng_mb) gsl_rng_free(f->rng_mb);
  f->mb_perm = f->mb_rows = NULL;
  f->rng_mb = NULL;
}

int fit_minibatch_begin(vi_fit *f)
{
  size_t n = f->opt.minibatch_rows, b = f->opt.minibatch;
  if (!b) return VI_SUCCESS;
  for (size_t i = 0; i < b; i++) {
    size_t j = i + (size_t)gsl_rng_uniform_int(f->rng_mb, (unsigned long)(n - i));
    size_t t = f->mb_perm[i];
    f->mb_perm[i] = f->mb_perm[j];
    f->mb_perm[j] = t;
  }
  memcpy(f->mb_rows, f->mb_perm, b * sizeof *f->mb_rows);
  qsort(f->mb_rows, b, sizeof *f->mb_rows, cmp_size);
  f->mb_on = 1;
  int st = f->opt.minibatch_fn(f->opt.minibatch_ctx, b, f->mb_rows);
  return st == VI_SUCCESS ? st : st < 0 ? st : VI_EMODEL;
}

void fit_minibatch_end(vi_fit *f)
{
  if (!f->mb_on) return;
  f->mb_on = 0;
  f->opt.minibatch_fn(f->opt.minibatch_ctx, 0, NULL);
}
