/* error.c: the one error report of the model language, shared by the parser, the
 * checker and the evaluator.  Like a C compiler's diagnostic (gcc/clang style):
 *   model.stan:3:12: error: expected ';' after declaration but found 'real'
 *       real x
 *              ^
 * The source line is shown with its tabs kept, so the caret lines up in a terminal;
 * very long lines are cut to a window around the column. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "vi/lang.h"
#include "lang/front/ast.h"

#define WINDOW 160     /* characters of a long source line shown around the column */

/* Append to buf (capacity cap, current length *n), truncating silently. */
static void put(char *buf, size_t cap, size_t *n, const char *s, size_t len)
{
  if (*n + 1 >= cap) return;
  if (len > cap - 1 - *n) len = cap - 1 - *n;
  memcpy(buf + *n, s, len);
  *n += len;
  buf[*n] = '\0';
}

static int is_lead(unsigned char c) { return (c & 0xC0) != 0x80; }

/* Length of a well-formed UTF-8 sequence (2..4 bytes) at q, 0 if there is none. */
static size_t utf8_seq(const char *q, const char *end)
{
  const unsigned char *s = (const unsigned char *)q;
  size_t n = s[0] >= 0xC2 && s[0] <= 0xDF ? 2 : s[0] >= 0xE0 && s[0] <= 0xEF ? 3
             : s[0] >= 0xF0 && s[0] <= 0xF4 ? 4 : 0;
  if (!n || (size_t)(end - q) < n) return 0;
  for (size_t i = 1; i < n; i++)
    if ((s[i] & 0xC0) != 0x80) return 0;
  return n;
}

void front_error_at(struct vi_error *err, int status, const vi_ast *ast, vi_loc loc,
                 const char *fmt, ...)
{
  if (!err) return;
  memset(err, 0, sizeof *err);
  err->status = status;
  const char *name = ast && ast->name ? ast->name : "";
  snprintf(err->file, sizeof err->file, "%s", name);
  err->line = loc.line;
  err->col = loc.col;

  char *m = err->message;
  size_t cap = sizeof err->message, n = 0;
  char head[300];
  int hl;
  if (loc.line > 0)
    hl = snprintf(head, sizeof head, "%s:%d:%d: error: ", *name ? name : "<model>", loc.line,
                  loc.col);
  else
    hl = snprintf(head, sizeof head, "%s: error: ", *name ? name : "<model>");
  put(m, cap, &n, head, hl < 0 ? 0 : (size_t)hl < sizeof head ? (size_t)hl : sizeof head - 1);
  va_list ap;
  va_start(ap, fmt);
  char msg[1024];
  int ml = vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  put(m, cap, &n, msg, ml < 0 ? 0 : (size_t)ml < sizeof msg ? (size_t)ml : sizeof msg - 1);

  if (!ast || !ast->source || loc.line <= 0) return;
  /* Find the line. */
  const char *s = ast->source, *end = s + ast->source_len, *p = s;
  for (int l = 1; l < loc.line && p < end; l++) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    if (!nl) { p = end; break; }
    p = nl + 1;
  }
  const char *le = memchr(p, '\n', (size_t)(end - p));
  if (!le) le = end;
  if (le > p && le[-1] == '\r') le--;
  /* Byte position of the column (col counts characters). */
  const char *cp = p;
  for (int c = 1; c < loc.col && cp < le; c++) {
    cp++;
    while (cp < le && !is_lead((unsigned char)*cp)) cp++;
  }
  /* Window on long lines. */
  const char *ws = p, *we = le;
  int cut_left = 0, cut_right = 0;
  if (le - p > WINDOW) {
    if (cp - p > WINDOW / 2) {
      ws = cp - WINDOW / 2;
      while (ws > p && !is_lead((unsigned char)*ws)) ws--;
      cut_left = 1;
    }
    if (le - ws > WINDOW) {
      we = ws + WINDOW;
      while (we > ws && we < le && !is_lead((unsigned char)*we)) we--;
      cut_right = 1;
    }
  }
  put(m, cap, &n, "\n    ", 5);
  if (cut_left) put(m, cap, &n, "...", 3);
  for (const char *q = ws; q < we; q++) {
    unsigned char c = (unsigned char)*q;
    if (c >= 0x80) {
      size_t k = utf8_seq(q, we);
      if (k) {
        put(m, cap, &n, q, k);
        q += k - 1;
      } else {
        put(m, cap, &n, "?", 1);   /* not UTF-8: keep the message valid text */
      }
      continue;
    }
    char ch = (c < 0x20 && c != '\t') || c == 0x7F ? '?' : (char)c;
    put(m, cap, &n, &ch, 1);
  }
  if (cut_right) put(m, cap, &n, "...", 3);
  put(m, cap, &n, "\n    ", 5);
  if (cut_left) put(m, cap, &n, "   ", 3);
  for (const char *q = ws; q < cp && q < we; q++) {
    if (!is_lead((unsigned char)*q)) continue;
    put(m, cap, &n, *q == '\t' ? "\t" : " ", 1);
  }
  put(m, cap, &n, "^", 1);
}
