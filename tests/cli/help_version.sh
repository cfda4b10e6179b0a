#!/bin/sh
# vi --help, vi help, vi help fit, vi help check, vi help plot, vi fit --help,
# vi plot --help, vi --version: exit 0,
# the text names the commands, every fit option and every exit code, and the note about
# shadowing the editor.
. "${top_srcdir:-.}/tests/cli/lib.sh"

run --help
expect_status 0
for w in "vi fit MODEL.stan" "vi check MODEL.stan" "Exit status:" "130  interrupted" \
         "3    model error" "4    data error" "5    numerical failure" "6    I/O error" \
         "2    usage error" "1    not converged" "7    plots: gnuplot" "vi plot trace" \
         "--program-prefix" "shadows the vi editor"; do
  expect_out "$w"
done

run help
expect_status 0
expect_out "Commands:"

run help fit
expect_status 0
for o in --data --method --optimizer --draws --seed --max-iter --tol-grad --tol-rel-obj \
         --step-size --standardize-draws --no-standardize-draws --draws-max --init --eval-draws --eval-every --output --output-draws --trace \
         --summary-json --plot --print-every --refresh --quiet "Exit status:"; do
  expect_out "$o"
done
cp "$TMP/out" "$TMP/help_fit"

run fit --help
expect_status 0
cmp -s "$TMP/out" "$TMP/help_fit" || fail "vi fit --help differs from vi help fit"

run help check
expect_status 0
expect_out "Usage: vi check MODEL.stan [--data DATA.json]"

run help plot
expect_status 0
for o in "vi plot trace RUN.trace.csv" "vi plot marginals RUN.csv" "vi plot weights RUN.csv" \
         --output --size --x --labels --params --keep-data VI_GNUPLOT gnuplot-nox \
         "7    plots: gnuplot"; do
  expect_out "$o"
done
cp "$TMP/out" "$TMP/help_plot"
run plot --help
expect_status 0
cmp -s "$TMP/out" "$TMP/help_plot" || fail "vi plot --help differs from vi help plot"
run plot trace --help
expect_status 0
cmp -s "$TMP/out" "$TMP/help_plot" || fail "vi plot trace --help differs from vi help plot"

run check -h
expect_status 0
expect_out "Usage: vi check"

run --version
expect_status 0
grep -q -x 'vi [0-9][0-9.]*' "$TMP/out" || fail "--version prints 'vi X.Y.Z'"

run -V
expect_status 0
grep -q -x 'vi [0-9][0-9.]*' "$TMP/out" || fail "-V prints 'vi X.Y.Z'"

# each command lists its own exit statuses: check has no fit to converge or interrupt
run help check
expect_status 0
expect_out "  0    the model compiles (and the data, if given, is valid)"
expect_no_out "130"
expect_no_out "not converged"
run help fit
expect_out "  143  terminated (SIGTERM; 129 for SIGHUP): as 130"

run help nosuch
expect_status 2
expect_err_line "vi: help: unknown command 'nosuch' (commands: fit, check, plot)"
exit 0
