/* ad.c: the batched reverse-mode AD tape of the model language (see ad.h).
 *
 * A classic operator-overloading tape (Griewank & Walther, "Evaluating Derivatives",
 * ch. 3; Stan's math library is the same idea) with one twist: every value carries a
 * draw axis, element e of draw s at x[e * nd + s], so each op is interpreted once for
 * all n draws and the inner loops run over contiguous draws.  This file holds the tape,
 * its arena, values, nodes, gathers and the elementwise maps; the operators are in
 * operators.c, the solves in solve.c.
 *
 * Memory: values and nodes live in an arena of big chunks.  Reset rewinds it; when an
 * evaluation needed more than one chunk, reset replaces them by one chunk of the total
 * size, so from the second identical evaluation on there is no malloc at all.  The arena
 * has a limit (default: half the machine's memory): a loop that never ends in a model
 * stops with an error there instead of taking the machine down. */
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <gsl/gsl_cblas.h>
#include <gsl/gsl_errno.h>
#include "lang/ad/ad.h"
#include "lang/ad/ad_kernels.h"

#define AD_CHUNK_MIN ((size_t)1 << 20)
#define AD_ALIGN 16

typedef struct ad_chunk {
  char *mem;
  size_t size, used;
} ad_chunk;

struct ad_tape {
  ad_chunk *chunks;
  size_t nchunks, capchunks, cur;
  ad_node **nodes;
  size_t nnodes, capnodes;
  size_t n;
  size_t limit;     /* most bytes the arena and node list may hold */
  int grad;
  gsl_rng *rng;
  int has_err;
  char err[512];
  /* ad_tape_mark: values with adjoints made while a mark is open (ad_tape_zero_adj) */
  ad_val **tracked;
  size_t ntracked, captracked;
  int marks;
};

/* ---- tape and arena ------------------------------------------------------------ */

ad_tape *ad_tape_alloc(void)
{
  gsl_set_error_handler_off();
  ad_tape *t = calloc(1, sizeof *t);
  if (!t) return NULL;
  t->n = 1;
  t->limit = ad_default_limit();
  return t;
}

size_t ad_default_limit(void)
{
  long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGE_SIZE);
  if (pages <= 0 || page <= 0) return (size_t)8 << 30;
  return (size_t)pages / 2 * (size_t)page;
}

void ad_tape_set_limit(ad_tape *t, size_t bytes) { t->limit = bytes ? bytes : ad_default_limit(); }

static void over_limit(ad_tape *t)
{
  ad_tape_set_error(t, "out of memory: one evaluation of the model needs more than %zu MB "
                    "(the limit; a loop that never ends?)", t->limit >> 20);
}

void ad_tape_free(ad_tape *t)
{
  if (!t) return;
  for (size_t i = 0; i < t->nchunks; i++) free(t->chunks[i].mem);
  free(t->chunks);
  free(t->nodes);
  free(t->tracked);
  free(t);
}

static int arena_add_chunk(ad_tape *t, size_t size)
{
  if (t->nchunks == t->capchunks) {
    size_t cap = t->capchunks ? 2 * t->capchunks : 8;
    ad_chunk *c = realloc(t->chunks, cap * sizeof *c);
    if (!c) return -1;
    t->chunks = c;
    t->capchunks = cap;
  }
  char *mem = aligned_alloc(AD_ALIGN, size);
  if (!mem) return -1;
  t->chunks[t->nchunks].mem = mem;
  t->chunks[t->nchunks].size = size;
  t->chunks[t->nchunks].used = 0;
  t->nchunks++;
  return 0;
}

void ad_tape_reset(ad_tape *t, size_t n, int grad)
{
  if (t->nchunks > 1) {
    /* Consolidate: one chunk as big as everything the last evaluation used. */
    size_t total = 0;
    for (size_t i = 0; i < t->nchunks; i++) {
      total += t->chunks[i].size;
      free(t->chunks[i].mem);
    }
    t->nchunks = 0;
    if (arena_add_chunk(t, total) != 0) t->nchunks = 0;  /* retried lazily */
  }
  for (size_t i = 0; i < t->nchunks; i++) t->chunks[i].used = 0;
  t->cur = 0;
  t->nnodes = 0;
  t->ntracked = 0;
  t->marks = 0;
  t->n = n ? n : 1;
  t->grad = grad;
  t->has_err = 0;
  t->err[0] = '\0';
}

size_t ad_tape_n(const ad_tape *t) { return t->n; }

size_t ad_tape_set_n(ad_tape *t, size_t n)
{
  size_t old = t->n;
  t->n = n ? n : 1;
  return old;
}

void ad_tape_clear_error(ad_tape *t)
{
  t->has_err = 0;
  t->err[0] = '\0';
}
int ad_tape_recording(const ad_tape *t) { return t->grad; }
void ad_tape_set_rng(ad_tape *t, gsl_rng *rng) { t->rng = rng; }
gsl_rng *ad_tape_rng(ad_tape *t) { return t->rng; }

size_t ad_tape_used_bytes(const ad_tape *t)
{
  size_t used = t->nnodes * sizeof(ad_node *);
  for (size_t i = 0; i < t->nchunks && i <= t->cur; i++) used += t->chunks[i].used;
  return used;
}

