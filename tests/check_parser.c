/* check_parser.c: tests of the model language's front end (lexer, parser, checker,
 * error reports).
 *
 * Data-driven suites (as jansson's test suites), one Check test per file so a failure
 * names its file and hides no other: every tests/lang/valid/NAME.stan must parse and
 * check; every tests/lang/invalid/NAME.stan must fail, and its first two lines say how:
 *     // error: <the exact first line of the error message>
 *     // status: VI_EPARSE | VI_ECHECK | VI_EUNSUPPORTED
 * The file is compiled under its base name (so messages read "bad.stan:3:12: error:
 * ..."), and its line numbers count these two header lines.  A valid file's leading
 * lines "// warning: <warning>" are the compiler's warnings it must give, exactly and in
 * order (the "no prior" check, priors.c); a valid file without them must give none.  The directory comes from
 * $top_srcdir (set by `make check`; "." otherwise).
 *
 * Unit tests: operator precedence and associativity through the tree printer, index
 * forms, the caret line, types and data dependence set by the checker, slots, likelihood
 * marking, and robustness (random bytes, truncated files, huge inputs). */
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "vi/lang.h"
#include "vi/status.h"
#include "lang/front/ast.h"
#include "lang/front/front.h"

static char *read_all(const char *path, size_t *len)
{
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  size_t cap = 4096, n = 0;
  char *buf = malloc(cap);
  for (;;) {
    if (n == cap) buf = realloc(buf, cap *= 2);
    size_t k = fread(buf + n, 1, cap - n, f);
    if (!k) break;
    n += k;
  }
  fclose(f);
  *len = n;
  return buf;
}

static const char *srcdir(void)
{
  const char *s = getenv("top_srcdir");
  return s && *s ? s : ".";
}

/* Sorted list of *.stan in dir; returns the count, or -1 when dir cannot be read. */
static int list_stan(const char *dir, char ***names)
{
  DIR *d = opendir(dir);
  *names = NULL;
  if (!d) return -1;
  int n = 0, cap = 16;
  char **v = malloc((size_t)cap * sizeof *v);
  struct dirent *e;
  while ((e = readdir(d))) {
    size_t l = strlen(e->d_name);
    if (l < 6 || strcmp(e->d_name + l - 5, ".stan") != 0) continue;
    if (n == cap) v = realloc(v, (size_t)(cap *= 2) * sizeof *v);
    v[n++] = strdup(e->d_name);
  }
  closedir(d);
  for (int i = 0; i < n; i++)
    for (int j = i + 1; j < n; j++)
      if (strcmp(v[i], v[j]) > 0) { char *t = v[i]; v[i] = v[j]; v[j] = t; }
  *names = v;
  return n;
}

/* Parse + check; returns the status, the tree in *out (or NULL). */
static int compile(const char *src, size_t len, const char *name, vi_error *err,
                   vi_ast **out)
{
  vi_ast *a = front_parse(src, len, name, err);
  if (out) *out = NULL;
  if (!a) return err->status;
  int st = front_check(a, err);
  if (st != VI_SUCCESS) {
    front_ast_free(a);
    return st;
  }
  if (out) *out = a;
  else front_ast_free(a);
  return VI_SUCCESS;
}

/* The suites' files, listed once before the tests are created. */
static char suite_dir[2][1024];
static char **suite_names[2];
static int suite_n[2];
enum { VALID = 0, INVALID = 1 };

static char *suite_file(int which, int i, size_t *len)
{
  char path[2048];
  snprintf(path, sizeof path, "%s/%s", suite_dir[which], suite_names[which][i]);
  char *src = read_all(path, len);
  ck_assert_msg(src != NULL, "cannot read %s", path);
  return src;
}

START_TEST(test_suite_sizes)
{
  ck_assert_msg(suite_n[VALID] >= 30, "%s: %d models", suite_dir[VALID], suite_n[VALID]);
  ck_assert_msg(suite_n[INVALID] >= 40, "%s: %d models", suite_dir[INVALID],
                suite_n[INVALID]);
}
END_TEST

