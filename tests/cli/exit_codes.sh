#!/bin/sh
# Every exit code of vi fit, each with its message (model errors: model_errors.sh, data
# errors: data_errors.sh, 130: interrupt.sh, usage: usage_errors.sh):
#   0 converged, 1 not converged (reported and written), 5 numerical failure / runtime
#   error in the model, 6 I/O error.
. "${top_srcdir:-.}/tests/cli/lib.sh"

# 0: converged
run fit "$ES" --data "$ESD" --quiet
expect_status 0
expect_out "Stopped:  converged"

# 1: the iteration cap; the fit is still reported and the files written
run fit "$ES" --data "$ESD" --max-iter 2 --output "$TMP/cap.csv" --quiet
expect_status 1
expect_out "Stopped:  not converged: reached the iteration cap (max-iter 2)"
expect_out "Outputs (1000 draws from q):"
grep -q '^# vi_stop_reason = max_iter$' "$TMP/cap.csv" || fail "CSV of a capped fit"

# 5: a runtime error in the model (index out of range at the first evaluation)
cat >"$TMP/oob.stan" <<'STAN'
data {
  int<lower=1> N;
  vector[N] y;
}
parameters {
  real mu;
}
model {
  mu ~ normal(0, 1);
  y[N + 1] ~ normal(mu, 1);
}
STAN
printf '{"N": 3, "y": [1, 2, 3]}\n' >"$TMP/oob.json"
run fit "$TMP/oob.stan" --data "$TMP/oob.json" --output "$TMP/oob.csv"
expect_status 5
# the model's own report: where, what, the source line and a caret
head -n 1 "$TMP/err" | grep -q -F -e "$TMP/oob.stan:10:" || fail "runtime error location"
head -n 1 "$TMP/err" | grep -q -F -e "out of range" || fail "runtime error text"
[ "$(wc -l <"$TMP/err")" -le 3 ] || fail "runtime error: more than message, line and caret"
[ ! -e "$TMP/oob.csv" ] || fail "a failed fit wrote its output"

# 5: a runtime error mid-fit, where q's draws reach mu > 2.5: one more line says where
cat >"$TMP/oob2.stan" <<'STAN'
data {
  int<lower=1> N;
  vector[N] y;
}
parameters {
  real mu;
  real<lower=0> sigma;
}
model {
  mu ~ normal(0, 1);
  sigma ~ normal(0, 1);
  y ~ normal(mu, sigma);
  if (mu > 2.5)
    target += y[N + 1];
}
STAN
printf '{"N": 3, "y": [4, 5, 6]}\n' >"$TMP/oob2.json"
run fit "$TMP/oob2.stan" --data "$TMP/oob2.json" --init zero --quiet
expect_status 5
head -n 1 "$TMP/err" | grep -q -F -e "$TMP/oob2.stan:14:" || fail "mid-fit error location"
grep -q -E '^vi: at iteration [1-9][0-9]*, draw [0-9]+: lp = nan at z = \(mu = [0-9.e+-]+, log\(sigma\) = [0-9.e+-]+\)$' "$TMP/err" ||
  fail "mid-fit error: no 'at iteration' line"
mu=$(sed -n 's/^vi: at iteration .* z = (mu = \([^,]*\),.*/\1/p' "$TMP/err")
awk -v m="$mu" 'BEGIN { exit !(m > 2.5) }' || fail "mid-fit error: z is not the failing point ($mu)"

# 5: reject() with its message
cat >"$TMP/reject.stan" <<'STAN'
parameters {
  real mu;
}
model {
  mu ~ normal(0, 1);
  reject("mu is not welcome here");
}
STAN
run fit "$TMP/reject.stan"
expect_status 5
expect_err "mu is not welcome here"

# 5: a log density that is -inf everywhere: no starting point
cat >"$TMP/neginf.stan" <<'STAN'
parameters {
  real mu;
}
model {
  target += log(0.0);
}
STAN
run fit "$TMP/neginf.stan"
expect_status 5
expect_err_line "vi: cannot start the fit: the log density is not finite at the starting draws; the statement responsible is named below (--init random helps only when the start lies outside the model's support)"
expect_err_line "vi: at the start: lp = -inf at z = (mu = 0)"
expect_err_line "$TMP/neginf.stan:5:3: error: the log density is -inf here"

# 6: an output file that cannot be created
run fit "$ES" --data "$ESD" --output "$TMP/no/such/dir/out.csv" --quiet
expect_status 6
expect_err_line "vi: $TMP/no/such/dir/out.csv: cannot create a file there: No such file or directory"
run fit "$ES" --data "$ESD" --summary-json "$TMP/no/s.json" --quiet
expect_status 6
run fit "$ES" --data "$ESD" --trace "$TMP" --quiet
expect_status 6
# 6: a model file that cannot be read
run fit "$TMP/missing.stan"
expect_status 6
expect_err "missing.stan"
[ "$(wc -l <"$TMP/err")" -le 2 ] || fail "I/O error in more than two lines"
# 6: a data file that cannot be read
run fit "$ES" --data "$TMP/missing.json"
expect_status 6
expect_err "missing.json"
run check "$ES" --data "$TMP/missing.json"
expect_status 6
exit 0
