#!/usr/bin/env python3
"""gen.py: deterministic synthetic data for the end-to-end models in this directory.

For each model NAME.stan it writes NAME.data.json (Stan's JSON data format) and
NAME.truth.json: {"truth": {output name (CmdStan's CSV spelling): true value}, "k": how
many posterior sds a mean may lie from its truth}.  Models fitted to fixed, non-simulated
data take as truth posterior means computed without vi: by MCMC (reference.py) or in
closed form.  Pure Python
with a seeded generator, so the files are reproducible: run `python3 gen.py` here."""
import json
import math
import random

R = random.Random(20261125)


def nrm(m=0.0, s=1.0):
    return R.gauss(m, s)


def ilogit(x):
    return 1.0 / (1.0 + math.exp(-x))


def pois(lam):
    # Knuth's method; lam is small here
    L, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= R.random()
        if p <= L:
            return k
        k += 1


def binom(n, p):
    return sum(1 for _ in range(n) if R.random() < p)


def gamma(shape, rate):
    return R.gammavariate(shape, 1.0 / rate)


def negbin2(mu, phi):
    return pois(gamma(phi, phi / mu))


def lstsq(X, y):
    """Least squares by the normal equations (Gauss-Jordan with partial pivoting)."""
    n = len(X[0])
    M = [[sum(r[i] * r[j] for r in X) for j in range(n)] + [sum(r[i] * v for r, v in zip(X, y))]
         for i in range(n)]
    for i in range(n):
        p = max(range(i, n), key=lambda q: abs(M[q][i]))
        M[i], M[p] = M[p], M[i]
        for q in range(n):
            if q != i:
                f = M[q][i] / M[i][i]
                M[q] = [a - f * c for a, c in zip(M[q], M[i])]
    return [M[i][n] / M[i][i] for i in range(n)]


def r4(x):
    return round(x, 4)


def write(name, data, truth=None, k=4.0):
    def fix(v):
        if isinstance(v, float):
            return r4(v)
        if isinstance(v, list):
            return [fix(a) for a in v]
        return v
    with open(name + ".data.json", "w") as f:
        json.dump({a: fix(b) for a, b in data.items()}, f, separators=(",", ":"))
        f.write("\n")
    with open(name + ".truth.json", "w") as f:
        json.dump({"truth": truth or {}, "k": k}, f, indent=1, sort_keys=True)
        f.write("\n")


# eight schools (the classic data); truth: posterior means by MCMC (reference.py)
write("eight_schools_offset", {"J": 8, "y": [28, 8, -3, 7, -1, 1, 18, 12],
                               "sigma": [15, 10, 16, 11, 9, 11, 10, 18]},
      {"mu": 4.3805, "tau": 3.6505, "theta.1": 6.2172, "theta.2": 4.9426,
       "theta.3": 3.8695, "theta.4": 4.7370, "theta.5": 3.5898, "theta.6": 4.0521,
       "theta.7": 6.2716, "theta.8": 4.8229})

# AR(2)
K, T = 2, 150
al, be, sg = 0.5, [0.5, -0.3], 0.4
y = [0.0, 0.0]
for t in range(2, T):
    y.append(al + be[0] * y[t - 1] + be[1] * y[t - 2] + nrm(0, sg))
write("ar_k", {"K": K, "T": T, "y": y},
      {"alpha": al, "beta.1": be[0], "beta.2": be[1], "sigma": sg})

# GARCH(1,1)
T = 300
mu, a0, a1, b1 = 0.2, 0.1, 0.3, 0.5
r, s2, prev = [], 1.0, 0.0
for t in range(T):
    if t > 0:
        s2 = a0 + a1 * (prev - mu) ** 2 + b1 * s2
    v = mu + math.sqrt(s2) * nrm()
    r.append(v)
    prev = v
write("garch11", {"T": T, "r": r, "sigma1": 1.0}, {"mu": mu}, k=5)

# latent GP Poisson: counts around the smooth log-rate f(x) = 1 + sin(x / 4), the truth
# for f (rho and alpha have none)
x = [-10.0 + 2 * i for i in range(11)]
write("gp_poisson", {"N": 11, "x": x,
                     "k": [pois(math.exp(1 + math.sin(xi / 4))) for xi in x]},
      {"f.%d" % (i + 1): 1 + math.sin(xi / 4) for i, xi in enumerate(x)})

# two-component normal mixture
N = 200
y = [nrm(-1.0, 0.7) if R.random() < 0.35 else nrm(2.5, 1.0) for _ in range(N)]
write("gauss_mix", {"N": N, "y": y},
      {"mu.1": -1.0, "mu.2": 2.5, "w.1": 0.35, "sigma.1": 0.7, "sigma.2": 1.0}, k=5)

