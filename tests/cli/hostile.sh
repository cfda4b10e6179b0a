#!/bin/sh
# Hostile input through the `vi` command: every file in tests/hostile/ (and a few made
# here) ends with its documented exit status and a located message on stderr, never a
# crash (a signal, exit >= 128) or a hang.  Exit statuses: 3 model, 4 data, 5 runtime.
. "${top_srcdir:-.}/tests/cli/lib.sh"
H="$top_srcdir/tests/hostile"

# expect_clean CODE WHAT: the last run exited with CODE and said something on stderr.
expect_clean() {
  [ "$status" -lt 128 ] || fail "$2: killed by a signal (exit $status)"
  expect_status "$1" "$2"
  [ -s "$TMP/err" ] || fail "$2: no message on stderr"
}

# deep nesting, generated: 10000 parentheses
$PYTHON - "$TMP/deep.stan" <<'PY' 2>/dev/null || printf 'transformed data { real x = ((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((1; }\n' >"$TMP/deep.stan"
import sys
open(sys.argv[1], "w").write("transformed data { real x = " + "(" * 10000 + "1" + ")" * 10000 + "; }\n")
PY
run check "$TMP/deep.stan"
expect_clean 3 "deep nesting"
expect_err "nesting too deep"

# NUL and invalid UTF-8 bytes
printf 'parameters { real mu; }\nmodel { mu ~\000 normal(0, 1); }\n' >"$TMP/nul.stan"
run fit "$TMP/nul.stan"
expect_clean 3 "NUL byte"
expect_err "$TMP/nul.stan:2:"
printf 'parameters { real m\377; }\nmodel { }\n' >"$TMP/utf8.stan"
run check "$TMP/utf8.stan"
expect_clean 3 "invalid UTF-8"

# unterminated comment and string
printf 'parameters { real mu; }\n/* open\nmodel { }\n' >"$TMP/comment.stan"
run check "$TMP/comment.stan"
expect_clean 3 "unterminated comment"
expect_err "unterminated comment"

# enormous sizes
printf 'data { int N; vector[N] y; }\nparameters { real mu; }\nmodel { y ~ normal(mu, 1); }\n' >"$TMP/size.stan"
printf '{"N": 1000000000000, "y": [1]}' >"$TMP/size.json"
run fit "$TMP/size.stan" --data "$TMP/size.json"
expect_clean 4 "size 1e12 in data"
expect_err "out of range"
printf '{"N": 2000000000, "y": [1]}' >"$TMP/size2.json"
run check "$TMP/size.stan" --data "$TMP/size2.json"
expect_clean 4 "size 2e9 in data"
printf 'data { int N; }\nparameters { vector[N] mu; }\nmodel { mu ~ normal(0, 1); }\n' >"$TMP/psize.stan"
printf '{"N": 2000000000}' >"$TMP/psize.json"
run fit "$TMP/psize.stan" --data "$TMP/psize.json"
expect_clean 4 "2e9 parameters"

# data: duplicate keys, NaN under a bound
printf '{"N": 1, "y": [1], "N": 1}' >"$TMP/dup.json"
run check "$TMP/size.stan" --data "$TMP/dup.json"
expect_clean 4 "duplicate key"
expect_err "duplicate"
printf 'data { real<lower=0> s; }\nparameters { real mu; }\nmodel { mu ~ normal(0, s); }\n' >"$TMP/nan.stan"
printf '{"s": "NaN"}' >"$TMP/nan.json"
run fit "$TMP/nan.stan" --data "$TMP/nan.json"
expect_clean 4 "NaN under a bound"
expect_err "'s'"

# runtime: index out of range, integer division by zero, integer overflow
printf 'data { int N; vector[N] y; }\nparameters { real mu; }\nmodel { y[N + 1] ~ normal(mu, 1); }\n' >"$TMP/index.stan"
printf '{"N": 2, "y": [1, 2]}' >"$TMP/index.json"
run fit "$TMP/index.stan" --data "$TMP/index.json"
expect_clean 5 "index out of range"
expect_err "index 3 out of range for y (size 2)"
printf 'data { int N; }\nparameters { real mu; }\nmodel { mu ~ normal(1 / N, 1); }\n' >"$TMP/div.stan"
printf '{"N": 0}' >"$TMP/div.json"
run fit "$TMP/div.stan" --data "$TMP/div.json"
expect_clean 5 "integer division by zero"
expect_err "division by zero"
printf 'data { int N; }\ntransformed data { int M = N * N; }\nparameters { real mu; }\nmodel { }\n' >"$TMP/ovf.stan"
printf '{"N": 65536}' >"$TMP/ovf.json"
run check "$TMP/ovf.stan" --data "$TMP/ovf.json"
[ "$status" -lt 128 ] || fail "integer overflow: killed by a signal"
[ "$status" -ne 0 ] || fail "integer overflow: accepted"
expect_err "overflow"

# a loop that never ends stops at the memory limit, in fit and in check
printf 'parameters { real mu; }\nmodel { while (1) { } mu ~ normal(0, 1); }\n' >"$TMP/loop.stan"
run fit "$TMP/loop.stan" --memory-limit 32
expect_clean 5 "while (1) in the model"
expect_err "$TMP/loop.stan:2:"
expect_err "a loop that never ends"
printf 'transformed data { int k = 1; while (k > 0) k = 1; }\nparameters { real mu; }\nmodel { }\n' >"$TMP/tdloop.stan"
run check "$TMP/tdloop.stan" --memory-limit 32
expect_clean 5 "while in transformed data (check)"
expect_err "$TMP/tdloop.stan:1:"

# a loop that never ends and allocates nothing stops at the iteration budget (~5 s)
printf 'transformed data { int one = 1; while (one) { } }\nparameters { real mu; }\nmodel { }\n' >"$TMP/spin.stan"
run check "$TMP/spin.stan"
expect_clean 5 "while (flag) { } in transformed data"
expect_err "loop iterations in one evaluation"

# the allocation-failure model runs end to end
run fit "$H/oom_features.stan" --data "$H/oom_features.data.json" --max-iter 20 -q
[ "$status" -le 1 ] || fail "oom_features.stan: exit $status"
exit 0
