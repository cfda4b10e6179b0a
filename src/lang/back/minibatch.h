/* minibatch.h: internal to lang/back: minibatches of the sharded data (minibatch.c), the
 * evaluation state's side of vi_program_set_minibatch. */
#ifndef VI_LANG_MINIBATCH_H
#define VI_LANG_MINIBATCH_H

#include <stddef.h>
#include "lang/back/back.h"

/* Point c's data at b of this process's rows (rows: 0-based, < shard_hi - shard_lo,
 * repeats allowed): the sharded variables gathered to those rows, N reading b, the terms
 * on them scaled by (shard_hi - shard_lo) / b.  b = 0: the whole data again.  The caller
 * drops the cached data-only values of every evaluation state that reads c's data.
 * VI_EINVAL (no sharding, b above the rows, a row out of range; its message in c->err),
 * VI_EUNSUPPORTED (a sharded tuple), VI_ENOMEM; the data are then the whole data. */
int mb_set(ev_ctx *c, size_t b, const size_t *rows);
/* The whole data again and the views freed (before the data are freed or reloaded). */
void mb_clear(ev_ctx *c);

#endif
