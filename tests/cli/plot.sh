#!/bin/sh
# vi plot: each kind renders from a small fit into a valid PNG / SVG / PDF of the size
# asked for, and the numbers handed to gnuplot (--keep-data) are the run's: the trace's
# ELBO and log p(X) per row with KL = log p(X) - ELBO, the marks where M doubled and the
# stop, the importance weights log_p__ - log_g__ with PSIS smoothing only in the tail, the
# histograms recomputed from the CSV and those weights, q's density integrating to the
# share of draws in range.  vi fit --plot DIR writes all three.
. "${top_srcdir:-.}/tests/cli/lib.sh"
have_python || { echo "SKIP: python3 not found"; exit 77; }
command -v gnuplot >/dev/null 2>&1 || { echo "SKIP: gnuplot not found (Debian: gnuplot-nox)"; exit 77; }

run fit "$ES" --data "$ESD" --family meanfield --output "$TMP/es.csv" --trace "$TMP/es.trace.csv" --quiet
expect_status 0
run fit "$ES" --data "$ESD" --family meanfield --output "$TMP/cg.csv" --trace "$TMP/cg.trace.csv" --quiet \
  --optimizer cg-pr --seed 2 --output-draws 300
expect_status 0

# png_size FILE: "WIDTHxHEIGHT" from the IHDR chunk, after checking the signature.
png_size() {
  "$PYTHON" - "$1" <<'PY'
import struct, sys
b = open(sys.argv[1], "rb").read()
assert b[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG signature"
assert b[12:16] == b"IHDR", "no IHDR chunk first"
w, h = struct.unpack(">II", b[16:24])
assert b[-8:-4] == b"IEND", "no IEND chunk at the end (truncated)"
print("%dx%d" % (w, h))
PY
}

# trace: two runs, 800x500, numbers kept
run plot trace "$TMP/es.trace.csv" "$TMP/cg.trace.csv" -o "$TMP/t.png" --size 800x500 \
  --keep-data "$TMP/kt"
expect_status 0
[ "$(png_size "$TMP/t.png")" = 800x500 ] || fail "trace PNG size: $(png_size "$TMP/t.png")"
grep -F -q 'es: fixed bfgs2, seed 1, M 32-64' "$TMP/kt/trace.gp" || fail "legend of run 1"
grep -F -q 'cg: fixed cg-pr, seed 2, M' "$TMP/kt/trace.gp" || fail "legend of run 2"
"$PYTHON" - "$TMP/es.trace.csv" "$TMP/kt/trace.1.dat" "$TMP/kt/trace.1.marks.dat" <<'PY' || fail "trace data"
import csv, math, sys
rows = list(csv.DictReader(open(sys.argv[1])))
dat = [l.split() for l in open(sys.argv[2]) if not l.startswith("#")]
assert len(dat) == len(rows), (len(dat), len(rows))
def close(a, b):
    return (math.isnan(a) and math.isnan(b)) or abs(a - b) <= 1e-9 * max(1, abs(b))
for r, d in zip(rows, dat):
    x, e, lp, kl, lo, hi, klo, khi = map(float, d)
    assert x == float(r["iter"])
    assert close(e, float(r["elbo"])) and close(lp, float(r["log_evidence"])), (r, d)
    assert close(kl, float(r["log_evidence"]) - float(r["elbo"])), "plotted KL != log p(X) - ELBO"
    assert close(kl, float(r["kl"])), "plotted KL != the trace's kl"
    se = float(r["log_evidence_se"])
    assert close(hi - lp, se) and close(lp - lo, se) and close(khi - kl, se), "SE band"
# index 0: where M doubled, index 1 (after two blank lines): the stop
marks = [l for l in open(sys.argv[3]) if l.strip() and not l.startswith("#")]
assert open(sys.argv[3]).read().count("\n\n\n") == 1, "two index blocks"

want = []
for a, b in zip(rows, rows[1:]):
    if a["draws"] != b["draws"]:
        want.append((float(b["iter"]), float(b["elbo"]), '"M = %s"' % b["draws"]))
want.append((float(rows[-1]["iter"]), float(rows[-1]["elbo"]), '"stop"'))
got = []
for l in marks:
    x, e, lab = l.strip().split(" ", 2)
    got.append((float(x), float(e), lab))
assert len(want) >= 2 and [(g[0], g[2]) for g in got] == [(w[0], w[2]) for w in want], (got, want)
assert all(close(g[1], w[1]) for g, w in zip(got, want))
PY

# rows without log p(X): the bands stop there and start again after (two stretches),
# never filled across the gap
"$PYTHON" - "$TMP/es.trace.csv" "$TMP/gap.trace.csv" <<'PY' || fail "making gap.trace.csv"
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
w = csv.DictWriter(open(sys.argv[2], "w", newline=""), fieldnames=list(rows[0]), lineterminator="\n")
w.writeheader()
for i, r in enumerate(rows):
    if 5 <= i <= 10:
        r["log_evidence"] = r["log_evidence_se"] = r["kl"] = "nan"
    w.writerow(r)
PY
run plot trace "$TMP/gap.trace.csv" -o "$TMP/gap.png" --keep-data "$TMP/kg"
expect_status 0
"$PYTHON" - "$TMP/gap.trace.csv" "$TMP/kg/trace.1.bands.dat" <<'PY' || fail "bands around a gap"
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
text = [l for l in open(sys.argv[2]) if not l.startswith("#")]
idx = "".join(text).split("\n\n\n")
assert len(idx) == 2, len(idx)
for k, block in enumerate(idx):
    stretches = [s for s in block.strip("\n").split("\n\n")]
    assert len(stretches) == 2, (k, len(stretches))
    xs = [[float(l.split()[0]) for l in s.split("\n")] for s in stretches]
    assert xs == [[0, 1, 2, 3, 4], [float(r["iter"]) for r in rows[11:]]], xs
    assert "nan" not in block.lower()
    for s in stretches:
        for l in s.split("\n"):
            v = [float(x) for x in l.split()]
            r = rows[int(v[0])]
            lp, e, se = float(r["log_evidence"]), float(r["elbo"]), float(r["log_evidence_se"])
            want = [v[0], e, lp] if k == 0 else [v[0], lp - se, lp + se, lp - e - se, lp - e + se]
            assert all(abs(a - b) < 1e-9 * max(1, abs(b)) for a, b in zip(v, want)), (v, want)
PY

# no log p(X) at all: the KL panel says so instead of failing
"$PYTHON" - "$TMP/es.trace.csv" "$TMP/nolp.trace.csv" <<'PY' || fail "making nolp.trace.csv"
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
w = csv.DictWriter(open(sys.argv[2], "w", newline=""), fieldnames=list(rows[0]), lineterminator="\n")
w.writeheader()
for r in rows:
    r["log_evidence"] = r["log_evidence_se"] = r["kl"] = "nan"
    w.writerow(r)
PY
run plot trace "$TMP/nolp.trace.csv" -o "$TMP/nolp.png" --keep-data "$TMP/kl"
expect_status 0
grep -F -q "log p(X) was not estimated" "$TMP/kl/trace.gp" || fail "the empty KL panel"
png_size "$TMP/nolp.png" >/dev/null || fail "trace without log p(X)"

# the x axis: model points
run plot trace "$TMP/es.trace.csv" -o "$TMP/tp.png" --x points --keep-data "$TMP/kp"
expect_status 0
"$PYTHON" - "$TMP/es.trace.csv" "$TMP/kp/trace.1.dat" <<'PY' || fail "--x points"
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
dat = [l.split() for l in open(sys.argv[2]) if not l.startswith("#")]
assert [float(d[0]) for d in dat] == [float(r["n_points"]) for r in rows]
PY

# marginals: the default panels, PNG
run plot marginals "$TMP/es.csv" -o "$TMP/m.png"
expect_status 0
expect_err "m.png: showing the first 16 of 18 outputs"
png_size "$TMP/m.png" >/dev/null || fail "marginals PNG"

# marginals: chosen parameters (theta = its 8 elements), SVG of the size asked for
run plot marginals "$TMP/es.csv" --params mu,tau,theta -o "$TMP/m.svg" --size 900x700 \
  --keep-data "$TMP/km"
expect_status 0
grep -q '<svg' "$TMP/m.svg" && grep -q 'width="900" height="700"' "$TMP/m.svg" \
  || fail "marginals SVG size: $(grep -m1 -o 'width="[0-9]*" height="[0-9]*"' "$TMP/m.svg")"
grep -F -q 'q (meanfield) against the posterior' "$TMP/km/marginals.gp" || fail "family in the title"
"$PYTHON" - "$TMP/es.csv" "$TMP/km" <<'PY' || fail "marginals data"
import csv, math, sys
lines = [l for l in open(sys.argv[1]) if not l.startswith("#")]
rows = list(csv.DictReader(lines))[1:]            # row 1 is q's mean
n = len(rows)
W = [l.split() for l in open(sys.argv[2] + "/marginals.weights.dat") if not l.startswith("#")]
assert len(W) == n
lw = [float(w[1]) for w in W]; sm = [float(w[2]) for w in W]; w = [float(x[3]) for x in W]
for r, a in zip(rows, lw):
    assert abs(a - (float(r["log_p__"]) - float(r["log_g__"]))) < 1e-6, "log weight"
assert abs(sum(w) - 1) < 1e-9, "weights sum to 1"
m = math.ceil(min(0.2 * n, 3 * math.sqrt(n)))
order = sorted(range(n), key=lambda i: lw[i])
assert all(sm[i] == lw[i] for i in order[: n - m]), "smoothing outside the tail"
top = max(lw)
assert all(sm[i] <= top + 1e-12 for i in order[n - m:]), "tail above the largest weight"
smax = max(sm)
assert all(abs(w[i] - math.exp(sm[i] - smax) / sum(math.exp(s - smax) for s in sm)) < 1e-9
           for i in range(0, n, 97)), "normalised weights"
def blocks(path):
    out, cur = [], []
    for l in open(path):
        if l.startswith("#"): continue
        if not l.strip():
            if cur: out.append(cur); cur = []
            continue
        cur.append([float(x) for x in l.split()])
    if cur: out.append(cur)
    return out
H, K = blocks(sys.argv[2] + "/marginals.hist.dat"), blocks(sys.argv[2] + "/marginals.kde.dat")
names = ["mu", "tau"] + ["theta.%d" % i for i in range(1, 9)]
assert len(H) == len(K) == len(names), (len(H), len(K))
for name, h, k in zip(names, H, K):
    x = [float(r[name]) for r in rows]
    lo, width = h[0][0] - h[0][2] / 2, h[0][2]
    hi = h[-1][0] + width / 2
    mass = [0.0] * len(h)
    inside = 0
    for xi, wi in zip(x, w):
        if lo <= xi <= hi:
            inside += 1
            mass[min(int((xi - lo) / width), len(h) - 1)] += wi
    for b, (c, dens, bw) in enumerate(h):
        assert abs(dens * bw - mass[b]) < 1e-6, (name, b, dens * bw, mass[b])
    # q's density over the same range holds about the share of draws inside it
    area = sum((k[i + 1][0] - k[i][0]) * (k[i + 1][1] + k[i][1]) / 2 for i in range(len(k) - 1))
    assert abs(k[0][0] - lo) < 1e-6 * max(1, abs(lo)) and abs(k[-1][0] - hi) < 1e-6 * max(1, abs(hi))
    assert 0.9 < area < 1.0 and inside / n > 0.98, (name, area, inside / n)
PY

# weights: PDF, and the sorted weights kept
run plot weights "$TMP/es.csv" -o "$TMP/w.pdf" --keep-data "$TMP/kw"
expect_status 0
[ "$(head -c 5 "$TMP/w.pdf")" = "%PDF-" ] || fail "weights PDF"
grep -F -q 'PSIS k-hat = ' "$TMP/kw/weights.gp" || fail "k-hat in the weights title"
"$PYTHON" - "$TMP/es.csv" "$TMP/kw/weights.dat" <<'PY' || fail "weights data"
import csv, sys
lines = [l for l in open(sys.argv[1]) if not l.startswith("#")]
rows = list(csv.DictReader(lines))[1:]
lw = sorted((float(r["log_p__"]) - float(r["log_g__"]) for r in rows), reverse=True)
dat = [l.split() for l in open(sys.argv[2]) if not l.startswith("#")]
assert len(dat) == len(lw)
for i, (d, a) in enumerate(zip(dat, lw)):
    assert int(d[0]) == i + 1 and abs(float(d[1]) - (a - lw[0])) < 1e-6, (i, d, a)
tail = [float(d[2]) for d in dat if d[2] != "nan"]
assert 0 < len(tail) <= 100 and all(t <= 1e-12 for t in tail)
assert tail == sorted(tail, reverse=True), "the fitted tail keeps the order"
PY

# no extension: PNG
run plot weights "$TMP/cg.csv" -o "$TMP/w_noext"
expect_status 0
png_size "$TMP/w_noext" >/dev/null || fail "no extension is not a PNG"

# SVG weights of a given size
run plot weights "$TMP/cg.csv" -o "$TMP/w.svg" --size 640x480
expect_status 0
grep -q 'width="640" height="480"' "$TMP/w.svg" || fail "weights SVG size"

# the family and covariance the header states are in the title
sed -e 's/^#     algorithm = meanfield$/#     algorithm = fullrank/' \
    -e 's/^#     vi_estimator = fixed$/#     vi_estimator = fixed\n#     vi_covariance = lrvb/' \
    "$TMP/cg.csv" >"$TMP/fr.csv"
run plot marginals "$TMP/fr.csv" --params mu -o "$TMP/fr.png" --keep-data "$TMP/kf"
expect_status 0
grep -F -q 'q (fullrank, covariance lrvb) against the posterior' "$TMP/kf/marginals.gp" \
  || fail "family and covariance in the title: $(grep -m1 multiplot "$TMP/kf/marginals.gp")"

# a column without a finite draw gets an empty panel, the others are drawn
"$PYTHON" - "$TMP/cg.csv" "$TMP/nan.csv" <<'PY' || fail "making nan.csv"
import sys
out = open(sys.argv[2], "w")
header = None
for l in open(sys.argv[1]):
    if l.startswith("#") or header is None:
        if not l.startswith("#"): header = l.strip().split(",")
        out.write(l); continue
    f = l.rstrip("\n").split(",")
    f[header.index("tau")] = "nan"
    out.write(",".join(f) + "\n")
PY
run plot marginals "$TMP/nan.csv" --params mu,tau -o "$TMP/nan.png" --keep-data "$TMP/kn"
expect_status 0
grep -F -q "no finite draws" "$TMP/kn/marginals.gp" || fail "the empty panel"
png_size "$TMP/nan.png" >/dev/null || fail "marginals with a NaN column"

# vi fit --plot DIR: the three pictures, DIR created
run fit "$ES" --data "$ESD" --quiet --plot "$TMP/fitplots"
expect_status 0
for k in trace marginals weights; do
  png_size "$TMP/fitplots/$k.png" >/dev/null || fail "fit --plot: $k.png"
done
[ "$(png_size "$TMP/fitplots/trace.png")" = 1000x700 ] || fail "fit --plot: trace size"
exit 0
