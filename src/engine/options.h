/* engine/options.h: internal: validate a caller's options and fill in the defaults that
 * depend on the estimator (see vi_options_default_for). */
#ifndef VI_ENGINE_OPTIONS_H
#define VI_ENGINE_OPTIONS_H
#include <vi/fit.h>

/* Copy in (NULL: defaults) to out, resolving estimator-dependent defaults.  0 if valid,
 * -1 if an option is out of range. */
int options_resolve(const vi_options *in, vi_options *out);

#endif
