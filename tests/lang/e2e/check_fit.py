#!/usr/bin/env python3
"""check_fit.py: check one end-to-end fit from the CSV that `vi fit --output` wrote.

usage: check_fit.py MODEL.stan OUT.csv TRUTH.json

Checks: the CSV has CmdStan's variational layout (comments, the header
lp__,log_p__,log_g__,..., the mean row, then draws); no output is NaN or infinite in the
mean row or any draw; outputs declared `int` in the model hold integers; and each true
value in TRUTH.json lies within k posterior sds (plus a small absolute slack, since a
mean-field fit understates the sds) of the mean over the draws.  Prints what failed and
exits 1, else exits 0."""
import csv
import json
import math
import re
import sys


def int_outputs(stan_text):
    """Names of int outputs: top-level int declarations of transformed parameters and
    generated quantities (locals in nested braces are not outputs)."""
    names = set()
    text = re.sub(r"//[^\n]*|/\*.*?\*/", "", stan_text, flags=re.S)
    for blk in ("generated quantities", "transformed parameters"):
        i = text.find(blk)
        if i < 0:
            continue
        j = text.index("{", i) + 1
        depth, k = 1, j
        while depth:
            depth += {"{": 1, "}": -1}.get(text[k], 0)
            k += 1
        body, depth, top = text[j:k - 1], 0, []
        cur = ""
        for ch in body:
            if ch == "{":
                depth += 1
            elif ch == "}":
                depth -= 1
                cur = ""
                continue
            if depth == 0:
                cur += ch
                if ch == ";":
                    top.append(cur.strip())
                    cur = ""
        for st in top:
            m = re.match(r"(?:array\s*\[[^\]]*\]\s*)?int\b(?:\s*<[^>]*>)?\s+([A-Za-z_]\w*)", st)
            if m:
                names.add(m.group(1))
            m = re.match(r"int\b(?:\s*<[^>]*>)?\s+([A-Za-z_]\w*)\s*\[", st)
            if m:
                names.add(m.group(1))
    return names


def main(stan, out, truth_path):
    errs = []
    with open(out) as f:
        rows = [r for r in csv.reader(line for line in f if not line.startswith("#"))]
    header, rows = rows[0], rows[1:]
    if header[:3] != ["lp__", "log_p__", "log_g__"]:
        errs.append("header starts %s" % header[:3])
    if len(rows) < 2:
        errs.append("fewer than 2 rows (mean + draws)")
        rows = rows + [[]] * 2
    vals = [[float(x) for x in r] for r in rows]
    for r in vals:
        if len(r) != len(header):
            errs.append("a row has %d fields, the header %d" % (len(r), len(header)))
            break
    for j, name in enumerate(header[3:], start=3):
        bad = [i for i, r in enumerate(vals) if not math.isfinite(r[j])]
        if bad:
            errs.append("%s is not finite in %d rows (first: row %d)" % (name, len(bad), bad[0]))
    ints = int_outputs(open(stan).read())
    for j, name in enumerate(header):
        if name.split(".")[0] in ints:
            if any(math.isfinite(r[j]) and r[j] != round(r[j]) for r in vals):
                errs.append("int output %s holds a non-integer" % name)
    spec = json.load(open(truth_path))
    k = spec.get("k", 4.0)
    draws = vals[1:]
    for name, tv in spec["truth"].items():
        if name not in header:
            errs.append("no column %s" % name)
            continue
        j = header.index(name)
        xs = [r[j] for r in draws]
        m = sum(xs) / len(xs)
        sd = math.sqrt(sum((x - m) ** 2 for x in xs) / max(1, len(xs) - 1))
        slack = 0.05 * max(1.0, abs(tv))
        if abs(m - tv) > k * sd + slack:
            errs.append("%s: mean %.4g sd %.3g, truth %.4g (more than %g sds away)"
                        % (name, m, sd, tv, k))
    for e in errs:
        print("  " + e)
    return 1 if errs else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:4]))
