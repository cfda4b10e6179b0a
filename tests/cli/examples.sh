#!/bin/sh
# Every example in models/ checks, fits (converged, or stopped at the cap: exit 0 or 1),
# and writes a CSV that the reader accepts with the output names vi check implies.
. "${top_srcdir:-.}/tests/cli/lib.sh"

for m in eight_schools eight_schools_centered hier_logistic poisson_glm linreg logistic earnings; do
  s="$MODELS/$m.stan"
  d="$MODELS/$m.data.json"
  [ -f "$s" ] && [ -f "$d" ] || fail "missing example $m"
  run check "$s" --data "$d"
  expect_status 0 "vi check $m"
  run fit "$s" --data "$d" --output "$TMP/$m.csv" --quiet
  [ "$status" -eq 0 ] || [ "$status" -eq 1 ] || fail "vi fit $m: exit $status"
  expect_out "Decomposition  log p(X) = ELBO + KL(q || p)"
  grep -q '^lp__,log_p__,log_g__,' "$TMP/$m.csv" || fail "$m: no CSV header"
  if have_python; then
    "$PYTHON" "$top_srcdir/tests/cli/read_stan_csv.py" "$TMP/$m.csv" >/dev/null ||
      fail "$m: CSV rejected"
  fi
done
exit 0