size_t ad_tape_arena_bytes(const ad_tape *t)
{
  size_t total = 0;
  for (size_t i = 0; i < t->nchunks; i++) total += t->chunks[i].size;
  return total + t->capnodes * sizeof(ad_node *);
}

void ad_tape_set_error(ad_tape *t, const char *fmt, ...)
{
  if (t->has_err) return;   /* the first error is the one that matters */
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(t->err, sizeof t->err, fmt, ap);
  va_end(ap);
  t->has_err = 1;
}

const char *ad_tape_error(const ad_tape *t) { return t->has_err ? t->err : NULL; }

void *ad_alloc(ad_tape *t, size_t bytes)
{
  if (bytes > ((size_t)1 << 46)) {   /* 64 TB: a size computation went wrong */
    ad_tape_set_error(t, "out of memory (AD arena, %zu bytes)", bytes);
    return NULL;
  }
  bytes = (bytes + AD_ALIGN - 1) & ~(size_t)(AD_ALIGN - 1);
  if (bytes == 0) bytes = AD_ALIGN;
  while (t->cur < t->nchunks) {
    ad_chunk *c = &t->chunks[t->cur];
    if (c->size - c->used >= bytes) {
      void *p = c->mem + c->used;
      c->used += bytes;
      return p;
    }
    if (t->cur + 1 == t->nchunks) break;
    t->cur++;
  }
  size_t total = t->capnodes * sizeof(ad_node *);
  for (size_t i = 0; i < t->nchunks; i++) total += t->chunks[i].size;
  size_t size = total > AD_CHUNK_MIN ? total : AD_CHUNK_MIN;
  if (size < bytes) size = bytes;
  if (total >= t->limit || bytes > t->limit - total) { over_limit(t); return NULL; }
  if (size > t->limit - total) size = t->limit - total;
  if (arena_add_chunk(t, size) != 0) {
    ad_tape_set_error(t, "out of memory (AD arena, %zu bytes)", bytes);
    return NULL;
  }
  t->cur = t->nchunks - 1;
  ad_chunk *c = &t->chunks[t->cur];
  c->used = bytes;
  return c->mem;
}

/* ---- marks: a sub-evaluation that is differentiated and then forgotten --------- */

static int track_value(ad_tape *t, ad_val *v)
{
  if (t->ntracked == t->captracked) {
    size_t cap = t->captracked ? 2 * t->captracked : 256;
    ad_val **nv = realloc(t->tracked, cap * sizeof *nv);
    if (!nv) { ad_tape_set_error(t, "out of memory (AD tape)"); return -1; }
    t->tracked = nv;
    t->captracked = cap;
  }
  t->tracked[t->ntracked++] = v;
  return 0;
}

void ad_tape_mark(ad_tape *t, ad_mark *m, int track)
{
  m->track = track;
  m->nnodes = t->nnodes;
  m->cur = t->cur;
  m->used = t->cur < t->nchunks ? t->chunks[t->cur].used : 0;
  m->ntracked = t->ntracked;
  m->grad = t->grad;
  if (track) t->marks++;
}

void ad_tape_backward_since(ad_tape *t, const ad_mark *m)
{
  for (size_t i = t->nnodes; i-- > m->nnodes;) {
    ad_node *node = t->nodes[i];
    if (node->backward) node->backward(t, node);
  }
}

void ad_tape_zero_adj(ad_tape *t, const ad_mark *m)
{
  for (size_t i = m->ntracked; i < t->ntracked; i++) {
    ad_val *v = t->tracked[i];
    memset(v->adj, 0, v->len * v->nd * sizeof(double));
  }
}

void ad_tape_release(ad_tape *t, const ad_mark *m)
{
  if (t->nchunks) {
    for (size_t i = m->cur + 1; i <= t->cur && i < t->nchunks; i++) t->chunks[i].used = 0;
    if (m->cur < t->nchunks) t->chunks[m->cur].used = m->used;
    t->cur = m->cur;
  }
  t->nnodes = m->nnodes;
  t->ntracked = m->ntracked;
  t->grad = m->grad;
  if (m->track && t->marks > 0) t->marks--;
}

void ad_tape_unmark(ad_tape *t, const ad_mark *m)
{
  t->ntracked = m->ntracked;
  if (m->track && t->marks > 0) t->marks--;
}

void ad_tape_set_recording(ad_tape *t, int grad) { t->grad = grad; }

/* ---- values -------------------------------------------------------------------- */

/* Product of the dims; SIZE_MAX if it overflows (then no allocation can succeed). */
static size_t dims_len(int ndims, const size_t *dims)
{
  size_t len = 1;
  for (int i = 0; i < ndims; i++) {
    if (dims[i] && len > SIZE_MAX / dims[i]) return SIZE_MAX;
    len *= dims[i];
  }
  return len;
}

