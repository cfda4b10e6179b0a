#!/usr/bin/env python3
"""compare.py: the summaries (--summary-json) of one fit on 1, 2, 4 ranks agree:
the fit's objective (the ELBO on its fixed draws) and the final ELBO to REL relative,
the output means to SD_TOL of their sd and the sds to SD_TOL relative.

  compare.py REL SD_TOL base.json other.json...
Prints one line per other file; exits 1 on the first disagreement."""
import json
import sys


def main(argv):
    rel, sd_tol = float(argv[1]), float(argv[2])
    base = json.load(open(argv[3]))
    for path in argv[4:]:
        o = json.load(open(path))
        def r(a, b):
            return abs(a - b) / max(abs(b), 1e-300)
        e_obj = r(o["last_iteration"]["elbo"], base["last_iteration"]["elbo"])
        e_fin = r(o["final"]["elbo"], base["final"]["elbo"])
        d_mean = max(abs(a["mean"] - b["mean"]) / b["sd"]
                     for a, b in zip(o["outputs"], base["outputs"]))
        d_sd = max(abs(a["sd"] - b["sd"]) / b["sd"] for a, b in zip(o["outputs"], base["outputs"]))
        print("%s: objective %.2e, final ELBO %.2e relative; means %.2e sd, sds %.2e "
              "relative" % (path, e_obj, e_fin, d_mean, d_sd))
        if [x["name"] for x in o["outputs"]] != [x["name"] for x in base["outputs"]]:
            print("FAIL: the outputs differ"); return 1
        if e_obj > rel or e_fin > rel or d_mean > sd_tol or d_sd > sd_tol:
            print("FAIL: beyond %g relative (ELBO) or %g (means, sds)" % (rel, sd_tol))
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
