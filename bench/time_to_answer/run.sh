#!/bin/sh
# bench/time_to_answer/run.sh BEFORE_VI AFTER_VI [OUTDIR]: time to answer, as a user sees
# it, for six model classes (a large-N GLM, a hierarchical model with an indexing loop, a
# two-component mixture, an HMM by the forward algorithm, a predator-prey ODE, a small
# regression), with two `vi` binaries in one run (alternating per model, so machine load
# hits both alike).  Per model and binary: the whole `vi fit` process (wall clock, with
# --output and --summary-json written), compile + load (`vi check` with the data: the
# same compile and data load, no fit), the fit (the last iteration's seconds since
# vi_fit_alloc, from the summary JSON) and the finish (the rest: final diagnostics,
# output draws, writing), and the fit's model points (log-density evaluations, one per
# draw) with the fit's seconds per point.  Not a test: the figures go in bench/README.md.
set -eu
BEFORE=$1 AFTER=$2 OUT=${3:-/tmp/time_to_answer}
HERE=$(cd "$(dirname "$0")" && pwd)
MODELS=${MODELS:-"glm hier_loop mixture hmm ode small_regression"}
mkdir -p "$OUT"
python3 "$HERE/gendata.py" "$OUT"
cp "$HERE/small_regression.data.json" "$OUT/"
now() { date +%s.%N; }
printf '%-17s %-6s %8s %8s %8s %8s %7s %6s %9s %8s %9s\n' model binary whole load fit finish "fin%" draws kl_se points "ms/point"
for m in $MODELS; do
  for which in before after; do
    [ "$which" = before ] && VI=$BEFORE || VI=$AFTER
    d="$OUT/$m.data.json"
    t0=$(now); "$VI" check "$HERE/$m.stan" --data "$d" >/dev/null 2>&1 || true; t1=$(now)
    "$VI" fit "$HERE/$m.stan" --data "$d" --quiet --output "$OUT/$m.$which.csv" \
      --summary-json "$OUT/$m.$which.json" >/dev/null 2>&1 || true
    t2=$(now)
    python3 - "$OUT/$m.$which.json" "$m" "$which" "$t0" "$t1" "$t2" <<'PY'
import json, sys
f, m, w, t0, t1, t2 = sys.argv[1], sys.argv[2], sys.argv[3], *map(float, sys.argv[4:])
d = json.load(open(f))
whole, load, fit = t2 - t1, t1 - t0, d["last_iteration"]["seconds"]
fin = whole - load - fit
pts = d["last_iteration"]["n_points"]
print("%-17s %-6s %8.2f %8.2f %8.2f %8.2f %6.0f%% %6d %9.3f %8d %9.4f" % (
    m, w, whole, load, fit, fin, 100 * fin / whole, d["final"]["draws"], d["final"]["kl_se"],
    pts, 1e3 * fit / max(pts, 1)))
PY
  done
done
