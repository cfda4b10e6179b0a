#!/usr/bin/env python3
"""bench/starts.py: what several mode searches cost and change (issue 15).

Fits every model of the benchmark suite (bench/run's SUITE: its data from models/ or
bench/gendata.py), every example model of models/ and every end-to-end model of
tests/lang/e2e with `vi fit` at each --starts setting given (default: 1, 4 and auto), one
process per fit, the library's defaults otherwise, and compares each setting with the
first: the final ELBO (the summary's fresh-draw estimate, and the optimiser's own
objective at its last iteration), the model points evaluated, the model calls and the
seconds.  With --before OLD_VI every fit is also made with that build, just before the
same fit with --vi (the two under the same load), and a second table compares them.

    bench/starts.py --vi src/cli/vi [--starts 1,4,auto] [--seeds 1] [--out DIR]
                    [--before OLD_VI]

Writes DIR/starts.csv (one row per fit) and prints the table bench/README.md quotes.
Standard library only.
"""
import argparse
import csv
import importlib.machinery
import importlib.util
import json
import os
import resource
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)


def suite_models(out):
    """(name, stan, data) for the bench suite, the examples and the e2e models."""
    loader = importlib.machinery.SourceFileLoader("bench_run", os.path.join(HERE, "run"))
    spec = importlib.util.spec_from_loader("bench_run", loader)
    br = importlib.util.module_from_spec(spec)
    loader.exec_module(br)
    models, seen = [], set()
    for s in br.SUITE:
        data = os.path.join(TOP, s["data"]) if s.get("data") else None
        if not data or not os.path.exists(data):
            data = os.path.join(out, s["name"] + ".data.json")
            if not os.path.exists(data):
                subprocess.run([sys.executable, os.path.join(HERE, "gendata.py"), s["gen"],
                                data], check=True)
        models.append(("bench/" + s["name"], os.path.join(TOP, s["stan"]), data))
        seen.add((s["stan"], os.path.abspath(data)))
    for d, tag in ((os.path.join(TOP, "models"), "models/"),
                   (os.path.join(TOP, "tests", "lang", "e2e"), "e2e/")):
        for f in sorted(os.listdir(d)):
            if not f.endswith(".stan"):
                continue
            stan = os.path.join(d, f)
            data = stan[:-5] + ".data.json"
            key = (os.path.relpath(stan, TOP), os.path.abspath(data))
            if key in seen:
                continue
            models.append((tag + f[:-5], stan, data if os.path.exists(data) else None))
    return models


