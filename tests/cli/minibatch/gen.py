#!/usr/bin/env python3
"""Data for normal_mean.stan: N draws of N(1.5, sigma = 2) from a fixed seed (stdout)."""
import json, random, sys
n = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
r = random.Random(13)
print(json.dumps({"N": n, "sigma": 2.0, "y": [round(r.gauss(1.5, 2.0), 6) for _ in range(n)]}))
