#!/bin/sh
# --output: CmdStan's variational CSV layout, read back by a real CSV reader (Python's csv
# module, read_stan_csv.py): comment header with the configuration, the header row
# lp__,log_p__,log_g__ then the flattened names in order, the mean row first (0,0,0,...),
# then exactly --output-draws rows, every row as wide as the header, every field a number.
. "${top_srcdir:-.}/tests/cli/lib.sh"
have_python || { echo "SKIP: python3 not found"; exit 77; }

run fit "$ES" --data "$ESD" --output "$TMP/es.csv" --output-draws 250 --seed 5 --quiet
expect_status 0
expect_empty_err
[ -f "$TMP/es.csv" ] || fail "no CSV written"

# Raw layout, line by line.
head -n 1 "$TMP/es.csv" | grep -q '^# ' || fail "the file starts with the comment header"
grep -x -q '# method = variational' "$TMP/es.csv" || fail "method = variational"
grep -x -q '#     algorithm = fullrank' "$TMP/es.csv" || fail "algorithm = fullrank (auto at D = 10)"
grep -x -q '#     output_samples = 250' "$TMP/es.csv" || fail "output_samples"
# grad_samples: the M that ran at the end (adaptive from 32, the Fit line's M)
m=$(sed -n 's/^Fit: .*(M = \([0-9]*\),.*/\1/p' "$TMP/out")
grep -x -q "#     grad_samples = $m" "$TMP/es.csv" || fail "grad_samples (M = $m)"
grep -x -q '#     vi_draws_start = 32' "$TMP/es.csv" || fail "vi_draws_start"
grep -x -q '#   seed = 5' "$TMP/es.csv" || fail "seed"
grep -x -q "#   file = $ESD" "$TMP/es.csv" || fail "data file"
grep -x -q '# vi_interrupted = 0' "$TMP/es.csv" || fail "not interrupted"
grep -x -q '# model = eight_schools_model' "$TMP/es.csv" || fail "model name"
want='lp__,log_p__,log_g__,mu,tau,theta_tilde.1,theta_tilde.2,theta_tilde.3,theta_tilde.4,theta_tilde.5,theta_tilde.6,theta_tilde.7,theta_tilde.8,theta.1,theta.2,theta.3,theta.4,theta.5,theta.6,theta.7,theta.8'
got=$(grep -v '^#' "$TMP/es.csv" | head -n 1)
[ "$got" = "$want" ] || fail "header row is '$got'"
grep -v '^#' "$TMP/es.csv" | sed -n 2p | grep -q '^0,0,0,' || fail "mean row first, 0,0,0"
n=$(grep -v '^#' "$TMP/es.csv" | wc -l)
[ "$n" -eq 252 ] || fail "expected header + mean + 250 draws = 252 lines, got $n"

# Through the CSV reader.
"$PYTHON" "$top_srcdir/tests/cli/read_stan_csv.py" "$TMP/es.csv" >"$TMP/es.json" ||
  fail "read_stan_csv.py rejected the file"
"$PYTHON" - "$TMP/es.json" <<'PY' || fail "CSV contents"
import json, math, sys
d = json.load(open(sys.argv[1]))
assert d["n_draws"] == 250, d["n_draws"]
m = d["mean"]
# theta = mu + tau * theta_tilde holds in the mean row (q's mean mapped through the model)
for j in range(1, 9):
    t = m["mu"] + m["tau"] * m["theta_tilde.%d" % j]
    assert abs(t - m["theta.%d" % j]) < 1e-6 * max(1, abs(t)), (j, t, m["theta.%d" % j])
assert m["tau"] > 0
# draws: log p and log q finite, tau positive
assert all(math.isfinite(d["means"][k]) for k in ("log_p__", "log_g__"))
assert d["means"]["tau"] > 0
# the draws scatter around the mean row
for k in ("mu", "theta_tilde.1"):
    assert abs(d["means"][k] - m[k]) < 5 * d["sds"][k] / math.sqrt(250) + 1e-9, k
PY

# Same seed, same options: the same file, byte for byte but for the closing elapsed
# times; another seed: other draws.
run fit "$ES" --data "$ESD" --output "$TMP/es2.csv" --output-draws 250 --seed 5 --quiet
expect_status 0
grep -v ' seconds (' "$TMP/es.csv" >"$TMP/es.untimed"
[ "$(grep -c ' seconds (' "$TMP/es.csv")" -eq 3 ] || fail "the CSV lacks the Elapsed Time lines"
sed 's|es2.csv|es.csv|' "$TMP/es2.csv" | grep -v ' seconds (' | cmp -s - "$TMP/es.untimed" ||
  fail "same seed, different CSV"
run fit "$ES" --data "$ESD" --output "$TMP/es3.csv" --output-draws 250 --seed 6 --quiet
expect_status 0
sed 's|es3.csv|es.csv|; s|seed = 6|seed = 5|' "$TMP/es3.csv" | cmp -s - "$TMP/es.csv" &&
  fail "different seeds, identical draws"

# A model with generated quantities: its column comes last.
run fit "$MODELS/linreg.stan" --data "$MODELS/linreg.data.json" --output "$TMP/lr.csv" \
  --output-draws 10 --quiet
expect_status 0
got=$(grep -v '^#' "$TMP/lr.csv" | head -n 1)
[ "$got" = "lp__,log_p__,log_g__,beta.1,beta.2,beta.3,y_new" ] || fail "linreg header '$got'"
"$PYTHON" "$top_srcdir/tests/cli/read_stan_csv.py" "$TMP/lr.csv" >/dev/null || fail "linreg CSV"
exit 0
