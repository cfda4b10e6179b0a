#!/bin/sh
# --starts: on a bimodal posterior (tests/cli/bimodal.stan) one mode search from zero ends
# on the worse mode; 16 searches reach the better one on every seed of 1..10 and report
# both modes with a multimodality warning; the modes reach the JSON and the CSV header;
# bad values are usage errors.
. "${top_srcdir:-.}/tests/cli/lib.sh"
have_python || { echo "SKIP: python3 not found"; exit 77; }
BM="$top_srcdir/tests/cli/bimodal.stan"
J="$TMP/s.json"
jget() { "$PYTHON" -c "import json,sys; s=json.load(open('$J')); print($1)"; }

run fit "$BM" --starts 1 --summary-json "$J" --quiet
expect_status 0
[ "$(jget 'round(s["q"]["mean"][0])')" = -2 ] || fail "one search from zero: mean $(jget 's["q"]["mean"]')"

for seed in 1 2 3 4 5 6 7 8 9 10; do
  run fit "$BM" --starts 16 --seed "$seed" --summary-json "$J" --output "$TMP/o.csv" --quiet
  expect_status 0
  [ "$(jget 'round(s["q"]["mean"][0])')" = 4 ] ||
    fail "seed $seed: the fit is not at the best mode: mean $(jget 's["q"]["mean"]')"
  [ "$(jget 'len(s["start"]["modes"]), s["start"]["searches"], s["start"]["multimodal"]')" = "2 16 True" ] ||
    fail "seed $seed: start in JSON: $(jget 's["start"]')"
  [ "$(jget 'sum(m["searches"] for m in s["start"]["modes"]) <= 16 and s["start"]["modes"][0]["elbo"] > s["start"]["modes"][1]["elbo"]')" = True ] ||
    fail "seed $seed: modes not ranked: $(jget 's["start"]')"
done
expect_out "Modes:    2 distinct from 16 mode searches"
expect_out "warning: the two best modes are 0.4"
grep -q "^#     vi_starts = 16$" "$TMP/o.csv" || fail "CSV header: vi_starts"
grep -q "^#     vi_modes = -[0-9.]* ([0-9]*), -[0-9.]* ([0-9]*)$" "$TMP/o.csv" ||
  fail "CSV header: vi_modes: $(grep vi_modes "$TMP/o.csv")"

# a unimodal model: one mode, no warning
run fit "$ES" --data "$ESD" --starts 3 --quiet
expect_status 0
expect_no_out "warning: the two best modes"

for bad in 0 -1 2.5 x ""; do
  run fit "$BM" --starts "$bad"
  expect_status 2 "--starts '$bad'"
  expect_err "--starts"
done
exit 0
