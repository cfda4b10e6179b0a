#!/bin/sh
# bench/time_to_answer/load.sh BEFORE_VI AFTER_VI [OUTDIR]: peak RSS and seconds of
# `vi check` loading a 10^5 x 100 matrix of reals (10^7 numbers, ~190 MB of JSON), for two
# binaries in one run (GNU time -v).  Not a test.
set -eu
BEFORE=$1 AFTER=$2 OUT=${3:-/tmp/vi_load}
mkdir -p "$OUT"
cat >"$OUT/load.stan" <<'M'
data { int N; int K; matrix[N, K] X; }
parameters { real mu; }
model { mu ~ normal(0, 1); }
M
[ -f "$OUT/load.data.json" ] || python3 - "$OUT/load.data.json" <<'PY'
import random, sys
r = random.Random(7)
with open(sys.argv[1], "w") as f:
    f.write('{"N": 100000, "K": 100, "X": [')
    for i in range(100000):
        f.write(("," if i else "") + "[" + ",".join("%.15g" % r.gauss(0, 1) for _ in range(100)) + "]")
    f.write("]}\n")
PY
ls -l "$OUT/load.data.json"
for which in before after; do
  [ "$which" = before ] && VI=$BEFORE || VI=$AFTER
  /usr/bin/time -v "$VI" check "$OUT/load.stan" --data "$OUT/load.data.json" >/dev/null 2>"$OUT/$which.time" || true
  printf '%-6s %8s s  peak RSS %8s kB\n' "$which" \
    "$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$OUT/$which.time")" \
    "$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$OUT/$which.time")"
done
