#!/bin/sh
# Every fit option has its effect, visible in the report, the CSV header or the JSON.
. "${top_srcdir:-.}/tests/cli/lib.sh"
have_python || { echo "SKIP: python3 not found"; exit 77; }
J="$TMP/s.json"
# jget EXPR: evaluate a Python expression over the summary JSON as s
jget() { "$PYTHON" -c "import json,sys; s=json.load(open('$J')); print($1)"; }

# --draws, --seed, --init, --eval-draws, --eval-every, --step-size, --output-draws
run fit "$ES" --data="$ESD" --draws 16 --seed 42 --init random --eval-draws 300 \
  --eval-every 5 --step-size 0.5 --output-draws 77 --summary-json "$J" --quiet
expect_status 0
expect_out "fixed draws (M = 16, standardized), bfgs2, seed 42"
expect_out "from 300 fresh draws from q"
expect_out "Outputs (77 draws from q):"
[ "$(jget 's["options"]["init"], s["options"]["eval_every"], s["options"]["step_size"], s["output_draws"]')" = "random 5 0.5 77" ] ||
  fail "options in JSON: $(jget 's["options"]')"

# --init laplace (the default with fixed draws): on linreg (a Gaussian posterior in beta
# given sigma, near one in log sigma) the start is nearly the optimum: fewer iterations
# and model points than --init zero, the same ELBO; zero is still accepted
LR="$top_srcdir/models/linreg.stan"; LRD="$top_srcdir/models/linreg.data.json"
run fit "$LR" --data "$LRD" --init zero --summary-json "$J" --quiet
expect_status 0
expect_out "Start:    zero"
[ "$(jget 's["options"]["init"]')" = zero ] || fail "--init zero: options.init"
z=$(jget 's["iterations"], s["last_iteration"]["n_points"], round(s["final"]["elbo"], 2)')
run fit "$LR" --data "$LRD" --summary-json "$J" --quiet
expect_status 0
d=$(jget 's["iterations"], s["last_iteration"]["n_points"], round(s["final"]["elbo"], 2)')
run fit "$LR" --data "$LRD" --init laplace --summary-json "$J" --quiet
expect_status 0
expect_out "Start:    Laplace (mode search"
[ "$(jget 's["options"]["init"]')" = laplace ] || fail "--init laplace: options.init is the start taken"
l=$(jget 's["iterations"], s["last_iteration"]["n_points"], round(s["final"]["elbo"], 2)')
[ "$d" = "$l" ] || fail "the default start is not laplace: $d vs $l"
echo "$z $l" | awk '{ exit !($1 > $4 && $2 > $5 && $3 == $6) }' ||
  fail "--init laplace vs zero (iterations, points, ELBO): $l vs $z"

# every optimizer on the fixed-draw objective runs (converged or not: 0 or 1); adaptive M
# for the line-search optimisers, a fixed M for adam
for o in bfgs2 cg-fr cg-pr steepest adam; do
  run fit "$ES" --data "$ESD" --optimizer "$o" --max-iter 200 --quiet
  [ "$status" -eq 0 ] || [ "$status" -eq 1 ] || fail "--optimizer $o: exit $status"
  if [ "$o" = adam ]; then
    expect_out "fixed draws (M = 32, standardized), adam, seed 1"
  else
    expect_out "adaptive from 32 up to 512, standardized), $o, seed 1"
  fi
done

# --draws auto (the default) doubles M from 32: the trace shows it, n_points counts it;
# --draws-max caps it; --draws M fixes M; --no-standardize-draws: plain draws
# (--init zero: every evaluation at M, none of the Laplace start's one-point ones)
run fit "$ES" --data "$ESD" --draws auto --draws-max 128 --init zero --trace "$TMP/t.csv" --summary-json "$J" --quiet
expect_status 0
"$PYTHON" - "$TMP/t.csv" "$J" <<'PY' || fail "adaptive M in the trace and JSON"
import csv, json, sys
rows = list(csv.DictReader(open(sys.argv[1], newline="")))
s = json.load(open(sys.argv[2]))
ms = [int(r["draws"]) for r in rows]
assert ms[0] == 32 and max(ms) <= 128 and ms == sorted(ms) and len(set(ms)) >= 2, ms
assert s["options"]["draws_start"] == 32 and s["options"]["draws_max"] == 128, s["options"]
assert s["options"]["draws"] == ms[-1], s["options"]
assert s["last_iteration"]["draws"] == ms[-1]
assert int(rows[-1]["n_points"]) == s["last_iteration"]["n_points"] > 32 * int(rows[-1]["n_fevals"])
PY
run fit "$ES" --data "$ESD" --draws 48 --no-standardize-draws --init zero --summary-json "$J" --quiet
expect_status 0
expect_out "fixed draws (M = 48), bfgs2, seed 1"
[ "$(jget 's["options"]["draws_max"], s["options"]["standardize_draws"], s["last_iteration"]["draws"], s["last_iteration"]["n_points"] == 48 * s["last_iteration"]["n_fevals"]')" = "0 False 48 True" ] ||
  fail "--draws 48 --no-standardize-draws: $(jget 's["options"]')"
run fit "$ES" --data "$ESD" --draws 16 --draws-max 64 --quiet
expect_status 0
expect_out ", adaptive from 16 up to 64, standardized), bfgs2"

# --method stochastic: fresh draws with adam, its defaults
run fit "$ES" --data "$ESD" --method stochastic --max-iter 300 --summary-json "$J" --quiet
[ "$status" -eq 0 ] || [ "$status" -eq 1 ] || fail "--method stochastic: exit $status"
expect_out "stochastic draws (M = 32), adam, seed 1"
[ "$(jget 's["options"]["method"], s["options"]["optimizer"], s["options"]["tol_rel_obj"]')" = "stochastic adam 0.001" ] ||
  fail "stochastic defaults: $(jget 's["options"]')"