# HMM with two states
N, z, y = 120, 0, []
for t in range(N):
    if t > 0 and R.random() > 0.85:
        z = 1 - z
    y.append(nrm([1.0, 5.0][z], 1.0))
write("hmm_forward", {"K": 2, "N": N, "y": y},
      {"mu.1": 1.0, "mu.2": 5.0, "theta.1.1": 0.85, "theta.2.2": 0.85}, k=5)

# hierarchical 2PL IRT
I, J = 10, 60
th = [nrm() for _ in range(J)]
xi = [(nrm(0.0, 0.3), nrm(0.0, 1.0)) for _ in range(I)]
ii = [i + 1 for i in range(I) for j in range(J)]
jj = [j + 1 for i in range(I) for j in range(J)]
yy = [1 if R.random() < ilogit(math.exp(xi[i - 1][0]) * (th[j - 1] - xi[i - 1][1])) else 0
      for i, j in zip(ii, jj)]
write("irt_2pl_lkj", {"I": I, "J": J, "N": I * J, "ii": ii, "jj": jj, "y": yy},
      {"beta.%d" % (i + 1): xi[i][1] for i in range(I)}, k=5)

# regularised horseshoe logistic regression
n, d = 80, 12
X = [[nrm() for _ in range(d)] for _ in range(n)]
bb = [2.0, -2.0] + [0.0] * (d - 2)
y = [1 if R.random() < ilogit(0.3 + sum(a * c for a, c in zip(row, bb))) else 0 for row in X]
write("horseshoe_logistic", {"n": n, "d": d, "y": y, "x": X, "scale_icept": 5.0,
                             "scale_global": 0.05, "nu_global": 1, "nu_local": 1,
                             "slab_scale": 2.0, "slab_df": 4},
      {"beta.%d" % (j + 1): bb[j] for j in range(d)}, k=6)

# radon: varying intercepts and slopes
J, N = 12, 240
aj = [nrm(1.4, 0.3) for _ in range(J)]
bj = [nrm(-0.6, 0.2) for _ in range(J)]
county = [1 + (i % J) for i in range(N)]
xf = [float(R.random() < 0.4) for _ in range(N)]
yv = [aj[c - 1] + bj[c - 1] * f + nrm(0, 0.5) for c, f in zip(county, xf)]
write("radon_varying", {"N": N, "J": J, "county": county, "x": xf, "y": yv},
      {"mu_a": 1.4, "mu_b": -0.6, "sigma_y": 0.5}, k=5)

# capture-recapture Mth with data augmentation
Ntrue, M, T = 40, 80, 5
pt = [0.3, 0.4, 0.35, 0.45, 0.3]
ycap = []
for i in range(Ntrue):
    e = nrm(0, 0.5)
    ycap.append([1 if R.random() < ilogit(math.log(p / (1 - p)) + e) else 0 for p in pt])
ycap = [row for row in ycap if sum(row) > 0]
ycap += [[0] * T for _ in range(M - len(ycap))]
write("capture_mth", {"M": M, "T": T, "y": ycap}, {"N": Ntrue}, k=5)

# dugongs (the classic data); truth: posterior means by MCMC (reference.py; they agree
# with the WinBUGS example's 2.652, 0.9729, 0.8623 to their Monte Carlo error)
x = [1.0, 1.5, 1.5, 1.5, 2.5, 4.0, 5.0, 5.0, 7.0, 8.0, 8.5, 9.0, 9.5, 9.5, 10.0, 12.0, 12.0,
     13.0, 13.0, 14.5, 15.5, 15.5, 16.5, 17.0, 22.5, 29.0, 31.5]
Y = [1.80, 1.85, 1.87, 1.77, 2.02, 2.27, 2.15, 2.26, 2.47, 2.19, 2.26, 2.40, 2.39, 2.41,
     2.50, 2.32, 2.32, 2.43, 2.47, 2.56, 2.65, 2.47, 2.64, 2.56, 2.70, 2.72, 2.57]
write("dugongs", {"N": 27, "x": x, "Y": Y},
      {"alpha": 2.6526, "beta": 0.9747, "lambda": 0.8620, "sigma": 0.0986})

# brms-style linear regression
N, K = 120, 4
X = [[1.0] + [nrm(1.0, 1.0) for _ in range(K - 1)] for _ in range(N)]
bt = [0.5, 1.0, -0.7, 0.0]
Y = [sum(a * c for a, c in zip(row, bt)) + nrm(0, 0.8) for row in X]
write("brms_glm", {"N": N, "Y": Y, "K": K, "X": X, "prior_only": 0},
      {"b.1": 1.0, "b.2": -0.7, "b.3": 0.0, "sigma": 0.8, "b_Intercept": 0.5})

