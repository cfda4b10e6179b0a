/* lexer.h: tokens of the model language and the lexer that produces them (lexer.c).
 * Internal to the front end (parser.c, check.c). */
#ifndef VI_LANG_LEXER_H
#define VI_LANG_LEXER_H

#include <stddef.h>
#include "lang/front/ast.h"

typedef enum {
  TK_EOF = 0, TK_ERROR,       /* TK_ERROR: the lexer stopped here; see vi_lex_result */
  TK_IDENT, TK_INT, TK_REAL, TK_IMAG, TK_STRING,
  TK_LBRACE, TK_RBRACE, TK_LPAREN, TK_RPAREN, TK_LBRACK, TK_RBRACK,
  TK_LT, TK_GT, TK_LE, TK_GE, TK_EQEQ, TK_NE,
  TK_ASSIGN, TK_PLUS_ASSIGN, TK_MINUS_ASSIGN, TK_TIMES_ASSIGN, TK_DIV_ASSIGN,
  TK_ETIMES_ASSIGN, TK_EDIV_ASSIGN,
  TK_PLUS, TK_MINUS, TK_STAR, TK_SLASH, TK_PERCENT, TK_BACKSLASH, TK_ETIMES, TK_EDIV,
  TK_IDIV, TK_HAT, TK_EHAT, TK_BANG, TK_AND, TK_OR, TK_QUESTION, TK_COLON, TK_COMMA,
  TK_SEMI, TK_TILDE, TK_BAR, TK_QUOTE,
  TK_DOT,                     /* '.' of a tuple element x.1 (followed by a TK_INT) */
  TK_COUNT
} vi_tok_kind;

typedef struct vi_token {
  vi_tok_kind kind;
  size_t off, len;      /* the token's bytes in the source */
  vi_loc loc;           /* line and column (1-based; columns count characters) */
  long ival;            /* TK_INT */
  double rval;          /* TK_REAL */
} vi_token;

/* The whole token stream of a source text: toks[ntoks-1] is TK_EOF, or TK_ERROR when
 * the lexer met an error there (status, loc and message then say which). */
typedef struct vi_lex_result {
  vi_token *toks;
  size_t ntoks;
  int status;           /* VI_SUCCESS, VI_EPARSE or VI_ENOMEM */
  vi_loc loc;
  char message[256];
} vi_lex_result;

int front_lex(const char *src, size_t len, vi_lex_result *out);   /* returns out->status */
void front_lex_result_free(vi_lex_result *r);
/* A short printable spelling of a token kind, e.g. "';'" or "identifier". */
const char *front_tok_kind_str(vi_tok_kind k);

/* Largest integer literal (Stan's int is 32-bit). */
#define VI_INT_LIT_MAX 2147483647L

#endif
