/* json_stream.c: a JSON data document read with yajl's callback parser (Lloyd Hilaiel's
 * yajl 2: events, no tree) into the compact captures of json_stream.h.  Numbers arrive as
 * their text (yajl_number) and are converted here, independent of the C locale (the '.'
 * swapped for the locale's decimal point before strtod, as jansson does); integers that
 * overflow a long long and reals that overflow a double are errors, as with jansson.
 * Duplicate keys are refused in every object, and nesting deeper than JS_MAX_DEPTH.
 * yajl does not check every allocation it makes: its allocator here jumps back out of
 * yajl_alloc / yajl_parse on a failure (longjmp), and the parse reports out of memory. */
#define _DEFAULT_SOURCE   /* madvise */
#include <errno.h>
#include <limits.h>
#include <locale.h>
#include <math.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>
#include <yajl/yajl_parse.h>
#include "lang/back/json_stream.h"

enum { JS_MAX_DEPTH = 2048 };

typedef struct frame {   /* an open list or object inside a captured value */
  size_t tok;            /* its LIST token */
  size_t count;
  size_t run;            /* its last run token + 1, 0: none */
} frame;

typedef struct parser {
  const char *const *names;
  size_t nnames;
  js_doc *doc;
  js_value *cap;         /* the member being captured, or NULL */
  size_t skip;           /* > 0: inside an object (or deeper) of a captured value */
  frame *fr;
  size_t nfr, capfr;
  char **keys;           /* the keys of the open objects, outermost first */
  size_t nkeys, capkeys;
  size_t *keybase;       /* per open object: its first key in keys */
  size_t nobj, capobj;
  size_t depth;
  int oom, root_kind;
  const js_shard *sh;    /* NULL: keep everything */
  int cap_sharded;       /* the member being captured keeps only its shard's items */
  int stopped;           /* the stop_after member was read: the parse ends */
  char msg[256];         /* our own error, when a callback cancels */
} parser;

static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
  if (need <= *cap) return 0;
  size_t c = *cap ? *cap : 16;
  while (c < need) c *= 2;
  void *q = realloc(*p, c * elem);
  if (!q) return -1;
  *p = q;
  *cap = c;
  return 0;
}

const char *js_kind_text(js_kind k)
{
  switch (k) {
  case JS_OBJECT: return "an object";
  case JS_LIST: return "a list";
  case JS_STRING: case JS_SPECIAL: return "a string";
  case JS_INT: return "an integer";
  case JS_REAL: return "a real number";
  case JS_BOOL: return "a boolean";
  case JS_KEY: return "a key";
  default: return "null";
  }
}

static int fail(parser *p, const char *m)
{
  snprintf(p->msg, sizeof p->msg, "%s", m);
  return 0;
}

static int oom(parser *p)
{
  p->oom = 1;
  return fail(p, "out of memory");
}

static int push_tok(parser *p, js_kind k, size_t payload)
{
  js_value *v = p->cap;
  if (grow((void **)&v->tok, &v->captok, v->ntok + 2, sizeof *v->tok)) return -1;
  v->tok[v->ntok++] = (size_t)k;
  v->tok[v->ntok++] = payload;
  return 0;
}

/* The member's value is complete when the parser is back in the root object. */
static void value_done(parser *p)
{
  if (p->depth == 1 && p->cap) {
    if (p->sh && p->sh->stop_after && !strcmp(p->cap->name, p->sh->stop_after))
      p->stopped = 1;
    p->cap = NULL;
  }
}

/* A value begins (not a list's end): the root must be an object; inside a captured value,
 * its parent list counts it.  1: capture it, 0: skip it, 2: skip it, an item of a sharded
 * member outside this rank's shard, -1: cancel. */
static int value_begin(parser *p, js_kind k)
{
  if (p->depth == 0) {
    p->root_kind = (int)k;
    if (k != JS_OBJECT) { fail(p, js_kind_text(k)); return -1; }
    return 0;
  }
  if (!p->cap || p->skip) return 0;
  if (p->cap_sharded && p->nfr == 1) {
    size_t i = p->cap->seen++;
    if (i < p->sh->lo || i >= p->sh->hi) return 2;
  }
  if (p->nfr) p->fr[p->nfr - 1].count++;
  return 1;
}

