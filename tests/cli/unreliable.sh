#!/bin/sh
# A fit is called converged only when it is: fresh draws from q that meet a non-finite log
# density (an unconstrained scale, a reject() in part of the space, a NaN), or a final
# ELBO, log p(X) or KL that is not finite, make the fit "not reliable": exit 5, the share
# of failed draws and the statement responsible on stderr, "unreliable" in the CSV and
# the JSON (reliable: false).  And every "Stopped:" line states a true comparison: the
# value it prints against the tolerance it prints, for every stop reason.
. "${top_srcdir:-.}/tests/cli/lib.sh"
have_python || { echo "SKIP: python3 not found"; exit 77; }
J="$TMP/s.json"

cat >"$TMP/sigma.stan" <<'STAN'
data { int N; vector[N] y; }
parameters { real mu; real sigma; }
model { y ~ normal(mu, sigma); }
STAN
echo '{"N": 5, "y": [1.2, 0.3, 2.1, 1.7, 0.9]}' >"$TMP/sigma.json"
cat >"$TMP/reject.stan" <<'STAN'
parameters { real x; }
model {
  if (x > 1.5) reject("x is outside the region: ", x);
  x ~ normal(0, 1);
}
STAN
cat >"$TMP/nan.stan" <<'STAN'
parameters { real x; }
model {
  x ~ normal(0, 1);
  target += x > 2 ? not_a_number() : 0;
}
STAN

# check_unreliable NAME LOCATION TEXT: the last run failed as an unreliable fit, its
# report and files say so, and stderr names the statement at LOCATION with TEXT
check_unreliable() {
  expect_status 5 "$1"
  expect_out "Stopped:  not"
  expect_no_out "Stopped:  converged"
  expect_no_out " good"
  expect_out "Not reliable: "
  expect_out "fresh draws from q ("
  expect_err "vi: the fit is not reliable: "
  expect_err "$2: error: $3"
  grep -q '^# vi_stop_reason = unreliable$' "$TMP/o.csv" || fail "$1: CSV stop reason"
  "$PYTHON" - "$J" "$TMP/out" <<'PY' || fail "$1: JSON flags"
import json, re, sys
s = json.load(open(sys.argv[1]))
out = open(sys.argv[2]).read()
assert s["reliable"] is False and s["status"] == "unreliable" and s["exit_code"] == 5, s
n = s["nonfinite_draws"]
m = re.search(r"Not reliable: (\d+) of (\d+) fresh draws from q \(([0-9.]+)%\)", out)
assert m and int(m.group(1)) == n > 0 and int(m.group(2)) == s["final"]["draws"], (m, n)
assert abs(float(m.group(3)) - 100.0 * n / s["final"]["draws"]) < 0.06
PY
}

run fit "$TMP/sigma.stan" --data "$TMP/sigma.json" --quiet --output "$TMP/o.csv" --summary-json "$J"
check_unreliable sigma "$TMP/sigma.stan:3:11" "normal_lpdf: Scale parameter is -"
expect_err ", but must be positive finite!"
run fit "$TMP/reject.stan" --quiet --output "$TMP/o.csv" --summary-json "$J"
check_unreliable reject "$TMP/reject.stan:3:16" "reject: x is outside the region: "
run fit "$TMP/nan.stan" --quiet --output "$TMP/o.csv" --summary-json "$J"
check_unreliable nan "$TMP/nan.stan:4:3" "the log density is nan here"

# a scale argument out of its domain everywhere: the start fails, naming the argument
printf 'parameters { real s; }\nmodel { s ~ normal(0, -1); }\n' >"$TMP/neg.stan"
run fit "$TMP/neg.stan" --quiet
expect_status 5
expect_err_line "$TMP/neg.stan:2:11: error: normal_lpdf: Scale parameter is -1, but must be positive finite!"

# a sound fit is reliable
run fit "$ES" --data "$ESD" --quiet --summary-json "$J"
expect_status 0
"$PYTHON" -c "import json; s = json.load(open('$J')); assert s['reliable'] and s['nonfinite_draws'] == 0 and s['status'] == 'converged'" ||
  fail "eight schools: JSON flags"

# Every stop reason: the printed value against the printed tolerance.  The unbounded
# sigma model is the one whose line claimed 1.78e-08 < 1e-10 (a stage tolerance of the
# adaptive M, met at M = 32 when the doubling was abandoned).
LR="$MODELS/linreg.stan"; LRD="$MODELS/linreg.data.json"
HL="$MODELS/hier_logistic.stan"; HLD="$MODELS/hier_logistic.data.json"
: >"$TMP/stops"
for args in "$ES --data $ESD" "$ES --data $ESD --draws 8 --tol-abs-obj 0" \
            "$LR --data $LRD" "$ES --data $ESD --method stochastic" "$HL --data $HLD" \
            "$ES --data $ESD --max-iter 3" "$TMP/sigma.stan --data $TMP/sigma.json" \
            "$TMP/reject.stan"; do
  # shellcheck disable=SC2086
  run fit $args --quiet
  grep -A1 '^Stopped:' "$TMP/out" >>"$TMP/stops" || fail "no Stopped line: $args"
  echo "max_iter=$(echo "$args" | sed -n 's/.*--max-iter \([0-9]*\).*/\1/p')" >>"$TMP/stops"
done
"$PYTHON" - "$TMP/stops" <<'PY' || fail "a Stopped line that is not true: $(cat "$TMP/stops")"
import re, sys
text = open(sys.argv[1]).read().split("\n")
seen = set()
for i in range(0, len(text) - 2, 3):
    stop, after, cap = text[i], text[i + 1], text[i + 2]
    iters = int(re.search(r"after (\d+) iterations", after).group(1))
    m = re.search(r"(gradient norm|relative ELBO change|running mean|rose by) ([-0-9.e+]+)"
                  r".*< (tol-grad|tol-rel-obj|tol-abs-obj) ([-0-9.e+]+)", stop)
    if m:
        assert float(m.group(2)) < float(m.group(4)), stop
        seen.add(m.group(3) + (" fresh" if "running mean" in stop else ""))
    elif "iteration cap" in stop:
        assert iters == int(re.search(r"max-iter (\d+)", stop).group(1)) == int(cap[9:]), stop
        seen.add("max-iter")
    elif "could not improve" in stop:
        m = re.search(r"gradient norm ([-0-9.e+]+) \(tol-grad ([-0-9.e+]+)\)", stop)
        assert float(m.group(1)) >= float(m.group(2)), stop
        seen.add("no-progress")
    else:
        raise AssertionError("unknown stop: " + stop)
assert seen == {"tol-grad", "tol-rel-obj", "tol-rel-obj fresh", "tol-abs-obj", "max-iter",
                "no-progress"}, seen
PY
exit 0
