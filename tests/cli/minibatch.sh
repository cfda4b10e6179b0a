#!/bin/sh
# --minibatch B (with --method stochastic --shard-by N): a conjugate normal mean
# (N = 2000) fitted on minibatches of 100 rows reaches the closed-form posterior mean and
# reports the ELBO of q on the whole data (check.py); the progress lines, the trace, the
# summary, the JSON and the CSV header say the iterations are minibatch estimates; B = N
# is the fit without minibatches, bit for bit.  Usage errors (2, nothing written):
# without --method stochastic, without --shard-by, B = 0, B not an integer, B > N.  With
# MPI (a build --with-mpi, else that part is skipped): a 2-rank minibatch fit runs, rank 0
# alone writes, and B above a rank's rows is one error.
. "${top_srcdir:-.}/tests/cli/lib.sh"
have_python || { echo "SKIP: no python3"; exit 77; }
MB="$top_srcdir/tests/cli/minibatch"
M="$MB/normal_mean.stan"
"$PYTHON" "$MB/gen.py" 2000 >"$TMP/d.json" || fail "gen.py"
D="$TMP/d.json"

# usage errors, nothing written
bad() {   # bad TEXT ARGS...
  t=$1; shift
  run fit "$M" --data "$D" --output "$TMP/no.csv" "$@"
  expect_status 2 "$t"
  expect_err "$t"
  [ ! -e "$TMP/no.csv" ] || fail "written despite: $t"
}
bad "--minibatch: needs --method stochastic" --shard-by N --minibatch 100
bad "--minibatch: needs --shard-by N" --method stochastic --minibatch 100
bad "--minibatch: expected a positive integer, got '0'" --method stochastic --shard-by N --minibatch 0
bad "--minibatch: expected a positive integer, got '1.5'" --method stochastic --shard-by N --minibatch 1.5
bad "--minibatch: expected a positive integer, got 'ten'" --method stochastic --shard-by N --minibatch ten
bad "--minibatch: 2001 rows is more than the data's N = 2000" --method stochastic --shard-by N --minibatch 2001
"$VI" help fit | grep -q -e '--minibatch B' || fail "help fit lacks --minibatch"

# the conjugate fit: the closed form, and what the reports say
MBA="--method stochastic --shard-by N --minibatch 100"
run fit "$M" --data "$D" $MBA --summary-json "$TMP/s.json" --trace "$TMP/t.csv" \
  --output "$TMP/o.csv"
expect_status 0 "minibatch fit"
"$PYTHON" "$MB/check.py" "$D" "$TMP/s.json" >"$TMP/check" || { cat "$TMP/check" >&2; fail "check.py"; }
expect_err "minibatch=100"
expect_out "minibatches of 100 of the 2000 rows of N per step"
expect_out "(on the whole data; the progress lines estimate these on minibatches of 100 of the"
head -n 1 "$TMP/t.csv" | grep -q ',draws_shift,minibatch$' || fail "trace: no minibatch column"
[ "$(sed -n 2p "$TMP/t.csv" | awk -F, '{print $NF}')" = 100 ] || fail "trace: minibatch != 100"
grep -q '^#     vi_minibatch = 100$' "$TMP/o.csv" || fail "CSV header lacks vi_minibatch"
"$PYTHON" -c "
import json, sys
d = json.load(open('$TMP/s.json'))
mb = d['minibatch']
ok = d['options']['minibatch'] == 100 and mb['rows_per_step'] == 100 and mb['rows'] == 2000
ok = ok and mb['iterations'] == 'minibatch estimates' and mb['final'] == 'whole data'
sys.exit(0 if ok else 1)" || fail "summary JSON: minibatch"

# B = N: every row every step, in order: the fit without minibatches, bit for bit
run fit "$M" --data "$D" --method stochastic --shard-by N --output "$TMP/a.csv" --quiet
expect_status 0 "whole data"
run fit "$M" --data "$D" --method stochastic --shard-by N --minibatch 2000 --output "$TMP/b.csv" --quiet
expect_status 0 "B = N"
for f in a b; do
  grep -v -e 'Elapsed' -e 'seconds' -e 'file = ' -e 'vi_minibatch' "$TMP/$f.csv" >"$TMP/$f.n"
done
cmp -s "$TMP/a.n" "$TMP/b.n" || fail "B = N differs from the fit without minibatches"

# MPI: 2 ranks, each its own 100 rows of its 1000
MPIRUN=${MPIRUN:-mpirun}
if grep -q 'HAVE_MPI 1' "$top_builddir/config.h" 2>/dev/null && command -v "$MPIRUN" >/dev/null 2>&1; then
  export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
  export OMPI_MCA_rmaps_base_oversubscribe=1
  status=0
  $MPIRUN --oversubscribe -n 2 "$VI" fit "$M" --data "$D" $MBA --summary-json "$TMP/m.json" \
    --output "$TMP/m.csv" >"$TMP/out" 2>"$TMP/err" || status=$?
  expect_status 0 "2 ranks"
  [ "$(grep -c '^Model:' "$TMP/out")" -eq 1 ] || fail "2 ranks: one summary expected"
  expect_out "minibatches of 100 of the 2000 rows of N per step on each rank, of its own"
  "$PYTHON" "$MB/check.py" "$D" "$TMP/m.json" >"$TMP/check" || { cat "$TMP/check" >&2; fail "2 ranks: check.py"; }
  [ -s "$TMP/m.csv" ] || fail "2 ranks: rank 0 wrote no CSV"
  status=0
  $MPIRUN --oversubscribe -n 2 "$VI" fit "$M" --data "$D" --method stochastic --shard-by N \
    --minibatch 1500 --output "$TMP/no.csv" >"$TMP/out" 2>"$TMP/err" || status=$?
  expect_status 2 "B above a rank's rows"
  expect_err "--minibatch: 1500 rows is more than rank 0's 1000 rows (N = 2000 over 2 ranks)"
  [ "$(grep -c 'minibatch' "$TMP/err")" -eq 1 ] || fail "the error printed more than once"
  [ ! -e "$TMP/no.csv" ] || fail "2 ranks: written despite the error"
else
  echo "(MPI part skipped: not configured --with-mpi)"
fi
exit 0
