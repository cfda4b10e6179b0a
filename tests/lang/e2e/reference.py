#!/usr/bin/env python3
"""reference.py: posterior means of the e2e models fitted to fixed (not simulated) data,
computed independently of vi by MCMC, for their truth files (gen.py holds the values).

usage: reference.py [dugongs|eight_schools_offset] ...

Adaptive random-walk Metropolis (Haario et al. 2001: the proposal covariance is the
running covariance of the chain times 2.38^2 / d) on the same unconstrained coordinates
vi uses, log-Jacobian included, from 4 chains; prints each output's mean, its Monte
Carlo standard error (batch means) and the largest split-R-hat.  Pure Python and seeded,
so the numbers are reproducible; a run takes a few minutes."""
import json
import math
import os
import random
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def normal_lpdf(y, mu, sigma):
    z = (y - mu) / sigma
    return -0.5 * z * z - math.log(sigma) - 0.5 * math.log(2 * math.pi)


def cholesky(A):
    """Lower Cholesky factor of A (lists of rows), None if A is not positive definite."""
    n = len(A)
    L = [[0.0] * n for _ in range(n)]
    for j in range(n):
        d = A[j][j] - sum(L[j][k] ** 2 for k in range(j))
        if d <= 0:
            return None
        L[j][j] = math.sqrt(d)
        for i in range(j + 1, n):
            L[i][j] = (A[i][j] - sum(L[i][k] * L[j][k] for k in range(j))) / L[j][j]
    return L


def load(name):
    with open(os.path.join(HERE, name + ".data.json")) as f:
        return json.load(f)


def dugongs():
    d = load("dugongs")
    x, Y = d["x"], d["Y"]

    def lp(u):
        alpha, beta, ul, ut = u
        lam = 0.5 + 0.5 / (1 + math.exp(-ul))
        tau = math.exp(ut)
        sigma = 1 / math.sqrt(tau)
        s = sum(normal_lpdf(y, alpha - beta * lam ** xi, sigma) for xi, y in zip(x, Y))
        s += normal_lpdf(alpha, 0, 1000) + normal_lpdf(beta, 0, 1000)
        s += (0.0001 - 1) * math.log(tau) - 0.0001 * tau   # gamma(0.0001, 0.0001), kernel
        # Jacobians: lambda = 0.5 + 0.5 inv_logit(u), tau = exp(u)
        p = 1 / (1 + math.exp(-ul))
        s += math.log(0.5 * p * (1 - p)) + ut
        return s

    def out(u):
        lam = 0.5 + 0.5 / (1 + math.exp(-u[2]))
        return {"alpha": u[0], "beta": u[1], "lambda": lam, "sigma": math.exp(-0.5 * u[3])}

    return lp, out, [2.6, 1.0, 0.5, 4.5]


def eight_schools_offset():
    d = load("eight_schools_offset")
    y, sg = d["y"], d["sigma"]
    J = len(y)

    def lp(u):
        mu, lt, eta = u[0], u[1], u[2:]
        tau = math.exp(lt)
        s = normal_lpdf(mu, 0, 5)
        s += math.log(2 / (math.pi * 5 * (1 + (tau / 5) ** 2)))   # half-Cauchy(0, 5)
        s += lt                                                   # tau = exp(u)
        for j in range(J):
            th = mu + tau * eta[j]
            s += normal_lpdf(th, mu, tau) + math.log(tau)          # theta = mu + tau eta
            s += normal_lpdf(y[j], th, sg[j])
        return s

    def out(u):
        tau = math.exp(u[1])
        o = {"mu": u[0], "tau": tau}
        for j in range(J):
            o["theta.%d" % (j + 1)] = u[0] + tau * u[2 + j]
        return o

    return lp, out, [4.0, 1.0] + [0.0] * J


def chain(lp, u0, n, seed):
    rng = random.Random(seed)
    d = len(u0)
    u, cur = list(u0), lp(u0)
    mean, cov = list(u0), [[(0.1 if i == j else 0.0) for j in range(d)] for i in range(d)]
    draws = []
    for it in range(1, n + 1):
        if it > 2 * d and it % 50 == 0:
            L = cholesky([[cov[i][j] * 2.38 ** 2 / d + (1e-10 if i == j else 0)
                           for j in range(d)] for i in range(d)])
        elif it == 1:
            L = cholesky([[cov[i][j] * 2.38 ** 2 / d for j in range(d)] for i in range(d)])
        z = [rng.gauss(0, 1) for _ in range(d)]
        prop = [u[i] + sum(L[i][j] * z[j] for j in range(i + 1)) for i in range(d)]
        new = lp(prop)
        if math.log(rng.random()) < new - cur:
            u, cur = prop, new
        # running mean and covariance (Welford)
        w = 1.0 / (it + 1)
        delta = [u[i] - mean[i] for i in range(d)]
        mean = [mean[i] + w * delta[i] for i in range(d)]
        for i in range(d):
            for j in range(d):
                cov[i][j] = (1 - w) * cov[i][j] + w * (1 - w) * delta[i] * delta[j]
        if it > n // 2:
            draws.append(list(u))
    return draws


def summarise(name, out, chains):
    keys = list(out(chains[0][0]).keys())
    outs = [[out(u) for u in c] for c in chains]
    res = {}
    for key in keys:
        per = [[o[key] for o in c] for c in outs]
        allv = [v for c in per for v in c]
        m = sum(allv) / len(allv)
        # batch-means standard error and split R-hat
        B = 50
        bm = []
        for c in per:
            size = len(c) // B
            bm += [sum(c[b * size:(b + 1) * size]) / size for b in range(B)]
        bmean = sum(bm) / len(bm)
        se = math.sqrt(sum((v - bmean) ** 2 for v in bm) / (len(bm) - 1) / len(bm))
        halves = []
        for c in per:
            h = len(c) // 2
            halves += [c[:h], c[h:2 * h]]
        n = len(halves[0])
        ms = [sum(h) / n for h in halves]
        W = sum(sum((v - mh) ** 2 for v in h) / (n - 1) for h, mh in zip(halves, ms)) / len(halves)
        Bv = n * sum((mh - sum(ms) / len(ms)) ** 2 for mh in ms) / (len(ms) - 1)
        rhat = math.sqrt(((n - 1) / n * W + Bv / n) / W) if W > 0 else float("nan")
        res[key] = (m, se, rhat)
        print("%s %-10s mean %10.4f  mcse %.4f  rhat %.3f" % (name, key, m, se, rhat))
    return res


MODELS = {"dugongs": dugongs, "eight_schools_offset": eight_schools_offset}

if __name__ == "__main__":
    for name in sys.argv[1:] or list(MODELS):
        lp, out, u0 = MODELS[name]()
        n = 200000
        chains = [chain(lp, u0, n, 1000 + c) for c in range(4)]
        summarise(name, out, chains)
        sys.stdout.flush()
