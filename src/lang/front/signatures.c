/* signatures.c: the signatures of the model language's functions and distributions
 * (lib/table_*.def) and the signature-spec matcher the checker uses to resolve a call
 * by its argument types (see lib/lib.h for the spec language).  Overload
 * resolution follows Stan's rule in its simplest form: the first signature whose
 * parameters accept the arguments, with int -> real promotion, wins (entries are
 * ordered so that the exact int versions come first). */
#include <stdio.h>
#include <string.h>
#include "lang/front/front.h"

/* ---- the table ------------------------------------------------------------------ */

/* The signatures of lib/'s tables, in lib/builtins.c's order (a builtin's id is its
 * index here and there); the kernels are not referenced, so the front end links
 * without the function library and the AD tape. */
typedef struct builtin_sig {
  const char *name, *sig;
} builtin_sig;

#define BUILTIN(name, sig, impl) {name, sig},
static const builtin_sig sigs[] = {
#include "lang/lib/table_elementwise.def"
#include "lang/lib/table_reduce.def"
#include "lang/lib/table_containers.def"
#include "lang/lib/table_linalg.def"
#include "lang/lib/table_special.def"
#include "lang/lib/table_eigen.def"
#include "lang/lib/table_hmm.def"
#include "lang/lib/table_sparse.def"
#include "lang/lib/table_dist.def"
#include "lang/lib/table_decomp.def"
#include "lang/lib/table_matrix_exp.def"
#include "lang/lib/table_special_more.def"
#include "lang/lib/table_sequences.def"
#include "lang/lib/table_complex.def"
};
#undef BUILTIN
#define NSIGS (sizeof sigs / sizeof sigs[0])

static size_t n_all(void) { return NSIGS; }

static const builtin_sig *def_of(int id)
{
  return id >= 0 && (size_t)id < NSIGS ? &sigs[id] : NULL;
}

const char *builtin_name(int id)
{
  const builtin_sig *d = def_of(id);
  return d ? d->name : NULL;
}

const char *builtin_signature(int id)
{
  const builtin_sig *d = def_of(id);
  return d ? d->sig : NULL;
}

int builtin_count(void) { return (int)NSIGS; }

static int ends_with(const char *s, const char *suf)
{
  size_t ls = strlen(s), lf = strlen(suf);
  return ls >= lf && strcmp(s + ls - lf, suf) == 0;
}

static int name_is_density(const char *name)
{
  return ends_with(name, "_lpdf") || ends_with(name, "_lpmf") ||
         ends_with(name, "_lupdf") || ends_with(name, "_lupmf");
}

int builtin_kind(int id)
{
  const builtin_sig *d = def_of(id);
  if (!d) return BUILTIN_PLAIN;
  if (ends_with(d->name, "_rng")) return BUILTIN_RNG;
  if (name_is_density(d->name)) return BUILTIN_DENSITY;
  if (strcmp(d->name, "hmm_hidden_state_prob") == 0) return BUILTIN_VALUE_ONLY;
  return BUILTIN_PLAIN;
}

/* ---- signature specs ------------------------------------------------------------- */

enum {
  P_EXACT, P_INTS, P_REALS, P_VECTORS, P_ANY, P_ELLIPSIS, P_CANY,
  R_SAME, R_SAME_INT, R_RNG_REAL, R_RNG_INT, R_BCAST, R_REALOF, R_CXOF
};

typedef struct pspec {
  int kind;
  vi_type type;     /* P_EXACT */
} pspec;

#define MAX_PARAMS 16

typedef struct sigspec {
  pspec ret;
  pspec par[MAX_PARAMS];
  int npar;
  int bar_after;    /* 1 + index of the param followed by '|', 0 if none */
} sigspec;

