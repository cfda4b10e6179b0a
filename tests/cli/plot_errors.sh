#!/bin/sh
# vi plot on bad input: a clear error naming the file and the problem, the documented exit
# status (2: a CSV of the other kind, an unknown name, a bad option; 6: a missing,
# truncated or malformed CSV, an unwritable output; 7: gnuplot absent or failing) and no
# output file, not even a partial one.  The checks that need gnuplot to get that far are
# skipped where it is absent.
. "${top_srcdir:-.}/tests/cli/lib.sh"

run fit "$ES" --data "$ESD" --output "$TMP/es.csv" --trace "$TMP/es.trace.csv" --quiet \
  --output-draws 200
expect_status 0
OUT="$TMP/out.png"
no_output() { [ ! -e "$OUT" ] || fail "an output file was left: $OUT"; ! ls -a "$TMP" | grep -q '^\.out\.png\.' || fail "a temporary file was left"; }

# usage
run plot
expect_status 2; expect_err "expected a kind: trace, marginals or weights"
run plot histogram "$TMP/es.csv" -o "$OUT"
expect_status 2; expect_err "unknown kind 'histogram'"
run plot trace "$TMP/es.trace.csv"
expect_status 2; expect_err "-o FILE is required"
run plot trace "$TMP/es.trace.csv" -o "$TMP/out.jpg"
expect_status 2; expect_err "extension must be .png, .svg or .pdf"
run plot trace "$TMP/es.trace.csv" -o "$OUT" --size 100
expect_status 2; expect_err "--size: expected WIDTHxHEIGHT"
run plot trace "$TMP/es.trace.csv" -o "$OUT" --x time
expect_status 2; expect_err "--x: expected iter, gradients, points or seconds, got 'time'"
run plot trace "$TMP/es.trace.csv" -o "$OUT" --labels a,b
expect_status 2; expect_err "--labels: 2 labels for 1 traces"
run plot weights "$TMP/es.csv" "$TMP/es.csv" -o "$OUT"
expect_status 2; expect_err "expected one draws CSV file, got 2"
run plot weights "$TMP/es.csv" -o "$OUT" --params mu
expect_status 2; expect_err "--params is an option of 'vi plot marginals'"
run plot marginals "$TMP/es.csv" -o "$OUT" --bogus
expect_status 2; expect_err "unknown option '--bogus'"
no_output

# the wrong kind of file, both ways
run plot marginals "$TMP/es.trace.csv" -o "$OUT"
expect_status 2
expect_err "es.trace.csv: this is a trace CSV (vi fit --trace); expected a draws CSV (vi fit --output)"
run plot trace "$TMP/es.csv" -o "$OUT"
expect_status 2
expect_err "es.csv: this is a draws CSV (vi fit --output); expected a trace CSV (vi fit --trace)"
printf 'a,b,c\n1,2,3\n' >"$TMP/other.csv"
run plot weights "$TMP/other.csv" -o "$OUT"
expect_status 2; expect_err "other.csv: not a CSV written by vi fit: its header starts 'a,b'"
no_output

# missing, empty, truncated, malformed
run plot weights "$TMP/nope.csv" -o "$OUT"
expect_status 6; expect_err "nope.csv: cannot read: No such file or directory"
: >"$TMP/empty.csv"
run plot weights "$TMP/empty.csv" -o "$OUT"
expect_status 6; expect_err "empty.csv: empty: no CSV header"
size=$(wc -c <"$TMP/es.csv")
head -c $((size / 2)) "$TMP/es.csv" >"$TMP/cut.csv"
run plot weights "$TMP/cut.csv" -o "$OUT"
expect_status 6; expect_err "the file is truncated"
head -n 100 "$TMP/es.csv" >"$TMP/short.csv"   # whole lines, too few draws
run plot marginals "$TMP/short.csv" -o "$OUT"
expect_status 6; expect_err "but its header says output_samples = 200: the file is truncated"
head -n 5 "$TMP/es.trace.csv" | head -c -20 >"$TMP/cut.trace.csv"
run plot trace "$TMP/cut.trace.csv" -o "$OUT"
expect_status 6; expect_err "cut.trace.csv:5: the last line ends without a newline"
sed '3s/,[^,]*$/,abc/' "$TMP/es.trace.csv" >"$TMP/bad.trace.csv"
run plot trace "$TMP/bad.trace.csv" -o "$OUT"
expect_status 6; expect_err "bad.trace.csv:3: field 18 ('draws_shift'): expected a number"
no_output

