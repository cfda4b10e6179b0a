#!/bin/sh
# --threads: the ELBO trace (every column but the seconds) and the outputs (CSV minus its
# timing lines, summary) are bit-identical with 1 and 2 threads, on a hierarchical model,
# regressions (a GEMM over the draws), a model whose branches part the draws (the
# per-draw fallback), a stochastic fit and a low-rank family; VI_NUM_THREADS gives the
# same; bad values are usage errors.  Chunks of 16 draws: the default 32 draws make two,
# adaptive M up to 512 many more.
. "${top_srcdir:-.}/tests/cli/lib.sh"
E2E="$top_srcdir/tests/lang/e2e"

# fit NAME MODEL DATA THREADS ARGS...: outputs in $TMP/NAME.THREADS.*
fit() {
  name=$1; model=$2; data=$3; t=$4; shift 4
  run fit "$model" --data "$data" --threads "$t" --output "$TMP/$name.$t.csv" \
    --trace "$TMP/$name.$t.trace" --quiet "$@"
  [ "$status" -eq 0 ] || [ "$status" -eq 1 ] || fail "$name, $t threads: exit $status"
  grep -v -e 'Elapsed Time' -e 'seconds (' -e '#   file = ' "$TMP/$name.$t.csv" >"$TMP/$name.$t.csvn"
  cut -d, -f1-14,16- "$TMP/$name.$t.trace" >"$TMP/$name.$t.tracen"
  grep -v -e 'seconds' -e 'Elapsed' -e 'model points' "$TMP/out" >"$TMP/$name.$t.outn"
}

same() {
  name=$1; a=$2; b=$3
  [ -s "$TMP/$name.$a.tracen" ] || fail "$name: empty trace"
  cmp -s "$TMP/$name.$a.tracen" "$TMP/$name.$b.tracen" ||
    fail "$name: ELBO trace differs between $a and $b threads"
  cmp -s "$TMP/$name.$a.csvn" "$TMP/$name.$b.csvn" ||
    fail "$name: CSV differs between $a and $b threads"
  cmp -s "$TMP/$name.$a.outn" "$TMP/$name.$b.outn" ||
    fail "$name: summary differs between $a and $b threads"
}

check() {
  name=$1; model=$2; data=$3; shift 3
  fit "$name" "$model" "$data" 1 "$@"
  fit "$name" "$model" "$data" 2 "$@"
  same "$name" 1 2
}

check eight_schools "$MODELS/eight_schools.stan" "$MODELS/eight_schools.data.json"
check hier_logistic "$MODELS/hier_logistic.stan" "$MODELS/hier_logistic.data.json"
check logistic_matrix "$E2E/logistic_matrix.stan" "$E2E/logistic_matrix.data.json"
check zip_branches "$E2E/zip_branches.stan" "$E2E/zip_branches.data.json"
check radon_varying "$E2E/radon_varying.stan" "$E2E/radon_varying.data.json"
check poisson_stoch "$MODELS/poisson_glm.stan" "$MODELS/poisson_glm.data.json" \
  --method stochastic --max-iter 300
check linreg_lowrank "$MODELS/linreg.stan" "$MODELS/linreg.data.json" --family lowrank:2

# adaptive M went past 32 draws (many chunks) in at least one of these fits
awk -F, 'NR > 1 && $16 > 32 { found = 1 } END { exit !found }' "$TMP"/*.1.trace ||
  fail "no fit used more than 32 draws"

# VI_NUM_THREADS: the same fit as --threads 2; --threads overrides it
status=0
VI_NUM_THREADS=2 "$VI" fit "$MODELS/eight_schools.stan" --data "$MODELS/eight_schools.data.json" \
  --trace "$TMP/env.trace" --quiet >"$TMP/out" 2>"$TMP/err" || status=$?
expect_status 0 "VI_NUM_THREADS=2"
cut -d, -f1-14,16- "$TMP/env.trace" | cmp -s - "$TMP/eight_schools.1.tracen" ||
  fail "VI_NUM_THREADS=2: trace differs"

# bad values
run fit "$ES" --data "$ESD" --threads 0
expect_status 2; expect_err "--threads: expected a positive integer, got '0'"
run fit "$ES" --data "$ESD" --threads two
expect_status 2; expect_err "--threads: expected a positive integer, got 'two'"
run fit "$ES" --data "$ESD" --threads 5000
expect_status 2; expect_err "--threads: expected at most 1024, got '5000'"
status=0
VI_NUM_THREADS=lots "$VI" fit "$ES" --data "$ESD" >"$TMP/out" 2>"$TMP/err" || status=$?
expect_status 2; expect_err "VI_NUM_THREADS: expected a number of threads from 1 to 1024, got 'lots'"
exit 0