START_TEST(test_valid_file)
{
  const char *name = suite_names[VALID][_i];
  size_t len;
  char *src = suite_file(VALID, _i, &len);
  vi_error err;
  vi_ast *a;
  int st = compile(src, len, name, &err, &a);
  ck_assert_msg(st == VI_SUCCESS, "%s failed:\n%s", name, err.message);
  /* The warnings: the leading "// warning: " lines, no more, no fewer. */
  const char *hw = "// warning: ", *q = src;
  if (len >= 3 && memcmp(q, "\xef\xbb\xbf", 3) == 0) q += 3;   /* a BOM */
  int nw = 0;
  while ((size_t)(q - src) < len && strncmp(q, hw, strlen(hw)) == 0) {
    q += strlen(hw);
    size_t l = strcspn(q, "\r\n");
    ck_assert_msg(nw < a->nwarnings, "%s: expected warning %d missing: %.*s", name, nw + 1,
                  (int)l, q);
    ck_assert_msg(strlen(a->warnings[nw]) == l && strncmp(a->warnings[nw], q, l) == 0,
                  "%s: warning %d is\n  %s\nexpected\n  %.*s", name, nw + 1, a->warnings[nw],
                  (int)l, q);
    nw++;
    q += l;
    while ((size_t)(q - src) < len && (*q == '\r' || *q == '\n')) q++;
  }
  ck_assert_msg(a->nwarnings == nw, "%s: unexpected warning %s", name,
                a->nwarnings > nw ? a->warnings[nw] : "");
  /* Every declaration has its slot. */
  for (int s = 0; s < a->nslots; s++)
    ck_assert_msg(a->slots[s]->slot == s, "%s: slot %d", name, s);
  front_ast_free(a);
  free(src);
}
END_TEST

static int status_of(const char *s)
{
  if (strncmp(s, "VI_EPARSE", 9) == 0) return VI_EPARSE;
  if (strncmp(s, "VI_ECHECK", 9) == 0) return VI_ECHECK;
  if (strncmp(s, "VI_EUNSUPPORTED", 15) == 0) return VI_EUNSUPPORTED;
  return 0;
}

START_TEST(test_invalid_file)
{
  const char *name = suite_names[INVALID][_i];
  size_t len;
  char *src = suite_file(INVALID, _i, &len);
  /* Header: the expected first line and status. */
  const char *h1 = "// error: ", *h2 = "// status: ";
  ck_assert_msg(len > strlen(h1) && strncmp(src, h1, strlen(h1)) == 0,
                "%s: first line must be '// error: <message>'", name);
  const char *e1 = src + strlen(h1);
  const char *nl = memchr(e1, '\n', len - (size_t)(e1 - src));
  ck_assert_msg(nl != NULL, "%s: header", name);
  char expected[1024];
  size_t el = (size_t)(nl - e1);
  ck_assert_msg(el < sizeof expected, "%s: expected message too long", name);
  memcpy(expected, e1, el);
  expected[el] = '\0';
  ck_assert_msg(strncmp(nl + 1, h2, strlen(h2)) == 0,
                "%s: second line must be '// status: VI_E...'", name);
  int want = status_of(nl + 1 + strlen(h2));
  ck_assert_msg(want != 0, "%s: unknown status in header", name);

  vi_error err;
  int st = compile(src, len, name, &err, NULL);
  ck_assert_msg(st != VI_SUCCESS, "%s compiled but should fail with\n%s", name, expected);
  char got[2048];
  snprintf(got, sizeof got, "%s", err.message);
  char *gnl = strchr(got, '\n');
  if (gnl) *gnl = '\0';
  ck_assert_msg(strcmp(got, expected) == 0, "%s:\n expected: %s\n      got: %s", name,
                expected, got);
  ck_assert_msg(st == want && err.status == want, "%s: status %d, expected %d", name, st,
                want);
  /* Location fields agree with the message; the caret line is there. */
  ck_assert_msg(strcmp(err.file, name) == 0, "%s: error names file %s", name, err.file);
  ck_assert_msg(err.line > 0 && err.col > 0, "%s: no location", name);
  ck_assert_msg(strchr(err.message, '^') != NULL, "%s: no caret", name);
  free(src);
}
END_TEST

