#!/bin/sh
# Model errors: exit 3, reported as  FILE:LINE:COL: error: ...  with the source line and a
# caret under the column, nothing else (no stack of noise), for vi fit and vi check, and
# no output files written.
. "${top_srcdir:-.}/tests/cli/lib.sh"

# model_error NAME LINE COL TEXT: write $TMP/NAME.stan from stdin first, then check both
# commands report it at LINE:COL with TEXT in the message.
model_error() {
  f="$TMP/$1.stan"
  for cmd in fit check; do
    run "$cmd" "$f" --data "$ESD"
    expect_status 3 "vi $cmd $1"
    head -n 1 "$TMP/err" | grep -q -F -e "$f:$2:$3: error: " ||
      fail "$1: first line should start with $f:$2:$3: error: "
    head -n 1 "$TMP/err" | grep -q -F -e "$4" || fail "$1: message lacks '$4'"
    [ "$(wc -l <"$TMP/err")" -le 3 ] || fail "$1: more than message, source line and caret"
    sed -n 3p "$TMP/err" | grep -q '^ *\^' || fail "$1: no caret line"
    [ ! -s "$TMP/out" ] || fail "$1: printed on stdout"
  done
}

cat >"$TMP/semicolon.stan" <<'STAN'
parameters {
  real mu
}
model {
  mu ~ normal(0, 1);
}
STAN
model_error semicolon 2 10 "expected ';'"

cat >"$TMP/undeclared.stan" <<'STAN'
parameters {
  real mu;
}
model {
  nu ~ normal(0, 1);
}
STAN
model_error undeclared 5 3 "nu"

cat >"$TMP/unsupported.stan" <<'STAN'
functions {
  real twice(real x) {
    return 2 * x;
  }
}
parameters {
  real mu;
}
model {
  mu ~ normal(twice(1), gaussian_dlm_obs_lpdf(mu | mu));
}
STAN
model_error unsupported 10 25 "not supported yet"

cat >"$TMP/complex.stan" <<'STAN'
parameters {
  real mu;
  complex z;
}
model {
  mu ~ normal(0, 1);
}
STAN
model_error complex 3 11 "parameters cannot be complex"

cat >"$TMP/assign_data.stan" <<'STAN'
data {
  int<lower=0> J;
  vector[J] y;
  vector<lower=0>[J] sigma;
}
parameters {
  real mu;
}
model {
  y[1] = 3;
  mu ~ normal(0, 1);
}
STAN
model_error assign_data 10 3 "y"

# a model with nothing to fit
cat >"$TMP/noparam.stan" <<'STAN'
data {
  real x;
}
generated quantities {
  real y;
  y = x + 1;
}
STAN
printf '{"x": 1}\n' >"$TMP/noparam.json"
run fit "$TMP/noparam.stan" --data "$TMP/noparam.json"
expect_status 3
expect_err "no parameters"
run check "$TMP/noparam.stan" --data "$TMP/noparam.json"
expect_status 0
expect_out "Total unconstrained dimension: D = 0"

# no output file from a model error
run fit "$TMP/semicolon.stan" --output "$TMP/o.csv"
expect_status 3
[ ! -e "$TMP/o.csv" ] || fail "a model error wrote the output file"
exit 0
