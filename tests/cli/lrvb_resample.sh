#!/bin/sh
# --covariance meanfield|lrvb and --resample none|psis: bad values and combinations are
# usage errors; on the earnings regression (uncentred height, an interaction, a closed-form
# posterior) the LRVB covariance is exact and the output draws have the exact sds where
# q's are 18x too small (lrvb_check.py); the summary, CSV header and JSON say what was
# done; PSIS resampling is done when q is good, and refused (raw draws kept, the reason
# given) when k-hat > 0.7.
. "${top_srcdir:-.}/tests/cli/lib.sh"
have_python || { echo "SKIP: python3 not found"; exit 77; }

LR="$MODELS/linreg.stan"
LD="$MODELS/linreg.data.json"

run fit "$LR" --data "$LD" --covariance full
expect_status 2
expect_err "vi: --covariance: expected 'meanfield' or 'lrvb', got 'full'"
run fit "$LR" --data "$LD" --resample yes
expect_status 2
expect_err "vi: --resample: expected 'none' or 'psis', got 'yes'"
run fit "$LR" --data "$LD" --covariance lrvb --method stochastic --output "$TMP/no.csv"
expect_status 2
expect_err "--covariance lrvb: needs --method fixed"
[ ! -e "$TMP/no.csv" ] || fail "a usage error wrote the output file"
run fit "$LR" --data "$LD" --covariance
expect_status 2
printf 'parameters { vector[2001] z; }\nmodel { z ~ normal(0, 1); }\n' >"$TMP/big.stan"
run fit "$TMP/big.stan" --covariance lrvb --output "$TMP/big.csv"
expect_status 2
expect_err "vi: --covariance lrvb: not available for D = 2001 unconstrained dimensions (at most 2000"
[ ! -e "$TMP/big.csv" ] || fail "a refused --covariance lrvb wrote the output file"

# The defaults say meanfield and none.
run fit "$LR" --data "$LD" --quiet --output "$TMP/mf.csv" --summary-json "$TMP/mf.json"
expect_status 0
expect_out "Outputs (1000 draws from q):"
grep -q '^#     covariance = meanfield$' "$TMP/mf.csv" || fail "CSV header lacks covariance = meanfield"
grep -q '^#     resample = none$' "$TMP/mf.csv" || fail "CSV header lacks resample = none"
grep -q '"covariance": "meanfield"' "$TMP/mf.json" || fail "JSON lacks covariance meanfield"
grep -q '"lrvb": null' "$TMP/mf.json" || fail "JSON: lrvb should be null"

# The earnings regression: LRVB exact, mean-field 18x too small.
ED="$MODELS/earnings.data.json"
run fit "$MODELS/earnings.stan" --data "$ED" --covariance lrvb --output-draws 4000 --quiet \
  --output "$TMP/e.csv" --summary-json "$TMP/e.json"
expect_status 0
expect_out "Covariance: linear response (LRVB"
expect_out "Outputs (4000 draws from N(mu, Sigma_LR); sd: linear response (LRVB)):"
grep -q '^#     covariance = lrvb$' "$TMP/e.csv" || fail "CSV header lacks covariance = lrvb"
grep -q '^# vi_lrvb_points = ' "$TMP/e.csv" || fail "CSV header lacks vi_lrvb_points"
grep -q '"covariance": "lrvb"' "$TMP/e.json" || fail "JSON lacks covariance lrvb"
"$PYTHON" "$top_srcdir/tests/cli/lrvb_check.py" "$ED" "$TMP/e.json" >"$TMP/chk" 2>&1 ||
  { cat "$TMP/chk" >&2; fail "LRVB against the closed form"; }
"$PYTHON" "$top_srcdir/tests/cli/read_stan_csv.py" "$TMP/e.csv" >/dev/null ||
  fail "read_stan_csv.py rejected the lrvb file"

# PSIS resampling where q is good: done, k-hat good, said everywhere.
run fit "$LR" --data "$LD" --resample psis --quiet --output "$TMP/rs.csv" --summary-json "$TMP/rs.json"
expect_status 0
expect_out "Resampling: PSIS, 1000 of 10000 draws from q kept"
expect_out "Outputs (1000 draws from q, PSIS-resampled from 10000):"
grep -q '^#     resample = psis$' "$TMP/rs.csv" || fail "CSV header lacks resample = psis"
grep -q '^# vi_resampled = 1$' "$TMP/rs.csv" || fail "CSV header lacks vi_resampled = 1"
"$PYTHON" - "$TMP/rs.json" <<'PY' || fail "JSON resample block"
import json, sys
r = json.load(open(sys.argv[1]))["resample"]
assert r["method"] == "psis" and r["done"] is True and r["from_draws"] == 10000, r
assert r["khat"] < 0.5, r
PY

# A q far too narrow (mean-field on a correlation of 0.999): k-hat > 0.7, raw draws kept;
# with --covariance lrvb the proposal is exact and the resampling is done.
cat >"$TMP/corr.stan" <<'STAN'
parameters { vector[2] z; }
model { z ~ multi_normal([0, 0]', [[1, 0.999], [0.999, 1]]); }
STAN
run fit "$TMP/corr.stan" --family meanfield --resample psis --quiet --output "$TMP/bad.csv"
expect_status 0
expect_out "Resampling: not done: k-hat"
expect_out "> 0.7 over 10000 draws from q"
expect_out "Outputs (1000 draws from q):"
grep -q '^# vi_resampled = 0$' "$TMP/bad.csv" || fail "CSV header lacks vi_resampled = 0"
run fit "$TMP/corr.stan" --resample psis --covariance lrvb --quiet
expect_status 0
expect_out "Resampling: PSIS, 1000 of 10000 draws from N(mu, Sigma_LR) kept"

# A fit stopped at the cap: the covariance is reported with a warning.
cat >"$TMP/well.stan" <<'STAN'
parameters { real x; }
model { target += -3 * square(square(x / 0.1) - 1); }
STAN
run fit "$TMP/well.stan" --covariance lrvb --init zero --max-iter 1 --quiet
expect_status 1
expect_out "(the fit did not converge: the linear response assumes q at the objective's maximum)"
exit 0