/* One word of a spec, e.g. "real[,]" or "reals"; -1 if not recognised. */
static int parse_word(const char *w, size_t n, pspec *p)
{
  static const struct { const char *name; int kind; vi_basetype base; } words[] = {
    {"int", P_EXACT, VT_INT}, {"real", P_EXACT, VT_REAL}, {"vector", P_EXACT, VT_VECTOR},
    {"row_vector", P_EXACT, VT_ROW_VECTOR}, {"matrix", P_EXACT, VT_MATRIX},
    {"void", P_EXACT, VT_VOID},
    {"complex", P_EXACT, VT_COMPLEX}, {"complex_vector", P_EXACT, VT_COMPLEX_VECTOR},
    {"complex_row_vector", P_EXACT, VT_COMPLEX_ROW_VECTOR},
    {"complex_matrix", P_EXACT, VT_COMPLEX_MATRIX}, {"cany", P_CANY, VT_COMPLEX},
    {"realof", R_REALOF, VT_REAL}, {"cxof", R_CXOF, VT_COMPLEX},
    {"ints", P_INTS, VT_INT}, {"reals", P_REALS, VT_REAL},
    {"vectors", P_VECTORS, VT_REAL}, {"any", P_ANY, VT_REAL}, {"...", P_ELLIPSIS, VT_REAL},
    {"same", R_SAME, VT_REAL}, {"same_int", R_SAME_INT, VT_INT},
    {"rng_real", R_RNG_REAL, VT_REAL}, {"rng_int", R_RNG_INT, VT_INT},
    {"bcast", R_BCAST, VT_REAL}};
  size_t base = n;
  int arr = 0;
  for (size_t i = 0; i < n; i++)
    if (w[i] == '[') { base = i; break; }
  if (base < n) {
    if (w[n - 1] != ']') return -1;
    arr = 1;
    for (size_t i = base + 1; i < n - 1; i++) {
      if (w[i] == ',') arr++;
      else if (w[i] != ' ') return -1;
    }
  }
  for (size_t k = 0; k < sizeof words / sizeof words[0]; k++)
    if (strlen(words[k].name) == base && strncmp(words[k].name, w, base) == 0) {
      if (arr && words[k].kind != P_EXACT) return -1;
      p->kind = words[k].kind;
      p->type.base = words[k].base;
      p->type.ndims = arr;
      return 0;
    }
  return -1;
}

static int is_space(char c) { return c == ' ' || c == '\t'; }

static int parse_sig(const char *sig, sigspec *sp)
{
  memset(sp, 0, sizeof *sp);
  const char *lp = strchr(sig, '('), *rp = strrchr(sig, ')');
  if (!lp || !rp || rp < lp) return -1;
  const char *a = sig, *b = lp;
  while (a < b && is_space(*a)) a++;
  while (b > a && is_space(b[-1])) b--;
  if (parse_word(a, (size_t)(b - a), &sp->ret) != 0) return -1;
  const char *p = lp + 1;
  while (p < rp && is_space(*p)) p++;
  if (p == rp) return 0;
  while (p < rp) {
    const char *q = p;
    int depth = 0;
    while (q < rp && (depth || (*q != ',' && *q != '|'))) {
      if (*q == '[') depth++;
      if (*q == ']') depth--;
      q++;
    }
    const char *e = q;
    while (e > p && is_space(e[-1])) e--;
    while (p < e && is_space(*p)) p++;
    if (sp->npar == MAX_PARAMS) return -1;
    if (parse_word(p, (size_t)(e - p), &sp->par[sp->npar]) != 0) return -1;
    sp->npar++;
    if (q < rp && *q == '|') sp->bar_after = sp->npar;
    p = q < rp ? q + 1 : rp;
  }
  return 0;
}

static int is_num(vi_basetype b) { return b == VT_INT || b == VT_REAL; }
static int is_valuebase(vi_basetype b)
{
  return b == VT_INT || b == VT_REAL || b == VT_VECTOR || b == VT_ROW_VECTOR ||
         b == VT_MATRIX;
}

static int match_param(const pspec *p, vi_type a)
{
  if (a.base == VT_ERROR) return 1;
  switch (p->kind) {
  case P_EXACT:
    /* int -> real -> complex, as Stan promotes: a complex_vector parameter takes a
     * vector, a complex one an int or a real */
    return a.ndims == p->type.ndims &&
           (a.base == p->type.base || (a.base == VT_INT && p->type.base == VT_REAL) ||
            (base_is_complex(p->type.base) && !base_is_complex(a.base) &&
             base_complex_of(a.base) == p->type.base));
  case P_CANY: return base_is_complex(a.base);
  case P_INTS: return a.base == VT_INT && a.ndims <= 1;
  case P_REALS:
    return (is_num(a.base) && a.ndims <= 1) ||
           ((a.base == VT_VECTOR || a.base == VT_ROW_VECTOR) && a.ndims == 0);
  case P_VECTORS:
    return ((a.base == VT_VECTOR || a.base == VT_ROW_VECTOR) && a.ndims == 0) ||
           (is_num(a.base) && a.ndims == 1);
  case P_ANY: return is_valuebase(a.base);
  default: return 0;
  }
}