ad_val *ad_new_nd(ad_tape *t, vi_type type, int ndims, const size_t *dims, size_t nd,
                  int with_adj)
{
  if (ndims > AD_MAX_DIMS) {
    ad_tape_set_error(t, "too many dimensions (%d)", ndims);
    return NULL;
  }
  /* One arena block: the header, the values, the adjoints. */
  size_t len = dims_len(ndims, dims);
  if (len > ((size_t)1 << 40) / (nd ? nd : 1)) {
    ad_tape_set_error(t, "value too large (%zu elements x %zu draws)", len, nd);
    return NULL;
  }
  size_t head = (sizeof(ad_val) + AD_ALIGN - 1) & ~(size_t)(AD_ALIGN - 1);
  size_t bytes = (len * nd * sizeof(double) + AD_ALIGN - 1) & ~(size_t)(AD_ALIGN - 1);
  int adj = with_adj && t->grad;
  char *mem = ad_alloc(t, head + bytes * (adj ? 2 : 1));
  if (!mem) return NULL;
  ad_val *v = (ad_val *)mem;
  memset(v, 0, sizeof *v);
  v->type = type;
  v->ndims = ndims;
  for (int i = 0; i < ndims; i++) v->dims[i] = dims[i];
  v->len = len;
  v->nd = nd;
  v->x = (double *)(mem + head);
  if (adj) {
    v->adj = (double *)(mem + head + bytes);
    memset(v->adj, 0, bytes);
    if (t->marks && track_value(t, v) != 0) return NULL;
  }
  return v;
}

ad_val *ad_new(ad_tape *t, vi_type type, int ndims, const size_t *dims, int varying,
               int with_adj)
{
  return ad_new_nd(t, type, ndims, dims, varying ? t->n : 1, with_adj);
}

ad_val *ad_new_like(ad_tape *t, const ad_val *v, int varying, int with_adj)
{
  return ad_new(t, v->type, v->ndims, v->dims, varying, with_adj);
}

ad_val *ad_new_mat(ad_tape *t, vi_basetype base, size_t r, size_t c, size_t nd,
                   int with_adj)
{
  vi_type ty = {base, 0, NULL};
  size_t dims[2] = {r, c};
  int nd_ = base == VT_MATRIX ? 2 : (base == VT_VECTOR) ? 1 : 0;
  if (base == VT_ROW_VECTOR) { dims[0] = c; nd_ = 1; }
  return ad_new_nd(t, ty, nd_, dims, nd, with_adj);
}

void ad_shape2(const ad_val *v, size_t *rows, size_t *cols)
{
  int a = v->type.ndims;
  switch (base_real_of(v->type.base)) {
  case VT_VECTOR: *rows = v->dims[a]; *cols = 1; break;
  case VT_ROW_VECTOR: *rows = 1; *cols = v->dims[a]; break;
  case VT_MATRIX: *rows = v->dims[a]; *cols = v->dims[a + 1]; break;
  default: *rows = 1; *cols = 1; break;
  }
}

ad_val *ad_scalar(ad_tape *t, double x, int is_int)
{
  vi_type ty = {is_int ? VT_INT : VT_REAL, 0, NULL};
  ad_val *v = ad_new_nd(t, ty, 0, NULL, 1, 0);
  if (v) v->x[0] = x;
  return v;
}

ad_val *ad_val_adopt_persistent(vi_type type, int ndims, const size_t *dims, double *x)
{
  if (ndims > AD_MAX_DIMS || ndims < 0 || !x) return NULL;
  ad_val *v = calloc(1, sizeof *v);
  if (!v) return NULL;
  v->type = type;
  v->ndims = ndims;
  for (int i = 0; i < ndims; i++) v->dims[i] = dims[i];
  v->len = dims_len(ndims, dims);
  v->nd = 1;
  v->persistent = 1;
  v->shared = 1;
  v->x = x;
  return v;
}

ad_val *ad_val_new_persistent(vi_type type, int ndims, const size_t *dims)
{
  size_t len = ndims >= 0 && ndims <= AD_MAX_DIMS ? dims_len(ndims, dims) : 0;
  double *x = calloc(len ? len : 1, sizeof(double));
  ad_val *v = ad_val_adopt_persistent(type, ndims, dims, x);
  if (!v) free(x);
  return v;
}

void ad_val_free(ad_val *v)
{
  if (!v || !v->persistent) return;
  if (v->type.base == VT_TUPLE && v->el && v->type.tup) {
    size_t m = v->len * (size_t)v->type.tup->n;
    for (size_t i = 0; i < m; i++) ad_val_free(v->el[i]);
    free(v->el);
  }
  free(v->x);
  free(v->adj);
  free(v);
}

/* A NULL operand: an earlier op failed and set the error already. */
static ad_val *ad_missing(ad_tape *t)
{
  ad_tape_set_error(t, "missing operand");
  return NULL;
}

/* ---- nodes --------------------------------------------------------------------- */