# too few draws for importance weights; --plot refuses them before the fit
run fit "$ES" --data "$ESD" --output "$TMP/few.csv" --quiet --output-draws 3
expect_status 0
run plot weights "$TMP/few.csv" -o "$OUT"
expect_status 6; expect_err "few.csv: 3 draws; the importance weights need at least 5"
run fit "$ES" --data "$ESD" --quiet --output-draws 3 --plot "$TMP/plots"
expect_status 2; expect_err "--plot: the marginals and weights plots need --output-draws of at least 5"
[ ! -e "$TMP/plots" ] || fail "--plot made its directory on a usage error"
no_output

# unknown parameter names
run plot marginals "$TMP/es.csv" -o "$OUT" --params mu,sigma
expect_status 2; expect_err "--params: 'sigma' is not an output of"
run plot marginals "$TMP/es.csv" -o "$OUT" --params mu,,tau
expect_status 2; expect_err "--params: an empty name"
no_output
# the input is checked before gnuplot is looked for
export VI_GNUPLOT=/nonexistent/gnuplot
run plot marginals "$TMP/es.csv" -o "$OUT" --params sigma
expect_status 2; expect_err "--params: 'sigma' is not an output of"
run plot weights "$TMP/few.csv" -o "$OUT"
expect_status 6; expect_err "few.csv: 3 draws"
unset VI_GNUPLOT

# gnuplot absent: by path, and by name on PATH
export VI_GNUPLOT=/nonexistent/gnuplot; run plot weights "$TMP/es.csv" -o "$OUT"; unset VI_GNUPLOT
expect_status 7; expect_err "'/nonexistent/gnuplot' was not found"
expect_err "apt-get install gnuplot-nox"
export VI_GNUPLOT=no-such-gnuplot-vi; run plot trace "$TMP/es.trace.csv" -o "$OUT"; unset VI_GNUPLOT
expect_status 7; expect_err "'no-such-gnuplot-vi' was not found on PATH"
no_output
# ... and vi fit --plot says so before the fit, leaving its other outputs unwritten
export VI_GNUPLOT=/nonexistent/gnuplot
run fit "$ES" --data "$ESD" --quiet --output "$TMP/f.csv" --plot "$TMP/plots"
unset VI_GNUPLOT
expect_status 7
[ ! -e "$TMP/f.csv" ] || fail "fit --plot without gnuplot wrote --output"

# a gnuplot that fails half-way: exit 7, its message shown, the old file kept whole
cat >"$TMP/badplot" <<'EOF'
#!/bin/sh
echo 'line 3: undefined variable: oops' >&2
out=$(sed -n "s/^set output \"\(.*\)\"$/\1/p" "$1")
printf 'half a picture' >"$out"
exit 1
EOF
chmod +x "$TMP/badplot"
printf 'old picture' >"$OUT"
export VI_GNUPLOT="$TMP/badplot"; run plot weights "$TMP/es.csv" -o "$OUT"; unset VI_GNUPLOT
expect_status 7; expect_err "out.png: gnuplot failed to draw the plot:"
expect_err "gnuplot: line 3: undefined variable: oops"
[ "$(cat "$OUT")" = "old picture" ] || fail "a failed plot changed the existing file"
rm -f "$OUT"

if command -v gnuplot >/dev/null 2>&1; then
  # an unwritable output: reported, nothing left behind
  run plot weights "$TMP/es.csv" -o "$TMP/no/such/dir/w.png"
  expect_status 6; expect_err "w.png: cannot create a file there"
  mkdir "$TMP/adir"
  run plot weights "$TMP/es.csv" -o "$TMP/adir"
  expect_status 6; expect_err "adir: is a directory, expected a file name"
  mkdir "$TMP/dir.png"
  run plot weights "$TMP/es.csv" -o "$TMP/dir.png"
  expect_status 6; expect_err "is a directory"
  : >"$TMP/plainfile"
  run fit "$ES" --data "$ESD" --quiet --plot "$TMP/plainfile"
  expect_status 6; expect_err "--plot: $TMP/plainfile: not a directory"
else
  echo "gnuplot not found: the unwritable-output checks were skipped"
fi
exit 0