static int is_scalar_type(vi_type a) { return a.ndims == 0 && is_num(a.base); }

/* 1 and *ret if the signature accepts args. */
static int match_sig(const sigspec *sp, const vi_type *args, int nargs, vi_type *ret)
{
  int np = sp->npar;
  int ell = np > 0 && sp->par[np - 1].kind == P_ELLIPSIS;
  if (ell) {
    if (np < 2 || nargs < np - 1) return 0;
  } else if (nargs != np) {
    return 0;
  }
  for (int i = 0; i < nargs; i++) {
    const pspec *p = i < (ell ? np - 1 : np) ? &sp->par[i] : &sp->par[np - 2];
    if (!match_param(p, args[i])) return 0;
  }
  vi_type r = {VT_REAL, 0, NULL};
  switch (sp->ret.kind) {
  case R_SAME:
    if (nargs < 1) return 0;
    r = args[0];
    if (r.base == VT_INT) r.base = VT_REAL;
    break;
  case R_SAME_INT:
    if (nargs < 1) return 0;
    r = args[0];
    break;
  case R_RNG_REAL: case R_RNG_INT: {
    int all = 1;
    for (int i = 0; i < nargs; i++)
      if (!is_scalar_type(args[i]) && args[i].base != VT_ERROR) all = 0;
    r.base = sp->ret.kind == R_RNG_REAL ? VT_REAL : VT_INT;
    r.ndims = all ? 0 : 1;
    break;
  }
  case R_BCAST: {
    int have = 0;
    for (int i = 0; i < nargs; i++) {
      vi_type a = args[i];
      if (a.base == VT_ERROR || is_scalar_type(a)) continue;
      if (a.base == VT_INT) a.base = VT_REAL;
      if (!have) { r = a; have = 1; }
      else if (a.base != r.base || a.ndims != r.ndims) return 0;
    }
    break;
  }
  case R_REALOF: case R_CXOF:
    if (nargs < 1) return 0;
    r = args[0];
    r.base = sp->ret.kind == R_REALOF ? base_real_of(r.base) : base_complex_of(r.base);
    if (r.base == VT_INT) r.base = VT_REAL;
    break;
  default:
    r = sp->ret.type;
    break;
  }
  if (ret) *ret = r;
  return 1;
}

int builtin_sig_match(const char *sig, const vi_type *args, int nargs, vi_type *ret)
{
  sigspec sp;
  if (parse_sig(sig, &sp) != 0) return -1;
  return match_sig(&sp, args, nargs, ret);
}

/* ---- messages -------------------------------------------------------------------- */

static void append(char *buf, size_t len, size_t *pos, const char *fmt, const char *s)
{
  if (*pos >= len) return;
  int k = snprintf(buf + *pos, len - *pos, fmt, s);
  if (k > 0) *pos += (size_t)k;
  if (*pos > len) *pos = len;
}

static void type_text(vi_type a, char *buf, size_t len)
{
  static const char *names[] = {"int", "real", "vector", "row_vector", "matrix",
                                "string", "void", "<error>", "complex", "complex_vector",
                                "complex_row_vector", "complex_matrix"};
  const char *b = (unsigned)a.base < sizeof names / sizeof names[0] ? names[a.base] : "?";
  size_t pos = 0;
  append(buf, len, &pos, "%s", b);
  if (a.ndims > 0) {
    append(buf, len, &pos, "%s", "[");
    for (int i = 1; i < a.ndims; i++) append(buf, len, &pos, "%s", ",");
    append(buf, len, &pos, "%s", "]");
  }
}

/* "name(p1 | p2, p3)" from the spec text (parameter part as written). */
static void sig_text(const char *name, const char *sig, char *buf, size_t len, int bar)
{
  size_t pos = 0;
  const char *lp = strchr(sig, '(');
  append(buf, len, &pos, "%s", name);
  if (!lp) return;
  if (bar && !strchr(lp, '|') && strchr(lp, ',')) {
    /* Densities are written f(y | theta...). */
    const char *c = strchr(lp, ',');
    char tmp[256];
    size_t n = (size_t)(c - lp);
    if (n >= sizeof tmp) n = sizeof tmp - 1;
    memcpy(tmp, lp, n);
    tmp[n] = '\0';
    append(buf, len, &pos, "%s", tmp);
    append(buf, len, &pos, " |%s", c + 1);
  } else {
    append(buf, len, &pos, "%s", lp);
  }
}

