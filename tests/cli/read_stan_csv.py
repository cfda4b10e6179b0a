#!/usr/bin/env python3
"""read_stan_csv.py: read a variational CSV written by `vi fit --output` the way the
readers of CmdStan files do (Python's csv module for the rows; the comment header parsed
as CmdStanPy's scan_config parses it), check the layout, and print what was read as JSON.

Layout checked (CmdStan's variational output):
  - zero or more comment lines "# ..." (the configuration), including method = variational
    and algorithm = meanfield or fullrank (what CmdStanPy accepts);
  - the header row: lp__,log_p__,log_g__ then the output names;
  - the first data row: the mean of q, with lp__ = log_p__ = log_g__ = 0;
  - then the draws, lp__ = 0, every row as many fields as the header, every field a
    number (nan and inf allowed, as CmdStan writes them).
Exit status 1 with a message on any violation.

usage: read_stan_csv.py FILE.csv  ->  JSON on stdout: config, header, mean (name -> value),
       n_draws, means and sds (name -> value over the draws)."""
import csv
import json
import math
import sys


def die(msg):
    sys.stderr.write("read_stan_csv: %s\n" % msg)
    sys.exit(1)


def main(path):
    config = {}
    comments = []
    rows = []
    header = None
    with open(path, newline="") as fh:
        lines = fh.read().split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    else:
        die("the file does not end with a newline")
    body = []
    for ln in lines:
        if ln.startswith("#"):
            if header is None:
                comments.append(ln)
                kv = ln.lstrip(" #\t").replace("(Default)", "").split("=")
                if len(kv) == 2:
                    config[kv[0].strip()] = kv[1].strip()
            continue   # later comments are skipped, as pandas' comment='#' does
        if header is None:
            header = ln
            continue
        body.append(ln)
    if header is None:
        die("no header row")
    names = next(csv.reader([header]))
    if names[:3] != ["lp__", "log_p__", "log_g__"]:
        die("the header starts with %r, not lp__,log_p__,log_g__" % names[:3])
    if len(set(names)) != len(names):
        die("duplicate column names")
    for i, rec in enumerate(csv.reader(body)):
        if len(rec) != len(names):
            die("row %d has %d fields, the header %d" % (i + 1, len(rec), len(names)))
        try:
            vals = [float(x) for x in rec]
        except ValueError as e:
            die("row %d: %s" % (i + 1, e))
        rows.append(vals)
    if not rows:
        die("no mean row")
    mean = rows[0]
    if mean[:3] != [0.0, 0.0, 0.0]:
        die("the mean row starts with %r, not 0,0,0" % mean[:3])
    draws = rows[1:]
    for i, r in enumerate(draws):
        if r[0] != 0.0:
            die("draw %d: lp__ is %r, not 0" % (i + 1, r[0]))
    for key in ("method", "algorithm"):
        if key not in config:
            die("the comment header lacks '%s = ...'" % key)
    if config["method"] != "variational" or config["algorithm"] not in ("meanfield", "fullrank"):
        die("method/algorithm are %s/%s" % (config["method"], config["algorithm"]))
    # the keys CmdStanPy's from_csv reads for a variational fit, with the values its
    # VariationalArgs accepts (positive integers, positive reals)
    for key in ("model",):
        if not config.get(key):
            die("the comment header lacks '%s = ...'" % key)
    for key in ("iter", "grad_samples", "elbo_samples", "eval_elbo", "output_samples"):
        try:
            ok = int(config[key]) > 0
        except (KeyError, ValueError):
            ok = False
        if not ok:
            die("'%s' must be a positive integer in the header, got %r" % (key, config.get(key)))
    for key in ("eta", "tol_rel_obj"):
        try:
            ok = float(config[key]) >= 0
        except (KeyError, ValueError):
            ok = False
        if not ok:
            die("'%s' must be a number in the header, got %r" % (key, config.get(key)))
    means, sds = {}, {}
    n = len(draws)
    for j, name in enumerate(names):
        col = [r[j] for r in draws]
        m = sum(col) / n if n else float("nan")
        means[name] = m
        sds[name] = math.sqrt(sum((x - m) ** 2 for x in col) / (n - 1)) if n > 1 else float("nan")
    out = {"config": config, "comments": comments, "header": names,
           "mean": dict(zip(names, mean)), "n_draws": n, "means": means, "sds": sds}
    json.dump(out, sys.stdout, indent=1, allow_nan=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        die("usage: read_stan_csv.py FILE.csv")
    main(sys.argv[1])
