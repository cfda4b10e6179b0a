#!/bin/sh
# --shard-by in any build (one process without MPI): a name that is not a data int is a
# usage error (2); a model that cannot be split soundly is a model error (3) naming the
# statement: transformed data centring by a mean, a parameter sized by N, generated
# quantities that read the data, a reduction in a prior; nothing is written.  A model
# written per observation (a loop over 1:N, a local sized by N, group intercepts at each
# row's group) fits, and one shard gives what the unsharded fit gives.
. "${top_srcdir:-.}/tests/cli/lib.sh"
SH="$top_srcdir/tests/cli/shard"
D="$SH/data.json"

shard() {   # shard MODEL BY [ARGS...]
  m=$1; by=$2; shift 2
  run fit "$m" --data "$D" --shard-by "$by" --output "$TMP/o.csv" --quiet "$@"
  [ ! -e "$TMP/o.csv" ] || [ "$status" -le 1 ] || fail "$m: written despite an error"
}

shard "$SH/loop_ok.stan" M
expect_status 2 "no such variable"
expect_err "--shard-by: cannot shard by 'M': the data block declares no variable 'M'"
shard "$SH/loop_ok.stan" x
expect_status 2 "a vector"
expect_err "--shard-by: cannot shard by 'x': it is declared vector[N], not an int"

shard "$SH/centred.stan" N
expect_status 3 "centred"
expect_err "centred.stan:8:18: error: cannot shard the data by 'N': 'xc' in transformed data reads 'x'"
expect_err "compute it beforehand"
shard "$SH/param_by_n.stan" N
expect_status 3 "parameter sized by N"
expect_err "param_by_n.stan:7:10: error: cannot shard the data by 'N': 'z' in parameters reads 'N'"
shard "$SH/gq_data.stan" N
expect_status 3 "generated quantities"
expect_err "gq_data.stan:14:10: error: cannot shard the data by 'N': 'log_lik' in generated quantities"
shard "$SH/reduce_model.stan" N
expect_status 3 "mean in a prior"
expect_err "reduce_model.stan:10:15: error: cannot shard the data by 'N': mean() combines the observations of the sharded 'y'"

# a model written per observation: sharded (one process) = unsharded, bit for bit
run fit "$SH/loop_ok.stan" --data "$D" --output "$TMP/a.csv" --quiet
expect_status 0 "loop_ok unsharded"
run fit "$SH/loop_ok.stan" --data "$D" --output "$TMP/b.csv" --quiet --shard-by N
expect_status 0 "loop_ok sharded"
for f in a b; do grep -v -e 'Elapsed' -e 'seconds' -e 'file = ' -e 'shard' "$TMP/$f.csv" >"$TMP/$f.n"; done
cmp -s "$TMP/a.n" "$TMP/b.n" || fail "loop_ok: the sharded fit differs from the unsharded one"
exit 0
