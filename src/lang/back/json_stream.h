/* json_stream.h: internal to lang/back: a JSON object of named values read by a streaming
 * parser (yajl) into compact captures: the numbers of each wanted member in one array of
 * doubles, in document order, and its structure as a short token stream (a list and its
 * length; a run of numbers of one kind; a value of another kind), so that a 10^5 x 100
 * matrix costs 8 bytes a number plus two tokens a row, not a tree node a number.  The rest
 * of the document is checked (syntax, UTF-8, duplicate keys at any depth, nesting depth)
 * but not kept. */
#ifndef VI_LANG_JSON_STREAM_H
#define VI_LANG_JSON_STREAM_H

#include <stddef.h>

/* the kinds of a JSON value; JS_SPECIAL is a string CmdStan reads as a number
 * ("Infinity", "-inf", "NaN", ...) */
typedef enum { JS_INT, JS_REAL, JS_SPECIAL, JS_LIST, JS_OBJECT, JS_STRING, JS_BOOL,
               JS_NULL,
               JS_KEY      /* an object member's key (its value follows): the key as a
                              number when it is "1", "2", ... (a tuple's), else 0 */
} js_kind;

typedef struct js_value {
  char *name;
  double *num;            /* the numbers (ints, reals, specials), in document order */
  size_t nnum, capnum;
  size_t *tok;            /* pairs (kind, payload): a list and its length, a run of
                             payload numbers of kind JS_INT / JS_REAL, a special, or a
                             value of another kind (payload 0) */
  size_t ntok, captok;
  char **special;         /* the specials' texts, in order (for messages) */
  size_t nspecial, capspecial;
  size_t seen;            /* a sharded member (js_shard): the items of its outermost
                             list in the document, kept or not */
} js_value;

typedef struct js_doc {
  js_value *v;
  size_t n, cap;
} js_doc;

/* Parse text (len bytes), capturing the members named in names (nnames of them).  0 on
 * success; otherwise -1 for bad JSON, with *line, *col (1-based) and msg filled,
 * -2 when the root is not an object (msg: its kind, "a list"), or -3 out of memory.
 * js_doc_clear frees what it holds, on success or failure. */
int js_parse(const char *text, size_t len, const char *const *names, size_t nnames,
             js_doc *doc, int *line, int *col, char *msg, size_t msglen);
/* The same for one rank's part of the data (data parallelism, shard.c): members flagged
 * in sharded[] (one per name) keep only the items [lo, hi) of their outermost list; a
 * member named stop_after ends the parse as soon as it is read (a prescan for the size
 * that decides lo and hi); with release, text is a read-only file mapping whose pages are
 * handed back as they are parsed (so that the text never stays resident as a whole). */
typedef struct js_shard {
  const unsigned char *sharded;
  size_t lo, hi;
  const char *stop_after;
  int release;
} js_shard;
int js_parse_shard(const char *text, size_t len, const char *const *names, size_t nnames,
                   const js_shard *sh, js_doc *doc, int *line, int *col, char *msg,
                   size_t msglen);
const js_value *js_doc_get(const js_doc *d, const char *name);
void js_doc_clear(js_doc *d);
/* A value's kind in words, as messages say it: "a list", "an integer", ... */
const char *js_kind_text(js_kind k);

/* Walking a captured value item by item, depth first. */
typedef struct js_cursor {
  const js_value *v;
  size_t tok, num, special, run;
  js_kind run_kind;
} js_cursor;
void js_cursor_init(js_cursor *c, const js_value *v);
/* The next item's kind: a list or an object (*n its length or member count; its items,
 * or for an object each member's JS_KEY and value, follow), a key (*n its number), a
 * number or special (*x its value; *s a special's text), another value. */
js_kind js_next(js_cursor *c, size_t *n, double *x, const char **s);

#endif
