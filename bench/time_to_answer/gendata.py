#!/usr/bin/env python3
"""bench/time_to_answer/gendata.py OUTDIR: the data of the time-to-answer models, simulated
with a fixed seed (the standard library's random, so no dependency): a logistic GLM with
N = 20,000 and D = 40, a varying-intercept regression (N = 5,000, J = 50), a two-component
normal mixture (N = 1,000), a 3-state Gaussian HMM (T = 300) and a predator-prey ODE
(T = 10 times).  The small regression's data is models/linreg.data.json."""
import json, math, os, random, sys

out = sys.argv[1] if len(sys.argv) > 1 else "."
r = random.Random(20261202)


def write(name, d):
    with open(os.path.join(out, name + ".data.json"), "w") as f:
        json.dump(d, f)


N, K = 20000, 40
beta = [r.gauss(0, 0.5) for _ in range(K)]
X = [[r.gauss(0, 1) for _ in range(K)] for _ in range(N)]
y = [1 if r.random() < 1 / (1 + math.exp(-sum(a * b for a, b in zip(row, beta)))) else 0
     for row in X]
write("glm", {"N": N, "K": K, "X": X, "y": y, "tau": 1.0})

N, J = 5000, 50
a = [r.gauss(1, 0.7) for _ in range(J)]
g = [r.randrange(J) + 1 for _ in range(N)]
x = [r.gauss(0, 1) for _ in range(N)]
write("hier_loop", {"N": N, "J": J, "g": g, "x": x,
                    "y": [a[g[i] - 1] + 0.5 * x[i] + r.gauss(0, 0.8) for i in range(N)]})

N = 1000
write("mixture", {"N": N, "y": [r.gauss(-1, 0.7) if r.random() < 0.4 else r.gauss(2, 1)
                                for _ in range(N)]})

K, T = 3, 300
mu = [1.0, 4.0, 8.0]
s, ys = 0, []
for t in range(T):
    if r.random() < 0.1:
        s = r.randrange(K)
    ys.append(r.gauss(mu[s], 1))
write("hmm", {"K": K, "N": T, "y": ys})

# Lotka-Volterra by RK4 with a fine step, observed with lognormal noise
al, be, ga, de = 0.55, 0.028, 0.80, 0.024
z = [33.0, 6.0]
ts = [float(t + 1) for t in range(10)]
h, t, obs = 0.001, 0.0, []
def f(z):
    return [(al - be * z[1]) * z[0], (-ga + de * z[0]) * z[1]]
for target in ts:
    while t < target - 1e-12:
        k1 = f(z); k2 = f([z[i] + h / 2 * k1[i] for i in range(2)])
        k3 = f([z[i] + h / 2 * k2[i] for i in range(2)]); k4 = f([z[i] + h * k3[i] for i in range(2)])
        z = [z[i] + h / 6 * (k1[i] + 2 * k2[i] + 2 * k3[i] + k4[i]) for i in range(2)]
        t += h
    obs.append([zi * math.exp(r.gauss(0, 0.2)) for zi in z])
write("ode", {"T": 10, "ts": ts, "z0": [33.0, 6.0], "y": obs})