static ad_node *push_node(ad_tape *t, ad_backward_fn fn, ad_val *out, int nin,
                          ad_val **in, int mark)
{
  if (mark)
    for (int i = 0; i < nin; i++) ad_mark_shared(in[i]);
  if (!t->grad || !out || !out->adj) return NULL;
  int any = 0;
  for (int i = 0; i < nin; i++)
    if (in[i] && in[i]->adj) any = 1;
  if (!any) return NULL;
  if (t->nnodes == t->capnodes) {
    size_t cap = t->capnodes ? 2 * t->capnodes : 1024;
    if (ad_tape_arena_bytes(t) + (cap - t->capnodes) * sizeof(ad_node *) > t->limit) {
      over_limit(t);
      return NULL;
    }
    ad_node **nn = realloc(t->nodes, cap * sizeof *nn);
    if (!nn) { ad_tape_set_error(t, "out of memory (AD tape)"); return NULL; }
    t->nodes = nn;
    t->capnodes = cap;
  }
  ad_node *node = ad_alloc(t, sizeof *node);
  if (!node) return NULL;
  memset(node, 0, sizeof *node);
  node->backward = fn;
  node->out = out;
  node->nin = nin > 4 ? 4 : nin;
  for (int i = 0; i < node->nin; i++) node->in[i] = in[i];
  t->nodes[t->nnodes++] = node;
  return node;
}

ad_node *ad_push(ad_tape *t, ad_backward_fn fn, ad_val *out, int nin, ad_val **in)
{
  return push_node(t, fn, out, nin, in, 1);
}

ad_node *ad_push_keep(ad_tape *t, ad_backward_fn fn, ad_val *out, int nin, ad_val **in)
{
  return push_node(t, fn, out, nin, in, 0);
}

void ad_tape_backward(ad_tape *t)
{
  for (size_t i = t->nnodes; i-- > 0;) {
    ad_node *node = t->nodes[i];
    node->backward(t, node);
  }
}

/* ---- gathers (copy, index, literals, transpose) -------------------------------- */

typedef struct gather_info {
  size_t m;
  const size_t *oi, *ii;
} gather_info;

static void gather_backward(ad_tape *t, ad_node *node)
{
  (void)t;
  gather_info *g = node->ptr;
  ad_val *out = node->out, *src = node->in[0];
  if (!src->adj) return;
  size_t nd = out->nd, snd = src->nd;
  for (size_t k = 0; k < g->m; k++) {
    size_t o = g->oi ? g->oi[k] : k, i = g->ii ? g->ii[k] : k;
    const double *go = out->adj + o * nd;
    double *gi = src->adj + i * snd;
    if (snd == nd)
      for (size_t s = 0; s < nd; s++) gi[s] += go[s];
    else
      for (size_t s = 0; s < nd; s++) gi[0] += go[s];
  }
}

void ad_gather(ad_tape *t, ad_val *out, ad_val *src, size_t m, const size_t *oi,
               const size_t *ii)
{
  size_t nd = out->nd, snd = src->nd;
  for (size_t k = 0; k < m; k++) {
    size_t o = oi ? oi[k] : k, i = ii ? ii[k] : k;
    double *po = out->x + o * nd;
    const double *pi = src->x + i * snd;
    if (snd == nd)
      memcpy(po, pi, nd * sizeof(double));
    else
      for (size_t s = 0; s < nd; s++) po[s] = pi[0];
  }
  ad_val *in[1] = {src};
  ad_node *node = push_node(t, gather_backward, out, 1, in, 0);
  if (node) {
    gather_info *g = ad_alloc(t, sizeof *g);
    if (!g) { node->backward = NULL; return; }
    g->m = m; g->oi = oi; g->ii = ii;
    node->ptr = g;
  }
}

ad_val *ad_copy(ad_tape *t, const ad_val *v)
{
  if (!v) return ad_missing(t);
  ad_val *out = ad_new_nd(t, v->type, v->ndims, v->dims, v->nd, v->adj != NULL);
  if (!out) return NULL;
  ad_gather(t, out, (ad_val *)v, v->len, NULL, NULL);
  return out;
}

ad_val *ad_make_varying(ad_tape *t, ad_val *a)
{
  if (!a) return ad_missing(t);
  vi_type ty = a->type;
  if (ty.base == VT_INT) ty.base = VT_REAL;
  ad_val *out = ad_new_nd(t, ty, a->ndims, a->dims, t->n, 1);
  if (!out) return NULL;
  ad_gather(t, out, a, a->len, NULL, NULL);
  return out;
}

ad_val *ad_to_real(ad_tape *t, ad_val *a)
{
  if (!a) return ad_missing(t);
  if (a->type.base != VT_INT) {
    if (a->type.base == VT_REAL) { a->shared = 1; return a; }   /* aliased */
    ad_tape_set_error(t, "cannot convert this value to real");
    return NULL;
  }
  vi_type ty = {VT_REAL, a->type.ndims, NULL};
  ad_val *out = ad_new_nd(t, ty, a->ndims, a->dims, a->nd, 0);
  if (!out) return NULL;
  memcpy(out->x, a->x, a->len * a->nd * sizeof(double));
  return out;
}

/* Strides of each dimension of v in element units: array dims row-major, then the
 * vector/matrix part column-major. */
static void dim_strides(const ad_val *v, size_t *st)
{
  int A = v->type.ndims, R = v->ndims;
  size_t inner = 1;
  if (base_is_complex(v->type.base) && R > A) {   /* the parts: innermost, stride 1 */
    st[--R] = 1;
    inner = 2;
  }
  for (int d = A; d < R; d++) { st[d] = inner; inner *= v->dims[d]; }
  size_t acc = inner;
  for (int d = A - 1; d >= 0; d--) { st[d] = acc; acc *= v->dims[d]; }
}

