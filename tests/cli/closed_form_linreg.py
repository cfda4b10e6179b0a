#!/usr/bin/env python3
"""closed_form_linreg.py: check a `vi fit` of models/linreg.stan against its closed form.

Model: beta ~ N(0, tau^2 I), y ~ N(X beta, sigma^2 I), sigma and tau known.  The posterior
is N(m, A^-1) with A = X'X / sigma^2 + I / tau^2 and m = A^-1 X'y / sigma^2; the mean-field
Gaussian closest in KL(q || p) has mean m and sds 1 / sqrt(A_jj); and
    log p(y) = log N(y | 0, sigma^2 I + tau^2 X X')
computed with the matrix determinant lemma and Woodbury's identity (K x K systems only).

usage: closed_form_linreg.py DATA.json SUMMARY.json DRAWS.json [MEAN_TOL SD_TOL]
  (DRAWS.json: what read_stan_csv.py printed for the --output file)
MEAN_TOL: allowed error of q's means in units of the optimal sds (default 0.3), SD_TOL:
allowed relative error of q's sds (default 0.2); the defaults allow for the fixed-draw
objective (sample-average approximation) with plain draws; with --standardize-draws the
objective is exact for this Gaussian posterior and the tolerances can be tight.
Exit 1 with a message when a check fails."""
import json
import math
import sys


def cholesky(a):
    n = len(a)
    l = [[0.0] * n for _ in range(n)]
    for i in range(n):
        for j in range(i + 1):
            s = a[i][j] - sum(l[i][k] * l[j][k] for k in range(j))
            l[i][j] = math.sqrt(s) if i == j else s / l[j][j]
    return l


def solve(l, b):
    n = len(l)
    z = [0.0] * n
    for i in range(n):
        z[i] = (b[i] - sum(l[i][k] * z[k] for k in range(i))) / l[i][i]
    x = [0.0] * n
    for i in reversed(range(n)):
        x[i] = (z[i] - sum(l[k][i] * x[k] for k in range(i + 1, n))) / l[i][i]
    return x


def main(data_path, summary_path, draws_path, mean_tol="0.3", sd_tol="0.2"):
    mean_tol, sd_tol = float(mean_tol), float(sd_tol)
    d = json.load(open(data_path))
    s = json.load(open(summary_path))
    dr = json.load(open(draws_path))
    X, y, N, K = d["X"], d["y"], d["N"], d["K"]
    s2, t2 = d["sigma"] ** 2, d["tau"] ** 2
    xtx = [[sum(X[n][i] * X[n][j] for n in range(N)) for j in range(K)] for i in range(K)]
    xty = [sum(X[n][i] * y[n] for n in range(N)) for i in range(K)]
    A = [[xtx[i][j] / s2 + (1.0 / t2 if i == j else 0.0) for j in range(K)] for i in range(K)]
    L = cholesky(A)
    m = solve(L, [v / s2 for v in xty])
    q_sd = [1.0 / math.sqrt(A[j][j]) for j in range(K)]
    # log N(y | 0, C), C = s2 I + t2 X X':
    #   log det C = N log s2 + log det(I + t2/s2 X'X) = N log s2 + K log t2 + log det A
    #   y' C^-1 y = (y'y - y'X (s2/t2 I + X'X)^-1 X'y) / s2 = (y'y - s2 xty' A^-1 xty / s2) / s2
    logdetA = 2 * sum(math.log(L[i][i]) for i in range(K))
    logdetC = N * math.log(s2) + K * math.log(t2) + logdetA
    yy = sum(v * v for v in y)
    quad = (yy - sum(a * b for a, b in zip(xty, m))) / s2
    log_ev = -0.5 * (N * math.log(2 * math.pi) + logdetC + quad)

    bad = []
    qm, qs = s["q"]["mean"], s["q"]["sd"]
    for j in range(K):
        name = "beta.%d" % (j + 1)
        if abs(qm[j] - m[j]) > mean_tol * q_sd[j]:
            bad.append("q mean of %s: %g, closed form %g" % (name, qm[j], m[j]))
        if abs(qs[j] / q_sd[j] - 1) > sd_tol:
            bad.append("q sd of %s: %g, closed form %g" % (name, qs[j], q_sd[j]))
        # the CSV's mean row is q's mean (identity transform for an unconstrained vector)
        if abs(dr["mean"][name] - qm[j]) > 1e-6 * max(1, abs(qm[j])):
            bad.append("CSV mean row %s: %g, q mean %g" % (name, dr["mean"][name], qm[j]))
        # the draws: mean within Monte Carlo error of q's mean
        n = dr["n_draws"]
        if abs(dr["means"][name] - qm[j]) > 5 * qs[j] / math.sqrt(n):
            bad.append("draws mean of %s: %g, q mean %g" % (name, dr["means"][name], qm[j]))
    f = s["final"]
    tol = max(0.1, 5 * (f["log_evidence_se"] or 0))
    if abs(f["log_evidence"] - log_ev) > tol:
        bad.append("log p(X) %g, closed form %g (tolerance %g)" % (f["log_evidence"], log_ev, tol))
    if not f["elbo"] <= log_ev + 5 * f["elbo_se"]:
        bad.append("ELBO %g above log p(X) %g" % (f["elbo"], log_ev))
    for b in bad:
        sys.stderr.write("closed_form_linreg: %s\n" % b)
    print("closed form: log p(y) = %.6f, m = %s, q sd = %s" % (log_ev, m, q_sd))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:6]))