/* A number, special or other scalar of a captured value. */
static int leaf(parser *p, js_kind k, double x, const char *text)
{
  int b = value_begin(p, k);
  if (b < 0) return 0;
  if (b == 1) {
    js_value *v = p->cap;
    if (k == JS_INT || k == JS_REAL || k == JS_SPECIAL) {
      if (grow((void **)&v->num, &v->capnum, v->nnum + 1, sizeof *v->num)) return oom(p);
      v->num[v->nnum++] = x;
    }
    frame *f = p->nfr ? &p->fr[p->nfr - 1] : NULL;
    if ((k == JS_INT || k == JS_REAL) && f && f->run && f->run == v->ntok &&
        v->tok[f->run - 2] == (size_t)k) {
      v->tok[f->run - 1]++;   /* the run this list opened last goes on */
    } else {
      if (push_tok(p, k, k == JS_INT || k == JS_REAL || k == JS_SPECIAL) != 0) return oom(p);
      if (f) f->run = (k == JS_INT || k == JS_REAL) ? v->ntok : 0;
    }
    if (k == JS_SPECIAL) {
      if (grow((void **)&v->special, &v->capspecial, v->nspecial + 1, sizeof *v->special))
        return oom(p);
      if (!(v->special[v->nspecial] = strdup(text))) return oom(p);
      v->nspecial++;
    }
  }
  value_done(p);
  return !p->stopped;
}

static int cb_null(void *ctx) { return leaf(ctx, JS_NULL, 0, NULL); }
static int cb_bool(void *ctx, int b) { (void)b; return leaf(ctx, JS_BOOL, 0, NULL); }

/* "Infinity", "-inf", "NaN", ... as CmdStan accepts them; 0 if s is none of these. */
static int special_number(const char *s, double *out)
{
  int neg = 0;
  if (*s == '-' || *s == '+') { neg = *s == '-'; s++; }
  if (!strcasecmp(s, "inf") || !strcasecmp(s, "infinity")) {
    *out = neg ? -INFINITY : INFINITY;
    return 1;
  }
  if (!strcasecmp(s, "nan")) { *out = NAN; return 1; }
  return 0;
}

static int cb_number(void *ctx, const char *s, size_t len)
{
  parser *p = ctx;
  char buf[512];
  if (len >= sizeof buf) return fail(p, "number too long");
  memcpy(buf, s, len);
  buf[len] = '\0';
  int is_int = !memchr(s, '.', len) && !memchr(s, 'e', len) && !memchr(s, 'E', len);
  char *end;
  errno = 0;
  if (is_int) {
    long long v = strtoll(buf, &end, 10);
    if (errno == ERANGE) return fail(p, "too big integer");
    return leaf(p, JS_INT, (double)v, NULL);
  }
  const char *point = localeconv()->decimal_point;
  char *dot = strchr(buf, '.');
  if (dot && point && point[0] && point[0] != '.' && !point[1]) *dot = point[0];
  double v = strtod(buf, &end);
  if (errno == ERANGE && (v == HUGE_VAL || v == -HUGE_VAL)) return fail(p, "real number overflow");
  return leaf(p, JS_REAL, v, NULL);
}

static int cb_string(void *ctx, const unsigned char *s, size_t len)
{
  parser *p = ctx;
  if (memchr(s, '\0', len)) return fail(p, "\\u0000 is not allowed");
  char buf[32];
  double x;
  if (len < sizeof buf) {
    memcpy(buf, s, len);
    buf[len] = '\0';
    if (special_number(buf, &x)) return leaf(p, JS_SPECIAL, x, buf);
  }
  return leaf(p, JS_STRING, 0, NULL);
}