/* The initialiser of `real x = <expr>;` in transformed data, printed. */
static void expr_tree(const char *expr, char *out, size_t cap)
{
  char src[1024];
  snprintf(src, sizeof src, "transformed data {\n  real x = %s;\n}\n", expr);
  vi_error err;
  vi_ast *a = front_parse(src, strlen(src), "prec.stan", &err);
  ck_assert_msg(a != NULL, "%s: %s", expr, err.message);
  vi_stmt *s = a->blocks[BLK_TDATA]->stmts[0];
  ck_assert_int_eq(s->kind, ST_DECL);
  front_expr_print(s->decl->init, out, cap);
  front_ast_free(a);
}

START_TEST(test_precedence)
{
  static const char *const cases[][2] = {
    { "-2^2", "(neg (^ 2 2))" },
    { "a || b && c", "(|| a (&& b c))" },
    { "a && b || c", "(|| (&& a b) c)" },
    { "2^3^2", "(^ 2 (^ 3 2))" },
    { "2^-1", "(^ 2 (neg 1))" },
    { "a ? b : c ? d : e", "(? a b (? c d e))" },
    { "a ? b ? c : d : e", "(? a (? b c d) e)" },
    { "a - b - c", "(- (- a b) c)" },
    { "a / b * c", "(* (/ a b) c)" },
    { "a + b * c", "(+ a (* b c))" },
    { "a * b .* c", "(.* (* a b) c)" },
    { "a ./ b * c", "(* (./ a b) c)" },
    { "a %/% b * c", "(* (%/% a b) c)" },
    { "a * b %/% c", "(* a (%/% b c))" },
    { "-a %/% b", "(%/% (neg a) b)" },
    { "x[]", "(index x :)" },
    { "x[, 1]", "(index x : 1)" },
    { "-a .* b", "(.* (neg a) b)" },
    { "a \\ b * c", "(* (\\ a b) c)" },
    { "a * b \\ c", "(* a (\\ b c))" },
    { "a .* b \\ c", "(.* a (\\ b c))" },
    { "a %/% b % c", "(% (%/% a b) c)" },
    { "a == b < c", "(== a (< b c))" },
    { "a < b == c > d", "(== (< a b) (> c d))" },
    { "a + 1 <= b - 1", "(<= (+ a 1) (- b 1))" },
    { "!a && b", "(&& (! a) b)" },
    { "!a == b", "(== (! a) b)" },
    { "- -a", "(neg (neg a))" },
    { "+a - b", "(- (pos a) b)" },
    { "a' * b", "(* (' a) b)" },
    { "a''", "(' (' a))" },
    { "-a'", "(neg (' a))" },
    { "a .^ 2 .* b", "(.* (.^ a 2) b)" },
    { "x'[1]", "(index (' x) 1)" },
    { "x[1][2]", "(index (index x 1) 2)" },
    { "x[1, 2:3, :, 4:, :5]", "(index x 1 (: 2 3) : (: 4 _) (: _ 5))" },
    { "x[i + 1 : n - 1]", "(index x (: (+ i 1) (- n 1)))" },
    { "f(a | b, c)", "(call f a | b c)" },
    { "f(a, b)", "(call f a b)" },
    { "f()", "(call f)" },
    { "2.*x", "(* 2.0 x)" },
    { "2 .* x", "(.* 2 x)" },
    { "1.5e3 + .5", "(+ 1500.0 0.5)" },
    { "[1, 2]", "[1 2]" },
    { "[[1, 2], [3, 4]]", "[[1 2] [3 4]]" },
    { "{1, {2, 3}}", "{1 {2 3}}" },
    { "(a + b) * c", "(* (+ a b) c)" },
    { "a ? b : c || d", "(? a b (|| c d))" },
  };
  char buf[512];
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    expr_tree(cases[i][0], buf, sizeof buf);
    ck_assert_msg(strcmp(buf, cases[i][1]) == 0, "%s: expected %s, got %s", cases[i][0],
                  cases[i][1], buf);
  }
}
END_TEST