/* Element offsets (into a) of the elements a[ix] selects, in the result's element
 * order; fills the result's type and dims.  Returns the count, or (size_t)-1 on error. */
static size_t index_offsets(ad_tape *t, const ad_val *a, const ad_ix *ix, int nix,
                            size_t **offs, vi_type *rtype, int *rndims, size_t *rdims)
{
  int A = a->type.ndims, R = a->ndims;
  if (nix > R || nix < 0) {
    ad_tape_set_error(t, "too many indexes (%d) for a value with %d dimensions", nix, R);
    return (size_t)-1;
  }
  size_t st[AD_MAX_DIMS];
  dim_strides(a, st);
  size_t base = 0;
  int kept[AD_MAX_DIMS], nk = 0;     /* source dims kept, in source order */
  for (int d = 0; d < R; d++) {
    if (d < nix && !ix[d].multi) {
      if (ix[d].pos0 >= a->dims[d]) {
        ad_tape_set_error(t, "index %zu out of range [1, %zu]", ix[d].pos0 + 1, a->dims[d]);
        return (size_t)-1;
      }
      base += ix[d].pos0 * st[d];
    } else {
      if (d < nix)
        for (size_t k = 0; k < ix[d].npos; k++)
          if (ix[d].pos[k] >= a->dims[d]) {
            ad_tape_set_error(t, "index %zu out of range [1, %zu]", ix[d].pos[k] + 1,
                              a->dims[d]);
            return (size_t)-1;
          }
      kept[nk++] = d;
    }
  }
  /* Result type. */
  int rarr = 0;
  for (int k = 0; k < nk; k++) if (kept[k] < A) rarr++;
  int cx = base_is_complex(a->type.base);
  vi_basetype b = base_real_of(a->type.base);
  int keep_row = 0, keep_col = 0;
  for (int k = 0; k < nk; k++) {
    if (kept[k] == A) keep_row = 1;
    if (kept[k] == A + 1) keep_col = 1;
  }
  if (b == VT_VECTOR || b == VT_ROW_VECTOR) {
    if (!keep_row) b = VT_REAL;
  } else if (b == VT_MATRIX) {
    b = keep_row && keep_col ? VT_MATRIX : keep_row ? VT_VECTOR
        : keep_col ? VT_ROW_VECTOR : VT_REAL;
  }
  rtype->base = cx ? base_complex_of(b) : b;
  rtype->ndims = rarr;
  *rndims = nk;
  size_t cnt = 1, sizes[AD_MAX_DIMS];
  for (int k = 0; k < nk; k++) {
    int d = kept[k];
    sizes[k] = d < nix ? ix[d].npos : a->dims[d];
    rdims[k] = sizes[k];
    cnt *= sizes[k];
  }
  size_t *o = ad_alloc(t, (cnt ? cnt : 1) * sizeof *o);
  if (!o) return (size_t)-1;
  /* Loop order: kept array dims in order (outer), then kept inner dims reversed, the
   * last listed fastest: that is the result's element order. */
  int order[AD_MAX_DIMS], no = 0;
  for (int k = 0; k < nk; k++) if (kept[k] < A) order[no++] = k;
  /* a complex value's parts (its last dim, always kept) vary fastest */
  for (int k = nk - 1 - cx; k >= 0; k--) if (kept[k] >= A) order[no++] = k;
  if (cx) order[no++] = nk - 1;
  size_t ctr[AD_MAX_DIMS] = {0};
  for (size_t e = 0; e < cnt; e++) {
    size_t off = base;
    for (int k = 0; k < nk; k++) {
      int d = kept[k];
      size_t p = d < nix ? ix[d].pos[ctr[k]] : ctr[k];
      off += p * st[d];
    }
    o[e] = off;
    for (int q = no - 1; q >= 0; q--) {
      int k = order[q];
      if (++ctr[k] < sizes[k]) break;
      ctr[k] = 0;
    }
  }
  *offs = o;
  return cnt;
}

ad_val *ad_index(ad_tape *t, ad_val *a, const ad_ix *ix, int nix)
{
  if (!a) return ad_missing(t);
  if (nix == a->ndims && nix > 0) {
    /* Fast path for the common x[i] / x[i, j] down to one element (loops). */
    size_t st[AD_MAX_DIMS], o = 0;
    int single = 1;
    for (int d = 0; d < nix; d++)
      if (ix[d].multi || ix[d].pos0 >= a->dims[d]) single = 0;
    if (single) {
      dim_strides(a, st);
      for (int d = 0; d < nix; d++) o += ix[d].pos0 * st[d];
      vi_type ty = {a->type.base == VT_INT ? VT_INT : VT_REAL, 0, NULL};
      size_t *ii = ad_alloc(t, sizeof *ii);
      ad_val *out = ii ? ad_new_nd(t, ty, 0, NULL, a->nd, a->adj != NULL) : NULL;
      if (!out) return NULL;
      *ii = o;
      ad_gather(t, out, a, 1, NULL, ii);
      return out;
    }
  }
  size_t *off, rdims[AD_MAX_DIMS];
  vi_type rt;
  int rnd;
  size_t cnt = index_offsets(t, a, ix, nix, &off, &rt, &rnd, rdims);
  if (cnt == (size_t)-1) return NULL;
  ad_val *out = ad_new_nd(t, rt, rnd, rdims, a->nd, a->adj != NULL);
  if (!out) return NULL;
  ad_gather(t, out, a, cnt, NULL, off);
  return out;
}

