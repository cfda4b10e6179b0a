/* builtins.c: the dispatcher the evaluator uses to run a builtin by the id the checker
 * resolved (front/signatures.c): the kernel tables of builtins_elementwise.c, _reduce.c,
 * _containers.c, _linalg.c, _special.c, _eigen.c, _hmm.c, _sparse.c, _dist.c, _decomp.c,
 * _matrix_exp.c, _special_more.c and _sequences.c concatenated in the order of the signature table. */
#include <stdio.h>
#include <string.h>
#include "lang/lib/lib.h"

static size_t table_len(const builtin_def *tab)
{
  size_t n = 0;
  while (tab[n].name) n++;
  return n;
}

/* The tables, in id order: an id indexes their concatenation. */
static const builtin_def *const tables[] = {
  builtin_kernels_elementwise, builtin_kernels_reduce, builtin_kernels_containers,
  builtin_kernels_linalg, builtin_kernels_special, builtin_kernels_eigen, builtin_kernels_hmm,
  builtin_kernels_sparse, builtin_kernels_dist, builtin_kernels_decomp,
  builtin_kernels_matrix_exp, builtin_kernels_special_more, builtin_kernels_sequences,
  builtin_kernels_complex
};
#define NTABLES (sizeof tables / sizeof tables[0])

static size_t table_size(size_t k)
{
  static _Thread_local size_t n[NTABLES];   /* per thread: no race on the first call */
  static _Thread_local int done;
  if (!done) {
    for (size_t i = 0; i < NTABLES; i++) n[i] = table_len(tables[i]);
    done = 1;
  }
  return n[k];
}

static size_t n_all(void)
{
  size_t n = 0;
  for (size_t k = 0; k < NTABLES; k++) n += table_size(k);
  return n;
}

int builtin_kernel_count(void) { return (int)n_all(); }

static const builtin_def *def_of(int id)
{
  if (id < 0) return NULL;
  size_t i = (size_t)id;
  for (size_t k = 0; k < NTABLES; k++) {
    if (i < table_size(k)) return &tables[k][i];
    i -= table_size(k);
  }
  return NULL;
}

const char *builtin_kernel_name(int id)
{
  const builtin_def *d = def_of(id);
  return d ? d->name : NULL;
}

/* Number of parameters of a spec ("real(reals | reals, reals)" -> 3); *more when it
 * ends in "...".  Cheap enough to check on every call. */
static int sig_arity(const char *sig, int *more)
{
  const char *p = strchr(sig, '(');
  int n = 0, depth = 0, any = 0;
  *more = strstr(sig, "...") != NULL;
  if (!p) return -1;
  for (p++; *p && *p != ')'; p++) {
    if (*p == '[') depth++;
    else if (*p == ']') depth--;
    else if (!depth && (*p == ',' || *p == '|')) n++;
    else if (*p != ' ') any = 1;
  }
  return any ? n + 1 : 0;
}

ad_val *builtin_call(ad_tape *t, int id, ad_val **args, int nargs)
{
  const builtin_def *d = def_of(id);
  if (!d || !d->impl) {
    ad_tape_set_error(t, "builtin %d is not implemented", id);
    return NULL;
  }
  int more, np = sig_arity(d->sig, &more);
  if (more ? nargs < np - 1 : nargs != np) {
    ad_tape_set_error(t, "%s: called with %d arguments, its signature %s has %d", d->name,
                      nargs, d->sig, np);
    return NULL;
  }
  for (int i = 0; i < nargs; i++)
    if (!args[i]) {
      ad_tape_set_error(t, "%s: missing argument %d", d->name, i + 1);
      return NULL;
    }
  ad_val *r = d->impl(t, args, nargs);
  if (!r && !ad_tape_error(t)) ad_tape_set_error(t, "%s failed", d->name);
  return r;
}