/* Stan functions vi does not (yet) implement: an error that says so, not "unknown".
 * (Empty for the Functions Reference 2.36: the functions that return tuples are below;
 * integrate_ode, removed from Stan, is named as such by the parser.) */
static const char *const unsupported_funcs[] = {NULL};

/* The functions that return a tuple (Stan 2.33+), each the tuple of the builtins of
 * the same arguments that compute its elements: svd(A) = (svd_U(A),
 * singular_values(A), svd_V(A)).  Their gradients are those builtins'. */
static const struct { const char *name; const char *parts[4]; } tuple_funcs[] = {
  { "eigendecompose_sym", { "eigenvalues_sym", "eigenvectors_sym", NULL } },
  { "eigendecompose", { "eigenvalues", "eigenvectors", NULL } },
  { "svd", { "svd_U", "singular_values", "svd_V", NULL } },
  { "qr_thin", { "qr_thin_Q", "qr_thin_R", NULL } },
  { "qr", { "qr_Q", "qr_R", NULL } },
  { "csr_extract", { "csr_extract_w", "csr_extract_v", "csr_extract_u", NULL } },
  { "complex_schur_decompose", { "complex_schur_decompose_u", "complex_schur_decompose_t",
                                 NULL } },
};

const char *const *builtin_tuple_parts(const char *name)
{
  for (size_t i = 0; i < sizeof tuple_funcs / sizeof tuple_funcs[0]; i++)
    if (strcmp(tuple_funcs[i].name, name) == 0) return tuple_funcs[i].parts;
  return NULL;
}

/* Stan distributions vi does not (yet) implement. */
static const char *const stan_dists[] = {
  "normal", "std_normal", "normal_id_glm", "exp_mod_normal", "skew_normal",
  "student_t", "cauchy", "double_exponential", "logistic", "gumbel", "skew_double_exponential",
  "lognormal", "chi_square", "inv_chi_square", "scaled_inv_chi_square", "exponential",
  "gamma", "inv_gamma", "weibull", "frechet", "rayleigh", "pareto", "pareto_type_2",
  "wiener", "beta", "beta_proportion", "von_mises", "uniform", "multi_normal",
  "multi_normal_prec", "multi_normal_cholesky", "multi_gp", "multi_gp_cholesky",
  "multi_student_t", "multi_student_t_cholesky", "gaussian_dlm_obs", "dirichlet",
  "lkj_corr", "lkj_corr_cholesky", "wishart", "wishart_cholesky", "inv_wishart",
  "inv_wishart_cholesky", "bernoulli", "bernoulli_logit", "bernoulli_logit_glm",
  "binomial", "binomial_logit", "binomial_logit_glm", "beta_binomial", "hypergeometric",
  "categorical", "categorical_logit", "categorical_logit_glm", "discrete_range",
  "ordered_logistic", "ordered_logistic_glm", "ordered_probit", "neg_binomial",
  "neg_binomial_2", "neg_binomial_2_log", "neg_binomial_2_log_glm", "poisson",
  "poisson_log", "poisson_log_glm", "poisson_binomial", "multinomial",
  "multinomial_logit", "dirichlet_multinomial", "loglogistic", "beta_neg_binomial",
  "std_normal", "lkj_cov", "multi_student_t_cholesky", NULL};

static int in_list(const char *const *list, const char *name)
{
  for (size_t i = 0; list[i]; i++)
    if (strcmp(list[i], name) == 0) return 1;
  return 0;
}

/* Is name dist_<suffix> for a Stan distribution dist? */
static int is_stan_dist_fn(const char *name)
{
  static const char *suffixes[] = {"_lpdf", "_lpmf", "_lupdf", "_lupmf", "_rng",
                                   "_lcdf", "_lccdf", "_cdf", "_log", "_cdf_log",
                                   "_ccdf_log"};
  for (size_t k = 0; k < sizeof suffixes / sizeof suffixes[0]; k++) {
    if (!ends_with(name, suffixes[k])) continue;
    size_t n = strlen(name) - strlen(suffixes[k]);
    char buf[128];
    if (n >= sizeof buf) continue;
    memcpy(buf, name, n);
    buf[n] = '\0';
    if (in_list(stan_dists, buf)) return 1;
  }
  return 0;
}

