/* lexer.c: turns a model file into tokens, following the lexical rules of the Stan
 * reference manual (identifiers, int/real literals with the longest match, strings for
 * print/reject, line comments // and #, block comments).  The whole stream is made up
 * front so the parser can look ahead freely; a lexical error ends the stream with a
 * TK_ERROR token, which the parser reports only when it gets there, so the first error
 * in the file is the one reported.  Columns count UTF-8 characters, so carets align
 * under non-ASCII text in comments. */
#include <errno.h>
#include <stdarg.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "vi/status.h"
#include "lang/front/lexer.h"

typedef struct lexer {
  const char *src;
  size_t len, pos;
  int line, col;
  vi_lex_result *out;
  size_t cap;
} lexer;

static int lx_peek(const lexer *lx, size_t k)
{
  return lx->pos + k < lx->len ? (unsigned char)lx->src[lx->pos + k] : -1;
}

/* Consume one byte, keeping line and column (columns advance on UTF-8 lead bytes). */
static void lx_adv(lexer *lx)
{
  unsigned char c = (unsigned char)lx->src[lx->pos++];
  if (c == '\n') { lx->line++; lx->col = 1; }
  else if ((c & 0xC0) != 0x80) lx->col++;
}

static int lx_fail(lexer *lx, vi_loc loc, const char *fmt, ...)
  __attribute__((format(printf, 3, 4)));
static int lx_fail(lexer *lx, vi_loc loc, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(lx->out->message, sizeof lx->out->message, fmt, ap);
  va_end(ap);
  lx->out->status = VI_EPARSE;
  lx->out->loc = loc;
  return -1;
}

static vi_loc lx_loc(const lexer *lx)
{
  vi_loc l = { lx->line, lx->col };
  return l;
}

static int lx_push(lexer *lx, vi_tok_kind kind, size_t off, vi_loc loc)
{
  vi_lex_result *r = lx->out;
  if (r->ntoks == lx->cap) {
    size_t ncap = lx->cap ? lx->cap * 2 : 256;
    vi_token *t = realloc(r->toks, ncap * sizeof *t);
    if (!t) {
      r->status = VI_ENOMEM;
      snprintf(r->message, sizeof r->message, "out of memory");
      return -1;
    }
    r->toks = t;
    lx->cap = ncap;
  }
  vi_token *t = &r->toks[r->ntoks++];
  memset(t, 0, sizeof *t);
  t->kind = kind;
  t->off = off;
  t->len = lx->pos - off;
  t->loc = loc;
  return 0;
}

/* Length of the valid UTF-8 sequence at pos (>= 2), or 0 if the bytes there are not
 * one. */
