#!/usr/bin/env python3
"""bench/gendata.py: deterministic data sets for the benchmark's models.

The models are the examples in models/ (their data blocks: linreg.stan, logistic.stan,
hier_logistic.stan, poisson_glm.stan; bench/run uses models/NAME.data.json when it exists
and this generator otherwise) and the benchmark's own in bench/models.

Every data set is simulated from its model's own generative story with Python's Mersenne
Twister (random.Random), seeded by the data set's name, so the same command writes the
same bytes on any machine with Python 3 and no third-party packages (numpy is not
assumed).  Large data sets are written at bench time into the build directory instead of
being committed.  Numbers are written with 7 significant digits; the models read them
as given, so the closed-form answers bench/run computes use the file's values.

    gendata.py NAME OUT.json        write one data set
    gendata.py --list               the names
"""
import json
import math
import random
import sys
import zlib


def rng_for(name):
    # crc32 of the name: a stable seed (Python's hash() is salted per process).
    return random.Random(zlib.crc32(name.encode()))


def r7(x):
    return float('%.7g' % x)


def matrix(r, n, d, scales=None):
    scales = scales or [1.0] * d
    return [[r7(r.gauss(0, 1) * scales[j]) for j in range(d)] for _ in range(n)]


def inv_logit(t):
    return 1 / (1 + math.exp(-t)) if t > -700 else 0.0


def hier_logistic(r, n=500, groups=10, d=3):
    a = [r.gauss(-0.5, 0.8) for _ in range(groups)]
    beta = [r.gauss(0, 1) for _ in range(d)]
    g = [1 + i % groups for i in range(n)]
    x = matrix(r, n, d)
    y = [int(r.random() < inv_logit(a[g[i] - 1] + sum(x[i][j] * beta[j] for j in range(d))))
         for i in range(n)]
    return {"N": n, "J": groups, "K": d, "g": g, "X": x, "y": y}


def poisson_sample(r, lam):
    # Knuth's product method; fine for the small rates used here.
    if lam > 30:
        return max(0, int(round(r.gauss(lam, math.sqrt(lam)))))
    L, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= r.random()
        if p <= L:
            return k
        k += 1


def poisson_glm(r, n=200, d=4):
    beta = [r.gauss(0, 0.4) for _ in range(d)]
    x = matrix(r, n, d)
    ex = [r7(r.uniform(0.5, 2.0)) for _ in range(n)]
    y = [poisson_sample(r, ex[i] * math.exp(0.7 + sum(x[i][j] * beta[j] for j in range(d))))
         for i in range(n)]
    return {"N": n, "K": d, "X": x, "exposure": ex, "y": y}


def linreg(r, n, scales, sigma, tau):
    d = len(scales)
    x = matrix(r, n, d, scales)
    beta = [r.gauss(0, 1) / s for s in scales]
    y = [r7(sum(x[i][j] * beta[j] for j in range(d)) + r.gauss(0, sigma)) for i in range(n)]
    return {"N": n, "K": d, "X": x, "y": y, "sigma": sigma, "tau": tau}


def linear_regression(r):
    return linreg(r, 100, [1.0] * 5, 1.0, 10.0)


def badly_scaled(r):
    # Predictors on scales 1e-3 .. 1e3: posterior sds span about six orders of magnitude.
    return linreg(r, 200, [10.0 ** e for e in range(-3, 4)], 1.0, 1e4)


def earnings(r, n=400):
    # Earnings ($1000s) on uncentred height (inches), sex and their interaction, the
    # regression where mean-field sds are about 18x too small (as models/earnings.stan);
    # in linreg.stan's layout so that the posterior is known in closed form.
    x, y = [], []
    for _ in range(n):
        male = 1.0 if r.random() < 0.5 else 0.0
        h = round(r.gauss(69.0 if male else 64.0, 5.5), 1)
        x.append([1.0, h, male, r7(h * male)])
        y.append(r7(-60 + 1.2 * h + 8 * male + 0.1 * h * male + r.gauss(0, 19.0)))
    return {"N": n, "K": 4, "X": x, "y": y, "sigma": 19.0, "tau": 1000.0}


def correlated_gaussian(r):
    return {"D": 10, "rho": 0.9}


def student_t(r, n=60):
    x = [r7(r.uniform(-2, 2)) for _ in range(n)]
    y = []
    for i in range(n):
        # t with 3 degrees of freedom: normal / sqrt(chi2_3 / 3); 5% gross outliers.
        t = r.gauss(0, 1) / math.sqrt(r.gammavariate(1.5, 2.0) / 3)
        e = 0.5 * t + (r.choice([-1, 1]) * r.uniform(8, 15) if r.random() < 0.05 else 0)
        y.append(r7(1.0 + 2.0 * x[i] + e))
    return {"N": n, "x": x, "y": y}


def hier_normal_100(r, j=100, per=5):
    mu, tau, sigma = 1.0, 2.0, 3.0
    theta = [r.gauss(mu, tau) for _ in range(j)]
    g = [1 + i // per for i in range(j * per)]
    y = [r7(r.gauss(theta[gi - 1], sigma)) for gi in g]
    return {"J": j, "N": j * per, "g": g, "y": y}


def logistic(r, n, d):
    beta = [r.gauss(0, 1) / math.sqrt(d) for _ in range(d)]
    x = matrix(r, n, d)
    y = [int(r.random() < inv_logit(0.3 + sum(x[i][j] * beta[j] for j in range(d))))
         for i in range(n)]
    return {"N": n, "K": d, "X": x, "y": y}


def logistic_big(r):
    return logistic(r, 20000, 20)


GENERATORS = {
    "hier_logistic": hier_logistic,
    "poisson_glm": poisson_glm,
    "linear_regression": linear_regression,
    "badly_scaled": badly_scaled,
    "earnings": earnings,
    "correlated_gaussian": correlated_gaussian,
    "student_t": student_t,
    "hier_normal_100": hier_normal_100,
    "logistic_big": logistic_big,
}


def write(name, path):
    data = GENERATORS[name](rng_for(name))
    with open(path + ".tmp", "w") as f:
        json.dump(data, f, separators=(",", ":"))
        f.write("\n")
    import os
    os.replace(path + ".tmp", path)


def main(argv):
    if len(argv) == 2 and argv[1] == "--list":
        print("\n".join(GENERATORS))
        return 0
    if len(argv) != 3 or argv[1] not in GENERATORS:
        sys.stderr.write("usage: gendata.py NAME OUT.json | --list\n")
        return 2
    write(argv[1], argv[2])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
