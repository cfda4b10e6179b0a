/* version.c: the version of the library as built, for callers to compare with the
 * VI_VERSION macros of the headers they compiled against. */
#include <vi/version.h>

const char *vi_version(void)
{
  return VI_VERSION;
}
