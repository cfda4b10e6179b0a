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
exit 0
