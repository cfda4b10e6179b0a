# lib.sh: shared helpers of the end-to-end tests of the `vi` command, sourced by each
# tests/cli/*.sh.  make check sets top_srcdir and top_builddir; run by hand, they
# default to the current directory.  Every check fails the test with a message saying
# what was expected and what came instead (the command's stdout and stderr are shown).
set -u
: "${top_srcdir:=.}"
: "${top_builddir:=.}"
VI="$top_builddir/src/cli/vi"
MODELS="$top_srcdir/models"
PYTHON="${PYTHON:-python3}"
export OPENBLAS_NUM_THREADS=1
if [ ! -x "$VI" ]; then
  echo "FAIL: $VI is not built" >&2
  exit 1
fi
TMP=$(mktemp -d "${TMPDIR:-/tmp}/vi-cli-test.XXXXXX") || exit 99
trap 'rm -rf "$TMP"' EXIT
status=0

fail() {
  echo "FAIL: $*" >&2
  if [ -f "$TMP/out" ]; then echo "--- stdout:" >&2; head -n 60 "$TMP/out" >&2; fi
  if [ -f "$TMP/err" ]; then echo "--- stderr:" >&2; head -n 30 "$TMP/err" >&2; fi
  exit 1
}

# run ARGS...: run vi, stdout in $TMP/out, stderr in $TMP/err, exit status in $status.
run() {
  status=0
  "$VI" "$@" >"$TMP/out" 2>"$TMP/err" || status=$?
}

expect_status() {
  [ "$status" -eq "$1" ] || fail "expected exit status $1, got $status${2:+ ($2)}"
}

# expect_out TEXT / expect_err TEXT: a fixed string somewhere in stdout / stderr.
expect_out() { grep -F -q -e "$1" "$TMP/out" || fail "stdout lacks: $1"; }
expect_err() { grep -F -q -e "$1" "$TMP/err" || fail "stderr lacks: $1"; }
expect_err_line() { grep -x -F -q -e "$1" "$TMP/err" || fail "stderr lacks the line: $1"; }
expect_no_out() { ! grep -F -q -e "$1" "$TMP/out" || fail "stdout should not contain: $1"; }
expect_empty_err() { [ ! -s "$TMP/err" ] || fail "expected nothing on stderr"; }

# have_python: python3 is needed by the CSV/JSON readers.
have_python() { command -v "$PYTHON" >/dev/null 2>&1; }

# The eight schools example, used by many tests.
ES="$MODELS/eight_schools.stan"
ESD="$MODELS/eight_schools.data.json"
