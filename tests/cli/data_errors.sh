#!/bin/sh
# Data errors: exit 4, one or two lines on stderr that name the variable; for vi fit and
# vi check.
. "${top_srcdir:-.}/tests/cli/lib.sh"

# data_error NAME VARIABLE: $TMP/NAME.json (written first) against eight schools.
data_error() {
  for cmd in fit check; do
    run "$cmd" "$ES" --data "$TMP/$1.json"
    expect_status 4 "vi $cmd with $1.json"
    grep -q -e "$2" "$TMP/err" || fail "$1: the message does not name '$2'"
    [ "$(wc -l <"$TMP/err")" -le 2 ] || fail "$1: more than two lines"
    [ ! -s "$TMP/out" ] || fail "$1: printed on stdout"
  done
}

printf '{"J": 8, "y": [28, 8, -3, 7, -1, 1, 18, 12]}\n' >"$TMP/missing.json"
data_error missing sigma
printf '{"J": 8, "y": [28, 8, -3, 7, -1, 1, 18], "sigma": [15, 10, 16, 11, 9, 11, 10, 18]}\n' >"$TMP/size.json"
data_error size "'y'"
printf '{"J": 8, "y": [28, 8, -3, 7, -1, 1, 18, 12], "sigma": [15, 10, 16, 11, 9, 11, 10, -18]}\n' >"$TMP/constraint.json"
data_error constraint sigma
printf '{"J": 8.5, "y": [28, 8, -3, 7, -1, 1, 18, 12], "sigma": [15, 10, 16, 11, 9, 11, 10, 18]}\n' >"$TMP/notint.json"
data_error notint "'J'"
printf '{"J": 8, "y": [28, 8, -3, 7, -1, 1, 18, 12], "sigma": [15, 10, 16, 11, 9, 11, 10, 18]\n' >"$TMP/malformed.json"
data_error malformed "malformed.json"
printf '{"J": 8, "y": [28, "a", -3, 7, -1, 1, 18, 12], "sigma": [15, 10, 16, 11, 9, 11, 10, 18]}\n' >"$TMP/string.json"
data_error string "'y'"

# a pipe is read whole (it cannot be mapped): the same as the file, errors included
cat "$ESD" | "$VI" check "$ES" --data /dev/stdin >"$TMP/out" 2>"$TMP/err" ||
  fail "data through a pipe: $(cat "$TMP/err")"
grep -q "ok" "$TMP/out" || fail "data through a pipe: not reported ok"
status=0
cat "$TMP/size.json" | "$VI" check "$ES" --data /dev/stdin >"$TMP/out" 2>"$TMP/err" || status=$?
expect_status 4 "size error through a pipe"
grep -q "'y'" "$TMP/err" || fail "size error through a pipe: the message does not name 'y'"

# a file of several parse chunks (4 MB each, their pages given back as parsed) with a
# syntax error on its last line: located as the same error in a four-line file is
"$PYTHON" - "$TMP/big.json" "$TMP/small.json" <<'PY'
import sys
for path, pad in ((sys.argv[1], 400000), (sys.argv[2], 0)):
    with open(path, "w") as f:
        f.write('{"J": 8, "y": [28, 8, -3, 7, -1, 1, 18, 12],\n')
        f.write(' "sigma": [15, 10, 16, 11, 9, 11, 10, 18],\n "pad": [\n')
        for i in range(pad):
            f.write("  %.12f,\n" % (i * 1e-6))
        f.write("  1.0 2.0]}\n")
PY
run check "$ES" --data "$TMP/small.json"
expect_status 4 "syntax error in a small file"
col=$(sed -n 's/.*small\.json:4:\([0-9]*\):.*/\1/p' "$TMP/err")
[ -n "$col" ] || fail "small file: no line and column: $(cat "$TMP/err")"
run check "$ES" --data "$TMP/big.json"
expect_status 4 "syntax error at the end of a large file"
grep -q "big.json:400004:$col: " "$TMP/err" ||
  fail "large file: not located at 400004:$col: $(cat "$TMP/err")"

# no data at all for a model that needs some
run fit "$ES"
expect_status 4
grep -q "'J'" "$TMP/err" || fail "missing data: the message does not name 'J'"
exit 0