typedef struct assign_info {
  size_t m;
  const size_t *off;
} assign_info;

/* Reverse of container[off] = rhs: the adjoint of the written elements belongs to rhs;
 * the old values got overwritten, so their adjoint restarts at zero. */
static void assign_backward(ad_tape *t, ad_node *node)
{
  (void)t;
  assign_info *g = node->ptr;
  ad_val *c = node->out, *rhs = node->in[1];
  size_t nd = c->nd, rnd = rhs->nd;
  int rbcast = rhs->len == 1 && g->m > 1;
  /* Last to first: with a repeated position (v[{1, 1}] = w) the last write won. */
  for (size_t k = g->m; k-- > 0;) {
    double *gc = c->adj + g->off[k] * nd;
    if (rhs->adj) {
      double *gr = rhs->adj + (rbcast ? 0 : k) * rnd;
      if (rnd == nd)
        for (size_t s = 0; s < nd; s++) gr[s] += gc[s];
      else
        for (size_t s = 0; s < nd; s++) gr[0] += gc[s];
    }
    memset(gc, 0, nd * sizeof(double));
  }
}

ad_val *ad_assign_index(ad_tape *t, ad_val *c, const ad_ix *ix, int nix, ad_val *rhs)
{
  if (!c || !rhs) return ad_missing(t);
  size_t *off, rdims[AD_MAX_DIMS];
  vi_type rt;
  int rnd;
  size_t cnt = index_offsets(t, c, ix, nix, &off, &rt, &rnd, rdims);
  if (cnt == (size_t)-1) return NULL;
  if (rhs->len != cnt && !(rhs->len == 1 && ad_is_scalar(rhs))) {
    ad_tape_set_error(t, "size mismatch in assignment: %zu elements to %zu", rhs->len, cnt);
    return NULL;
  }
  if (rhs->type.base == VT_INT && c->type.base != VT_INT) {
    rhs = ad_to_real(t, rhs);
    if (!rhs) return NULL;
  }
  if (rhs == c) {   /* v[...] = v: read before writing */
    rhs = ad_copy(t, rhs);
    if (!rhs) return NULL;
  }
  size_t nd = c->nd > rhs->nd ? c->nd : rhs->nd;
  int need_adj = t->grad && (c->adj || rhs->adj);
  if (c->shared || c->persistent || c->nd != nd || (need_adj && !c->adj)) {
    ad_val *cc = ad_new_nd(t, c->type, c->ndims, c->dims, nd, need_adj);
    if (!cc) return NULL;
    ad_gather(t, cc, c, c->len, NULL, NULL);
    c = cc;
  }
  size_t rn = rhs->nd;
  int rbcast = rhs->len == 1 && cnt > 1;
  for (size_t k = 0; k < cnt; k++) {
    double *pc = c->x + off[k] * nd;
    const double *pr = rhs->x + (rbcast ? 0 : k) * rn;
    if (rn == nd) memcpy(pc, pr, nd * sizeof(double));
    else for (size_t s = 0; s < nd; s++) pc[s] = pr[0];
  }
  if (c->adj) {
    ad_val *in[2] = {c, rhs};
    /* The container is not marked shared: it stays writable in place. */
    ad_node *node = push_node(t, assign_backward, c, 2, in, 0);
    ad_mark_shared(rhs);
    if (node) {
      assign_info *g = ad_alloc(t, sizeof *g);
      if (!g) return NULL;
      g->m = cnt; g->off = off;
      node->ptr = g;
    }
  }
  return c;
}

static vi_basetype promote_base(vi_basetype a, vi_basetype b)
{
  return (a == VT_INT && b == VT_INT) ? VT_INT : VT_REAL;
}

ad_val *ad_row_vector_literal(ad_tape *t, ad_val **el, int n)
{
  if (n <= 0) {
    ad_tape_set_error(t, "empty row vector literal");
    return NULL;
  }
  size_t nd = 1;
  int adj = 0;
  for (int i = 0; i < n; i++) {
    if (el[i]->nd > nd) nd = el[i]->nd;
    if (el[i]->adj) adj = 1;
  }
  if (ad_is_scalar(el[0])) {
    for (int i = 0; i < n; i++)
      if (!ad_is_scalar(el[i])) {
        ad_tape_set_error(t, "row vector literal mixes scalars and row vectors");
        return NULL;
      }
    ad_val *out = ad_new_mat(t, VT_ROW_VECTOR, 1, (size_t)n, nd, adj);
    if (!out) return NULL;
    for (int i = 0; i < n; i++) {
      size_t *oi = ad_alloc(t, sizeof *oi);
      if (!oi) return NULL;
      *oi = (size_t)i;
      ad_gather(t, out, el[i], 1, oi, NULL);
    }
    return out;
  }
  size_t cols = el[0]->len;
  for (int i = 0; i < n; i++)
    if (el[i]->type.base != VT_ROW_VECTOR || el[i]->type.ndims || el[i]->len != cols) {
      ad_tape_set_error(t, "matrix literal rows must be row vectors of equal size");
      return NULL;
    }
  ad_val *out = ad_new_mat(t, VT_MATRIX, (size_t)n, cols, nd, adj);
  if (!out) return NULL;
  for (int i = 0; i < n; i++) {
    size_t *oi = ad_alloc(t, (cols ? cols : 1) * sizeof *oi);
    if (!oi) return NULL;
    for (size_t j = 0; j < cols; j++) oi[j] = (size_t)i + j * (size_t)n;
    ad_gather(t, out, el[i], cols, oi, NULL);
  }
  return out;
}

