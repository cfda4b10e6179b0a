#!/bin/sh
# --trace: one CSV row per iteration (0 = the starting point) with every vi_diag field;
# --summary-json: valid JSON (python3's json module) with the status, the stop reason, the
# final decomposition, k-hat and its word, q, and the summary of every output.
. "${top_srcdir:-.}/tests/cli/lib.sh"
have_python || { echo "SKIP: python3 not found"; exit 77; }

run fit "$ES" --data "$ESD" --trace "$TMP/trace.csv" --summary-json "$TMP/s.json" --quiet
expect_status 0
want='iter,elbo,expected_log_joint,entropy,expected_log_lik,kl_prior,log_evidence,log_evidence_se,log_evidence_exact,kl,grad_norm,step,n_fevals,n_gevals,seconds,draws,n_points,draws_shift'
[ "$(head -n 1 "$TMP/trace.csv")" = "$want" ] || fail "trace header: $(head -n 1 "$TMP/trace.csv")"
"$PYTHON" -m json.tool "$TMP/s.json" >/dev/null || fail "summary JSON does not parse"

"$PYTHON" - "$TMP/trace.csv" "$TMP/s.json" <<'PY' || fail "trace / JSON contents"
import csv, json, math, sys
rows = list(csv.DictReader(open(sys.argv[1], newline="")))
s = json.load(open(sys.argv[2]))
# one row per iteration, 0..n, increasing evaluation counts
assert [int(r["iter"]) for r in rows] == list(range(len(rows))), "iter column"
assert len(rows) == s["iterations"] + 1, (len(rows), s["iterations"])
for a, b in zip(rows, rows[1:]):
    assert int(b["n_gevals"]) >= int(a["n_gevals"])
    assert int(b["n_points"]) >= int(a["n_points"]) + int(b["draws"])
    assert int(b["draws"]) in (int(a["draws"]), 2 * int(a["draws"]))   # adaptive M doubles
    assert float(b["seconds"]) >= float(a["seconds"])
for r in rows:
    for k, v in r.items():
        float(v)                     # every field a number (nan allowed)
    # the identity the table shows: kl = log_evidence - elbo
    lp, e, kl = float(r["log_evidence"]), float(r["elbo"]), float(r["kl"])
    if math.isfinite(lp):
        assert abs(lp - e - kl) < 1e-8 * max(1, abs(lp)), r
    assert float(r["entropy"]) == float(r["entropy"])
# the fixed-draw ELBO never decreases along the accepted iterations on the same draws
# (adaptive M changes the objective when it doubles M)
el = [(int(r["draws"]), float(r["elbo"])) for r in rows]
assert all(b >= a - 1e-9 * abs(a) for (m, a), (n, b) in zip(el, el[1:]) if m == n), "ELBO decreased"
assert len(set(m for m, _ in el)) >= 2, "adaptive M never doubled"
last = rows[-1]
assert abs(float(last["elbo"]) - s["last_iteration"]["elbo"]) < 1e-6 * abs(s["last_iteration"]["elbo"])

assert s["status"] == "converged" and s["exit_code"] == 0 and s["interrupted"] is False
assert s["stop_reason"], s["stop_reason"]
assert s["model"].endswith("eight_schools.stan")
assert s["options"]["method"] == "fixed" and s["options"]["optimizer"] == "bfgs2"
assert s["options"]["draws_start"] == 32 and s["options"]["seed"] == 1
assert s["options"]["draws"] == int(last["draws"]) > 32   # the M that ran at the end
assert s["dim"] == 10 and len(s["q"]["mean"]) == 10 and len(s["q"]["sd"]) == 10
assert all(x > 0 for x in s["q"]["sd"])
f = s["final"]
# the shared finish: at least the 1000 output draws, at most --eval-draws (2000), and
# short of the cap only with both SEs at --finish-se (0.1) or below
assert 1000 <= f["draws"] <= 2000 and (f["draws"] - 1000) % 256 in (0, 2000 - 1000 - 768)
assert f["draws"] == 2000 or (f["elbo_se"] <= 0.1 and f["log_evidence_se"] <= 0.1)
assert abs(f["log_evidence"] - f["elbo"] - f["kl"]) < 1e-8 * abs(f["log_evidence"])
assert f["log_evidence_exact"] is False and f["elbo_se"] > 0 and f["log_evidence_se"] > 0
assert f["khat_meaning"] in ("good", "ok", "unreliable")
names = [o["name"] for o in s["outputs"]]
assert names[:3] == ["mu", "tau", "theta_tilde.1"] and names[-1] == "theta.8", names
assert s["output_draws"] == 1000
for o in s["outputs"]:
    assert o["q5"] <= o["q50"] <= o["q95"] and o["sd"] > 0, o
PY
exit 0