static int cb_start_map(void *ctx)
{
  parser *p = ctx;
  int b = value_begin(p, JS_OBJECT);
  if (b < 0) return 0;
  if (b == 1) {
    /* captured with its members (a tuple's data is an object {"1": ..., "2": ...}) */
    if (p->nfr) p->fr[p->nfr - 1].run = 0;
    if (push_tok(p, JS_OBJECT, 0) != 0) return oom(p);
    if (grow((void **)&p->fr, &p->capfr, p->nfr + 1, sizeof *p->fr)) return oom(p);
    p->fr[p->nfr++] = (frame){p->cap->ntok - 1, 0, 0};
  } else if (p->cap && (b == 2 || p->skip)) {
    p->skip++;   /* inside a skipped value, or an item outside this rank's shard */
  }
  if (++p->depth > JS_MAX_DEPTH) return fail(p, "nesting too deep");
  if (grow((void **)&p->keybase, &p->capobj, p->nobj + 1, sizeof *p->keybase)) return oom(p);
  p->keybase[p->nobj++] = p->nkeys;
  return 1;
}

static int cb_map_key(void *ctx, const unsigned char *s, size_t len)
{
  parser *p = ctx;
  if (memchr(s, '\0', len)) return fail(p, "\\u0000 is not allowed");
  size_t base = p->keybase[p->nobj - 1];
  for (size_t i = base; i < p->nkeys; i++)
    if (strlen(p->keys[i]) == len && !memcmp(p->keys[i], s, len)) {
      snprintf(p->msg, sizeof p->msg, "duplicate object key near '\"%.*s\"'",
               len > 200 ? 200 : (int)len, (const char *)s);
      return 0;
    }
  if (grow((void **)&p->keys, &p->capkeys, p->nkeys + 1, sizeof *p->keys)) return oom(p);
  char *k = malloc(len + 1);
  if (!k) return oom(p);
  memcpy(k, s, len);
  k[len] = '\0';
  p->keys[p->nkeys++] = k;
  if (p->depth > 1 && p->cap && !p->skip) {   /* a member of a captured object */
    size_t num = 0;
    if (len > 0 && len < 10 && k[0] != '0' && strspn(k, "0123456789") == len)
      num = (size_t)strtoul(k, NULL, 10);
    if (push_tok(p, JS_KEY, num) != 0) return oom(p);
    if (p->nfr) p->fr[p->nfr - 1].run = 0;
  }
  if (p->depth == 1) {   /* a member of the root: captured if wanted */
    p->cap = NULL;
    for (size_t i = 0; i < p->nnames; i++)
      if (!strcmp(p->names[i], k)) {
        js_doc *d = p->doc;
        if (grow((void **)&d->v, &d->cap, d->n + 1, sizeof *d->v)) return oom(p);
        js_value *v = &d->v[d->n++];
        memset(v, 0, sizeof *v);
        if (!(v->name = strdup(k))) return oom(p);
        p->cap = v;
        p->cap_sharded = p->sh && p->sh->sharded && p->sh->sharded[i];
        break;
      }
  }
  return 1;
}

static int cb_end_map(void *ctx)
{
  parser *p = ctx;
  p->nobj--;
  while (p->nkeys > p->keybase[p->nobj]) free(p->keys[--p->nkeys]);
  p->depth--;
  if (p->cap && p->depth >= 1) {
    if (p->skip) {
      p->skip--;
    } else {
      frame *f = &p->fr[--p->nfr];
      p->cap->tok[f->tok] = f->count;
      if (p->nfr) p->fr[p->nfr - 1].run = 0;
    }
  }
  value_done(p);
  return !p->stopped;
}

static int cb_start_array(void *ctx)
{
  parser *p = ctx;
  int b = value_begin(p, JS_LIST);
  if (b < 0) return 0;
  if (++p->depth > JS_MAX_DEPTH) return fail(p, "nesting too deep");
  if (b == 2) {
    p->skip = 1;   /* a list outside the shard: its items are not kept */
  } else if (b == 1) {
    if (p->nfr) p->fr[p->nfr - 1].run = 0;
    if (push_tok(p, JS_LIST, 0) != 0) return oom(p);
    if (grow((void **)&p->fr, &p->capfr, p->nfr + 1, sizeof *p->fr)) return oom(p);
    p->fr[p->nfr++] = (frame){p->cap->ntok - 1, 0, 0};
  } else if (p->skip) {
    p->skip++;
  }
  return 1;
}

