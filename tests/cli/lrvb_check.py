#!/usr/bin/env python3
"""lrvb_check.py: check `vi fit models/earnings.stan --covariance lrvb` against the
closed-form posterior.

Model (models/earnings.stan): coefficients ~ N(0, tau^2 I), earn ~ N(X beta, sigma^2 I)
with X = [1, height, male, height * male], sigma and tau known.  The posterior covariance
is A^-1, A = X'X / sigma^2 + I / tau^2; the mean-field sds are 1 / sqrt(A_jj).

usage: lrvb_check.py DATA.json SUMMARY.json
Checks: the summary's Sigma_LR (sd and every covariance entry) equals A^-1 to 1e-6
relative; the output draws' sds (the summary table) are within 10% of the exact sds;
q's own (mean-field) sds are 5-20x too small.  Exit 1 with a message when one fails."""
import json
import math
import sys


def inverse(a):
    n = len(a)
    m = [row[:] + [1.0 if i == j else 0.0 for j in range(n)] for i, row in enumerate(a)]
    for c in range(n):
        p = max(range(c, n), key=lambda r: abs(m[r][c]))
        m[c], m[p] = m[p], m[c]
        piv = m[c][c]
        m[c] = [v / piv for v in m[c]]
        for r in range(n):
            if r != c:
                f = m[r][c]
                m[r] = [v - f * w for v, w in zip(m[r], m[c])]
    return [row[n:] for row in m]


def main(data_path, summary_path):
    d = json.load(open(data_path))
    s = json.load(open(summary_path))
    X = [[1.0, h, m, h * m] for h, m in zip(d["height"], d["male"])]
    s2, t2 = d["sigma"] ** 2, d["tau"] ** 2
    K = 4
    A = [[sum(x[i] * x[j] for x in X) / s2 + (1.0 / t2 if i == j else 0.0)
          for j in range(K)] for i in range(K)]
    S = inverse(A)
    sd = [math.sqrt(S[j][j]) for j in range(K)]
    bad = []
    lr = s["lrvb"]
    for i in range(K):
        if abs(lr["sd"][i] / sd[i] - 1) > 1e-6:
            bad.append("LRVB sd %d: %.10g vs exact %.10g" % (i, lr["sd"][i], sd[i]))
        for j in range(K):
            if abs(lr["cov"][i][j] - S[i][j]) > 1e-6 * sd[i] * sd[j]:
                bad.append("LRVB cov %d %d: %.10g vs %.10g" % (i, j, lr["cov"][i][j], S[i][j]))
    for i, o in enumerate(s["outputs"]):
        if abs(o["sd"] / sd[i] - 1) > 0.1:
            bad.append("draws' sd of %s: %.6g vs exact %.6g" % (o["name"], o["sd"], sd[i]))
        r = sd[i] / s["q"]["sd"][i]
        if not 5 <= r <= 20:
            bad.append("mean-field sd of %s is %.3gx too small, expected 5-20x" % (o["name"], r))
    for b in bad:
        print(b)
    print("exact sds:", " ".join("%.6g" % v for v in sd))
    print("mean-field / exact:", " ".join("%.3g" % (q / v) for q, v in zip(s["q"]["sd"], sd)))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
