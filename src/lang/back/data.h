/* data.h: reading Stan's JSON data format (as CmdStan reads it) into the persistent
 * values of the data block, validated against the declarations; then transformed data. */
#ifndef VI_LANG_DATA_H
#define VI_LANG_DATA_H

#include <stddef.h>
#include <gsl/gsl_rng.h>
#include <vi/lang.h>
#include "lang/back/back.h"

/* Parse json (len bytes; NULL: no data) and bind every data-block declaration of c->ast
 * to a persistent value in c->data[slot] (and c->slot).  fname names the data in
 * messages.  Errors: VI_EDATA with err filled (variable, dimension, sizes). */
int data_load(ev_ctx *c, const char *json, size_t len, const char *fname, vi_error *err);

/* The same; with c->shard_by >= 0, this rank's part of the sharded variables only
 * (back.h), N the observations it holds.  release: json is a file mapping whose pages
 * may be given back as they are read. */
int data_load_shard(ev_ctx *c, const char *json, size_t len, const char *fname, int release,
                    vi_error *err);

/* Run transformed data once (n = 1, no gradient, _rng from rng) and keep its
 * block-level values as persistent values in c->data.  Errors as above (reject:
 * VI_ERUNTIME). */
int data_transformed(ev_ctx *c, gsl_rng *rng, vi_error *err);

/* Initial values of the parameters (constrained, Stan's JSON as in CmdStan's init files)
 * to the unconstrained z (c->dim values), parameter by parameter, with the bounds each
 * has given the ones before it; a parameter the JSON lacks gets z = 0.  Errors: VI_EDATA
 * naming the parameter (shape, a value outside its constraint). */
int data_unconstrain(ev_ctx *c, const char *json, size_t len, const char *fname, double *z,
                     vi_error *err);

/* Free the persistent values in c->data (not the array). */
void data_free_values(ev_ctx *c);

#endif
