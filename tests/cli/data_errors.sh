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

# no data at all for a model that needs some
run fit "$ES"
expect_status 4
grep -q "'J'" "$TMP/err" || fail "missing data: the message does not name 'J'"
exit 0