def fit(vi, stan, data, starts, seed, out):
    js, tr = os.path.join(out, "fit.json"), os.path.join(out, "fit.trace.csv")
    cmd = [vi, "fit", stan, "--seed", str(seed), "--starts", starts, "--summary-json", js,
           "--output", os.path.join(out, "fit.csv"), "--quiet", "--print-every", "0",
           "--trace", tr]
    if data:
        cmd += ["--data", data]
    ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    r = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = ru1.ru_utime + ru1.ru_stime - ru0.ru_utime - ru0.ru_stime
    try:
        s = json.load(open(js))
        os.remove(js)
        # iteration 0: the state vi_fit_alloc leaves, the mode searches included
        t0 = next(csv.DictReader(open(tr)))
        os.remove(tr)
    except (OSError, ValueError, StopIteration):
        return dict(exit=r.returncode)
    li = s.get("last_iteration") or {}
    st = s.get("start") or {}
    return dict(exit=r.returncode, elbo=s["final"]["elbo"] if s.get("final") else None,
                objective=li.get("elbo"), points=li.get("n_points"), calls=li.get("n_fevals"),
                seconds=li.get("seconds"), cpu=cpu, start_calls=int(t0["n_fevals"]),
                start_seconds=float(t0["seconds"]),
                searches=st.get("searches"), modes=len(st.get("modes") or []))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--vi", default=os.path.join(TOP, "src", "cli", "vi"))
    ap.add_argument("--starts", default="1,4,auto")
    ap.add_argument("--seeds", default="1")
    ap.add_argument("--out", default="bench-out")
    ap.add_argument("--models", default="", help="comma-separated substrings of the names")
    ap.add_argument("--before", default="", help="another build's vi, run before each fit")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    settings = a.starts.split(",")
    seeds = [int(x) for x in a.seeds.split(",")]
    models = [m for m in suite_models(a.out)
              if not a.models or any(t in m[0] for t in a.models.split(","))]
    rows, before = [], []
    for name, stan, data in models:
        for seed in seeds:
            for k in settings:
                for build, vi in (("before", a.before), ("after", a.vi)):
                    if not vi:
                        continue
                    r = fit(vi, stan, data, k, seed, a.out)
                    r.update(model=name, seed=seed, starts=k, build=build)
                    (before if build == "before" else rows).append(r)
                    print("%-34s seed %d starts %-4s %-6s exit %s ELBO %s points %s calls %s "
                          "s %s cpu %s start calls %s s %s searches %s modes %s"
                          % (name, seed, k, build, r["exit"], r.get("elbo"), r.get("points"),
                             r.get("calls"), r.get("seconds"), r.get("cpu"),
                             r.get("start_calls"), r.get("start_seconds"), r.get("searches"),
                             r.get("modes")), file=sys.stderr, flush=True)
    keys = ["model", "seed", "starts", "build", "exit", "elbo", "objective", "points",
            "calls", "seconds", "cpu", "start_calls", "start_seconds", "searches", "modes"]
    with open(os.path.join(a.out, "starts.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, keys)
        w.writeheader()
        for r in before + rows:
            w.writerow({k: r.get(k) for k in keys})
    base = {(r["model"], r["seed"]): r for r in rows if r["starts"] == settings[0]}
    print("| --starts | fits | final ELBO vs %s: higher by > 0.01 / within 0.01 / lower by > 0.01 "
          "| model points (median, max ratio) | seconds (median, max ratio) | searches (median, max) |"
          % settings[0])
    print("|---|---|---|---|---|---|")
    for k in settings[1:]:
        hi = same = lo = 0
        pr, sr, ns, worse = [], [], [], []
        for r in rows:
            b = base.get((r["model"], r["seed"]))
            if r["starts"] != k or not b or r.get("elbo") is None or b.get("elbo") is None:
                continue
            d = r["elbo"] - b["elbo"]
            if d > 0.01:
                hi += 1
            elif d < -0.01:
                lo += 1
                worse.append("%s %+.3f" % (r["model"], d))
            else:
                same += 1
            if b.get("points"):
                pr.append(r["points"] / b["points"])
            if b.get("seconds"):
                sr.append(r["seconds"] / b["seconds"])
            ns.append(r["searches"] or 0)
        print("| %s | %d | %d / %d / %d | %.2fx, %.2fx | %.2fx, %.2fx | %g, %d |"
              % (k, hi + same + lo, hi, same, lo, statistics.median(pr), max(pr),
                 statistics.median(sr), max(sr), statistics.median(ns), max(ns)))
        for w_ in worse:
            print("  lower: " + w_)
        for r in rows:
            b = base.get((r["model"], r["seed"]))
            if r["starts"] == k and b and r.get("elbo") is not None and b.get("elbo") is not None \
                    and r["elbo"] - b["elbo"] > 0.01:
                print("  higher: %s %+.3f" % (r["model"], r["elbo"] - b["elbo"]))
    if before:
        compare_builds(before, rows, settings)
    return 0


def compare_builds(before, after, settings):
    """The table of --vi against --before, fit by fit, at each setting: model calls and
    seconds of the whole fit, and of the start alone (vi_fit_alloc: the mode searches)."""
    old = {(r["model"], r["seed"], r["starts"]): r for r in before}
    print()
    print("| --starts | fits | final ELBO vs before: higher by > 0.01 / within 0.01 / lower "
          "by > 0.01 (bit-identical) | model points (total ratio) | model calls: fit, start "
          "(median ratio; total ratio) | start's wall seconds (median ratio; total) | fit's "
          "CPU seconds (median ratio; total) |")
    print("|---|---|---|---|---|---|---|")

    def ratios(pairs):
        pairs = [(a, b) for a, b in pairs if a and b]
        return (statistics.median(b / a for a, b in pairs), sum(a for a, _ in pairs),
                sum(b for _, b in pairs))

    for k in settings:
        hi = same = lo = ident = 0
        pairs = []
        for r in after:
            b = old.get((r["model"], r["seed"], r["starts"]))
            if r["starts"] != k or not b or r.get("elbo") is None or b.get("elbo") is None:
                continue
            d = r["elbo"] - b["elbo"]
            hi += d > 0.01
            lo += d < -0.01
            same += abs(d) <= 0.01
            ident += r["elbo"] == b["elbo"] and r["objective"] == b["objective"]
            if d < -0.01:
                print("  lower: %s %+.3f" % (r["model"], d))
            pairs.append((b, r))
        if not pairs:
            continue
        pts = ratios((b["points"], r["points"]) for b, r in pairs)
        fc = ratios((b["calls"], r["calls"]) for b, r in pairs)
        sc = ratios((b["start_calls"], r["start_calls"]) for b, r in pairs)
        ss = ratios((b["start_seconds"], r["start_seconds"]) for b, r in pairs)
        cp = ratios((b["cpu"], r["cpu"]) for b, r in pairs)
        print("| %s | %d | %d / %d / %d (%d) | %.3fx | %.2fx, %.2fx; %.2fx, %.2fx | %.2fx; "
              "%.1f -> %.1f s | %.2fx; %.1f -> %.1f s |"
              % (k, hi + same + lo, hi, same, lo, ident, pts[2] / pts[1], fc[0], sc[0],
                 fc[2] / fc[1], sc[2] / sc[1], ss[0], ss[1], ss[2], cp[0], cp[1], cp[2]))

if __name__ == "__main__":
    sys.exit(main())