ad_val *ad_array_literal(ad_tape *t, ad_val **el, int n)
{
  if (n <= 0) {
    ad_tape_set_error(t, "empty array literal");
    return NULL;
  }
  size_t nd = 1;
  int adj = 0;
  vi_basetype b = el[0]->type.base;
  for (int i = 0; i < n; i++) {
    if (el[i]->nd > nd) nd = el[i]->nd;
    if (el[i]->adj) adj = 1;
    int same = el[i]->ndims == el[0]->ndims && el[i]->type.ndims == el[0]->type.ndims;
    for (int d = 0; same && d < el[0]->ndims; d++)
      if (el[i]->dims[d] != el[0]->dims[d]) same = 0;
    vi_basetype bi = el[i]->type.base;
    if (bi == VT_INT || bi == VT_REAL) {
      if (b != VT_INT && b != VT_REAL) same = 0;
      else b = promote_base(b, bi);
    } else if (bi != b) same = 0;
    if (!same) {
      ad_tape_set_error(t, "array literal elements differ in type or size");
      return NULL;
    }
  }
  if (el[0]->ndims + 1 > AD_MAX_DIMS) {
    ad_tape_set_error(t, "too many dimensions");
    return NULL;
  }
  vi_type ty = {b, el[0]->type.ndims + 1, NULL};
  size_t dims[AD_MAX_DIMS];
  dims[0] = (size_t)n;
  for (int d = 0; d < el[0]->ndims; d++) dims[d + 1] = el[0]->dims[d];
  ad_val *out = ad_new_nd(t, ty, el[0]->ndims + 1, dims, nd, adj);
  if (!out) return NULL;
  size_t m = el[0]->len;
  for (int i = 0; i < n; i++) {
    size_t *oi = ad_alloc(t, (m ? m : 1) * sizeof *oi);
    if (!oi) return NULL;
    for (size_t k = 0; k < m; k++) oi[k] = (size_t)i * m + k;
    ad_gather(t, out, el[i], m, oi, NULL);
  }
  return out;
}

ad_val *ad_transpose(ad_tape *t, ad_val *a)
{
  size_t r, c;
  ad_shape2(a, &r, &c);
  vi_basetype b = a->type.base;
  if (a->type.ndims || (b != VT_VECTOR && b != VT_ROW_VECTOR && b != VT_MATRIX)) {
    ad_tape_set_error(t, "transpose is defined for vectors and matrices only");
    return NULL;
  }
  vi_basetype rb = b == VT_VECTOR ? VT_ROW_VECTOR : b == VT_ROW_VECTOR ? VT_VECTOR
                   : VT_MATRIX;
  ad_val *y = ad_new_mat(t, rb, c, r, a->nd, a->adj != NULL);
  if (!y) return NULL;
  if (b != VT_MATRIX) {
    ad_gather(t, y, a, a->len, NULL, NULL);
    return y;
  }
  size_t *ii = ad_alloc(t, (r * c > 0 ? r * c : 1) * sizeof *ii);
  if (!ii) return NULL;
  /* y(j, i) = a(i, j): y element j + i*c comes from a element i + j*r. */
  for (size_t i = 0; i < r; i++)
    for (size_t j = 0; j < c; j++) ii[j + i * c] = i + j * r;
  ad_gather(t, y, a, r * c, NULL, ii);
  return y;
}

/* ---- elementwise kernels ------------------------------------------------------- */

typedef struct map_info {
  ad_dfn1 df1;
  ad_dfn2 df2;
} map_info;

static void map1_backward(ad_tape *t, ad_node *node)
{
  (void)t;
  map_info *mi = node->ptr;
  ad_val *a = node->in[0], *y = node->out;
  if (!a->adj) return;
  size_t nd = y->nd, L = y->len;
  for (size_t e = 0; e < L; e++) {
    const double *px = a->x + e * a->nd, *py = y->x + e * nd, *gy = y->adj + e * nd;
    double *gx = a->adj + e * a->nd;
    if (a->nd == nd)
      for (size_t s = 0; s < nd; s++) gx[s] += gy[s] * mi->df1(px[s], py[s]);
    else
      for (size_t s = 0; s < nd; s++) gx[0] += gy[s] * mi->df1(px[0], py[s]);
  }
}

