#!/usr/bin/env python3
"""check.py DATA.json SUMMARY.json: a minibatch fit of normal_mean.stan against the closed
form.  The mean of q within 4 posterior sds of the posterior mean, its sd within a factor
2, and the final ELBO the whole data's: the closed-form ELBO of q (mean, sd from the JSON)
within 4 Monte Carlo SEs.  Prints what it compared; exit 1 on a mismatch."""
import json
import math
import sys

data = json.load(open(sys.argv[1]))
fit = json.load(open(sys.argv[2]))
y, s, prior_sd = data["y"], data["sigma"], 10.0
n, sy, sy2 = len(y), sum(y), sum(v * v for v in y)
prec = n / s ** 2 + 1 / prior_sd ** 2
post_mean, post_sd = sy / s ** 2 / prec, prec ** -0.5
m, sd = fit["q"]["mean"][0], fit["q"]["sd"][0]
ell = -0.5 * n * math.log(2 * math.pi * s * s) - (sy2 - 2 * m * sy + n * (m * m + sd * sd)) / (2 * s * s)
elp = -0.5 * math.log(2 * math.pi * prior_sd ** 2) - (m * m + sd * sd) / (2 * prior_sd ** 2)
elbo = ell + elp + 0.5 * math.log(2 * math.pi * math.e * sd * sd)
fin = fit["final"]
print(f"mean {m:.6g} (posterior {post_mean:.6g} +/- {post_sd:.3g}), sd {sd:.4g}; "
      f"final ELBO {fin['elbo']:.6f} +/- {fin['elbo_se']:.3g}, closed form {elbo:.6f}")
ok = abs(m - post_mean) < 4 * post_sd and 0.5 * post_sd < sd < 2 * post_sd
ok = ok and abs(fin["elbo"] - elbo) < 4 * fin["elbo_se"] + 1e-6
sys.exit(0 if ok else 1)
