#!/bin/sh
# vi check: the parameters with their declared type, constrained and unconstrained sizes,
# the total dimension D and the number of outputs per draw; without data, the sizes that
# need data are unknown but the model is still checked.
. "${top_srcdir:-.}/tests/cli/lib.sh"

run check "$ES" --data "$ESD"
expect_status 0
expect_out "Model:  $ES: ok"
expect_out "Data:   $ESD: ok"
expect_out "Parameters (3, in declaration order):"
grep -E -q '^  mu +real +1 +1$' "$TMP/out" || fail "mu row"
grep -E -q '^  tau +real<lower=0> +1 +1$' "$TMP/out" || fail "tau row"
grep -E -q '^  theta_tilde +vector\[[^]]*\] +8 +8$' "$TMP/out" || fail "theta_tilde row"
expect_out "Total unconstrained dimension: D = 10"
expect_out "Outputs per draw: 18 (parameters, transformed parameters, generated quantities)"

# a simplex: K constrained values, K - 1 unconstrained
cat >"$TMP/simplex.stan" <<'STAN'
parameters {
  simplex[4] p;
  real<lower=0, upper=1> r;
}
model {
  r ~ beta(2, 2);
}
generated quantities {
  real p1;
  p1 = p[1];
}
STAN
run check "$TMP/simplex.stan"
expect_status 0
grep -E -q '^  p +simplex\[4\] +4 +3$' "$TMP/out" || fail "simplex row"
grep -E -q '^  r +real<lower=0, ?upper=1> +1 +1$' "$TMP/out" || fail "bounded real row"
expect_out "Total unconstrained dimension: D = 4"
expect_out "Outputs per draw: 6 "

# without the data its sizes need
run check "$ES"
expect_status 0
expect_out "Data:   none given; the sizes below need the data (--data DATA.json)"
expect_out "Total unconstrained dimension: unknown without data"
grep -E -q '^  tau +real<lower=0> +\? +\?$' "$TMP/out" || fail "tau row without data"

# A parameter with no prior: a warning naming it and its declaration, from check and
# fit alike (stderr, and the fit's JSON warnings); exit statuses unchanged.  Eight
# schools has a prior on every parameter: no warning.
run check "$ES" --data "$ESD"
expect_empty_err
printf 'data { int N; vector[N] y; }\nparameters { real mu;\n  real<lower=0> sigma; }\nmodel { y ~ normal(mu, sigma); }\n' >"$TMP/flat.stan"
printf '{"N": 4, "y": [1.5, 2.5, 0.5, 2.0]}\n' >"$TMP/flat.json"
run check "$TMP/flat.stan" --data "$TMP/flat.json"
expect_status 0
expect_err_line "$TMP/flat.stan:2:19: warning: parameter 'mu' has no prior: the posterior may be improper"
expect_err_line "$TMP/flat.stan:3:17: warning: parameter 'sigma' has no prior: the posterior may be improper"
[ "$(grep -c warning "$TMP/err")" = 2 ] || fail "two warnings expected"
run fit "$TMP/flat.stan" --data "$TMP/flat.json" --quiet --summary-json "$TMP/flat.sum.json"
expect_status 0
expect_err_line "$TMP/flat.stan:3:17: warning: parameter 'sigma' has no prior: the posterior may be improper"
if have_python; then
  "$PYTHON" - "$TMP/flat.sum.json" "$TMP/flat.stan" <<'PY' || fail "JSON warnings"
import json, sys
w = json.load(open(sys.argv[1]))["warnings"]
p = sys.argv[2]
assert w == [p + ":2:19: warning: parameter 'mu' has no prior: the posterior may be improper",
             p + ":3:17: warning: parameter 'sigma' has no prior: the posterior may be improper"], w
PY
fi
exit 0
