#!/bin/sh
# layering.sh: run layering.py over the built convenience libraries (src/README.md: the
# language's subsystems call only downward, no dependency cycle between files).
: "${top_srcdir:=.}"
: "${top_builddir:=.}"
PYTHON="${PYTHON:-python3}"
command -v "$PYTHON" >/dev/null 2>&1 || { echo "SKIP: no $PYTHON" >&2; exit 77; }
command -v nm >/dev/null 2>&1 || { echo "SKIP: no nm" >&2; exit 77; }
exec "$PYTHON" "$top_srcdir/tests/layering.py" "$top_builddir"
