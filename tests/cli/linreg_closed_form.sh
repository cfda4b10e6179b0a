#!/bin/sh
# The linear regression with a closed-form posterior: q's means and sds, the CSV's mean
# row and draws, and the log-evidence estimate agree with the closed form
# (closed_form_linreg.py computes it from the data file).
. "${top_srcdir:-.}/tests/cli/lib.sh"
have_python || { echo "SKIP: python3 not found"; exit 77; }

D="$MODELS/linreg.data.json"
run fit "$MODELS/linreg.stan" --data "$D" --draws 256 --output "$TMP/lr.csv" \
  --summary-json "$TMP/lr.json" --output-draws 2000 --quiet
expect_status 0
expect_out "beta.1"
expect_out "y_new"
"$PYTHON" "$top_srcdir/tests/cli/read_stan_csv.py" "$TMP/lr.csv" >"$TMP/lr_draws.json" ||
  fail "read_stan_csv.py rejected the file"
"$PYTHON" "$top_srcdir/tests/cli/closed_form_linreg.py" "$D" "$TMP/lr.json" \
  "$TMP/lr_draws.json" >"$TMP/cf" 2>"$TMP/cf_err" || { cat "$TMP/cf" "$TMP/cf_err" >&2; fail "closed form"; }
exit 0