static int count_named(const char *name)
{
  int c = 0;
  for (size_t i = 0; i < n_all(); i++)
    if (strcmp(def_of((int)i)->name, name) == 0) c++;
  return c;
}

/* Try every entry named name. */
static int resolve_exact(const char *name, const vi_type *args, int nargs, vi_type *ret,
                         int *found)
{
  *found = 0;
  for (size_t i = 0; i < n_all(); i++) {
    const builtin_sig *d = def_of((int)i);
    if (strcmp(d->name, name) != 0) continue;
    (*found)++;
    sigspec sp;
    if (parse_sig(d->sig, &sp) != 0) continue;
    if (match_sig(&sp, args, nargs, ret)) return (int)i;
  }
  return -1;
}

static void no_signature(const char *name, const char *shown, const vi_type *args,
                         int nargs, char *why, size_t whylen)
{
  if (!why || !whylen) return;
  size_t pos = 0;
  int dens = name_is_density(name);
  append(why, whylen, &pos, "no signature %s(", shown);
  for (int i = 0; i < nargs; i++) {
    char tb[64];
    type_text(args[i], tb, sizeof tb);
    append(why, whylen, &pos, "%s", i == 0 ? "" : (i == 1 && dens) ? " | " : ", ");
    append(why, whylen, &pos, "%s", tb);
  }
  append(why, whylen, &pos, "%s", "); candidates: ");
  int first = 1;
  for (size_t i = 0; i < n_all(); i++) {
    const builtin_sig *d = def_of((int)i);
    if (strcmp(d->name, name) != 0) continue;
    char sb[256];
    sig_text(shown, d->sig, sb, sizeof sb, dens);
    append(why, whylen, &pos, "%s", first ? "" : ", ");
    append(why, whylen, &pos, "%s", sb);
    first = 0;
  }
}

static void set_why(char *why, size_t whylen, const char *fmt, const char *name)
{
  if (why && whylen) snprintf(why, whylen, fmt, name);
}

int builtin_resolve(const char *name, const vi_type *args, int nargs, vi_type *ret,
                       char *why, size_t whylen)
{
  int found;
  vi_type r;
  int id = resolve_exact(name, args, nargs, &r, &found);
  const char *lookup = name;
  char alias[128];
  if (!found && (ends_with(name, "_lupdf") || ends_with(name, "_lupmf")) &&
      strlen(name) < sizeof alias) {
    /* vi keeps normalising constants: _lupdf is _lpdf. */
    size_t n = strlen(name);
    memcpy(alias, name, n - 6);
    memcpy(alias + n - 6, ends_with(name, "_lupdf") ? "_lpdf" : "_lpmf", 6);
    lookup = alias;
    id = resolve_exact(alias, args, nargs, &r, &found);
  }
  if (id >= 0) {
    if (ret) *ret = r;
    return id;
  }
  if (found) {
    no_signature(lookup, name, args, nargs, why, whylen);
    return -1;
  }
  if (in_list(unsupported_funcs, name) || is_stan_dist_fn(name)) {
    set_why(why, whylen, "function '%s' is not supported yet", name);
    return BUILTIN_UNSUPPORTED;
  }
  set_why(why, whylen, "unknown function '%s'", name);
  return -1;
}

int builtin_resolve_tilde(const char *dist, const vi_type *args, int nargs,
                             char *why, size_t whylen)
{
  char name[160];
  const char *suf[2] = {"_lpdf", "_lpmf"};
  for (int k = 0; k < 2; k++) {
    snprintf(name, sizeof name, "%s%s", dist, suf[k]);
    if (count_named(name) == 0) continue;
    int found;
    int id = resolve_exact(name, args, nargs, NULL, &found);
    if (id >= 0) return id;
    no_signature(name, name, args, nargs, why, whylen);
    return -1;
  }
  if (in_list(stan_dists, dist)) {
    set_why(why, whylen, "distribution '%s' is not supported yet", dist);
    return BUILTIN_UNSUPPORTED;
  }
  set_why(why, whylen, "unknown distribution '%s'", dist);
  return -1;
}