# kid IQ with an interaction
N = 150
hs = [float(R.random() < 0.7) for _ in range(N)]
iq = [nrm(100, 15) for _ in range(N)]
bt = [20.0, 10.0, 0.6, -0.2]
ks = [bt[0] + bt[1] * h + bt[2] * q + bt[3] * h * q + nrm(0, 8) for h, q in zip(hs, iq)]
# the predictors are not centred, so the posterior is strongly correlated and q's sds are
# the (small) conditional ones: compare with the least-squares fit, not the simulation truth
Xk = [[1.0, h, q, h * q] for h, q in zip(hs, iq)]
ols = lstsq(Xk, [r4(v) for v in ks])
write("kidiq_interaction", {"N": N, "kid_score": ks, "mom_iq": iq, "mom_hs": hs},
      {"beta.%d" % (i + 1): ols[i] for i in range(4)} | {"sigma": 8.0})

# wells: logistic regression with a design matrix
N, P = 200, 3
X = [[nrm(), nrm(), float(R.random() < 0.5)] for _ in range(N)]
bt, at = [0.8, -0.5, 0.3], -0.2
sw = [1 if R.random() < ilogit(at + sum(a * c for a, c in zip(row, bt))) else 0 for row in X]
write("wells_logit", {"N": N, "P": P, "X": X, "switched": sw},
      {"alpha": at, "beta.1": bt[0], "beta.2": bt[1], "beta.3": bt[2]})

# Poisson GLMM with rep_matrix
nsite, nyear = 15, 6
al = [nrm(1.0, 0.5) for _ in range(nsite)]
year = [(t - 2.5) / 2.5 for t in range(nyear)]
la = [nrm(0, 0.3) for _ in range(nsite)]
C = [[pois(math.exp(al[i] + 0.4 * year[t] + la[i])) for t in range(nyear)] for i in range(nsite)]
write("glmm_poisson", {"nsite": nsite, "nyear": nyear, "C": C, "year": year, "log_area": la},
      {"beta": 0.4, "mu": 1.0}, k=5)

# N-mixture survey
Rs, T, lam, p = 30, 4, 6.0, 0.5
Nn = [pois(lam) for _ in range(Rs)]
yy = [[binom(nn, p) for _ in range(T)] for nn in Nn]
write("nmix_survey", {"R": Rs, "T": T, "y": yy, "K": 40}, {"lambda": lam, "p": p}, k=5)

