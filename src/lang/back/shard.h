/* shard.h: internal to lang/back: data parallelism (shard.c).  Which data the int `by`
 * shards and whether the model may be split by them; the data file mapped for a sharded
 * load (its pages given back as they are parsed). */
#ifndef VI_LANG_SHARD_H
#define VI_LANG_SHARD_H

#include <stddef.h>
#include <vi/lang.h>
#include "lang/back/back.h"

/* Plan the sharding of c's data by the data int named by: c->sharded, c->shard_by, and
 * each model-block term's shard_term.  Errors: VI_EINVAL (by is not a data int),
 * VI_EUNSUPPORTED (the model cannot be split soundly: err names the statement). */
int shard_plan(ev_ctx *c, const char *by, vi_error *err);

/* The file at path, mapped read-only (*len bytes; "" for an empty file), or NULL. */
const char *shard_map(const char *path, size_t *len);
void shard_unmap(const char *text, size_t len);

#endif