static int cb_end_array(void *ctx)
{
  parser *p = ctx;
  p->depth--;
  if (p->cap) {
    if (p->skip) {
      p->skip--;
    } else {
      frame *f = &p->fr[--p->nfr];
      p->cap->tok[f->tok] = f->count;
      if (p->nfr) p->fr[p->nfr - 1].run = 0;
    }
  }
  value_done(p);
  return !p->stopped;
}

static const yajl_callbacks callbacks = {
  cb_null, cb_bool, NULL, NULL, cb_number, cb_string,
  cb_start_map, cb_map_key, cb_end_map, cb_start_array, cb_end_array
};

/* yajl's allocator: a failure jumps back to js_parse.  The blocks yajl holds (a handful:
 * its handle, state stack, lexer and buffers) are noted, so that after a jump, with yajl's
 * structures possibly half built, they are freed here rather than by yajl_free. */
enum { JS_TAKEN = 32 };
typedef struct js_alloc {
  jmp_buf jb;
  void *taken[JS_TAKEN];
  int ntaken;
} js_alloc;

static void note(js_alloc *a, void *old, void *p)
{
  for (int i = 0; i < a->ntaken; i++)
    if (old && a->taken[i] == old) { a->taken[i] = p; return; }
  if (a->ntaken < JS_TAKEN) a->taken[a->ntaken++] = p;
}

static void *ja_malloc(void *ctx, size_t n)
{
  js_alloc *a = ctx;
  void *p = malloc(n);
  if (!p) longjmp(a->jb, 1);
  note(a, NULL, p);
  return p;
}

static void *ja_realloc(void *ctx, void *q, size_t n)
{
  js_alloc *a = ctx;
  void *p = realloc(q, n);
  if (!p && n) longjmp(a->jb, 1);
  note(a, q, p);
  return p;
}

static void ja_free(void *ctx, void *p)
{
  js_alloc *a = ctx;
  for (int i = 0; p && i < a->ntaken; i++)
    if (a->taken[i] == p) { a->taken[i] = a->taken[--a->ntaken]; break; }
  free(p);
}

/* 1-based line and column of byte offset off. */
static void locate(const char *text, size_t len, size_t off, int *line, int *col)
{
  int l = 1, c = 1;
  for (size_t i = 0; i < off && i < len; i++) {
    if (text[i] == '\n') { l++; c = 1; }
    else c++;
  }
  *line = l;
  *col = c;
}

int js_parse(const char *text, size_t len, const char *const *names, size_t nnames,
             js_doc *doc, int *line, int *col, char *msg, size_t msglen)
{
  return js_parse_shard(text, len, names, nnames, NULL, doc, line, col, msg, msglen);
}

/* Parse text in chunks; with release, give the pages of each chunk back once parsed
 * (text is page-aligned, a mapping of the file: the pages are read again if an error
 * message needs them). */
enum { JS_CHUNK = 1 << 22 };
static yajl_status parse_chunks(yajl_handle h, const char *text, size_t len, int release,
                                size_t *base)
{
  size_t page = (size_t)sysconf(_SC_PAGESIZE);
  yajl_status st = yajl_status_ok;
  for (*base = 0; *base < len; *base += JS_CHUNK) {
    size_t n = len - *base < JS_CHUNK ? len - *base : JS_CHUNK;
    st = yajl_parse(h, (const unsigned char *)text + *base, n);
    if (st != yajl_status_ok) return st;
    if (release) {
      size_t upto = (*base + n) / page * page;
      if (upto) madvise((void *)(uintptr_t)text, upto, MADV_DONTNEED);
    }
  }
  *base = len;
  return yajl_complete_parse(h);
}