START_TEST(test_caret)
{
  /* A tab in the line is kept so the caret lines up. */
  const char *src = "data {\n\tint N\n\treal x;\n}\n";
  vi_error err;
  vi_ast *a = front_parse(src, strlen(src), "t.stan", &err);
  ck_assert_ptr_null(a);
  ck_assert_int_eq(err.status, VI_EPARSE);
  ck_assert_str_eq(err.message, "t.stan:2:7: error: expected ';' after declaration but "
                   "found 'real'\n    \tint N\n    \t     ^");
  ck_assert_int_eq(err.line, 2);
  ck_assert_int_eq(err.col, 7);
  ck_assert_str_eq(err.file, "t.stan");

  /* Columns count characters: the caret is under 'y' after a UTF-8 comment. */
  const char *src2 = "data { /* \xcf\x83 */ int x y; }";
  a = front_parse(src2, strlen(src2), "u.stan", &err);
  ck_assert_ptr_null(a);
  ck_assert_str_eq(err.message, "u.stan:1:22: error: expected ';' after declaration but "
                   "found 'y'\n    data { /* \xcf\x83 */ int x y; }\n"
                   "                         ^");

  /* front_error_at for the evaluator: any location; no source line for line 0. */
  a = front_parse("model {\n}\n", 10, "m.stan", &err);
  ck_assert_ptr_nonnull(a);
  vi_loc l = { 2, 1 };
  front_error_at(&err, VI_ERUNTIME, a, l, "index %d out of range", 5);
  ck_assert_str_eq(err.message, "m.stan:2:1: error: index 5 out of range\n    }\n    ^");
  vi_loc none = { 0, 0 };
  front_error_at(&err, VI_ERUNTIME, a, none, "no place");
  ck_assert_str_eq(err.message, "m.stan: error: no place");
  front_ast_free(a);
}
END_TEST

static vi_ast *must_compile(const char *src)
{
  vi_error err;
  vi_ast *a;
  int st = compile(src, strlen(src), "t.stan", &err, &a);
  ck_assert_msg(st == VI_SUCCESS, "%s", err.message);
  return a;
}

