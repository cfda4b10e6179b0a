#!/bin/sh
# The installed library is usable from its vi.pc alone: `make install` into a staging
# directory, then examples/embed.c (the README's embedding example) compiled with nothing
# but `pkg-config --cflags --libs vi` against the installed headers and library, and
# run; a second program checks the version macros against vi_version() and that GSL's
# error handler of the caller is the same after libvi's calls.
. "${top_srcdir:-.}/tests/cli/lib.sh"
command -v pkg-config >/dev/null 2>&1 || { echo "SKIP: pkg-config not found"; exit 77; }
# A sanitizer build's libvi needs the ASan runtime loaded first, which a program built
# from vi.pc alone (as a user builds it) does not do: the plain build runs this test.
if grep -q "^CFLAGS = .*-fsanitize" "$top_builddir/Makefile" 2>/dev/null; then
  echo "SKIP: sanitizer build (the installed-library test runs in the plain build)"; exit 77
fi
CC=${CC:-cc}
D="$TMP/stage"
${MAKE:-make} -C "$top_builddir" install DESTDIR="$D" >"$TMP/install.log" 2>&1 ||
  { tail -n 30 "$TMP/install.log" >&2; fail "make install DESTDIR=$D"; }
pc=$(find "$D" -name vi.pc) && [ -n "$pc" ] || fail "no vi.pc installed"
PKG_CONFIG_PATH=$(dirname "$pc"); PKG_CONFIG_SYSROOT_DIR="$D"
export PKG_CONFIG_PATH PKG_CONFIG_SYSROOT_DIR
flags=$(pkg-config --cflags --libs vi) || fail "pkg-config vi: $flags"
libdir=$(pkg-config --variable=libdir vi)   # (the sysroot prepended)
# OpenBLAS before gslcblas, so that libvi's GEMM is OpenBLAS's
echo "$flags" | awk '{ for (i = 1; i <= NF; i++) { if ($i == "-lopenblas") o = i; if ($i == "-lgslcblas") g = i }
                       exit !(o && (!g || o < g)) }' || fail "link order: $flags"

# shellcheck disable=SC2086
$CC -o "$TMP/embed" "$top_srcdir/examples/embed.c" $flags >"$TMP/err" 2>&1 ||
  fail "embed.c does not build from the installed vi.pc: $(cat "$TMP/err")"
LD_LIBRARY_PATH="$libdir" "$TMP/embed" >"$TMP/out" 2>&1 || fail "embed failed: $(cat "$TMP/out")"

cat >"$TMP/ver.c" <<'C'
#include <stdio.h>
#include <string.h>
#include <gsl/gsl_errno.h>
#include <vi.h>
static int calls;
static void mine(const char *r, const char *f, int l, int e) { (void)r; (void)f; (void)l; (void)e; calls++; }
static int lj(void *c, size_t n, const double *z, double *lp, double *g)
{
  (void)c;
  for (size_t s = 0; s < n; s++) { lp[s] = -0.5 * z[s] * z[s]; if (g) g[s] = -z[s]; }
  return VI_SUCCESS;
}
int main(void)
{
  char v[32];
  snprintf(v, sizeof v, "%d.%d.%d", VI_VERSION_MAJOR, VI_VERSION_MINOR, VI_VERSION_PATCH);
  if (strcmp(v, VI_VERSION) || strcmp(vi_version(), VI_VERSION)) return 1;
  if (VI_VERSION_NUMBER != VI_VERSION_MAJOR * 10000 + VI_VERSION_MINOR * 100 + VI_VERSION_PATCH) return 2;
  gsl_set_error_handler(mine);
  vi_model m = {.dim = 1, .log_joint = lj};
  vi_options o;
  vi_options_default(&o);
  if (o.size != sizeof o) return 3;
  int st;
  vi_fit *f = vi_fit_alloc(&m, &o, &st);
  if (!f || vi_fit_run(f, NULL, NULL) != VI_SUCCESS) return 4;
  vi_final fin;
  if (vi_fit_finish(f, &fin) != VI_SUCCESS) return 5;
  vi_fit_free(f);
  const char *src = "parameters { real x; } model { x ~ normal(0, 1); }";
  vi_program *p = vi_program_compile(src, strlen(src), "m", NULL, &st);
  if (!p) return 6;
  vi_program_free(p);
  if (gsl_set_error_handler(NULL) != mine) return 7;   /* the caller's handler is back */
  gsl_set_error_handler(mine);
  gsl_error("a caller's own GSL error", __FILE__, __LINE__, GSL_EDOM);
  return calls == 1 ? 0 : 8;
}
C
# shellcheck disable=SC2086
$CC -o "$TMP/ver" "$TMP/ver.c" $flags >"$TMP/err" 2>&1 || fail "ver.c: $(cat "$TMP/err")"
st=0; LD_LIBRARY_PATH="$libdir" "$TMP/ver" || st=$?
[ "$st" -eq 0 ] || fail "versions / GSL handler: check $st"
exit 0
