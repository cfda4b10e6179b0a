/* minibatch.c: minibatches of the sharded data, for stochastic variational inference
 * (Hoffman, Blei, Wang & Paisley, "Stochastic variational inference", JMLR 2013, sec. 2.4
 * and 4): a step evaluates the likelihood on B rows drawn at random and scales it by
 * N / B, which keeps the log joint and its gradient unbiased for the whole data's.
 *
 * shard.c has already proved which terms of the model block are sums over the rows of
 * the data sharded by N (ST_*.shard_term) and that nothing else reads those rows or N as
 * a value, so a minibatch is a shard of its own: the sharded variables are gathered to
 * the chosen rows into a view of the data (the other variables are the whole data's, by
 * pointer), N reads B, and add_term (eval.c) multiplies the shard terms by N / B.  Priors,
 * Jacobians and terms on data not sized by N are untouched, so they stay exact.  Under
 * MPI each rank draws its B rows from its own shard: its shard terms scaled by its row
 * count / B, the sum over the ranks is unbiased for the whole likelihood. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <vi/status.h>
#include "lang/back/minibatch.h"

/* The element layout of ad.h: a container with array dimensions keeps each row (array
 * element) contiguous; so do a vector or row vector (each element, both parts of a
 * complex one); a matrix is column-major, a row's elements one column apart. */
static void gather(const ad_val *v, ad_val *out, size_t n, size_t b, const size_t *rows)
{
  size_t per = n ? v->len / n : 0;   /* doubles per row */
  int matrix = v->type.ndims == 0 && (v->type.base == VT_MATRIX ||
                                       v->type.base == VT_COMPLEX_MATRIX);
  if (!matrix) {
    for (size_t i = 0; i < b; i++)
      memcpy(out->x + i * per, v->x + rows[i] * per, per * sizeof(double));
    return;
  }
  size_t cols = v->dims[1], e = per / (cols ? cols : 1);   /* e: 2 for complex */
  if (e == 1) {   /* a real matrix: plain loads, many in flight (each one a cache miss) */
    for (size_t k = 0; k < cols; k++) {
      const double *src = v->x + n * k;
      double *dst = out->x + b * k;
      for (size_t i = 0; i < b; i++) dst[i] = src[rows[i]];
    }
    return;
  }
  for (size_t k = 0; k < cols; k++)
    for (size_t i = 0; i < b; i++)
      memcpy(out->x + (i + b * k) * e, v->x + (rows[i] + n * k) * e, e * sizeof(double));
}

void mb_clear(ev_ctx *c)
{
  if (c->mb_full) {
    c->data = c->mb_full;
    c->mb_full = NULL;
  }
  if (c->mb_view) {
    for (int i = 0; i < c->ast->nslots; i++)
      if (c->data && c->mb_view[i] != c->data[i]) ad_val_free(c->mb_view[i]);
    free(c->mb_view);
    c->mb_view = NULL;
  }
  c->mb_b = c->mb_view_b = 0;
  c->mb_scale = 1.0;
}

static int fail(ev_ctx *c, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(ev_ctx *c, int status, const char *fmt, ...)
{
  va_list ap;
  memset(&c->err, 0, sizeof c->err);
  c->err.status = status;
  va_start(ap, fmt);
  vsnprintf(c->err.message, sizeof c->err.message, fmt, ap);
  va_end(ap);
  return status;
}

/* The whole data again, the views kept for the next minibatch of their size (a fit
 * switches twice a step: making them anew each time would cost more than the step). */
static void mb_whole(ev_ctx *c)
{
  if (c->mb_full) c->data = c->mb_full;
  c->mb_b = 0;
  c->mb_scale = 1.0;
}

int mb_set(ev_ctx *c, size_t b, const size_t *rows)
{
  if (b == 0) {
    mb_whole(c);
    return VI_SUCCESS;
  }
  mb_whole(c);   /* until the new rows are in */
  if (c->shard_by < 0 || !c->sharded || !c->data)
    return fail(c, VI_EINVAL, "a minibatch needs the data sharded by their count "
                "(vi_program_set_shard)");
  size_t n = c->shard_hi - c->shard_lo, ns = (size_t)c->ast->nslots;
  if (b > n)
    return fail(c, VI_EINVAL, "a minibatch of %zu rows is more than the %zu rows of '%s' "
                "here", b, n, c->ast->slots[c->shard_by]->name);
  for (size_t i = 0; i < b; i++)
    if (!rows || rows[i] >= n)
      return fail(c, VI_EINVAL, "minibatch row %zu (0-based) is not one of the %zu rows "
                  "here", rows ? rows[i] : 0, n);
  ad_val **full = c->data;
  for (size_t i = 0; i < ns; i++)
    if (c->sharded[i] && full[i] && full[i]->type.base == VT_TUPLE)
      return fail(c, VI_EUNSUPPORTED, "minibatches of the sharded tuple '%s' are not "
                  "supported yet", c->ast->slots[i]->name);
  if (c->mb_view && c->mb_view_b == b) {   /* the views of the last minibatch */
    c->data = c->mb_view;
  } else {   /* views of this size made */
    mb_clear(c);
    ad_val **view = calloc(ns ? ns : 1, sizeof *view);
    if (!view) return VI_ENOMEM;
    c->mb_view = view;
    c->mb_full = full;
    c->data = view;
    for (size_t i = 0; i < ns; i++) {
      const ad_val *v = full[i];
      if (!v || !(c->sharded[i] || (int)i == c->shard_by)) { view[i] = full[i]; continue; }
      size_t dims[AD_MAX_DIMS];
      memcpy(dims, v->dims, sizeof dims);
      if ((int)i != c->shard_by) dims[0] = b;
      view[i] = ad_val_new_persistent(v->type, v->ndims, dims);
      if (!view[i]) { mb_clear(c); return VI_ENOMEM; }
      if ((int)i == c->shard_by) view[i]->x[0] = (double)b;
    }
    c->mb_view_b = b;
  }
  c->mb_b = b;
  c->mb_scale = (double)n / (double)b;
  for (size_t i = 0; i < ns; i++)
    if (c->sharded[i] && full[i] && (int)i != c->shard_by)
      gather(full[i], c->mb_view[i], n, b, rows);
  return VI_SUCCESS;
}
