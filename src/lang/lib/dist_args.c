/* dist_args.c: the distributions' arguments as Stan's messages name them, and the
 * domains Stan checks them against, read from the ARGS entries of table_dist.def.  The
 * names and checks follow the Stan Math library's argument checks (check_not_nan,
 * check_finite, check_positive_finite, check_nonnegative, check_bounded, ...) and their
 * wording, "normal_lpdf: Scale parameter is -1, but must be positive finite!", so a
 * failing `~` statement reads as it would in Stan.  The kernels themselves never check:
 * an argument outside its domain gives -inf (lib.h); this is only for the message. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "lang/lib/lib.h"

typedef struct { const char *dist, *spec; } args_entry;

static const args_entry table[] = {
#define BUILTIN(name, sig, kernel)
#define ARGS(nm, spec) { #nm, spec },
#include "lang/lib/table_dist.def"
#undef BUILTIN
};

static const char *spec_of(const char *dist)
{
  for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
    if (strcmp(table[i].dist, dist) == 0) return table[i].spec;
  return NULL;
}

/* Entry i of a spec: its name (length *nlen) and domain (length *dlen); 0 if none. */
static int entry(const char *spec, int i, const char **name, size_t *nlen,
                 const char **dom, size_t *dlen)
{
  if (!spec || i < 0) return 0;
  for (; i > 0; i--) {
    spec = strchr(spec, ';');
    if (!spec) return 0;
    spec++;
  }
  const char *colon = strchr(spec, ':');
  if (!colon) return 0;
  size_t end = strcspn(spec, ";");
  *name = spec;
  *nlen = (size_t)(colon - spec);
  *dom = colon + 1;
  *dlen = end - *nlen - 1;
  return 1;
}

const char *dist_arg_name(const char *dist, int i, char *buf, size_t len)
{
  const char *name, *dom;
  size_t nlen, dlen;
  if (!len || !entry(spec_of(dist), i, &name, &nlen, &dom, &dlen)) return NULL;
  snprintf(buf, len, "%.*s", (int)nlen, name);
  return buf;
}

/* Does x satisfy domain dom?  Sets *must to Stan's wording of the domain. */
static int in_domain(const char *dom, size_t dlen, double x, const char **must)
{
#define IS(s) (dlen == strlen(s) && strncmp(dom, s, dlen) == 0)
  if (IS("notnan")) { *must = "must not be nan!"; return !isnan(x); }
  if (IS("finite")) { *must = "must be finite!"; return isfinite(x); }
  if (IS("posfinite")) { *must = "must be positive finite!"; return x > 0 && isfinite(x); }
  if (IS("positive")) { *must = "must be positive!"; return x > 0; }
  if (IS("nonneg")) { *must = "must be nonnegative!"; return x >= 0; }
  if (IS("nonnegfinite")) {   /* Stan checks nonnegative, then finite */
    *must = x >= 0 ? "must be finite!" : "must be nonnegative!";
    return x >= 0 && isfinite(x);
  }
  if (IS("unit")) { *must = "must be in the interval [0, 1]"; return x >= 0 && x <= 1; }
  if (IS("openunit")) { *must = "must be in the interval (0, 1)"; return x > 0 && x < 1; }
#undef IS
  return 1;   /* none */
}

long dist_arg_check(const char *dist, int i, const double *x, size_t n, const char **must)
{
  const char *name, *dom;
  size_t nlen, dlen;
  if (!entry(spec_of(dist), i, &name, &nlen, &dom, &dlen)) return -1;
  for (size_t e = 0; e < n; e++)
    if (!in_domain(dom, dlen, x[e], must)) return (long)e;
  return -1;
}