int js_parse_shard(const char *text, size_t len, const char *const *names, size_t nnames,
                   const js_shard *sh, js_doc *doc, int *line, int *col, char *msg,
                   size_t msglen)
{
  parser p;
  memset(&p, 0, sizeof p);
  p.sh = sh;
  memset(doc, 0, sizeof *doc);
  p.names = names;
  p.nnames = nnames;
  p.doc = doc;
  p.root_kind = -1;
  *line = *col = 0;
  msg[0] = '\0';
  js_alloc *volatile ap = malloc(sizeof *ap);
  if (!ap) return -3;
  ap->ntaken = 0;
  yajl_alloc_funcs af = {ja_malloc, ja_realloc, ja_free, ap};
  yajl_handle volatile h = NULL;
  if (setjmp(ap->jb)) {   /* yajl_alloc ran out of memory */
    for (int i = 0; i < ap->ntaken; i++) free(ap->taken[i]);
    free(ap);
    return -3;
  }
  h = yajl_alloc(&callbacks, &af, &p);
  if (!h) { free(ap); return -3; }
  yajl_status st;
  int jumped = 0;
  size_t volatile base = 0;
  if (setjmp(ap->jb)) {
    p.oom = 1;
    jumped = 1;
    st = yajl_status_error;
  } else if (sh) {
    size_t at = 0;
    st = parse_chunks(h, text, len, sh->release, &at);
    base = at;
  } else {
    st = yajl_parse(h, (const unsigned char *)text, len);
    if (st == yajl_status_ok) st = yajl_complete_parse(h);
  }
  int rc = 0;
  if (p.stopped) {
    rc = 0;   /* the stop_after member was read: the rest is not needed */
  } else if (p.oom) {
    rc = -3;
  } else if (st != yajl_status_ok && p.root_kind >= 0 && p.root_kind != JS_OBJECT) {
    snprintf(msg, msglen, "%s", p.msg);
    rc = -2;
  } else if (st != yajl_status_ok) {
    size_t off = base + (base < len ? yajl_get_bytes_consumed(h) : 0);
    locate(text, len, off, line, col);
    if (st == yajl_status_client_canceled) {
      snprintf(msg, msglen, "%s", p.msg);
    } else {
      unsigned char *e = yajl_get_error(h, 0, NULL, 0);
      /* yajl's message: "lexical error: ..." / "parse error: ...", one line */
      snprintf(msg, msglen, "%s", e ? (const char *)e : "parse error");
      char *nl = strchr(msg, '\n');
      if (nl) *nl = '\0';
      if (e) yajl_free_error(h, e);
    }
    rc = -1;
  }
  if (jumped) {
    for (int i = 0; i < ap->ntaken; i++) free(ap->taken[i]);
  } else {
    yajl_free(h);
  }
  free(ap);
  while (p.nkeys) free(p.keys[--p.nkeys]);
  free(p.keys);
  free(p.keybase);
  free(p.fr);
  return rc;
}

const js_value *js_doc_get(const js_doc *d, const char *name)
{
  for (size_t i = 0; i < d->n; i++)
    if (!strcmp(d->v[i].name, name)) return &d->v[i];
  return NULL;
}

void js_doc_clear(js_doc *d)
{
  for (size_t i = 0; i < d->n; i++) {
    js_value *v = &d->v[i];
    free(v->name);
    free(v->num);
    free(v->tok);
    for (size_t j = 0; j < v->nspecial; j++) free(v->special[j]);
    free(v->special);
  }
  free(d->v);
  memset(d, 0, sizeof *d);
}

void js_cursor_init(js_cursor *c, const js_value *v)
{
  memset(c, 0, sizeof *c);
  c->v = v;
}

js_kind js_next(js_cursor *c, size_t *n, double *x, const char **s)
{
  const js_value *v = c->v;
  if (c->run) {
    c->run--;
    *x = v->num[c->num++];
    return c->run_kind;
  }
  if (c->tok >= v->ntok) return JS_NULL;   /* past the end (not reached by a valid walk) */
  js_kind k = (js_kind)v->tok[c->tok];
  size_t pay = v->tok[c->tok + 1];
  c->tok += 2;
  switch (k) {
  case JS_LIST: case JS_OBJECT: case JS_KEY:
    *n = pay;
    return k;
  case JS_INT: case JS_REAL:
    c->run = pay - 1;
    c->run_kind = k;
    *x = v->num[c->num++];
    return k;
  case JS_SPECIAL:
    *x = v->num[c->num++];
    *s = v->special[c->special++];
    return k;
  default:
    return k;
  }
}