# --max-iter: the cap, exit 1, trace has iterations 0..3
run fit "$ES" --data "$ESD" --max-iter 3 --trace "$TMP/t.csv" --quiet
expect_status 1
expect_out "Stopped:  not converged: reached the iteration cap (max-iter 3)"
[ "$(wc -l <"$TMP/t.csv")" -eq 5 ] || fail "trace of 3 iterations has header + 4 rows"

# --tol-rel-obj: a huge tolerance stops at the second iteration (two small changes in a row)
run fit "$ES" --data "$ESD" --draws 32 --tol-rel-obj 1e6 --quiet --summary-json "$J"
expect_status 0
expect_out "Stopped:  converged: relative ELBO change "
expect_out "< tol-rel-obj 1e+06"
[ "$(jget 's["iterations"]')" = 2 ] || fail "--tol-rel-obj 1e6 stops at iteration 2"

# --tol-abs-obj: a huge tolerance stops once the window of 10 iterations is full
run fit "$ES" --data "$ESD" --draws 32 --tol-rel-obj 0 --tol-abs-obj 1e9 --quiet --summary-json "$J"
expect_status 0
expect_out "Stopped:  converged: the ELBO rose by "
expect_out "nats over the last 10 iterations < tol-abs-obj 1e+09"
[ "$(jget 's["iterations"]')" = 10 ] || fail "--tol-abs-obj 1e9 stops at iteration 10"
run fit "$ES" --data "$ESD" --tol-abs-obj -1 --quiet
expect_status 2

# --tol-grad: a huge tolerance stops at the starting point
run fit "$ES" --data "$ESD" --draws 32 --tol-grad 1e9 --quiet --summary-json "$J"
expect_status 0
expect_out "Stopped:  converged: gradient norm "
expect_out "< tol-grad 1e+09"
[ "$(jget 's["iterations"]')" = 0 ] || fail "--tol-grad 1e9 stops at iteration 0"

# --quiet: nothing on stderr; without it, progress
run fit "$ES" --data "$ESD" -q
expect_status 0
expect_empty_err
# --print-every 5 / --refresh 5: iterations 0, 5, 10, ... and the last one
run fit "$ES" --data "$ESD" --print-every 5
expect_status 0
its=$(sed -n 's/^iter=\([0-9]*\) .*/\1/p' "$TMP/err")
last=$(echo "$its" | tail -n 1)
for i in $its; do
  [ $((i % 5)) -eq 0 ] || [ "$i" = "$last" ] || fail "--print-every 5 printed iteration $i"
done
[ "$(echo "$its" | head -n 1)" = 0 ] || fail "--print-every shows iteration 0"
cp "$TMP/err" "$TMP/err5"
run fit "$ES" --data "$ESD" --refresh=5
expect_status 0
[ "$(sed 's/seconds=.*//' "$TMP/err")" = "$(sed 's/seconds=.*//' "$TMP/err5")" ] ||
  fail "--refresh differs from --print-every"
# automatic: every iteration up to 10, then every 10th
run fit "$ES" --data "$ESD" --max-iter 40 --tol-rel-obj 0 --tol-grad 0
its=$(sed -n 's/^iter=\([0-9]*\) .*/\1/p' "$TMP/err" | tr '\n' ' ')
# 0..10 each, then multiples of 10, and the last iteration whatever it is
echo "$its" | awk '{ for (i = 1; i <= NF; i++) {
    if (i <= 11 && $i != i - 1) exit 1;
    if (i > 11 && i < NF && ($i % 10 != 0 || $i <= $(i - 1))) exit 1 } }' ||
  fail "automatic refresh printed: $its"
[ "$(echo "$its" | wc -w)" -ge 12 ] || fail "automatic refresh printed too little: $its"

# --method stochastic starts from zero, as its help says (no Laplace mode search), with
# the stochastic defaults; an explicit tolerance is kept as written
run fit "$LR" --data "$LRD" --method stochastic --summary-json "$J" --output "$TMP/st.csv" --quiet
expect_out "Start:    zero"
grep -q '^#     vi_init = zero$' "$TMP/st.csv" || fail "stochastic: CSV vi_init"
[ "$(jget 's["options"]["init"], s["options"]["init_iterations"], s["options"]["tol_rel_obj"], s["options"]["max_iter"], s["options"]["step_size"]')" = "zero 0 0.001 10000 0.05" ] ||
  fail "stochastic defaults: $(jget 's["options"]')"
run fit "$LR" --data "$LRD" --method stochastic --tol-rel-obj 1e-10 --max-iter 50 --summary-json "$J" --quiet
[ "$(jget 's["options"]["tol_rel_obj"]')" = "1e-10" ] || fail "explicit --tol-rel-obj: $(jget 's["options"]')"
# --draws M fixes M, as in the library (vi_options.draws set, draws_max left unset)
run fit "$LR" --data "$LRD" --draws 200 --summary-json "$J" --quiet
[ "$(jget 's["options"]["draws"], s["options"]["draws_max"]')" = "200 0" ] || fail "--draws 200: $(jget 's["options"]')"
run fit "$LR" --data "$LRD" --draws 64 --draws-max 256 --summary-json "$J" --quiet
[ "$(jget 's["options"]["draws_max"]')" = "256" ] || fail "--draws 64 --draws-max 256"

# -o and -d short forms
run fit "$ES" -d "$ESD" -o "$TMP/short.csv" -q
expect_status 0
[ -s "$TMP/short.csv" ] || fail "-o wrote nothing"
exit 0
