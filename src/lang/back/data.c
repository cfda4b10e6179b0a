/* data.c: Stan's JSON data format, as CmdStan reads it (CmdStan User's Guide, "JSON
 * format for CmdStan"): an object of variables; scalars as numbers, arrays and vectors
 * as lists, matrices as lists of rows, arrays of vectors / matrices as nested lists;
 * integers allowed where reals are declared; "Infinity", "-Infinity" and "NaN" (and the
 * spellings inf / nan) as strings; empty lists for zero sizes.  Each data-block
 * declaration is evaluated in order (sizes may use earlier data), the JSON value is
 * checked against its shape, type and constraint, then copied into a persistent value.
 * The JSON is read by a streaming parser (yajl, json_stream.c) into compact captures of
 * the declared names only (8 bytes a number), duplicate keys rejected.  Shapes are checked
 * before anything is allocated, so a huge declared size with small data is a clean error;
 * each capture is freed as soon as its value is copied. */
#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <vi/status.h>
#include "lang/back/data.h"
#include "lang/back/json_stream.h"

static int data_err(vi_error *err, const char *fname, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int data_err(vi_error *err, const char *fname, const char *fmt, ...)
{
  char msg[1536];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (!err) return VI_EDATA;
  memset(err, 0, sizeof *err);
  err->status = VI_EDATA;
  snprintf(err->file, sizeof err->file, "%s", fname ? fname : "");
  snprintf(err->message, sizeof err->message, "%s: error: %s",
           fname && *fname ? fname : "<data>", msg);
  return VI_EDATA;
}

typedef struct fill_ctx {
  const vi_decl *d;
  ad_val *v;              /* NULL: shape check only */
  const size_t *dims;
  int rank, arr;          /* total dims; array dims */
  int is_int;
  const char *fname;
  vi_error *err;
  size_t idx[AD_MAX_DIMS];
} fill_ctx;

/* "y[2, 3]" for the first k indices of the current position. */
static void where(const fill_ctx *f, int k, char *buf, size_t len)
{
  size_t o = (size_t)snprintf(buf, len, "%s", f->d->name);
  if (k == 0 || o >= len) return;
  o += (size_t)snprintf(buf + o, len - o, "[");
  for (int i = 0; i < k && o < len; i++)
    o += (size_t)snprintf(buf + o, len - o, "%s%zu", i ? ", " : "", f->idx[i] + 1);
  if (o < len) snprintf(buf + o, len - o, "]");
}

static size_t offset_of(const fill_ctx *f)
{
  int cx = base_is_complex(f->d->type.base), rank = f->rank - cx;
  size_t off = 0, inner = 1;
  for (int k = f->arr; k < rank; k++) inner *= f->dims[k];
  for (int k = 0; k < f->arr; k++) off = off * f->dims[k] + f->idx[k];
  off *= inner;
  if (rank - f->arr == 1) off += f->idx[f->arr];
  else if (rank - f->arr == 2) off += f->idx[f->arr] + f->idx[f->arr + 1] * f->dims[f->arr];
  /* a complex value's parts are its innermost dim: JSON [re, im] */
  return cx ? 2 * off + f->idx[rank] : off;
}

/* An R dump ("N <- 3", "y <- c(1, 2)", "structure(...)") rather than JSON: an assignment
 * arrow in the first kilobyte. */
static int looks_like_rdump(const char *text, size_t len)
{
  size_t n = len < 1024 ? len : 1024;
  for (size_t i = 0; i + 1 < n; i++)
    if (text[i] == '<' && text[i + 1] == '-') return 1;
  return 0;
}

static int fill(fill_ctx *f, js_cursor *cur, int k)
{
  char w[256];
  size_t n = 0;
  double x = 0;
  const char *s = "";
  js_kind kd = js_next(cur, &n, &x, &s);
  if (k == f->rank) {
    where(f, k, w, sizeof w);
    if (kd == JS_INT) {
      if (f->is_int && (x > 2147483647.0 || x < -2147483648.0))
        return data_err(f->err, f->fname, "variable '%s': %s is %.0f, out of range for an int",
                        f->d->name, w, x);
    } else if (kd == JS_REAL) {
      if (f->is_int)
        return data_err(f->err, f->fname,
                        "variable '%s': %s is the real number %.17g, but '%s' is declared int",
                        f->d->name, w, x, f->d->name);
    } else if (kd == JS_SPECIAL) {
      if (f->is_int)
        return data_err(f->err, f->fname, "variable '%s': %s is \"%s\", but '%s' is declared int",
                        f->d->name, w, s, f->d->name);
    } else {
      return data_err(f->err, f->fname, "variable '%s': %s should be %s, found %s",
                      f->d->name, w, f->is_int ? "an int" : "a number", js_kind_text(kd));
    }
    if (f->v) f->v->x[offset_of(f)] = x;
    return 0;
  }
  if (base_is_complex(f->d->type.base) && k == f->rank - 1 && (kd != JS_LIST || n != 2)) {
    char found[64];
    where(f, k, w, sizeof w);
    if (kd == JS_LIST) snprintf(found, sizeof found, "a list of %zu", n);
    else snprintf(found, sizeof found, "%s", js_kind_text(kd));
    return data_err(f->err, f->fname, "variable '%s': %s should be a complex number, a list "
                    "[real part, imaginary part], found %s", f->d->name, w, found);
  }
  if (kd != JS_LIST) {
    where(f, k, w, sizeof w);
    return data_err(f->err, f->fname,
                    "variable '%s': dimension %d: expected a list of %zu, found %s%s%s",
                    f->d->name, k + 1, f->dims[k], js_kind_text(kd), k ? " in " : "", k ? w : "");
  }
  if (n != f->dims[k]) {
    where(f, k, w, sizeof w);
    return data_err(f->err, f->fname,
                    "variable '%s': dimension %d: declared size %zu, found %zu%s%s",
                    f->d->name, k + 1, f->dims[k], n, k ? " in " : "", k ? w : "");
  }
  for (size_t i = 0; i < n; i++) {
    f->idx[k] = i;
    int rc = fill(f, cur, k + 1);
    if (rc) return rc;
  }
  return 0;
}

/* fill from the start of capture j (twice: the shape check, then the copy) */
static int fill_from(fill_ctx *f, const js_value *j)
{
  js_cursor cur;
  js_cursor_init(&cur, j);
  return fill(f, &cur, 0);
}

/* Row-major R x C a in place to column-major (following the permutation's cycles; seen:
 * one bit an element). */
static void transpose_in_place(double *a, size_t R, size_t C, unsigned char *seen)
{
  size_t n = R * C;
  memset(seen, 0, (n + 7) / 8);
  for (size_t start = 0; start < n; start++) {
    if (seen[start >> 3] & (1u << (start & 7))) continue;
    double first = a[start];
    for (size_t q = start;;) {
      seen[q >> 3] |= (unsigned char)(1u << (q & 7));
      size_t src = (q % R) * C + q / R;   /* element (q % R, q / R) in the JSON's order */
      if (src == start) { a[q] = first; break; }
      a[q] = a[src];
      q = src;
    }
  }
}

/* Capture j's numbers (checked against d's shape) as the value itself: they are every
 * element in the JSON's order, which is the element order but within a matrix (its rows
 * in the JSON, column-major here: each matrix transposed in place), so the data costs 8
 * bytes a number, not twice that.  NULL (nothing changed): a complex value, or no memory
 * for the transpose's bits; the caller then copies. */
static ad_val *adopt_capture(const vi_decl *d, int nd, const size_t *dims, js_value *j)
{
  size_t total = 1;
  for (int k = 0; k < nd; k++) total *= dims[k];
  if (base_is_complex(d->type.base) || d->type.base == VT_TUPLE || total == 0
      || j->nnum != total)
    return NULL;
  if (j->capnum > total) {   /* shrink to size (in place) */
    double *x = realloc(j->num, total * sizeof *x);
    if (x) { j->num = x; j->capnum = total; }
  }
  ad_val *v = ad_val_adopt_persistent(d->type, nd, dims, j->num);
  if (!v) return NULL;
  int arr = d->type.ndims;
  if (nd - arr == 2 && dims[arr] > 1 && dims[arr + 1] > 1) {
    size_t R = dims[arr], C = dims[arr + 1];
    unsigned char *seen = malloc((R * C + 7) / 8);
    if (!seen) { free(v); return NULL; }   /* the numbers stay the capture's, untouched */
    for (size_t b = 0; b < total / (R * C); b++) transpose_in_place(j->num + b * R * C, R, C, seen);
    free(seen);
  }
  j->num = NULL;
  j->nnum = j->capnum = 0;
  return v;
}

/* Parse json, capturing the names of the n declarations of blk (data) or of c's
 * parameters (init); a located error as jansson's was.  With release, json is a mapping
 * of the file whose pages are given back as they are parsed. */
static int parse_doc(const char *json, size_t len, const char *const *names, size_t nnames,
                     const char *fname, const char *what, int release, js_doc *doc,
                     vi_error *err)
{
  int line, col;
  char msg[300];
  js_shard whole = {NULL, 0, 0, NULL, 1};
  int rc = release ? js_parse_shard(json, len, names, nnames, &whole, doc, &line, &col, msg,
                                    sizeof msg)
                   : js_parse(json, len, names, nnames, doc, &line, &col, msg, sizeof msg);
  if (rc == 0) return 0;
  js_doc_clear(doc);
  if (rc == -3) {
    if (err) {
      memset(err, 0, sizeof *err);
      err->status = VI_ENOMEM;
      snprintf(err->file, sizeof err->file, "%s", fname ? fname : "");
      snprintf(err->message, sizeof err->message, "%s: error: out of memory reading the data",
               fname && *fname ? fname : "<data>");
    }
    return VI_ENOMEM;
  }
  if (rc == -2)
    return data_err(err, fname, "the %s must be a JSON object {\"name\": value, ...}, found %s",
                    what, msg);
  if (err) {
    memset(err, 0, sizeof *err);
    err->status = VI_EDATA;
    snprintf(err->file, sizeof err->file, "%s", fname ? fname : "");
    err->line = line;
    err->col = col;
    snprintf(err->message, sizeof err->message, "%s:%d:%d: error: invalid JSON: %s%s",
             fname && *fname ? fname : "<data>", line, col, msg,
             looks_like_rdump(json, len)
                 ? " (this looks like an R dump file, the older CmdStan data format; "
                   "vi reads Stan's JSON data: in R, cmdstanr::write_stan_json(list) "
                   "writes it)"
                 : "");
  }
  return VI_EDATA;
}

/* Tuples: lists for the array dims, then per tuple an object {"1": ..., "2": ...} (any
 * order of members, each element as its own declaration says, recursively).  Two walks
 * as for other values: check (*out NULL) and then fill (values allocated). */
static void elem_text(const ad_val *v, size_t e, const char *name, char *buf, size_t len);
static int relabel(ev_ctx *c, vi_error *err, int status);

typedef struct tfill {
  ev_ctx *c;
  const char *fname;
  vi_error *err;
  int alloc;
} tfill;

static int fill_value(tfill *t, const vi_decl *d, js_cursor *cur, ad_val **out);

static int fill_tuple(tfill *t, const vi_decl *d, js_cursor *cur, int k, int nd,
                      const size_t *dims, size_t pos, ad_val *v)
{
  size_t n = 0;
  double x;
  const char *s = "";
  js_kind kd = js_next(cur, &n, &x, &s);
  if (k < nd) {
    if (kd != JS_LIST)
      return data_err(t->err, t->fname, "variable '%s': dimension %d: expected a list of "
                      "%zu tuples, found %s", d->name, k + 1, dims[k], js_kind_text(kd));
    if (n != dims[k])
      return data_err(t->err, t->fname, "variable '%s': dimension %d: declared size %zu, "
                      "found %zu", d->name, k + 1, dims[k], n);
    for (size_t i = 0; i < n; i++) {
      int rc = fill_tuple(t, d, cur, k + 1, nd, dims, pos * dims[k] + i, v);
      if (rc) return rc;
    }
    return 0;
  }
  size_t m = (size_t)d->ntel;
  if (kd != JS_OBJECT || n != m)
    return data_err(t->err, t->fname, "variable '%s': a tuple of %zu elements is an object "
                    "{\"1\": ..., \"%zu\": ...}, found %s%s", d->name, m, m,
                    kd == JS_OBJECT ? "an object of a different size" : js_kind_text(kd),
                    "");
  unsigned char seen[64] = {0};
  for (size_t j = 0; j < m; j++) {
    size_t key = 0;
    js_next(cur, &key, &x, &s);
    if (key < 1 || key > m || seen[key - 1])
      return data_err(t->err, t->fname, "variable '%s': a tuple's members must be \"1\" to "
                      "\"%zu\", each once", d->name, m);
    seen[key - 1] = 1;
    ad_val *e = NULL;
    int rc = fill_value(t, d->tel[key - 1], cur, t->alloc ? &e : NULL);
    if (v) v->el[pos * m + key - 1] = e;   /* owned by v even when e failed its check */
    else ad_val_free(e);
    if (rc) return rc;
  }
  return 0;
}

static int fill_value(tfill *t, const vi_decl *d, js_cursor *cur, ad_val **out)
{
  ev_ctx *c = t->c;
  int nd, rc;
  size_t dims[AD_MAX_DIMS];
  if ((rc = ev_decl_shape_cap(c, d, &nd, dims, NULL, NULL, NULL, (size_t)1 << 40)))
    return relabel(c, t->err, VI_EDATA);
  ad_val *v = NULL;
  if (out) {
    v = ad_val_new_persistent(d->type, nd, dims);
    if (v && d->type.base == VT_TUPLE
        && !(v->el = calloc(v->len * (size_t)d->ntel + 1, sizeof *v->el))) {
      ad_val_free(v);
      v = NULL;
    }
    if (!v) return data_err(t->err, t->fname, "out of memory for '%s'", d->name), VI_ENOMEM;
    *out = v;
  }
  if (d->type.base == VT_TUPLE) return fill_tuple(t, d, cur, 0, nd, dims, 0, v);
  fill_ctx f;
  memset(&f, 0, sizeof f);
  f.d = d; f.dims = dims; f.rank = nd; f.arr = d->type.ndims;
  f.is_int = d->type.base == VT_INT; f.fname = t->fname; f.err = t->err;
  f.v = v;
  if ((rc = fill(&f, cur, 0))) return rc;
  if (v) {
    char why[256], w[300];
    long e = ev_check_value(c, d, v, 0, why, sizeof why, &rc);
    if (rc) return relabel(c, t->err, VI_EDATA);
    if (e >= 0) {
      elem_text(v, (size_t)e, d->name, w, sizeof w);
      return data_err(t->err, t->fname, "variable '%s': %s %s (declared %s)", d->name, w,
                      why, d->type_text ? d->type_text : "");
    }
  }
  return 0;
}

/* A data tuple d from capture j into *out (NULL when j is NULL and d has no numbers). */
static int load_tuple(ev_ctx *c, const vi_decl *d, const js_value *j, const char *fname,
                      vi_error *err, ad_val **out)
{
  tfill t = {c, fname, err, 0};
  js_cursor cur;
  *out = NULL;
  if (!j)
    return data_err(err, fname, "variable '%s' (declared at %s:%d:%d) is missing from the "
                    "data", d->name, c->ast->name ? c->ast->name : "<model>", d->loc.line,
                    d->loc.col);
  js_cursor_init(&cur, j);
  int rc = fill_value(&t, d, &cur, NULL);
  if (rc) return rc;
  t.alloc = 1;
  js_cursor_init(&cur, j);
  rc = fill_value(&t, d, &cur, out);
  if (rc) { ad_val_free(*out); *out = NULL; }
  return rc;
}

static void elem_text(const ad_val *v, size_t e, const char *name, char *buf, size_t len)
{
  size_t idx[AD_MAX_DIMS];
  size_t o = (size_t)snprintf(buf, len, "%s", name);
  if (v->ndims == 0 || o >= len) return;
  ev_elem_index(v->dims, v->ndims, v->type.ndims, e, idx);
  o += (size_t)snprintf(buf + o, len - o, "[");
  for (int k = 0; k < v->ndims && o < len; k++)
    o += (size_t)snprintf(buf + o, len - o, "%s%zu", k ? ", " : "", idx[k]);
  if (o < len) snprintf(buf + o, len - o, "]");
}

static int relabel(ev_ctx *c, vi_error *err, int status)
{
  if (err) { *err = c->err; err->status = status; }
  return status;
}

/* Sharded data: the value of the int that sizes the sharded variables, read alone (the
 * parse stops there), and this rank's part [lo, hi) of its observations: contiguous,
 * sizes differing by at most one. */
static int shard_range(ev_ctx *c, const char *json, size_t len, const char *fname,
                       int release, vi_error *err)
{
  const char *by = c->ast->slots[c->shard_by]->name;
  js_shard sh = {NULL, 0, 0, by, release};
  js_doc doc = {0};
  int line, col;
  char msg[300];
  if (js_parse_shard(json, len, &by, 1, &sh, &doc, &line, &col, msg, sizeof msg) != 0) {
    js_doc_clear(&doc);
    return VI_SUCCESS;   /* the full parse reports the error, with its place */
  }
  const js_value *j = js_doc_get(&doc, by);
  double n = j && j->nnum == 1 && j->ntok == 2 ? j->num[0] : -1;
  js_doc_clear(&doc);
  if (n < 0 || n != floor(n)) return VI_SUCCESS;   /* missing or not an int: reported later */
  c->shard_total = (size_t)n;
  if (c->shard_total < c->shard_size)
    return data_err(err, fname, "cannot shard the data by '%s' over %zu ranks: %s = %zu, "
                    "fewer observations than ranks (run at most %zu ranks)", by,
                    c->shard_size, by, c->shard_total, c->shard_total);
  c->shard_lo = c->shard_rank * c->shard_total / c->shard_size;
  c->shard_hi = (c->shard_rank + 1) * c->shard_total / c->shard_size;
  return VI_SUCCESS;
}

int data_load_shard(ev_ctx *c, const char *json, size_t len, const char *fname, int release,
                    vi_error *err)
{
  js_doc doc = {0};
  const vi_stmt *blk = c->ast->blocks[BLK_DATA];
  int rc = VI_SUCCESS, shard = c->shard_by >= 0 && json;
  if (shard) {
    c->shard_total = c->shard_lo = c->shard_hi = 0;
    if ((rc = shard_range(c, json, len, fname, release, err))) return rc;
  }
  if (json) {
    size_t nn = 0;
    const char **names = calloc((blk ? (size_t)blk->nstmts : 0) + 1, sizeof *names);
    unsigned char *cut = calloc((blk ? (size_t)blk->nstmts : 0) + 1, 1);
    if (!names || !cut) {
      free(names);
      free(cut);
      return data_err(err, fname, "out of memory reading the data"), VI_ENOMEM;
    }
    for (int i = 0; blk && i < blk->nstmts; i++)
      if (blk->stmts[i]->kind == ST_DECL) {
        cut[nn] = shard && c->sharded[blk->stmts[i]->decl->slot];
        names[nn++] = blk->stmts[i]->decl->name;
      }
    if (shard) {
      int line, col;
      char msg[300];
      js_shard sh = {cut, c->shard_lo, c->shard_hi, NULL, release};
      rc = js_parse_shard(json, len, names, nn, &sh, &doc, &line, &col, msg, sizeof msg);
      if (rc) {   /* again, whole, for the message with its place */
        js_doc_clear(&doc);
        rc = parse_doc(json, len, names, nn, fname, "data", 0, &doc, err);
        if (!rc) rc = data_err(err, fname, "cannot read the data: %s", msg);
      }
    } else {
      rc = parse_doc(json, len, names, nn, fname, "data", release, &doc, err);
    }
    free(names);
    free(cut);
    if (rc) { js_doc_clear(&doc); return rc; }
  }
  ev_begin(c, 1, 0);
  c->block = BLK_DATA;
  for (int i = 0; blk && i < blk->nstmts; i++) {
    const vi_stmt *st = blk->stmts[i];
    if (st->kind != ST_DECL) continue;
    const vi_decl *d = st->decl;
    int nd;
    size_t dims[AD_MAX_DIMS], total = 1;
    if (d->type.base == VT_TUPLE) {
      ad_val *v;
      if ((rc = load_tuple(c, d, json ? js_doc_get(&doc, d->name) : NULL, fname, err, &v)))
        goto out;
      c->data[d->slot] = v;
      c->slot[d->slot] = v;
      continue;
    }
    /* sizes are checked against the JSON before anything is allocated, so the cap here
     * only guards the arithmetic; the allocation is bounded by the JSON's own size */
    if ((rc = ev_decl_shape_cap(c, d, &nd, dims, NULL, NULL, NULL, (size_t)1 << 40))) {
      rc = relabel(c, err, VI_EDATA);
      goto out;
    }
    for (int k = 0; k < nd; k++) total *= dims[k];
    const js_value *j = json ? js_doc_get(&doc, d->name) : NULL;
    if (!j && (total > 0 || (shard && c->sharded[d->slot] && c->shard_total > 0))) {
      rc = data_err(err, fname, "variable '%s' (declared at %s:%d:%d) is missing from the data",
                    d->name, c->ast->name ? c->ast->name : "<model>", d->loc.line, d->loc.col);
      goto out;
    }
    /* a sharded variable holds this rank's rows; its length is checked against the whole */
    if (j && shard && c->sharded[d->slot] && j->ntok >= 2 && j->tok[0] == JS_LIST &&
        j->seen != c->shard_total) {
      rc = data_err(err, fname, "variable '%s': dimension 1: declared size %zu, found %zu",
                    d->name, c->shard_total, j->seen);
      goto out;
    }
    fill_ctx f;
    memset(&f, 0, sizeof f);
    f.d = d; f.dims = dims; f.rank = nd; f.arr = d->type.ndims;
    f.is_int = d->type.base == VT_INT; f.fname = fname; f.err = err;
    if (j && (rc = fill_from(&f, j))) goto out;   /* shape and types, nothing allocated */
    ad_val *v = j ? adopt_capture(d, nd, dims, (js_value *)j) : NULL;
    int adopted = v != NULL;
    if (!v) v = ad_val_new_persistent(d->type, nd, dims);
    if (!v) { rc = data_err(err, fname, "out of memory for variable '%s'", d->name); rc = VI_ENOMEM; goto out; }
    c->data[d->slot] = v;
    c->slot[d->slot] = v;
    f.v = v;
    if (j && !adopted && (rc = fill_from(&f, j))) goto out;
    if (j) {   /* copied: its capture is not needed again (peak memory: one variable) */
      js_value *jv = (js_value *)j;
      free(jv->num);
      jv->num = NULL;
      jv->nnum = jv->capnum = 0;
    }
    char why[256], w[300];
    long e = ev_check_value(c, d, v, 0, why, sizeof why, &rc);
    if (rc) { rc = relabel(c, err, VI_EDATA); goto out; }
    if (e >= 0) {
      elem_text(v, (size_t)e, d->name, w, sizeof w);
      rc = data_err(err, fname, "variable '%s': %s %s (declared %s)", d->name, w, why,
                    d->type_text ? d->type_text : "");
      goto out;
    }
    /* the size of the sharded variables: this rank's count from here on */
    if (shard && d->slot == c->shard_by) {
      if (v->x[0] != (double)c->shard_total) {   /* the prescan did not find it */
        rc = data_err(err, fname, "variable '%s': cannot read it ahead of the rest", d->name);
        goto out;
      }
      v->x[0] = (double)(c->shard_hi - c->shard_lo);
    }
  }
out:
  js_doc_clear(&doc);
  return rc;
}

int data_load(ev_ctx *c, const char *json, size_t len, const char *fname, vi_error *err)
{
  return data_load_shard(c, json, len, fname, 0, err);
}

/* One parameter's JSON value x (constrained) into its unconstrained coordinates z (at
 * p->off), with bounds lb / ub (NULL, scalars, or one per element). */
static int unconstrain_param(const ev_param *p, const ad_val *x, const ad_val *lb,
                             const ad_val *ub, double *z, const char *fname, vi_error *err)
{
  const tr_spec *s = &p->spec;
  int elementwise = s->con == CON_NONE || s->con == CON_BOUNDS || s->con == CON_OFFSET_MULT;
  size_t n = s->nelem * s->csize;
  if (elementwise) {   /* one scalar at a time: bounds may differ per element */
    tr_spec one = *s;
    one.csize = one.usize = 1;
    for (size_t e = 0; e < n; e++) {
      double l = lb ? lb->x[lb->len == 1 ? 0 : e] : 0, u = ub ? ub->x[ub->len == 1 ? 0 : e] : 0;
      if (tr_unconstrain_d(&one, x->x + e, l, u, z + p->off + e) != VI_SUCCESS)
        return data_err(err, fname, "parameter '%s': element %zu (%g) is outside its bounds",
                        ev_param_name(p), e + 1, x->x[e]);
    }
    return 0;
  }
  for (size_t a = 0; a < s->nelem; a++)
    if (tr_unconstrain_d(s, x->x + a * s->csize, 0, 0, z + p->off + a * s->usize) != VI_SUCCESS)
      return data_err(err, fname, "parameter '%s'%s is not a valid %s", ev_param_name(p),
                      s->nelem > 1 ? " (an array element)" : "", tr_name(s->con));
  return 0;
}

int data_unconstrain(ev_ctx *c, const char *json, size_t len, const char *fname, double *z,
                     vi_error *err)
{
  js_doc doc = {0};
  const char **names = malloc((c->nparams + 1) * sizeof *names);
  if (!names) return data_err(err, fname, "out of memory"), VI_ENOMEM;
  size_t nn = 0;   /* the declared names: a tuple's once */
  for (size_t i = 0; i < c->nparams; i++)
    if (!c->params[i].root || i == 0 || c->params[i - 1].root != c->params[i].root)
      names[nn++] = c->params[i].root ? c->params[i].root->name : c->params[i].decl->name;
  int rc = parse_doc(json, len, names, nn, fname, "initial values", 0, &doc, err);
  free(names);
  if (rc) return rc;
  ad_val *tup = NULL;   /* the current tuple parameter's initial value */
  const vi_decl *tup_of = NULL;
  for (size_t k = 0; k < c->dim; k++) z[k] = 0.0;
  ev_begin(c, 1, 0);
  c->block = BLK_PARAMS;
  size_t D = c->dim;
  ad_val *zv = ad_new(c->t, (vi_type){VT_VECTOR, 0, NULL}, 1, &D, 1, 0);
  if (!zv) { rc = data_err(err, fname, "out of memory"); goto out; }
  if ((rc = ev_param_tuples(c))) { rc = relabel(c, err, VI_EDATA); goto out; }
  for (size_t i = 0; i < c->nparams; i++) {
    const ev_param *p = &c->params[i];
    const vi_decl *d = p->decl;
    ad_val *lb, *ub;
    if ((rc = ev_param_bounds(c, p, &lb, &ub))) { rc = relabel(c, err, VI_EDATA); goto out; }
    if (p->root && p->root != tup_of) {   /* a tuple's first element: the whole value */
      ad_val_free(tup);
      tup = NULL;
      tup_of = p->root;
      const js_value *jt = js_doc_get(&doc, p->root->name);
      if (jt && (rc = load_tuple(c, p->root, jt, fname, err, &tup))) goto out;
    }
    if (p->root) {   /* the element at p's path, if the tuple was given */
      const ad_val *x = tup;
      for (int l = 0; x && l < p->depth; l++)
        x = x->el[p->path[2 * l] * (size_t)x->type.tup->n + p->path[2 * l + 1]];
      if (x && (rc = unconstrain_param(p, x, lb, ub, z, fname, err))) goto out;
    } else {
      const js_value *j = js_doc_get(&doc, d->name);
      if (j) {   /* absent: z = 0 for its coordinates, as --init zero */
        fill_ctx f;
        memset(&f, 0, sizeof f);
        f.d = d; f.dims = p->dims; f.rank = p->ndims; f.arr = d->type.ndims;
        f.is_int = 0; f.fname = fname; f.err = err;
        if ((rc = fill_from(&f, j))) goto out;
        ad_val *x = ad_val_new_persistent(d->type, p->ndims, p->dims);
        if (!x) { rc = data_err(err, fname, "out of memory"); goto out; }
        f.v = x;
        rc = fill_from(&f, j);
        if (!rc) rc = unconstrain_param(p, x, lb, ub, z, fname, err);
        ad_val_free(x);
        if (rc) goto out;
      }
    }
    /* its constrained value, for the bounds of the parameters after it */
    for (size_t k = 0; k < p->usize; k++) zv->x[p->off + k] = z[p->off + k];
    tr_spec sp = p->spec;
    sp.has_lb = lb != NULL; sp.has_ub = ub != NULL;
    ad_val *lj = NULL, *v = tr_constrain(c->t, &sp, d->type, p->ndims, p->dims, zv, p->off,
                                         lb, ub, &lj);
    if (!v) {
      rc = data_err(err, fname, "parameter '%s': cannot evaluate", ev_param_name(p));
      goto out;
    }
    ev_param_set(c, p, v);
  }
out:
  ad_val_free(tup);
  js_doc_clear(&doc);
  return rc;
}

int data_transformed(ev_ctx *c, gsl_rng *rng, vi_error *err)
{
  const vi_stmt *blk = c->ast->blocks[BLK_TDATA];
  int rc;
  if (!blk) return VI_SUCCESS;
  ev_begin(c, 1, 0);
  ad_tape_set_rng(c->t, rng);
  rc = ev_block(c, blk, BLK_TDATA);
  if (rc == 0) rc = ev_check_block(c, blk, 0, VI_EDATA);
  if (rc >= 0 && ev_tape_status(c)) rc = c->rc;
  ad_tape_set_rng(c->t, NULL);
  /* the checker allows no break / continue outside loops: a positive outcome is a
   * rejection (an ODE out of steps), which transformed data cannot survive */
  if (rc > 0) rc = VI_ERUNTIME;
  if (rc < 0) return relabel(c, err, rc);
  for (int i = 0; i < blk->nstmts; i++) {
    const vi_stmt *st = blk->stmts[i];
    if (st->kind != ST_DECL) continue;
    const vi_decl *d = st->decl;
    ad_val *v = c->slot[d->slot];
    if (!v) continue;
    ad_val *p;
    if (v->type.base == VT_TUPLE) {
      p = tup_persistent(v);
    } else if ((p = ad_val_new_persistent(v->type, v->ndims, v->dims))) {
      memcpy(p->x, v->x, v->len * sizeof(double));
    }
    if (!p) return data_err(err, "", "out of memory for '%s'", d->name), VI_ENOMEM;
    c->data[d->slot] = p;
  }
  return VI_SUCCESS;
}

void data_free_values(ev_ctx *c)
{
  if (!c->data) return;
  for (int i = 0; i < c->ast->nslots; i++) {
    ad_val_free(c->data[i]);
    c->data[i] = NULL;
  }
}