START_TEST(test_checker_annotations)
{
  const char *src =
    "data { int N; vector[N] y; matrix[N, 3] X; array[2] int idx; }\n"
    "parameters { real mu; vector[3] b; }\n"
    "model {\n"
    "  real z = 1;\n"
    "  real w = 2;\n"
    "  w = mu;\n"
    "  y ~ normal(mu, 1);\n"
    "  mu ~ normal(z, 1);\n"
    "  target += normal_lpdf(y | X * b, 1);\n"
    "  target += normal_lpdf(b | 0, 1);\n"
    "  target += normal_lpdf(y | mu, 1) + 0;\n"
    "  y[idx] ~ normal(w, 1);\n"
    "  X[:, 1] ~ normal(0, 1);\n"
    "  target += normal_lccdf(y[1] | mu, 1);\n"
    "  target += normal_lcdf(mu | 0, 1);\n"
    "}\n";
  /* a term that is no density at all: the split is unknown */
  const char *src2 = "parameters { vector[2] lp; }\n"
                     "model { target += log_sum_exp(lp); }\n";
  vi_ast *a2 = must_compile(src2);
  ck_assert_int_eq(a2->no_split, 1);
  front_ast_free(a2);
  vi_ast *a = must_compile(src);
  vi_stmt *m = a->blocks[BLK_MODEL];
  ck_assert_int_eq(m->nstmts, 12);
  ck_assert_int_eq(m->stmts[10]->is_likelihood, 1);  /* censored data */
  ck_assert_int_eq(m->stmts[11]->is_likelihood, 0);
  vi_decl *z = m->stmts[0]->decl, *w = m->stmts[1]->decl;
  ck_assert_int_eq(z->block, BLK_MODEL);
  ck_assert_int_eq(z->data_only, 1);
  ck_assert_int_eq(w->data_only, 0);        /* assigned from a parameter */
  ck_assert_int_eq(m->stmts[3]->kind, ST_TILDE);
  ck_assert_int_eq(m->stmts[3]->is_likelihood, 1);
  ck_assert_int_eq(m->stmts[4]->is_likelihood, 0);
  ck_assert_int_eq(m->stmts[5]->kind, ST_TARGET);
  ck_assert_int_eq(m->stmts[5]->is_likelihood, 1);
  ck_assert_int_eq(m->stmts[6]->is_likelihood, 0);
  ck_assert_int_eq(m->stmts[7]->is_likelihood, 1);   /* a density of data inside the term */
  ck_assert_int_eq(a->no_split, 0);                  /* every term classified */
  ck_assert_int_eq(m->stmts[8]->is_likelihood, 1);
  ck_assert_int_eq(m->stmts[9]->is_likelihood, 1);
  ck_assert(m->stmts[3]->builtin >= 0);
  /* y[idx]: multi-index, stays a vector */
  vi_expr *yi = m->stmts[8]->lhs;
  ck_assert_int_eq(yi->kind, EX_INDEX);
  ck_assert_int_eq(yi->index[0].kind, IX_MULTI);
  ck_assert_int_eq(yi->type.base, VT_VECTOR);
  /* X[:, 1]: a column, a vector */
  vi_expr *xc = m->stmts[9]->lhs;
  ck_assert_int_eq(xc->index[0].kind, IX_ALL);
  ck_assert_int_eq(xc->type.base, VT_VECTOR);
  /* X * b is a vector and not data-only; the call resolved. */
  vi_expr *call = m->stmts[5]->rhs;
  ck_assert_int_eq(call->kind, EX_CALL);
  ck_assert(call->builtin >= 0);
  ck_assert_int_eq(call->type.base, VT_REAL);
  ck_assert_int_eq(call->args[1]->type.base, VT_VECTOR);
  ck_assert_int_eq(call->args[1]->data_only, 0);
  ck_assert_int_eq(call->args[0]->data_only, 1);
  /* Slots: every declaration once, in order. */
  ck_assert_int_eq(a->nslots, 4 + 2 + 2);
  for (int s = 0; s < a->nslots; s++) ck_assert_int_eq(a->slots[s]->slot, s);
  ck_assert_str_eq(a->slots[0]->name, "N");
  ck_assert_str_eq(a->slots[6]->name, "z");
  ck_assert_str_eq(a->slots[2]->type_text, "matrix[N, 3]");
  front_ast_free(a);
}
END_TEST

