#!/bin/sh
# Usage errors: exit 2 with one line that names the option (or command) and the value.
. "${top_srcdir:-.}/tests/cli/lib.sh"

# usage EXPECTED-LINE ARGS...
usage() {
  line=$1; shift
  run "$@"
  expect_status 2 "vi $*"
  expect_err_line "$line"
  [ "$(wc -l <"$TMP/err")" -le 2 ] || fail "usage error takes more than two lines: vi $*"
  [ ! -s "$TMP/out" ] || fail "usage error printed on stdout: vi $*"
}

run
expect_status 2
expect_err "Usage: vi fit"

usage "vi: unknown command 'fitt' (commands: fit, check, plot, help; try 'vi --help')" fitt
usage "vi: unknown option '--bogus' (try 'vi --help')" --bogus
usage "vi: fit: missing the model file (usage: vi fit MODEL.stan [--data DATA.json] [options])" fit
usage "vi: check: missing the model file (usage: vi check MODEL.stan [--data DATA.json])" check
usage "vi: fit: unexpected argument 'b.stan' (one model file per run)" fit a.stan b.stan
usage "vi: fit: unknown option '--bogus' (try 'vi help fit')" fit "$ES" --bogus
usage "vi: fit: unknown option '-x' (try 'vi help fit')" fit "$ES" -x
usage "vi: check: unknown option '--seed' (try 'vi help check')" check "$ES" --seed 3
usage "vi: --data: option requires a value" fit "$ES" --data
usage "vi: -d: option requires a value" fit "$ES" -d
usage "vi: --draws: expected a positive integer, got 'abc'" fit "$ES" --draws abc
usage "vi: --draws: expected a positive integer, got '0'" fit "$ES" --draws 0
usage "vi: --draws: expected a positive integer, got '-3'" fit "$ES" --draws=-3
usage "vi: --draws: expected a positive integer, got '2.5'" fit "$ES" --draws 2.5
usage "vi: --draws: expected at most 10000000 draws, got '10000001'" fit "$ES" --draws 10000001
usage "vi: --output-draws: expected at most 10000000 draws, got '99999999999'" fit "$ES" --output-draws 99999999999
usage "vi: --eval-draws: expected at most 10000000 draws, got '20000000'" fit "$ES" --eval-draws 20000000
usage "vi: --seed: expected a non-negative integer, got '-1'" fit "$ES" --seed -1
usage "vi: --seed: expected a non-negative integer, got '99999999999999999999999'" fit "$ES" --seed 99999999999999999999999
usage "vi: --max-iter: expected a positive integer, got 'x'" fit "$ES" --max-iter x
usage "vi: --output-draws: expected a positive integer, got '0'" fit "$ES" --output-draws 0
usage "vi: --eval-draws: expected a positive integer, got ''" fit "$ES" --eval-draws ""
usage "vi: --eval-every: expected a non-negative integer, got 'often'" fit "$ES" --eval-every often
usage "vi: --print-every: expected a non-negative integer, got '-1'" fit "$ES" --print-every -1
usage "vi: --refresh: expected a non-negative integer, got 'no'" fit "$ES" --refresh no
usage "vi: --tol-grad: expected a non-negative number, got '-1'" fit "$ES" --tol-grad -1
usage "vi: --tol-grad: expected a non-negative number, got 'nan'" fit "$ES" --tol-grad nan
usage "vi: --tol-rel-obj: expected a non-negative number, got '1e-3x'" fit "$ES" --tol-rel-obj 1e-3x
usage "vi: --step-size: expected a positive number, got '0'" fit "$ES" --step-size 0
usage "vi: --method: expected 'fixed' or 'stochastic', got 'exact'" fit "$ES" --method exact
usage "vi: --optimizer: expected one of bfgs2, cg-fr, cg-pr, steepest, adam, got 'lbfgs'" fit "$ES" --optimizer lbfgs
usage "vi: --init: expected 'zero', 'random', 'laplace' or a FILE.json of initial values, got 'one'" fit "$ES" --init one
usage "vi: --optimizer: 'cg-fr' needs a deterministic objective (--method fixed); --method stochastic uses adam" fit "$ES" --method stochastic --optimizer cg-fr
usage "vi: --standardize-draws: needs --method fixed (the stochastic method draws afresh every step)" fit "$ES" --method stochastic --standardize-draws
usage "vi: --draws-max: needs --method fixed (adaptive M grows a fixed sample)" fit "$ES" --method stochastic --draws-max 64
usage "vi: --draws-max: expected more than the starting --draws 32, got 16" fit "$ES" --draws-max 16
usage "vi: --draws-max: expected more than the starting --draws 64, got 64" fit "$ES" --draws 64 --draws-max 64
usage "vi: --draws: expected a positive integer, got 'autox'" fit "$ES" --draws autox
usage "vi: --output and --trace name the same file '$TMP/a.csv'" fit "$ES" --output "$TMP/a.csv" --trace "$TMP/a.csv"
[ ! -e "$TMP/a.csv" ] || fail "a usage error created a file"

# an output over an input
cp "$ESD" "$TMP/d.json"
cp "$ES" "$TMP/m.stan"
ln -s d.json "$TMP/d_link.json"
usage "vi: --output: '$TMP/d.json' is the data file; refusing to overwrite an input" fit "$TMP/m.stan" --data "$TMP/d.json" --output "$TMP/d.json"
usage "vi: --summary-json: '$TMP/d_link.json' is the data file; refusing to overwrite an input" fit "$TMP/m.stan" --data "$TMP/d.json" --summary-json "$TMP/d_link.json"
usage "vi: --trace: '$TMP/m.stan' is the model file; refusing to overwrite an input" fit "$TMP/m.stan" --data "$TMP/d.json" --trace "$TMP/m.stan"
cmp -s "$TMP/d.json" "$ESD" || fail "the data file was changed"
exit 0