static size_t utf8_len(const lexer *lx)
{
  const unsigned char *s = (const unsigned char *)lx->src + lx->pos;
  size_t left = lx->len - lx->pos;
  unsigned c = s[0];
  size_t n;
  unsigned min;
  if (c >= 0xC2 && c <= 0xDF) { n = 2; min = 0x80; }
  else if (c >= 0xE0 && c <= 0xEF) { n = 3; min = 0x800; }
  else if (c >= 0xF0 && c <= 0xF4) { n = 4; min = 0x10000; }
  else return 0;
  if (left < n) return 0;
  unsigned cp = c & (0x3F >> (n - 1));
  for (size_t i = 1; i < n; i++) {
    if ((s[i] & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (s[i] & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return n;
}

/* Inside a comment or string: accept one character (ASCII or a valid UTF-8
 * sequence); NUL and invalid UTF-8 are errors. */
static int lx_text_char(lexer *lx)
{
  int c = lx_peek(lx, 0);
  if (c == 0) return lx_fail(lx, lx_loc(lx), "invalid control byte 0x00 (NUL)");
  if (c < 0x80) { lx_adv(lx); return 0; }
  size_t n = utf8_len(lx);
  if (!n) return lx_fail(lx, lx_loc(lx), "invalid UTF-8 byte 0x%02X", (unsigned)c);
  while (n--) lx_adv(lx);
  return 0;
}

/* Skip whitespace and comments. */
static int lx_skip(lexer *lx)
{
  for (;;) {
    int c = lx_peek(lx, 0);
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
      lx_adv(lx);
    } else if (c == '#' && lx->len - lx->pos >= 8
               && memcmp(lx->src + lx->pos, "#include", 8) == 0) {
      lx_fail(lx, lx_loc(lx), "'#include' is not supported yet: put the included code in "
              "the file");
      lx->out->status = VI_EUNSUPPORTED;
      return -1;
    } else if (c == '#' || (c == '/' && lx_peek(lx, 1) == '/')) {
      while (lx->pos < lx->len && lx_peek(lx, 0) != '\n')
        if (lx_text_char(lx)) return -1;
    } else if (c == '/' && lx_peek(lx, 1) == '*') {
      vi_loc start = lx_loc(lx);
      lx_adv(lx); lx_adv(lx);
      for (;;) {
        if (lx->pos >= lx->len)
          return lx_fail(lx, start, "unterminated comment: '/*' without a closing '*/'");
        if (lx_peek(lx, 0) == '*' && lx_peek(lx, 1) == '/') { lx_adv(lx); lx_adv(lx); break; }
        if (lx_text_char(lx)) return -1;
      }
    } else {
      return 0;
    }
  }
}

static int is_alpha(int c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
static int is_digit(int c) { return c >= '0' && c <= '9'; }

/* number ::= digits ['.' digits*] [exp] | '.' digits [exp];  exp ::= [eE] [+-] digits.
 * Longest match, as Stan's lexer: "2." is a real, "2.*x" is 2.0 * x. */
static int lx_number(lexer *lx)
{
  size_t off = lx->pos;
  vi_loc loc = lx_loc(lx);
  int real = 0;
  while (is_digit(lx_peek(lx, 0))) lx_adv(lx);
  if (lx_peek(lx, 0) == '.') {
    real = 1;
    lx_adv(lx);
    while (is_digit(lx_peek(lx, 0))) lx_adv(lx);
  }
  int e = lx_peek(lx, 0);
  if (e == 'e' || e == 'E') {
    size_t k = 1;
    if (lx_peek(lx, 1) == '+' || lx_peek(lx, 1) == '-') k = 2;
    if (!is_digit(lx_peek(lx, k))) {
      for (size_t i = 0; i < k; i++) lx_adv(lx);
      return lx_fail(lx, loc, "malformed number '%.*s': exponent without digits",
                     (int)(lx->pos - off > 40 ? 40 : lx->pos - off), lx->src + off);
    }
    real = 1;
    while (k--) lx_adv(lx);
    while (is_digit(lx_peek(lx, 0))) lx_adv(lx);
  }
  int imag = 0;
  if (lx_peek(lx, 0) == 'i' && !is_alpha(lx_peek(lx, 1)) && !is_digit(lx_peek(lx, 1))
      && lx_peek(lx, 1) != '_') {
    lx_adv(lx);
    imag = 1;
  }
  size_t n = lx->pos - off - (size_t)imag;
  char buf[64];
  if (n >= sizeof buf) {
    /* Too long to be in range unless it is mostly zeros; let strtod decide. */
    char *tmp = malloc(n + 1);
    if (!tmp) { lx->out->status = VI_ENOMEM; return -1; }
    memcpy(tmp, lx->src + off, n);
    tmp[n] = '\0';
    errno = 0;
    double v = strtod(tmp, NULL);
    int bad = !real ? 1 : (errno == ERANGE && isinf(v));
    free(tmp);
    if (bad)
      return lx_fail(lx, loc, "number '%.20s...' out of range (%s)", lx->src + off,
                     real ? "too large for a real" : "largest int is 2147483647");
    if (lx_push(lx, TK_REAL, off, loc)) return -1;
    lx->out->toks[lx->out->ntoks - 1].rval = v;
    return 0;
  }
  memcpy(buf, lx->src + off, n);
  buf[n] = '\0';
  if (imag) {   /* 2.5i, 3i: the imaginary part as a real */
    errno = 0;
    double v = strtod(buf, NULL);
    if (errno == ERANGE && isinf(v))
      return lx_fail(lx, loc, "imaginary literal '%si' out of range", buf);
    if (lx_push(lx, TK_IMAG, off, loc)) return -1;
    lx->out->toks[lx->out->ntoks - 1].rval = v;
    return 0;
  }
  if (real) {
    errno = 0;
    double v = strtod(buf, NULL);
    if (errno == ERANGE && isinf(v))
      return lx_fail(lx, loc, "real literal '%s' out of range", buf);
    if (lx_push(lx, TK_REAL, off, loc)) return -1;
    lx->out->toks[lx->out->ntoks - 1].rval = v;
  } else {
    errno = 0;
    long long v = strtoll(buf, NULL, 10);
    if (errno == ERANGE || v > VI_INT_LIT_MAX)
      return lx_fail(lx, loc, "integer literal '%s' out of range (largest int is 2147483647)",
                     buf);
    if (lx_push(lx, TK_INT, off, loc)) return -1;
    lx->out->toks[lx->out->ntoks - 1].ival = (long)v;
  }
  return 0;
}

/* Does the last token end a value that a tuple access '.k' may follow: a name, ')' or
 * ']', or the index of an earlier access (x.1.2)? */
static int lx_after_value(const lexer *lx)
{
  size_t n = lx->out->ntoks;
  if (n == 0) return 0;
  const vi_token *t = &lx->out->toks[n - 1];
  if (t->off + t->len != lx->pos) return 0;   /* `x .1` stays a syntax error */
  if (t->kind == TK_IDENT || t->kind == TK_RPAREN || t->kind == TK_RBRACK) return 1;
  return t->kind == TK_INT && n >= 2 && lx->out->toks[n - 2].kind == TK_DOT;
}

static int lx_string(lexer *lx)
{
  size_t off = lx->pos;
  vi_loc loc = lx_loc(lx);
  lx_adv(lx);
  for (;;) {
    int c = lx_peek(lx, 0);
    if (c < 0 || c == '\n')
      return lx_fail(lx, loc, "unterminated string: '\"' without a closing '\"' on the same line");
    if (c == '"') { lx_adv(lx); break; }
    if (lx_text_char(lx)) return -1;
  }
  return lx_push(lx, TK_STRING, off, loc);
}

/* Punctuation, longest first within each leading character. */
static const struct { const char *s; vi_tok_kind k; } puncts[] = {
  { "%/%", TK_IDIV }, { ".*=", TK_ETIMES_ASSIGN }, { "./=", TK_EDIV_ASSIGN },
  { "<=", TK_LE }, { ">=", TK_GE }, { "==", TK_EQEQ }, { "!=", TK_NE },
  { "+=", TK_PLUS_ASSIGN }, { "-=", TK_MINUS_ASSIGN }, { "*=", TK_TIMES_ASSIGN },
  { "/=", TK_DIV_ASSIGN }, { ".*", TK_ETIMES }, { "./", TK_EDIV }, { ".^", TK_EHAT },
  { "&&", TK_AND }, { "||", TK_OR },
  { "{", TK_LBRACE }, { "}", TK_RBRACE }, { "(", TK_LPAREN }, { ")", TK_RPAREN },
  { "[", TK_LBRACK }, { "]", TK_RBRACK }, { "<", TK_LT }, { ">", TK_GT },
  { "=", TK_ASSIGN }, { "+", TK_PLUS }, { "-", TK_MINUS }, { "*", TK_STAR },
  { "/", TK_SLASH }, { "%", TK_PERCENT }, { "\\", TK_BACKSLASH }, { "^", TK_HAT },
  { "!", TK_BANG }, { "?", TK_QUESTION }, { ":", TK_COLON }, { ",", TK_COMMA },
  { ";", TK_SEMI }, { "~", TK_TILDE }, { "|", TK_BAR }, { "'", TK_QUOTE },
};

int front_lex(const char *src, size_t len, vi_lex_result *out)
{
  lexer lx = { src, len, 0, 1, 1, out, 0 };
  memset(out, 0, sizeof *out);
  if (len >= 3 && memcmp(src, "\xEF\xBB\xBF", 3) == 0) lx.pos = 3;   /* UTF-8 BOM */
  for (;;) {
    if (lx_skip(&lx)) break;
    if (lx.pos >= lx.len) {
      if (lx_push(&lx, TK_EOF, lx.pos, lx_loc(&lx))) break;
      return out->status;
    }
    int c = lx_peek(&lx, 0);
    size_t off = lx.pos;
    vi_loc loc = lx_loc(&lx);
    if (is_alpha(c)) {
      while (is_alpha(lx_peek(&lx, 0)) || is_digit(lx_peek(&lx, 0)) || lx_peek(&lx, 0) == '_')
        lx_adv(&lx);
      if (lx_push(&lx, TK_IDENT, off, loc)) break;
      continue;
    }
    if (c == '.' && is_digit(lx_peek(&lx, 1)) && lx_after_value(&lx)) {
      /* x.1, f(a).2, x[i].1.2: a tuple element, not the real literal .1 (which cannot
         follow a value); the index is digits only, so x.1.2 is two accesses */
      lx_adv(&lx);
      if (lx_push(&lx, TK_DOT, off, loc)) break;
      size_t o2 = lx.pos;
      vi_loc l2 = lx_loc(&lx);
      long v = 0;
      while (is_digit(lx_peek(&lx, 0))) {
        if (v < 100000000L) v = v * 10 + (lx_peek(&lx, 0) - '0');
        lx_adv(&lx);
      }
      if (lx_push(&lx, TK_INT, o2, l2)) break;
      lx.out->toks[lx.out->ntoks - 1].ival = v;
      continue;
    }
    if (is_digit(c) || (c == '.' && is_digit(lx_peek(&lx, 1)))) {
      if (lx_number(&lx)) break;
      continue;
    }
    if (c == '"') {
      if (lx_string(&lx)) break;
      continue;
    }
    if (c == '_') {
      lx_fail(&lx, loc, "invalid character '_': identifiers must start with a letter");
      break;
    }
    size_t i, np = sizeof puncts / sizeof puncts[0];
    for (i = 0; i < np; i++) {
      size_t n = strlen(puncts[i].s);
      if (lx.len - lx.pos >= n && memcmp(lx.src + lx.pos, puncts[i].s, n) == 0) break;
    }
    if (i < np) {
      size_t n = strlen(puncts[i].s);
      while (n--) lx_adv(&lx);
      if (lx_push(&lx, puncts[i].k, off, loc)) break;
      continue;
    }
    if (c >= 0x80) {
      size_t n = utf8_len(&lx);
      if (n)
        lx_fail(&lx, loc, "invalid character '%.*s' (byte 0x%02X): only ASCII is allowed "
                "outside comments and strings", (int)n, lx.src + lx.pos, (unsigned)c);
      else
        lx_fail(&lx, loc, "invalid byte 0x%02X (not UTF-8)", (unsigned)c);
    } else if (c < 0x20 || c == 0x7F) {
      lx_fail(&lx, loc, "invalid control byte 0x%02X%s", (unsigned)c, c == 0 ? " (NUL)" : "");
    } else {
      lx_fail(&lx, loc, "invalid character '%c'", c);
    }
    break;
  }
  /* Error: end the stream with TK_ERROR (unless even that cannot be stored). */
  if (out->status == VI_ENOMEM) return out->status;
  int st = out->status;
  if (lx_push(&lx, TK_ERROR, lx.pos, out->loc)) return out->status;
  out->status = st;
  return st;
}

void front_lex_result_free(vi_lex_result *r)
{
  if (!r) return;
  free(r->toks);
  r->toks = NULL;
  r->ntoks = 0;
}

const char *front_tok_kind_str(vi_tok_kind k)
{
  switch (k) {
  case TK_EOF: return "end of input";
  case TK_ERROR: return "invalid input";
  case TK_IDENT: return "identifier";
  case TK_INT: return "integer literal";
  case TK_REAL: return "real literal";
  case TK_IMAG: return "imaginary literal";
  case TK_STRING: return "string literal";
  default: break;
  }
  static const char *const names[TK_COUNT] = {
    [TK_LBRACE] = "'{'", [TK_RBRACE] = "'}'", [TK_LPAREN] = "'('", [TK_RPAREN] = "')'",
    [TK_LBRACK] = "'['", [TK_RBRACK] = "']'", [TK_LT] = "'<'", [TK_GT] = "'>'",
    [TK_LE] = "'<='", [TK_GE] = "'>='", [TK_EQEQ] = "'=='", [TK_NE] = "'!='",
    [TK_ASSIGN] = "'='", [TK_PLUS_ASSIGN] = "'+='", [TK_MINUS_ASSIGN] = "'-='",
    [TK_TIMES_ASSIGN] = "'*='", [TK_DIV_ASSIGN] = "'/='", [TK_ETIMES_ASSIGN] = "'.*='",
    [TK_EDIV_ASSIGN] = "'./='", [TK_PLUS] = "'+'", [TK_MINUS] = "'-'", [TK_STAR] = "'*'",
    [TK_SLASH] = "'/'", [TK_PERCENT] = "'%'", [TK_BACKSLASH] = "'\\'",
    [TK_ETIMES] = "'.*'", [TK_EDIV] = "'./'", [TK_IDIV] = "'%/%'", [TK_HAT] = "'^'",
    [TK_EHAT] = "'.^'", [TK_BANG] = "'!'", [TK_AND] = "'&&'", [TK_OR] = "'||'",
    [TK_QUESTION] = "'?'", [TK_COLON] = "':'", [TK_COMMA] = "','", [TK_SEMI] = "';'",
    [TK_TILDE] = "'~'", [TK_BAR] = "'|'", [TK_QUOTE] = "\"'\"", [TK_DOT] = "'.'",
  };
  if ((int)k >= 0 && k < TK_COUNT && names[k]) return names[k];
  return "token";
}