START_TEST(test_types)
{
  const char *src =
    "data { int N; matrix[N, N] M; vector[N] v; row_vector[N] r; array[N] vector[N] av;"
    " array[N, 2] int ai; }\n"
    "transformed data {\n"
    "  real e1 = 0;\n"
    "  for (x in av) e1 += sum(x);\n"
    "  for (i in 1:N) e1 += i;\n"
    "  print(M[1], M[1, 2], M[:, 1], M[1:2], M[1:2, 1], M[1, 1:2], M[ai[1], 1],"
    " av[1], av[1, 2], av[:, 1], ai[1], ai[:, 1], 7 / 2, 7.0 / 2, r * v, v * r, M * v,"
    " r * M, 2 ^ 2, v', 1 < 2, {1, 2.5}, [1, 2], [r, r]);\n"
    "}\n";
  vi_ast *a = must_compile(src);
  vi_stmt *td = a->blocks[BLK_TDATA];
  vi_stmt *fe = td->stmts[1];
  ck_assert_int_eq(fe->kind, ST_FOREACH);
  ck_assert_int_eq(fe->decl->type.base, VT_VECTOR);
  ck_assert_int_eq(fe->decl->type.ndims, 0);
  ck_assert_int_eq(fe->decl->block, BLK_LOOP);
  ck_assert_int_eq(td->stmts[2]->decl->type.base, VT_INT);
  vi_stmt *pr = td->stmts[3];
  ck_assert_int_eq(pr->kind, ST_PRINT);
  static const vi_type want[] = {
    { VT_ROW_VECTOR, 0 }, { VT_REAL, 0 }, { VT_VECTOR, 0 }, { VT_MATRIX, 0 },
    { VT_VECTOR, 0 }, { VT_ROW_VECTOR, 0 }, { VT_VECTOR, 0 }, { VT_VECTOR, 0 },
    { VT_REAL, 0 }, { VT_REAL, 1 }, { VT_INT, 1 }, { VT_INT, 1 }, { VT_INT, 0 },
    { VT_REAL, 0 }, { VT_REAL, 0 }, { VT_MATRIX, 0 }, { VT_VECTOR, 0 },
    { VT_ROW_VECTOR, 0 }, { VT_REAL, 0 }, { VT_ROW_VECTOR, 0 }, { VT_INT, 0 },
    { VT_REAL, 1 }, { VT_ROW_VECTOR, 0 }, { VT_MATRIX, 0 },
  };
  ck_assert_int_eq(pr->nargs, (int)(sizeof want / sizeof want[0]));
  for (int i = 0; i < pr->nargs; i++) {
    char b1[48], b2[48];
    ck_assert_msg(pr->args[i]->type.base == want[i].base
                  && pr->args[i]->type.ndims == want[i].ndims,
                  "print arg %d: %s, expected %s", i, front_type_str(pr->args[i]->type, b1, 48),
                  front_type_str(want[i], b2, 48));
    ck_assert_int_eq(pr->args[i]->data_only, 1);
  }
  /* M[ai[1], 1]: ai[1] is an int array, so a multi-index. */
  ck_assert_int_eq(pr->args[6]->index[0].kind, IX_MULTI);
  ck_assert_int_eq(pr->args[6]->index[1].kind, IX_SINGLE);
  front_ast_free(a);
}
END_TEST

START_TEST(test_decl_fields)
{
  const char *src =
    "data { int K; array[3] int<lower=0, upper=K> n; real y[2, K]; }\n"
    "parameters { cholesky_factor_cov[K, 2] L; simplex[K] s; vector<offset=1, multiplier=2>[K] o;"
    " real<lower=-1> a; }\n"
    "model { s ~ dirichlet(rep_vector(1, K)); a ~ normal(0, 1) T[-1, ]; }\n";
  vi_ast *a = must_compile(src);
  vi_decl *n = a->slots[1], *y = a->slots[2], *L = a->slots[3], *s = a->slots[4];
  vi_decl *o = a->slots[5];
  ck_assert_int_eq(n->con, CON_BOUNDS);
  ck_assert_ptr_nonnull(n->lower);
  ck_assert_ptr_nonnull(n->upper);
  ck_assert_int_eq(n->type.ndims, 1);
  ck_assert_int_eq(n->ndims, 1);
  ck_assert_int_eq(y->ndims, 2);
  ck_assert_int_eq(y->type.base, VT_REAL);
  ck_assert_int_eq(L->con, CON_CHOLESKY_COV);
  ck_assert_int_eq(L->type.base, VT_MATRIX);
  ck_assert_ptr_nonnull(L->size[1]);
  ck_assert_int_eq(s->con, CON_SIMPLEX);
  ck_assert_int_eq(s->type.base, VT_VECTOR);
  ck_assert_str_eq(s->type_text, "simplex[K]");
  ck_assert_int_eq(o->con, CON_OFFSET_MULT);
  ck_assert_ptr_nonnull(o->offset);
  ck_assert_ptr_nonnull(o->multiplier);
  ck_assert_str_eq(o->type_text, "vector<offset=1, multiplier=2>[K]");
  vi_stmt *t = a->blocks[BLK_MODEL]->stmts[1];
  ck_assert_int_eq(t->truncated, 1);
  ck_assert_ptr_nonnull(t->lo);
  ck_assert_ptr_null(t->hi);
  ck_assert_str_eq(t->name, "normal");
  front_ast_free(a);
}
END_TEST