# seeds: binomial_logit with random effects
I = 21
x1 = [float(i % 2) for i in range(I)]
x2 = [float((i // 2) % 2) for i in range(I)]
Nn = [R.randint(10, 60) for _ in range(I)]
at = [-0.5, 0.1, 1.3, -0.8]
nn = [binom(Nn[i], ilogit(at[0] + at[1] * x1[i] + at[2] * x2[i] + at[3] * x1[i] * x2[i]
                          + nrm(0, 0.3))) for i in range(I)]
write("seeds_binomial", {"I": I, "n": nn, "N": Nn, "x1": x1, "x2": x2},
      {"alpha0": at[0], "alpha2": at[2]}, k=5)

# ordinal logistic regression
K, N, D = 4, 200, 2
bt, ct = [1.0, -0.5], [-1.0, 0.3, 1.5]
xs = [[nrm(), nrm()] for _ in range(N)]
ys = []
for row in xs:
    eta = sum(a * c for a, c in zip(row, bt))
    u = R.random()
    cum = [ilogit(eta - c) for c in ct]   # P(y > k)
    k = 1 + sum(1 for q in cum if u < q)
    ys.append(k)
write("ordinal_logit", {"K": K, "N": N, "D": D, "y": ys, "x": xs},
      {"beta.1": bt[0], "beta.2": bt[1], "c.1": ct[0], "c.2": ct[1], "c.3": ct[2]})

# negative binomial with exposure
N = 150
xs = [nrm() for _ in range(N)]
ex = [R.uniform(0.5, 2.0) for _ in range(N)]
ys = [negbin2(math.exp(1.0 + 0.5 * xv) * e, 5.0) for xv, e in zip(xs, ex)]
write("negbin_offset", {"N": N, "y": ys, "x": xs, "exposure": ex}, {"a": 1.0, "b": 0.5}, k=5)

# Poisson with a rate offset
N = 100
xs = [nrm() for _ in range(N)]
tt = [R.uniform(1.0, 3.0) for _ in range(N)]
ys = [pois(math.exp(0.3 - 0.6 * xv) * t) for xv, t in zip(xs, tt)]
write("poisson_offset", {"N": N, "y": ys, "x": xs, "t": tt}, {"a": 0.3, "b": -0.6})

# robust regression with t errors
N = 150
xs = [nrm() for _ in range(N)]
ys = [1.0 + 2.0 * xv + 0.5 * nrm() / math.sqrt(gamma(1.5, 1.5)) for xv in xs]
write("robust_t", {"N": N, "x": xs, "y": ys}, {"alpha": 1.0, "beta": 2.0}, k=5)

# categorical with a Dirichlet prior
K, N = 4, 300
pt = [0.1, 0.2, 0.3, 0.4]
zs = []
for _ in range(N):
    u, k, acc = R.random(), 1, pt[0]
    while u > acc and k < K:
        acc += pt[k]
        k += 1
    zs.append(k)
write("categorical_dirichlet", {"K": K, "N": N, "z": zs, "a": [1.0] * K},
      {"pi.%d" % (k + 1): pt[k] for k in range(K)})

# multivariate normal with a covariance matrix
N, D = 100, 3
mt = [1.0, -1.0, 0.5]
L = [[1.0, 0.0, 0.0], [0.5, 0.8, 0.0], [-0.3, 0.2, 0.7]]
ys = []
for _ in range(N):
    e = [nrm() for _ in range(D)]
    ys.append([mt[i] + sum(L[i][j] * e[j] for j in range(D)) for i in range(D)])
S = [[sum(L[i][k] * L[j][k] for k in range(D)) for j in range(D)] for i in range(D)]
write("mvn_cov", {"N": N, "D": D, "y": ys},
      {"mu.1": mt[0], "mu.2": mt[1], "mu.3": mt[2], "Sigma.1.1": S[0][0],
       "Sigma.2.1": S[1][0], "Sigma.2.2": S[1][1]}, k=5)
write("mvn_lkj", {"N": N, "D": D, "y": ys},
      {"mu.1": mt[0], "mu.2": mt[1], "mu.3": mt[2], "sigma.1": 1.0,
       "Omega.2.1": S[1][0] / math.sqrt(S[0][0] * S[1][1])}, k=5)

# changepoint in a count series
T, st, e, l = 60, 25, 3.0, 1.0
Ds = [pois(e if t < st else l) for t in range(T)]
write("changepoint", {"r_e": 0.5, "r_l": 0.5, "T": T, "D": Ds}, {"e": e, "l": l}, k=5)

# measurement error
N, tau = 60, 0.3
xt = [nrm(1.0, 1.0) for _ in range(N)]
xm = [v + nrm(0, tau) for v in xt]
ys = [0.5 + 1.5 * v + nrm(0, 0.4) for v in xt]
write("measurement_error", {"N": N, "x_meas": xm, "tau": tau, "y": ys},
      {"alpha": 0.5, "beta": 1.5, "mu_x": 1.0}, k=5)

# language features: groups with means through a permutation
N, G = 90, 5
perm = [3, 1, 5, 2, 4]
gm = [-2.0, -1.0, 0.0, 1.0, 2.0]
g = [1 + (i % G) for i in range(N)]
ys = [gm[k - 1] + nrm(0, 0.5) for k in g]
write("language_features", {"N": N, "G": G, "g": g, "perm": perm, "y": ys},
      {"mu.%d" % (k + 1): gm[k] for k in range(G)} | {"sigma": 0.5,
       "mu_perm.1": gm[perm[0] - 1], "k_out": 128, "half_out": 45, "n_big": 1})

# hierarchical logistic regression with a coefficient matrix
N, K, J = 300, 2, 4
X = [[1.0, nrm()] for _ in range(N)]
gt = [0.3, 1.0]
grp = [1 + (i % J) for i in range(N)]
bj = [[gt[0] + nrm(0, 0.3), gt[1] + nrm(0, 0.3)] for _ in range(J)]
y = [1 if R.random() < ilogit(sum(a * c for a, c in zip(X[i], bj[grp[i] - 1]))) else 0
     for i in range(N)]
write("logistic_matrix", {"N": N, "K": K, "J": J, "grp": grp, "X": X, "y": y},
      {"gamma.1": gt[0], "gamma.2": gt[1]}, k=5)

# QR-reparametrised linear regression
N, K = 100, 3
X = [[nrm(), nrm(2, 1), nrm()] for _ in range(N)]
bt = [1.0, -0.5, 0.25]
y = [2.0 + sum(a * c for a, c in zip(row, bt)) + nrm(0, 0.5) for row in X]
write("linreg_qr", {"N": N, "K": K, "x": X, "y": y},
      {"alpha": 2.0, "beta.1": bt[0], "beta.2": bt[1], "beta.3": bt[2], "sigma": 0.5})

# earnings on the log scale
N = 150
h = [nrm(66, 4) for _ in range(N)]
m = [1 if R.random() < 0.5 else 0 for _ in range(N)]
earn = [math.exp(5.8 + 0.06 * hv + 0.4 * mv + nrm(0, 0.8)) for hv, mv in zip(h, m)]
# Uncentred height makes this badly conditioned (the optimiser may stop at its iteration
# cap, exit 1).  The truth is the exact posterior mean for the data as written (flat
# priors on beta and sigma): beta's marginal posterior is a multivariate t centred at the
# least-squares fit, and sigma's density is proportional to sigma^-(N - 3)
# exp(-RSS / (2 sigma^2)), so E[sigma] = sqrt(RSS / 2) Gamma((N - 5) / 2) / Gamma((N - 4) / 2).
Xe = [[1.0, r4(hv), float(mv)] for hv, mv in zip(h, m)]
ye = [math.log(r4(e)) for e in earn]
be = lstsq(Xe, ye)
rss = sum((yv - sum(a * c for a, c in zip(row, be))) ** 2 for row, yv in zip(Xe, ye))
es = math.sqrt(rss / 2) * math.exp(math.lgamma((N - 5) / 2) - math.lgamma((N - 4) / 2))
write("earnings_log", {"N": N, "earn": earn, "height": h, "male": m},
      {"beta.1": be[0], "beta.2": be[1], "beta.3": be[2], "sigma": es})

# brms-style varying-intercept Poisson regression
N, G = 160, 8
X = [[1.0, nrm(), nrm(0.5, 1)] for _ in range(N)]
bt = [0.8, 0.4, -0.3]
J1 = [1 + (i % G) for i in range(N)]
r1 = [nrm(0, 0.4) for _ in range(G)]
Y = [pois(math.exp(sum(a * c for a, c in zip(X[i], bt)) + r1[J1[i] - 1])) for i in range(N)]
write("brms_hier", {"N": N, "Y": Y, "K": 3, "X": X, "N_1": G, "M_1": 1, "J_1": J1,
                    "Z_1_1": [1.0] * N, "prior_only": 0},
      {"b.1": bt[1], "b.2": bt[2], "b_Intercept": bt[0]}, k=5)

# crossed varying intercepts
ng, ns = 10, 6
N = ng * ns * 2
gid = [1 + (i % ng) for i in range(N)]
sid = [1 + ((i // ng) % ns) for i in range(N)]
ag = [nrm(2.0, 0.5) for _ in range(ng)]
gs = [nrm(0.0, 0.8) for _ in range(ns)]
yv = [ag[a - 1] + gs[b - 1] + nrm(0, 0.3) for a, b in zip(gid, sid)]
# only the sum a[group] + g[scenario] is identified; the noise sd is (on y's scale)
write("crossed_effects", {"N": N, "n_groups": ng, "n_scenarios": ns, "group_id": gid,
                          "scenario_id": sid, "y": yv}, {"sigma_y_orig": 0.3})

# Rasch model
N, Rr = 100, 5
al = [-1.0, -0.5, 0.0, 0.5, 1.0]
th = [nrm(0, 1.0) for _ in range(N)]
resp = [[1 if R.random() < ilogit(th[j] - al[k]) else 0 for k in range(Rr)] for j in range(N)]
write("rasch", {"N": N, "R": Rr, "response": resp},
      {"alpha.%d" % (k + 1): al[k] for k in range(Rr)} | {"sigma": 1.0}, k=5)

# GP regression: a smooth function plus noise
N = 30
xg = [i * 0.35 for i in range(N)]
yg = [math.sin(v) + nrm(0, 0.2) for v in xg]
write("gp_regression", {"N": N, "x": xg, "y": yg, "N_new": 3, "x_new": [1.0, 2.5, 4.0]},
      {"sigma": 0.2, "f_new.1": math.sin(1.0), "f_new.2": math.sin(2.5),
       "f_new.3": math.sin(4.0)}, k=6)

# zero-inflated Poisson
N, th, lam = 200, 0.3, 3.0
yz = [0 if R.random() < th else pois(lam) for _ in range(N)]
write("zip_branches", {"N": N, "y": yz}, {"theta": th, "lambda": lam}, k=5)
