"""run.py VI DIR TAG [vi fit options...]: fit every posterior that extract.py wrote under
DIR with the vi binary VI, seed 1 (unless the options say otherwise); write TAG.json with per posterior: exit, seconds, mean error (max and median |m - ref|/ref_sd)
and sd ratio (min, median, max of sd/ref_sd)."""
import json, os, subprocess, sys, time, statistics as st, glob
vi, top, tag, opts = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
only = os.environ.get("ONLY")
res = {}
for d in sorted(glob.glob(os.path.join(top, "*/ref.json"))):
    pdir = os.path.dirname(d); post = os.path.basename(pdir)
    if only and only not in post: continue
    ref = json.load(open(d))
    out = f"{tag}.{post}.summary.json"
    t0 = time.time()
    p = subprocess.run([vi, "fit", f"{pdir}/model.stan", "--data", f"{pdir}/data.json", "--quiet",
                        "--summary-json", out, "--output-draws", "1000"] + opts,
                       capture_output=True, text=True, timeout=900)
    dt = time.time() - t0
    r = {"exit": p.returncode, "sec": round(dt, 3)}
    try:
        s = json.load(open(out)); os.unlink(out)
        o = {x["name"]: x for x in s["outputs"]}
        errs, ratios = [], []
        for k, (m, sd) in ref.items():
            kk = k.replace("[", ".").replace("]", "").replace(",", ".")
            if kk not in o or sd <= 0: continue
            errs.append(abs(o[kk]["mean"] - m) / sd); ratios.append(o[kk]["sd"] / sd)
        r.update(err_max=round(max(errs), 3), err_med=round(st.median(errs), 3),
                 sd_min=round(min(ratios), 3), sd_med=round(st.median(ratios), 3), sd_max=round(max(ratios), 3),
                 elbo=s["final"]["elbo"], khat=s["final"]["khat"], n=len(errs))
    except Exception as e:
        r["error"] = (p.stderr.strip().splitlines() or [str(e)])[-1][:200]
    res[post] = r
    print(post, r, flush=True)
json.dump(res, open(f"{tag}.json", "w"), indent=1)