START_TEST(test_data_dependence)
{
  /* Locals lose data-only through assignments and through varying control flow. */
  const char *src =
    "data { int N; }\n"
    "parameters { real mu; }\n"
    "model {\n"
    "  int k = 0;\n"            /* 0: varying: assigned under a condition on mu */
    "  int j = 0;\n"            /* 1: data */
    "  real u = 0;\n"           /* 2: varying via k */
    "  int c = 0;\n"            /* 3: varying: loop with a varying break */
    "  if (mu > 0) k = 1;\n"
    "  for (i in 1:N) j += i;\n"
    "  u = k;\n"
    "  for (i in 1:N) { if (mu > i) break; c += 1; }\n"
    "  mu ~ normal(j, 1);\n"
    "}\n";
  vi_ast *a = must_compile(src);
  vi_stmt *m = a->blocks[BLK_MODEL];
  ck_assert_int_eq(m->stmts[0]->decl->data_only, 0);
  ck_assert_int_eq(m->stmts[1]->decl->data_only, 1);
  ck_assert_int_eq(m->stmts[2]->decl->data_only, 0);
  ck_assert_int_eq(m->stmts[3]->decl->data_only, 0);
  ck_assert_int_eq(m->stmts[5]->decl->data_only, 1);   /* loop variable over data range */
  front_ast_free(a);
}
END_TEST

START_TEST(test_empty_and_null)
{
  vi_error err;
  vi_ast *a = front_parse(NULL, 0, NULL, &err);
  ck_assert_ptr_nonnull(a);
  ck_assert_int_eq(front_check(a, &err), VI_SUCCESS);
  ck_assert_int_eq(a->nslots, 0);
  front_ast_free(a);
  front_ast_free(NULL);
  ck_assert_int_eq(front_check(NULL, &err), VI_EINVAL);
  /* Errors with a NULL err pointer must not crash. */
  ck_assert_ptr_null(front_parse("data {", 6, "x.stan", NULL));
}
END_TEST

/* Deterministic pseudo-random numbers (LCG), so the fuzz inputs never change. */
static unsigned long rng_state = 12345;
static unsigned next_rand(void)
{
  rng_state = rng_state * 6364136223846793005UL + 1442695040888963407UL;
  return (unsigned)(rng_state >> 33);
}

START_TEST(test_robustness)
{
  static const char *const pieces[] = {
    "data", "parameters", "model", "transformed", "generated", "quantities", "{", "}",
    "(", ")", "[", "]", "<", ">", "lower", "upper", "=", "real", "int", "vector",
    "matrix", "array", "x", "y", "N", "1", "2.5", ";", ",", "~", "normal", "+", "-",
    "*", "/", "^", "'", "?", ":", "for", "in", "if", "else", "while", "target", "+=",
    "print", "\"s\"", "|", "{", "/*", "*/", "//", "\n", "\x00", "\xff", ".*", "T",
    "simplex", "<-", "break", "1e", "exp", "sum", "&&", "||", "!",
  };
  size_t np = sizeof pieces / sizeof pieces[0];
  char buf[4096];
  for (int it = 0; it < 3000; it++) {
    size_t n = 0;
    int k = (int)(next_rand() % 60);
    for (int j = 0; j < k; j++) {
      const char *p = pieces[next_rand() % np];
      size_t l = p[0] ? strlen(p) : 1;
      if (n + l + 1 >= sizeof buf) break;
      memcpy(buf + n, p, l);
      n += l;
      buf[n++] = next_rand() % 3 ? ' ' : '\n';
    }
    vi_error err;
    vi_ast *a = front_parse(buf, n, "fuzz.stan", &err);
    if (a) {
      front_check(a, &err);
      front_ast_free(a);
    } else {
      ck_assert(err.status == VI_EPARSE || err.status == VI_EUNSUPPORTED);
      ck_assert(strlen(err.message) < sizeof err.message);
    }
  }
  /* Every prefix of a valid model (files that end mid-token) fails cleanly or parses. */
  char path[1024];
  snprintf(path, sizeof path, "%s/tests/lang/valid/hier_logistic.stan", srcdir());
  size_t len;
  char *src = read_all(path, &len);
  ck_assert_ptr_nonnull(src);
  for (size_t cut = 0; cut <= len; cut++) {
    vi_error err;
    char *copy = malloc(cut + 1);   /* exact size, so ASan sees any over-read */
    memcpy(copy, src, cut);
    vi_ast *a = front_parse(copy, cut, "cut.stan", &err);
    if (a) {
      front_check(a, &err);
      front_ast_free(a);
    }
    free(copy);
  }
  /* Random byte flips of the same model. */
  for (int it = 0; it < 2000; it++) {
    char *copy = malloc(len);
    memcpy(copy, src, len);
    for (int f = 0; f < 3; f++) copy[next_rand() % len] = (char)(next_rand() & 0xFF);
    vi_error err;
    vi_ast *a = front_parse(copy, len, "flip.stan", &err);
    if (a) {
      front_check(a, &err);
      front_ast_free(a);
    }
    free(copy);
  }
  free(src);
}
END_TEST

