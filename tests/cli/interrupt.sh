#!/bin/sh
# Ctrl-C: SIGINT sent to a running fit stops it at the end of the current iteration; vi
# reports and writes the current approximation marked as interrupted (the report's stop
# line, a comment line in the CSV, a field in the JSON) and exits with 130.  SIGTERM does
# the same and exits with 143.  A second signal ends the program at once, and no
# temporary file survives it (an existing output file keeps its contents).  The model is
# a logistic regression on 5,000 generated rows, fitted by the stochastic method with zero
# tolerances so that it runs until interrupted.
. "${top_srcdir:-.}/tests/cli/lib.sh"
have_python || { echo "SKIP: python3 not found"; exit 77; }

"$PYTHON" - "$TMP/big.json" <<'PY'
import json, math, random, sys
rng = random.Random(1)
N, K = 5000, 10
beta = [rng.gauss(0, 1) for _ in range(K)]
X = [[round(rng.gauss(0, 1), 3) for _ in range(K)] for _ in range(N)]
y = [1 if rng.random() < 1 / (1 + math.exp(-sum(a * b for a, b in zip(x, beta)))) else 0 for x in X]
json.dump({"N": N, "K": K, "X": X, "y": y}, open(sys.argv[1], "w"))
PY
printf 'old contents\n' >"$TMP/big.csv"

# start_fit [OPTION...]: run the endless fit in the background (pid in $pid, a watchdog in
# $dog) and wait until its first iterations are on stderr
start_fit() {
  "$VI" fit "$MODELS/logistic.stan" --data "$TMP/big.json" --method stochastic \
    --tol-rel-obj 0 --max-iter 1000000000 --print-every 1 --eval-draws 200 \
    --output-draws 100 --output "$TMP/big.csv" --summary-json "$TMP/big.sum.json" "$@" \
    >"$TMP/out" 2>"$TMP/err" &
  pid=$!
  # a watchdog, so that a hang fails the test instead of blocking make check
  ( sleep 300; kill -9 "$pid" 2>/dev/null ) &
  dog=$!
  i=0
  until grep -q '^iter=2 ' "$TMP/err" 2>/dev/null; do
    i=$((i + 1))
    if [ "$i" -gt 1200 ] || ! kill -0 "$pid" 2>/dev/null; then
      kill -9 "$pid" 2>/dev/null; kill "$dog" 2>/dev/null
      fail "the fit did not start"
    fi
    sleep 0.1
  done
}
# stop_fit SIGNAL...: send the signals 0.3 s apart (two signals sent at once may arrive as
# one), wait for the end, status in $status
stop_fit() {
  for s in "$@"; do kill -"$s" "$pid"; [ "$#" -eq 1 ] || sleep 0.3; done
  status=0
  wait "$pid" || status=$?
  kill "$dog" 2>/dev/null
}

start_fit
stop_fit INT
expect_status 130
expect_out "Stopped:  interrupted (SIGINT) at iteration "
expect_out "the results are the current approximation, not a converged fit"
expect_out "Outputs (100 draws from q):"
grep -q '^# vi_interrupted = 1$' "$TMP/big.csv" || fail "CSV not marked interrupted"
grep -q '^# Interrupted (SIGINT) at iteration [0-9]*: ' "$TMP/big.csv" || fail "CSV comment line"
grep -q '^# vi_stop_reason = interrupted$' "$TMP/big.csv" || fail "CSV stop reason"
"$PYTHON" "$top_srcdir/tests/cli/read_stan_csv.py" "$TMP/big.csv" >"$TMP/big.read" ||
  fail "interrupted CSV unreadable"
"$PYTHON" - "$TMP/big.sum.json" "$TMP/big.read" <<'PY' || fail "interrupted JSON"
import json, sys
s = json.load(open(sys.argv[1]))
r = json.load(open(sys.argv[2]))
assert s["interrupted"] is True and s["status"] == "interrupted" and s["exit_code"] == 130, s
assert s["iterations"] >= 2
assert r["n_draws"] == 100 and r["header"][3:] == ["alpha"] + ["beta.%d" % k for k in range(1, 11)]
PY

# SIGTERM: the same, with its own name and status
rm -f "$TMP/big.csv" "$TMP/big.sum.json"
start_fit
stop_fit TERM
expect_status 143
expect_out "Stopped:  interrupted (SIGTERM) at iteration "
grep -q '^# Interrupted (SIGTERM) at iteration [0-9]*: ' "$TMP/big.csv" || fail "SIGTERM: CSV comment line"
"$PYTHON" -c "import json; s = json.load(open('$TMP/big.sum.json')); assert s['interrupted'] and s['status'] == 'interrupted' and s['stop_reason'] == 'interrupted' and s['exit_code'] == 143, s" ||
  fail "SIGTERM: JSON"
ls -a "$TMP" | grep -q '^\.big\.' && fail "SIGTERM: a temporary file is left: $(ls -a "$TMP")"

# A second signal ends the program at once: no output is written, no temporary file
# left, the existing files keep their contents.  The final diagnostics from 10^5 draws
# (some seconds) keep the program running after the first.
for sigs in "INT INT" "TERM TERM" "INT TERM"; do
  printf 'old contents\n' >"$TMP/big.csv"
  printf 'old json\n' >"$TMP/big.sum.json"
  start_fit --eval-draws 100000
  # shellcheck disable=SC2086
  stop_fit $sigs
  second=${sigs#* }
  [ "$status" -eq $((128 + $(kill -l "$second"))) ] || fail "$sigs: status $status"
  left=$(ls -a "$TMP" | grep '^\.big\.' || true)
  [ -z "$left" ] || fail "$sigs: temporary files left: $left"
  [ "$(cat "$TMP/big.csv")" = "old contents" ] || fail "$sigs: the CSV was changed"
  [ "$(cat "$TMP/big.sum.json")" = "old json" ] || fail "$sigs: the JSON was changed"
done
exit 0
