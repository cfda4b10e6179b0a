#!/bin/sh
# --shard-by over MPI ranks (a build --with-mpi; skipped otherwise): the same fit on 1, 2
# and 4 ranks (mpirun --oversubscribe) gives the same ELBO to 1e-9 relative and the same
# means and sds (to 1e-4 of an sd), on a logistic regression and on a hierarchical one
# with group intercepts; one rank gives what the unsharded fit gives, bit for bit; rank 0
# alone writes the outputs and the summary.  More ranks than observations and a data
# error in one rank's part are clean errors, nothing written; a rank that dies stops the
# job (mpirun's exit status not 0), it does not hang.
. "${top_srcdir:-.}/tests/cli/lib.sh"
SH="$top_srcdir/tests/cli/shard"
MPIRUN=${MPIRUN:-mpirun}
command -v "$MPIRUN" >/dev/null 2>&1 || { echo "SKIP: no mpirun (configure --with-mpi)"; exit 77; }
"$VI" help fit 2>&1 | grep -q -e '--shard-by' || { echo "SKIP: no --shard-by"; exit 77; }
have_python || { echo "SKIP: no python3"; exit 77; }
# root in a container (CI): Open MPI refuses without these
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_rmaps_base_oversubscribe=1
MPI="$MPIRUN --oversubscribe"
"$VI" fit --help >/dev/null 2>&1
grep -q 'HAVE_MPI 1' "$top_builddir/config.h" 2>/dev/null || { echo "SKIP: built without MPI"; exit 77; }

# mrun R ARGS...: `vi` on R ranks, stdout/stderr/status as run()
mrun() {
  r=$1; shift
  status=0
  $MPI -n "$r" "$VI" "$@" >"$TMP/out" 2>"$TMP/err" || status=$?
}

"$PYTHON" "$SH/gen.py" logistic 2000 5 --seed 3 >"$TMP/logistic.json" || fail "gen.py"
"$PYTHON" "$SH/gen.py" hier 400 3 6 --seed 4 >"$TMP/hier.json" || fail "gen.py"
TIGHT="--tol-abs-obj 0 --tol-rel-obj 1e-15 --tol-grad 1e-8"
# fit_done WHAT: the fit ran to its end, converged (0) or stopped where the line search
# could not improve any further (1: at these tolerances the sums' rounding, which the
# rank count changes, decides which); compare.py checks what matters, the values
fit_done() { [ "$status" -le 1 ] || fail "$1: exit status $status"; }

for r in 1 2 4; do
  mrun $r fit "$MODELS/logistic.stan" --data "$TMP/logistic.json" --shard-by N --quiet \
    --summary-json "$TMP/lr.$r.json" --output "$TMP/lr.$r.csv" $TIGHT
  fit_done "logistic on $r ranks"
  [ "$(grep -c '^Model:' "$TMP/out")" -eq 1 ] || fail "$r ranks: one summary expected"
  mrun $r fit "$MODELS/hier_logistic.stan" --data "$TMP/hier.json" --shard-by N --quiet \
    --summary-json "$TMP/hl.$r.json" $TIGHT
  fit_done "hierarchical on $r ranks"
done
"$PYTHON" "$SH/compare.py" 1e-9 1e-4 "$TMP/lr.1.json" "$TMP/lr.2.json" "$TMP/lr.4.json" ||
  fail "logistic: 1, 2, 4 ranks disagree"
"$PYTHON" "$SH/compare.py" 1e-9 1e-4 "$TMP/hl.1.json" "$TMP/hl.2.json" "$TMP/hl.4.json" ||
  fail "hierarchical: 1, 2, 4 ranks disagree"

# one rank is the unsharded fit, bit for bit (the CSV but its timing lines)
run fit "$MODELS/logistic.stan" --data "$TMP/logistic.json" --quiet --output "$TMP/plain.csv" $TIGHT
fit_done "unsharded"
grep -v -e 'Elapsed' -e 'seconds' -e 'file = ' -e 'shard' "$TMP/plain.csv" >"$TMP/a"
grep -v -e 'Elapsed' -e 'seconds' -e 'file = ' -e 'shard' "$TMP/lr.1.csv" >"$TMP/b"
cmp -s "$TMP/a" "$TMP/b" || fail "one rank differs from the unsharded fit"

# more ranks than observations: a data error (4), nothing written
printf '{"N": 3, "K": 1, "X": [[1], [2], [3]], "y": [0, 1, 1]}' >"$TMP/tiny.json"
mrun 4 fit "$MODELS/logistic.stan" --data "$TMP/tiny.json" --shard-by N --output "$TMP/no.csv"
expect_status 4 "4 ranks, N = 3"
expect_err "fewer observations than ranks"
[ "$(grep -c 'error' "$TMP/err")" -eq 1 ] || fail "the error should be printed once"
[ ! -e "$TMP/no.csv" ] || fail "an output was written"

# an invalid value in rank 1's rows only: that rank's error, once, exit 4
printf '{"N": 4, "K": 1, "X": [[1], [2], [3], [4]], "y": [0, 1, 1, 7]}' >"$TMP/bad.json"
mrun 2 fit "$MODELS/logistic.stan" --data "$TMP/bad.json" --shard-by N --output "$TMP/no.csv"
expect_status 4 "a bad value on rank 1"
expect_err "y[2]"
[ ! -e "$TMP/no.csv" ] || fail "an output was written"

# a shard-unsafe model: a model error (3) naming the statement, once
mrun 2 fit "$SH/centred.stan" --data "$SH/data.json" --shard-by N --output "$TMP/no.csv"
expect_status 3 "centred"
expect_err "centred.stan:8:"
[ "$(grep -c 'error' "$TMP/err")" -eq 1 ] || fail "the error should be printed once"

# a rank that dies: the job stops with an error within the minute, no hang
"$PYTHON" "$SH/gen.py" logistic 20000 10 --seed 5 >"$TMP/big.json" || fail "gen.py"
$MPI -n 2 "$VI" fit "$MODELS/logistic.stan" --data "$TMP/big.json" --shard-by N --quiet \
  --method stochastic --tol-rel-obj 0 --max-iter 100000000 >"$TMP/out" 2>"$TMP/err" &
job=$!
sleep 4
victim=$(ps -o pid= --ppid "$job" 2>/dev/null | tail -n 1)
[ -n "$victim" ] || { kill "$job"; fail "no rank found to kill"; }
kill -9 $victim
i=0
while kill -0 "$job" 2>/dev/null && [ $i -lt 60 ]; do sleep 1; i=$((i + 1)); done
if kill -0 "$job" 2>/dev/null; then
  kill "$job"; fail "the job hung after a rank died"
fi
wait "$job" && fail "the job succeeded though a rank died"
echo "ok: a rank killed, the job stopped after ${i} s"
exit 0
