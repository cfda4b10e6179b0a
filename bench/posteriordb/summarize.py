"""summarize.py TAG.json ...: one line per run of run.py: over the posteriors that fitted,
the median and worst smallest sd ratio (fitted sd / reference sd), how many posteriors
have a parameter whose sd is under 0.5x or over 1.5x the reference, the mean error in
reference sds (median and worst of each posterior's largest), and the seconds."""
import json, statistics as st, sys
for path in sys.argv[1:]:
    R = json.load(open(path))
    ok = [r for r in R.values() if "err_max" in r]
    print(f"{path}: {len(ok)} of {len(R)} fitted; sd ratio min: median {st.median(r['sd_min'] for r in ok):.2f},"
          f" worst {min(r['sd_min'] for r in ok):.3f}; <0.5x on {sum(r['sd_min'] < 0.5 for r in ok)},"
          f" >1.5x on {sum(r['sd_max'] > 1.5 for r in ok)}; mean error (ref sds): median"
          f" {st.median(r['err_max'] for r in ok):.3f}, worst {max(r['err_max'] for r in ok):.2f};"
          f" seconds: median {st.median(r['sec'] for r in ok):.2f}, total {sum(r['sec'] for r in ok):.0f}")