/* ad_map1 and ad_map1v: the values by f one at a time, or by vf over the array. */
static ad_val *map1(ad_tape *t, ad_val *a, ad_fn1 f, ad_vfn1 vf, ad_dfn1 df, int result_int)
{
  vi_type ty = a->type;
  ty.base = result_int ? VT_INT : ty.base == VT_INT ? VT_REAL : ty.base;
  int adj = df && a->adj && t->grad;
  ad_val *y = ad_new_nd(t, ty, a->ndims, a->dims, a->nd, adj);
  if (!y) return NULL;
  size_t n = a->len * a->nd;
  if (vf)
    vf(y->x, a->x, n);
  else
    for (size_t i = 0; i < n; i++) y->x[i] = f(a->x[i]);
  ad_mark_shared(a);
  if (adj) {
    ad_val *in[1] = {a};
    ad_node *node = push_node(t, map1_backward, y, 1, in, 1);
    if (node) {
      map_info *mi = ad_alloc(t, sizeof *mi);
      if (!mi) return NULL;
      mi->df1 = df;
      node->ptr = mi;
      ad_mark_shared(y);   /* df may read y */
    }
  }
  return y;
}

ad_val *ad_map1(ad_tape *t, ad_val *a, ad_fn1 f, ad_dfn1 df, int result_int)
{
  return map1(t, a, f, NULL, df, result_int);
}

ad_val *ad_map1v(ad_tape *t, ad_val *a, ad_vfn1 vf, ad_dfn1 df)
{
  return map1(t, a, NULL, vf, df, 0);
}

/* Shapes of a binary elementwise op: the output shape donor, or NULL on mismatch. */
ad_val *ad_ew_shape(ad_tape *t, ad_val *a, ad_val *b, const char *what)
{
  int sa = ad_is_scalar(a), sb = ad_is_scalar(b);
  if (sa) return sb ? a : b;
  if (sb) return a;
  int ok = a->ndims == b->ndims && a->type.ndims == b->type.ndims && a->len == b->len;
  vi_basetype ba = a->type.base, bb = b->type.base;
  if (!((ba == bb) || ((ba == VT_INT || ba == VT_REAL) && (bb == VT_INT || bb == VT_REAL))))
    ok = 0;
  for (int d = 0; ok && d < a->ndims; d++)
    if (a->dims[d] != b->dims[d]) ok = 0;
  if (!ok) {
    ad_tape_set_error(t, "%s: size mismatch (%zu elements vs %zu)", what, a->len, b->len);
    return NULL;
  }
  return a;
}

static void map2_backward(ad_tape *t, ad_node *node)
{
  (void)t;
  map_info *mi = node->ptr;
  ad_val *a = node->in[0], *b = node->in[1], *y = node->out;
  size_t nd = y->nd, L = y->len;
  size_t ea = a->len == L ? 1 : 0, eb = b->len == L ? 1 : 0;
  size_t sa = a->nd == nd ? 1 : 0, sb = b->nd == nd ? 1 : 0;
  if (nd == 1) sa = sb = 0;
  for (size_t e = 0; e < L; e++) {
    const double *pa = a->x + e * ea * a->nd, *pb = b->x + e * eb * b->nd;
    const double *py = y->x + e * nd, *gy = y->adj + e * nd;
    double *ga = a->adj ? a->adj + e * ea * a->nd : NULL;
    double *gb = b->adj ? b->adj + e * eb * b->nd : NULL;
    for (size_t s = 0; s < nd; s++) {
      double da = 0, db = 0;
      mi->df2(pa[s * sa], pb[s * sb], py[s], &da, &db);
      if (ga) ga[s * sa] += gy[s] * da;
      if (gb) gb[s * sb] += gy[s] * db;
    }
  }
}

ad_val *ad_map2(ad_tape *t, ad_val *a, ad_val *b, ad_fn2 f, ad_dfn2 df, int result_int)
{
  ad_val *shape = ad_ew_shape(t, a, b, "elementwise function");
  if (!shape) return NULL;
  vi_type ty = shape->type;
  ty.base = result_int ? VT_INT : ty.base == VT_INT ? VT_REAL : ty.base;
  size_t nd = ad_nd2(a, b), L = shape->len;
  int adj = df && t->grad && (a->adj || b->adj);
  ad_val *y = ad_new_nd(t, ty, shape->ndims, shape->dims, nd, adj);
  if (!y) return NULL;
  size_t ea = a->len == L ? 1 : 0, eb = b->len == L ? 1 : 0;
  size_t sa = a->nd == nd ? 1 : 0, sb = b->nd == nd ? 1 : 0;
  if (nd == 1) sa = sb = 0;
  for (size_t e = 0; e < L; e++) {
    const double *pa = a->x + e * ea * a->nd, *pb = b->x + e * eb * b->nd;
    double *py = y->x + e * nd;
    for (size_t s = 0; s < nd; s++) py[s] = f(pa[s * sa], pb[s * sb]);
  }
  ad_mark_shared(a);
  ad_mark_shared(b);
  if (adj) {
    ad_val *in[2] = {a, b};
    ad_node *node = push_node(t, map2_backward, y, 2, in, 1);
    if (node) {
      map_info *mi = ad_alloc(t, sizeof *mi);
      if (!mi) return NULL;
      mi->df2 = df;
      node->ptr = mi;
      ad_mark_shared(y);
    }
  }
  return y;
}
