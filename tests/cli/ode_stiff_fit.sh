#!/bin/sh
# A fit of a stiff model (one-compartment pharmacokinetics, elimination ~1000x
# absorption, through ode_bdf) converges within the default caps and recovers the
# simulation's ka = 0.8 and ke = 800 (data: tests/cli/pk_stiff.data.json).
. "${top_srcdir:-.}/tests/cli/lib.sh"

run fit "$top_srcdir/tests/cli/pk_stiff.stan" --data "$top_srcdir/tests/cli/pk_stiff.data.json" \
  --quiet -o "$TMP/draws.csv"
expect_status 0
expect_out "Stopped:  converged: "
awk '$1 == "ka" {ka = $2} $1 == "ke" {ke = $2}
     END {exit !(ka > 0.75 && ka < 0.85 && ke > 650 && ke < 950)}' "$TMP/out" ||
  fail "ka, ke far from the simulation's 0.8, 800"
exit 0
