#!/bin/sh
# The linear regression with a closed-form posterior, mean-field q (--family meanfield:
# the closed form of its optimum is what the script knows): q's means and sds, the CSV's mean
# row and draws, and the log-evidence estimate agree with the closed form
# (closed_form_linreg.py computes it from the data file).
. "${top_srcdir:-.}/tests/cli/lib.sh"
have_python || { echo "SKIP: python3 not found"; exit 77; }

D="$MODELS/linreg.data.json"
run fit "$MODELS/linreg.stan" --data "$D" --family meanfield --draws 256 --no-standardize-draws --output "$TMP/lr.csv" \
  --summary-json "$TMP/lr.json" --output-draws 2000 --quiet
expect_status 0
expect_out "beta.1"
expect_out "y_new"
"$PYTHON" "$top_srcdir/tests/cli/read_stan_csv.py" "$TMP/lr.csv" >"$TMP/lr_draws.json" ||
  fail "read_stan_csv.py rejected the file"
"$PYTHON" "$top_srcdir/tests/cli/closed_form_linreg.py" "$D" "$TMP/lr.json" \
  "$TMP/lr_draws.json" >"$TMP/cf" 2>"$TMP/cf_err" || { cat "$TMP/cf" "$TMP/cf_err" >&2; fail "closed form"; }

# With --standardize-draws the fixed-draw objective is exact for a Gaussian posterior:
# q's means and sds equal the closed form to the optimiser's tolerance.
run fit "$MODELS/linreg.stan" --data "$D" --family meanfield --standardize-draws --output "$TMP/lr2.csv" \
  --summary-json "$TMP/lr2.json" --quiet
expect_status 0
"$PYTHON" "$top_srcdir/tests/cli/read_stan_csv.py" "$TMP/lr2.csv" >"$TMP/lr2_draws.json" ||
  fail "read_stan_csv.py rejected the file"
"$PYTHON" "$top_srcdir/tests/cli/closed_form_linreg.py" "$D" "$TMP/lr2.json" \
  "$TMP/lr2_draws.json" 1e-3 1e-3 >"$TMP/cf" 2>"$TMP/cf_err" ||
  { cat "$TMP/cf" "$TMP/cf_err" >&2; fail "closed form, standardized draws"; }
grep -q '^#     vi_standardize_draws = 1$' "$TMP/lr2.csv" || fail "CSV header lacks vi_standardize_draws = 1"
exit 0
