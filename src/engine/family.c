/* family.c: the registry of Gaussian families (vi/family.h) and the buffers of a family
 * instance.  A family is added by writing its table (family_<name>.c) and listing it
 * here; nothing else in the engine names a family. */
#include <stdlib.h>
#include <string.h>
#include <vi/status.h>
#include "engine/family.h"

extern const vi_family_type family_meanfield_type, family_lowrank_type,
    family_fullrank_type;

const vi_family_type *const vi_family_meanfield = &family_meanfield_type;
const vi_family_type *const vi_family_lowrank = &family_lowrank_type;
const vi_family_type *const vi_family_fullrank = &family_fullrank_type;

static const vi_family_type *const family_table[] = {
  &family_meanfield_type, &family_lowrank_type, &family_fullrank_type, NULL
};

const vi_family_type *const *vi_family_types(void) { return family_table; }

const char *vi_family_name(const vi_family_type *t)
{
  return (t ? t : vi_family_meanfield)->name;
}

int vi_family_ranked(const vi_family_type *t) { return (t ? t : vi_family_meanfield)->ranked; }

const vi_family_type *vi_family_lookup(const char *name)
{
  for (size_t i = 0; name && family_table[i]; i++)
    if (strcmp(family_table[i]->name, name) == 0) return family_table[i];
  return NULL;
}

size_t vi_family_n_params(const vi_family_type *t, size_t D, size_t K)
{
  if (!t) t = vi_family_meanfield;
  if (D < 1 || (t->ranked && (K < 1 || K > D))) return 0;
  return t->n_params(D, t->ranked ? K : 0);
}

double family_entropy_const(size_t D)
{
  return 0.5 * (double)D * (1.0 + FAMILY_LOG_2PI);
}

int family_init(family *fam, const vi_family_type *t, size_t D, size_t K)
{
  memset(fam, 0, sizeof *fam);
  if (!t) t = vi_family_meanfield;
  if (!t->ranked) K = 0;
  if (vi_family_n_params(t, D, K) == 0) return VI_EINVAL;
  fam->type = t;
  fam->dim = D;
  fam->rank = K;
  fam->n_params = t->n_params(D, K);
  fam->n_noise = t->n_noise(D, K);
  size_t nb = t->n_base(D, K), nw = t->n_work(D, K);
  fam->base = nb ? calloc(nb, sizeof(double)) : NULL;
  fam->work = nw ? calloc(nw, sizeof(double)) : NULL;
  if ((nb && !fam->base) || (nw && !fam->work)) {
    family_clear(fam);
    return VI_ENOMEM;
  }
  return VI_SUCCESS;
}

void family_clear(family *fam)
{
  if (!fam) return;
  free(fam->base);
  free(fam->work);
  fam->base = fam->work = NULL;
}

void family_copy_base(family *dst, const family *src)
{
  size_t nb = src->type->n_base(src->dim, src->rank);
  if (nb) memcpy(dst->base, src->base, nb * sizeof(double));
}
