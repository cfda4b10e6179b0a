#!/bin/sh
# --family: on a correlated regression with a closed-form posterior (tests/cli/
# kidiq_conjugate.stan: an uncentred predictor and an interaction, correlations up to
# -0.99) the full-rank and rank-2 families give sds within 10% of the exact ones, where
# mean-field's are several times too small; the CSV and JSON say which family ran; bad
# family arguments are usage errors that write nothing.
. "${top_srcdir:-.}/tests/cli/lib.sh"
have_python || { echo "SKIP: python3 not found"; exit 77; }
KQ="$top_srcdir/tests/cli/kidiq_conjugate.stan"
KQD="$top_srcdir/tests/cli/kidiq_conjugate.data.json"

# check_sds JSON LO HI: the ratios of q's sds of b to the exact marginal sds all lie in
# [LO, HI] and the means are within 0.1 exact sd.  The exact posterior: normal-inverse-
# gamma, so b is multivariate t with covariance b_n / (a_n - 1) V_n.
check_sds() {
  "$PYTHON" - "$KQD" "$1" "$2" "$3" <<'PY' || fail "sds of $1 not within [$2, $3] of exact"
import json, sys
d = json.load(open(sys.argv[1])); s = json.load(open(sys.argv[2]))
lo, hi = float(sys.argv[3]), float(sys.argv[4])
N = d["N"]; y = d["kid_score"]
X = [[1.0, h, q, h * q] for h, q in zip(d["mom_hs"], d["mom_iq"])]
A = [[sum(r[i] * r[j] for r in X) + (1.0 / d["s0"][i] ** 2 if i == j else 0.0)
      for j in range(4)] for i in range(4)]
def inverse(M):
    n = len(M); a = [row[:] + [float(i == j) for j in range(n)] for i, row in enumerate(M)]
    for c in range(n):
        p = max(range(c, n), key=lambda r: abs(a[r][c])); a[c], a[p] = a[p], a[c]
        piv = a[c][c]; a[c] = [v / piv for v in a[c]]
        for r in range(n):
            if r != c:
                f = a[r][c]; a[r] = [v - f * w for v, w in zip(a[r], a[c])]
    return [row[n:] for row in a]
V = inverse(A)
Xty = [sum(r[i] * yi for r, yi in zip(X, y)) for i in range(4)]
m = [sum(V[i][j] * Xty[j] for j in range(4)) for i in range(4)]
an = d["a0"] + N / 2.0
bn = d["b0"] + 0.5 * (sum(v * v for v in y) - sum(m[i] * Xty[i] for i in range(4)))
sd = [(bn / (an - 1.0) * V[i][i]) ** 0.5 for i in range(4)]
qm, qs = s["q"]["mean"][:4], s["q"]["sd"][:4]
ratios = [a / b for a, b in zip(qs, sd)]
off = [abs(a - b) / c for a, b, c in zip(qm, m, sd)]
print("sd ratios", " ".join("%.3f" % r for r in ratios), "mean errors (sd)",
      " ".join("%.3f" % o for o in off))
sys.exit(0 if all(lo <= r <= hi for r in ratios) and max(off) < 0.1 else 1)
PY
}

J="$TMP/s.json"
run fit "$KQ" --data "$KQD" --family meanfield --summary-json "$J" --quiet
expect_status 0
expect_out "Fit:      mean-field Gaussian over D = 5"
check_sds "$J" 0 0.2   # the mean-field shrinkage this family exists to fix
expect_out "Note:     at the mode two coordinates are correlated at 0.98"

run fit "$KQ" --data "$KQD" --family fullrank --summary-json "$J" --output "$TMP/fr.csv" --quiet
expect_status 0
expect_out "Fit:      full-rank Gaussian over D = 5"
check_sds "$J" 0.9 1.1
grep -q "^#     algorithm = fullrank$" "$TMP/fr.csv" || fail "CSV header: algorithm = fullrank"
expect_no_out "Note:     at the mode"
"$PYTHON" -c "import json; s = json.load(open('$J')); assert s['q']['family'] == 'fullrank'" ||
  fail "JSON q.family"

run fit "$KQ" --data "$KQD" --family lowrank:2 --summary-json "$J" --output "$TMP/lr.csv" --quiet
expect_status 0
expect_out "Fit:      low-rank Gaussian (diagonal + rank 2) over D = 5"
check_sds "$J" 0.9 1.1
grep -q "^#     algorithm = lowrank$" "$TMP/lr.csv" || fail "CSV header: algorithm = lowrank"
grep -q "^#         rank = 2$" "$TMP/lr.csv" || fail "CSV header: rank = 2"

# the default, --family auto: full rank at D <= 32 ...
run fit "$KQ" --data "$KQD" --summary-json "$J" --quiet
expect_status 0
expect_out "Fit:      full-rank Gaussian over D = 5"
check_sds "$J" 0.9 1.1
# ... mean-field with --covariance lrvb (it corrects a mean-field fit) ...
run fit "$KQ" --data "$KQD" --covariance lrvb --quiet
expect_status 0
expect_out "Fit:      mean-field Gaussian over D = 5"
# ... and above 32 dimensions (capture_mth: D = 87; one iteration is enough to see it)
E2E="$top_srcdir/tests/lang/e2e"
run fit "$E2E/capture_mth.stan" --data "$E2E/capture_mth.data.json" --max-iter 1 --starts 1 \
  --eval-draws 10 --output-draws 10 --quiet
expect_out "Fit:      mean-field Gaussian over D = 87"

# full rank with the stochastic method (Adam on fresh draws) runs too
run fit "$ES" --data "$ESD" --family fullrank --method stochastic --max-iter 300 --quiet
[ "$status" -eq 0 ] || [ "$status" -eq 1 ] || fail "fullrank + stochastic: status $status"
expect_out "Fit:      full-rank Gaussian"

# bad arguments: a usage error naming the problem, exit 2, no output file
for arg in bogus lowrank lowrank:0 lowrank:x lowrank:-1 lowrank:2.5 "lowrank:" fullrank:2; do
  run fit "$KQ" --data "$KQD" --family "$arg" --output "$TMP/bad.csv"
  expect_status 2 "--family $arg"
  expect_err "--family"
  [ ! -e "$TMP/bad.csv" ] || fail "--family $arg wrote the output"
done
run fit "$KQ" --data "$KQD" --family bogus
expect_err "expected one of auto, meanfield, lowrank:K, fullrank"
run fit "$KQ" --data "$KQD" --family lowrank:6 --output "$TMP/bad.csv"
expect_status 2
expect_err "rank 6 exceeds the model's 5 unconstrained dimensions"
[ ! -e "$TMP/bad.csv" ] || fail "--family lowrank:6 wrote the output"
exit 0
