#!/usr/bin/env python3
"""tests/cli/modes/gen.py: the simulated data sets of tests/cli/modes.sh.

Each is drawn from its model's own story with Python's Mersenne Twister (random.Random)
seeded by the data set's name, so the same bytes come out on any machine (standard
library only).  The true values mimic the posteriordb posteriors of issue 15: the drive
HMM's rates (bball_drive_event_0-hmm_drive_0 reference means, rounded) and the lynx-hare
Lotka-Volterra parameters (hudson_lynx_hare-lotka_volterra reference means, rounded).

    gen.py DIR      write DIR/{hmm_exp,lotka_volterra,mixture,saddle}.data.json
"""
import json
import math
import os
import random
import sys
import zlib


def rng(name):
    return random.Random(zlib.crc32(name.encode()))


def r6(x):
    return float('%.6g' % x)


def hmm_exp(r, n=300):
    stay = [0.97, 0.95]
    phi, lam = [1.8, 6.7], [0.028, 0.076]
    s, u, v = 0, [], []
    for _ in range(n):
        u.append(r6(r.expovariate(phi[s])))
        v.append(r6(r.expovariate(lam[s])))
        if r.random() > stay[s]:
            s = 1 - s
    return dict(N=n, u=u, v=v)


def lv_rhs(z, th):
    return [(th[0] - th[1] * z[1]) * z[0], (-th[2] + th[3] * z[0]) * z[1]]


def lotka_volterra(r, n=20):
    th, z, sigma = [0.55, 0.028, 0.8, 0.024], [33.0, 6.0], 0.25
    h, t, ys = 0.001, 0.0, []
    for k in range(1, n + 1):
        while t < k - 1e-12:   # RK4, 1000 steps per unit of time
            a = lv_rhs(z, th)
            b = lv_rhs([z[i] + h / 2 * a[i] for i in range(2)], th)
            c = lv_rhs([z[i] + h / 2 * b[i] for i in range(2)], th)
            d = lv_rhs([z[i] + h * c[i] for i in range(2)], th)
            z = [z[i] + h / 6 * (a[i] + 2 * b[i] + 2 * c[i] + d[i]) for i in range(2)]
            t += h
        ys.append([r6(z[i] * math.exp(r.gauss(0, sigma))) for i in range(2)])
    y_init = [r6(33.0 * math.exp(r.gauss(0, sigma))), r6(6.0 * math.exp(r.gauss(0, sigma)))]
    return dict(N=n, ts=list(range(1, n + 1)), y_init=y_init, y=ys)


def mixture(r, n=200):
    return dict(N=n, y=[r6(r.gauss(-2, 1) if r.random() < 0.3 else r.gauss(3, 1))
                        for _ in range(n)])


def saddle(r, n=10):
    return dict(N=n, y=[r6(r.gauss(4, 0.5)) for _ in range(n)])


GENERATORS = dict(hmm_exp=hmm_exp, lotka_volterra=lotka_volterra, mixture=mixture,
                  saddle=saddle)


def main(argv):
    if len(argv) != 2:
        sys.stderr.write("usage: gen.py DIR\n")
        return 2
    for name, g in GENERATORS.items():
        with open(os.path.join(argv[1], name + ".data.json"), "w") as f:
            json.dump(g(rng(name)), f)
            f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
