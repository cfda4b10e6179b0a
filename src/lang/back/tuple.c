/* tuple.c: tuple values of the model language (Stan 2.33+, Reference Manual "Tuple
 * types"): tuple(T1, ..., Tn) and arrays of them.  A tuple value is an ad_val of base
 * VT_TUPLE whose elements are ordinary values (ad_val.el, element k of array position i
 * at el[i * n + k]); it has no numbers of its own.  Gradients need nothing here: each
 * element carries its own adjoint, and taking an element or indexing an array of
 * tuples only moves pointers.  Tuples are values, as in Stan: every write makes a new
 * tuple (a new pointer array), and the elements it shares are marked shared, so that
 * an in-place write into an element copies first (ad.h). */
#include <stdlib.h>
#include <string.h>
#include "lang/back/back.h"

static size_t tup_n(const ad_val *v) { return (size_t)v->type.tup->n; }

ad_val *tup_new(ad_tape *t, vi_type ty, int ndims, const size_t *dims)
{
  if (ndims < 0 || ndims > AD_MAX_DIMS || !ty.tup) return NULL;
  ad_val *v = ad_alloc(t, sizeof *v);
  if (!v) return NULL;
  memset(v, 0, sizeof *v);
  v->type = ty;
  v->type.ndims = ndims;
  v->ndims = ndims;
  v->len = 1;
  for (int i = 0; i < ndims; i++) { v->dims[i] = dims[i]; v->len *= dims[i]; }
  v->nd = 1;
  size_t m = v->len * (size_t)ty.tup->n;
  v->el = ad_alloc(t, (m ? m : 1) * sizeof *v->el);
  if (!v->el) return NULL;
  memset(v->el, 0, (m ? m : 1) * sizeof *v->el);
  return v;
}

ad_val *tup_copy(ad_tape *t, const ad_val *v)
{
  ad_val *o = tup_new(t, v->type, v->ndims, v->dims);
  if (!o) return NULL;
  size_t m = v->len * tup_n(v);
  for (size_t i = 0; i < m; i++) {
    o->el[i] = v->el[i];
    if (o->el[i]) o->el[i]->shared = 1;
  }
  return o;
}

/* The positions an index list selects, per array dim: a single position (dropped from
 * the result), a list, or (beyond the indexes) the whole dim. */
typedef struct sel {
  int nd;                           /* array dims of the value */
  size_t cnt[AD_MAX_DIMS];
  const size_t *pos[AD_MAX_DIMS];   /* NULL: 0..cnt-1 */
  size_t one[AD_MAX_DIMS];
  int keep[AD_MAX_DIMS];
} sel;

static void sel_make(sel *s, const ad_val *v, const ad_ix *ix, int nix)
{
  s->nd = v->ndims;
  for (int i = 0; i < v->ndims; i++) {
    s->pos[i] = NULL;
    s->keep[i] = 1;
    s->cnt[i] = v->dims[i];
    if (i < nix && !ix[i].multi) {
      s->one[i] = ix[i].pos0;
      s->pos[i] = &s->one[i];
      s->cnt[i] = 1;
      s->keep[i] = 0;
    } else if (i < nix) {
      s->pos[i] = ix[i].pos;
      s->cnt[i] = ix[i].npos;
    }
  }
}

/* The flat source position of selection number q (row-major over the selection). */
static size_t sel_source(const sel *s, const ad_val *v, size_t q)
{
  size_t off = 0, stride = 1;
  for (int i = s->nd - 1; i >= 0; i--) {
    size_t j = q % s->cnt[i];
    q /= s->cnt[i];
    size_t p = s->pos[i] ? s->pos[i][j] : j;
    off += p * stride;
    stride *= v->dims[i];
  }
  return off;
}

static size_t sel_count(const sel *s)
{
  size_t m = 1;
  for (int i = 0; i < s->nd; i++) m *= s->cnt[i];
  return m;
}

ad_val *tup_index(ad_tape *t, const ad_val *v, const ad_ix *ix, int nix)
{
  if (nix > v->ndims) { ad_tape_set_error(t, "too many indexes for an array of tuples"); return NULL; }
  sel s;
  sel_make(&s, v, ix, nix);
  size_t dims[AD_MAX_DIMS];
  int nd = 0;
  for (int i = 0; i < s.nd; i++) if (s.keep[i]) dims[nd++] = s.cnt[i];
  ad_val *o = tup_new(t, v->type, nd, dims);
  if (!o) return NULL;
  size_t n = tup_n(v), m = sel_count(&s);
  for (size_t q = 0; q < m; q++) {
    size_t src = sel_source(&s, v, q);
    for (size_t k = 0; k < n; k++) o->el[q * n + k] = v->el[src * n + k];
  }
  return o;
}

ad_val *tup_assign_index(ad_tape *t, const ad_val *v, const ad_ix *ix, int nix,
                         const ad_val *rhs)
{
  if (nix > v->ndims) { ad_tape_set_error(t, "too many indexes for an array of tuples"); return NULL; }
  sel s;
  sel_make(&s, v, ix, nix);
  int nd = 0;
  size_t m = sel_count(&s), n = tup_n(v);
  for (int i = 0; i < s.nd; i++) {
    if (!s.keep[i]) continue;
    if (nd >= rhs->ndims || rhs->dims[nd] != s.cnt[i]) {
      ad_tape_set_error(t, "size mismatch: the selection and the value assigned differ");
      return NULL;
    }
    nd++;
  }
  if (nd != rhs->ndims || rhs->len != m || rhs->type.base != VT_TUPLE
      || tup_n(rhs) != n) {
    ad_tape_set_error(t, "size mismatch: the selection and the value assigned differ");
    return NULL;
  }
  ad_val *o = tup_copy(t, v);
  if (!o) return NULL;
  for (size_t q = 0; q < m; q++) {
    size_t dst = sel_source(&s, v, q);
    for (size_t k = 0; k < n; k++) {
      o->el[dst * n + k] = rhs->el[q * n + k];
      if (o->el[dst * n + k]) o->el[dst * n + k]->shared = 1;
    }
  }
  return o;
}

ad_val *tup_persistent(const ad_val *v)
{
  if (v->type.base != VT_TUPLE) {
    ad_val *p = ad_val_new_persistent(v->type, v->ndims, v->dims);
    if (!p) return NULL;
    if (v->nd != 1) { ad_val_free(p); return NULL; }
    memcpy(p->x, v->x, v->len * sizeof(double));
    return p;
  }
  ad_val *p = ad_val_new_persistent(v->type, v->ndims, v->dims);
  if (!p) return NULL;
  size_t m = v->len * tup_n(v);
  p->el = calloc(m ? m : 1, sizeof *p->el);
  if (!p->el) { ad_val_free(p); return NULL; }
  for (size_t i = 0; i < m; i++)
    if (!v->el[i] || !(p->el[i] = tup_persistent(v->el[i]))) { ad_val_free(p); return NULL; }
  return p;
}

int tup_varying(const ad_val *v)
{
  if (v->type.base != VT_TUPLE) return v->nd != 1;
  size_t m = v->len * tup_n(v);
  for (size_t i = 0; i < m; i++)
    if (v->el[i] && tup_varying(v->el[i])) return 1;
  return 0;
}
