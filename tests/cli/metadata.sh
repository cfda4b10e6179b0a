#!/bin/sh
# The CSV header and the JSON options say what ran, not what was asked: the final M of an
# adaptive fit (grad_samples, options.draws) as the trace's last row and the JSON's last
# iteration have it; the start taken and the one requested (a Laplace start that lost to
# zero's says both); q's names are those of the unconstrained coordinates (log(tau));
# progress lines show M; the CSV ends with CmdStan's "# Elapsed Time" lines.
. "${top_srcdir:-.}/tests/cli/lib.sh"
have_python || { echo "SKIP: python3 not found"; exit 77; }
J="$TMP/s.json"; C="$TMP/o.csv"; T="$TMP/t.csv"

# eight schools: adaptive M grows past 32; the Laplace start is tried and not kept there
run fit "$ES" --data "$ESD" --summary-json "$J" --output "$C" --trace "$T" --print-every 1
expect_status 0
expect_out "Start:    zero (the Laplace start was tried and not kept"
grep -q '^iter=[0-9]* .* draws=[0-9]* evals=' "$TMP/err" || fail "progress lines lack draws=M"
"$PYTHON" - "$J" "$C" "$T" "$TMP/err" <<'PY' || fail "metadata"
import csv, json, re, sys
s = json.load(open(sys.argv[1]))
lines = open(sys.argv[2]).read().split("\n")
head = {}
for ln in lines:
    m = re.match(r"#\s+(\w+) = (.*)$", ln)
    if m:
        head.setdefault(m.group(1), m.group(2))
trace = list(csv.DictReader(open(sys.argv[3])))
M = int(trace[-1]["draws"])
assert M > 32, M                                   # the fit did double M
assert int(head["grad_samples"]) == M == s["options"]["draws"] == s["last_iteration"]["draws"], (head, M)
assert int(head["vi_draws_start"]) == s["options"]["draws_start"] == 32
assert int(head["vi_draws_max"]) == s["options"]["draws_max"] == 512
assert head["vi_init"] == s["options"]["init"] == "zero", head
assert head["vi_init_requested"] == s["options"]["init_requested"] == "laplace", head
assert s["options"]["init_iterations"] > 0
assert s["q"]["names"][:2] == ["mu", "log(tau)"], s["q"]["names"]
# the progress lines: M of every iteration, as in the trace
shown = {int(m.group(1)): int(m.group(2))
         for m in re.finditer(r"^iter=(\d+) .* draws=(\d+) ", open(sys.argv[4]).read(), re.M)}
assert shown and all(shown[int(r["iter"])] == int(r["draws"]) for r in trace if int(r["iter"]) in shown)
assert len(set(shown.values())) > 1, shown           # the doubling is visible
# CmdStan's closing lines: fit + rest = total
tail = [ln for ln in lines if "seconds (" in ln]
assert len(tail) == 3 and "Elapsed Time:" in tail[0] and tail[2].endswith("seconds (Total)"), tail
t = [float(re.search(r"([0-9.]+) seconds", ln).group(1)) for ln in tail]
assert abs(t[0] + t[1] - t[2]) < 2e-6 and t[0] > 0, t
assert lines[-2] == "# " and lines[-1] == ""
PY
"$PYTHON" "$top_srcdir/tests/cli/read_stan_csv.py" "$C" >/dev/null || fail "the CSV no longer reads"

# --init FILE.json: CmdStan's init file, the parameters' constrained values
echo '{"mu": 4.5, "tau": 3}' >"$TMP/init.json"
run fit "$ES" --data "$ESD" --init "$TMP/init.json" --summary-json "$J" --output "$C" --quiet
expect_status 0
expect_out "Start:    $TMP/init.json (the initial values as q's mean)"
grep -q '^#     vi_init_requested = file$' "$C" || fail "--init FILE.json: CSV"
"$PYTHON" -c "import json; s = json.load(open('$J')); assert s['options']['init_requested'] == 'file'" ||
  fail "--init FILE.json: JSON"
echo '{"mu": 4.5, "tau": -3}' >"$TMP/bad.json"
run fit "$ES" --data "$ESD" --init "$TMP/bad.json"
expect_status 4
expect_err_line "$TMP/bad.json: error: parameter 'tau': element 1 (-3) is outside its bounds"
run fit "$ES" --data "$ESD" --init "$TMP/none.json"
expect_status 6
run fit "$ES" --data "$ESD" --init files
expect_status 2
expect_err_line "vi: --init: expected 'zero', 'random', 'laplace' or a FILE.json of initial values, got 'files'"

# --refresh 0: no progress lines (the report still comes)
run fit "$ES" --data "$ESD" --refresh 0
expect_status 0
expect_empty_err
expect_out "Stopped:  converged"

# CmdStan's option names get a hint
run fit "$ES" --data "$ESD" --max_iter 10
expect_status 2
expect_err_line "vi: fit: unknown option '--max_iter' (did you mean '--max-iter'? try 'vi help fit')"
run fit "$ES" --iter=10 --data "$ESD"
expect_err_line "vi: fit: unknown option '--iter=10' (did you mean '--max-iter'? try 'vi help fit')"
run fit "$ES" --algorithm meanfield
expect_err_line "vi: fit: unknown option '--algorithm' (did you mean '--method'? try 'vi help fit')"
run fit "$ES" --grad_samples 10
expect_err_line "vi: fit: unknown option '--grad_samples' (did you mean '--draws'? try 'vi help fit')"
run fit "$ES" --no-such-thing
expect_err_line "vi: fit: unknown option '--no-such-thing' (try 'vi help fit')"

# an R dump data file: a hint, not only "invalid JSON"
printf 'N <- 2\ny <- c(1, 2)\n' >"$TMP/d.R"
printf 'data { int N; vector[N] y; }\nparameters { real mu; }\nmodel { y ~ normal(mu, 1); }\n' >"$TMP/m.stan"
run fit "$TMP/m.stan" --data "$TMP/d.R"
expect_status 4
expect_err "error: invalid JSON: "
expect_err "(this looks like an R dump file, the older CmdStan data format; vi reads Stan's JSON data: in R, cmdstanr::write_stan_json(list) writes it)"

# an improper prior (a parameter with none, on the whole real line): a warning under the
# negative KL(q || prior)
printf 'data { real y; }\nparameters { real mu; }\nmodel { y ~ normal(mu, 10); }\n' >"$TMP/imp.stan"
echo '{"y": 3}' >"$TMP/imp.json"
run fit "$TMP/imp.stan" --data "$TMP/imp.json" --quiet
expect_out "  (negative: the prior is improper, some parameter has none on its"
run fit "$ES" --data "$ESD" --quiet
expect_no_out "the prior is improper"
exit 0
