#!/bin/sh
# Output files appear whole or not at all: a run that fails (bad data, bad model, runtime
# error, usage error) leaves existing --output, --trace and --summary-json files byte for
# byte as they were, and leaves no temporary files behind; a good run replaces them.
. "${top_srcdir:-.}/tests/cli/lib.sh"

mkdir "$TMP/w"
for f in out.csv trace.csv s.json; do printf 'precious %s\n' "$f" >"$TMP/w/$f"; done
cp -p "$TMP/w/out.csv" "$TMP/out.keep"
cp -p "$TMP/w/trace.csv" "$TMP/trace.keep"
cp -p "$TMP/w/s.json" "$TMP/s.keep"
outs="--output $TMP/w/out.csv --trace $TMP/w/trace.csv --summary-json $TMP/w/s.json"

untouched() {
  cmp -s "$TMP/w/out.csv" "$TMP/out.keep" || fail "$1: --output file changed"
  cmp -s "$TMP/w/trace.csv" "$TMP/trace.keep" || fail "$1: --trace file changed"
  cmp -s "$TMP/w/s.json" "$TMP/s.keep" || fail "$1: --summary-json file changed"
  [ "$(ls -A "$TMP/w" | wc -l)" -eq 3 ] || fail "$1: files left behind: $(ls -A "$TMP/w")"
}

# bad data: sigma missing
printf '{"J": 8, "y": [28, 8, -3, 7, -1, 1, 18, 12]}\n' >"$TMP/bad.json"
# shellcheck disable=SC2086
run fit "$ES" --data "$TMP/bad.json" $outs
expect_status 4
untouched "bad data"

# bad model
printf 'parameters {\n  real mu\n}\nmodel {\n  mu ~ normal(0, 1);\n}\n' >"$TMP/bad.stan"
# shellcheck disable=SC2086
run fit "$TMP/bad.stan" $outs
expect_status 3
untouched "bad model"

# runtime error
printf 'parameters {\n  real mu;\n}\nmodel {\n  reject("no");\n}\n' >"$TMP/rej.stan"
# shellcheck disable=SC2086
run fit "$TMP/rej.stan" $outs
expect_status 5
untouched "runtime error"

# usage error after the output options
# shellcheck disable=SC2086
run fit "$ES" --data "$ESD" $outs --draws 0
expect_status 2
untouched "usage error"

# one unwritable output: the others are not written either
# shellcheck disable=SC2086
run fit "$ES" --data "$ESD" $outs --summary-json "$TMP/w/nodir/s.json" --quiet
expect_status 6
untouched "one unwritable output"

# a good run replaces all three, with the permissions a new file gets
umask 022
# shellcheck disable=SC2086
run fit "$ES" --data "$ESD" $outs --quiet
expect_status 0
grep -q '^lp__,log_p__,log_g__,' "$TMP/w/out.csv" || fail "--output not replaced"
grep -q '^iter,elbo,' "$TMP/w/trace.csv" || fail "--trace not replaced"
grep -q '"status": "converged"' "$TMP/w/s.json" || fail "--summary-json not replaced"
[ "$(ls -A "$TMP/w" | wc -l)" -eq 3 ] || fail "files left behind: $(ls -A "$TMP/w")"
perm=$(ls -l "$TMP/w/out.csv" | cut -c1-10)
[ "$perm" = "-rw-r--r--" ] || fail "output file mode $perm with umask 022"

# an existing file keeps its mode
chmod 640 "$TMP/w/out.csv"
run fit "$ES" --data "$ESD" --output "$TMP/w/out.csv" --quiet
expect_status 0
perm=$(ls -l "$TMP/w/out.csv" | cut -c1-10)
[ "$perm" = "-rw-r-----" ] || fail "replaced file mode $perm, was -rw-r-----"

# a symbolic link is followed: the file it names is replaced, the link stays
mkdir "$TMP/l"
printf 'old\n' >"$TMP/l/real.csv"
ln -s real.csv "$TMP/l/link.csv"
run fit "$ES" --data "$ESD" --output "$TMP/l/link.csv" --quiet
expect_status 0
[ -L "$TMP/l/link.csv" ] || fail "the symbolic link was replaced"
grep -q '^lp__,' "$TMP/l/real.csv" || fail "the linked file was not written"
[ "$(ls -A "$TMP/l" | wc -l)" -eq 2 ] || fail "files left behind: $(ls -A "$TMP/l")"

# a FIFO is written in place (and stays a FIFO), after the fit
if mkfifo "$TMP/l/fifo" 2>/dev/null; then
  cat "$TMP/l/fifo" >"$TMP/fromfifo" &
  reader=$!
  run fit "$ES" --data "$ESD" --trace "$TMP/l/fifo" --quiet
  expect_status 0
  i=0
  while kill -0 "$reader" 2>/dev/null && [ "$i" -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
  if kill -0 "$reader" 2>/dev/null; then
    kill "$reader"
    fail "nothing was written to the FIFO"
  fi
  [ -p "$TMP/l/fifo" ] || fail "the FIFO was replaced by a file"
  head -n 1 "$TMP/fromfifo" | grep -q '^iter,elbo,' || fail "trace through the FIFO"
fi
exit 0