START_TEST(test_huge)
{
  /* 100k statements and a 1 MB line parse fine (no quadratic behaviour, no recursion
   * per statement). */
  size_t cap = 4u << 20, n = 0;
  char *buf = malloc(cap);
  n += (size_t)sprintf(buf + n, "transformed data {\n  real x = 0;\n");
  for (int i = 0; i < 100000; i++) n += (size_t)sprintf(buf + n, "  x += %d;\n", i % 7);
  n += (size_t)sprintf(buf + n, "}\n");
  vi_error err;
  vi_ast *a = front_parse(buf, n, "huge.stan", &err);
  ck_assert_msg(a != NULL, "%s", err.message);
  ck_assert_int_eq(front_check(a, &err), VI_SUCCESS);
  ck_assert_int_eq(a->blocks[BLK_TDATA]->nstmts, 100001);
  front_ast_free(a);
  /* One long line with an error at its end: the caret window stays bounded. */
  n = 0;
  n += (size_t)sprintf(buf + n, "transformed data { real x = 0; ");
  while (n < (1u << 20)) n += (size_t)sprintf(buf + n, "x += 1; ");
  n += (size_t)sprintf(buf + n, "x += ; }");
  a = front_parse(buf, n, "long.stan", &err);
  ck_assert_ptr_null(a);
  ck_assert_int_eq(err.status, VI_EPARSE);
  ck_assert(strstr(err.message, "expected an expression but found ';'") != NULL);
  ck_assert(strlen(err.message) < 600);
  free(buf);
}
END_TEST

static Suite *parser_suite(void)
{
  Suite *s = suite_create("parser");
  TCase *tc = tcase_create("front");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, test_suite_sizes);
  tcase_add_loop_test(tc, test_valid_file, 0, suite_n[VALID] > 0 ? suite_n[VALID] : 0);
  tcase_add_loop_test(tc, test_invalid_file, 0,
                      suite_n[INVALID] > 0 ? suite_n[INVALID] : 0);
  tcase_add_test(tc, test_precedence);
  tcase_add_test(tc, test_caret);
  tcase_add_test(tc, test_checker_annotations);
  tcase_add_test(tc, test_types);
  tcase_add_test(tc, test_decl_fields);
  tcase_add_test(tc, test_data_dependence);
  tcase_add_test(tc, test_empty_and_null);
  tcase_add_test(tc, test_robustness);
  tcase_add_test(tc, test_huge);
  suite_add_tcase(s, tc);
  return s;
}

int main(void)
{
  const char *sub[2] = {"valid", "invalid"};
  for (int k = 0; k < 2; k++) {
    snprintf(suite_dir[k], sizeof suite_dir[k], "%s/tests/lang/%s", srcdir(), sub[k]);
    suite_n[k] = list_stan(suite_dir[k], &suite_names[k]);
  }
  SRunner *sr = srunner_create(parser_suite());
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  for (int k = 0; k < 2; k++) {
    for (int i = 0; i < suite_n[k]; i++) free(suite_names[k][i]);
    free(suite_names[k]);
  }
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
