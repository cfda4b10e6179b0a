#!/usr/bin/env python3
"""gen.py: data for the sharded fits (tests/cli/mpi.sh, bench/mpi): a logistic
regression with N rows and K covariates, or (--groups J) a hierarchical one whose
intercepts vary by group.  Deterministic for a seed (Python's own generator), written
as Stan JSON to stdout; --digits keeps the file small for the big runs.

  gen.py logistic N K [--seed S] [--digits D]
  gen.py hier N K J [--seed S]
"""
import math
import random
import sys


def main(argv):
    kind = argv[1]
    n, k = int(argv[2]), int(argv[3])
    j = int(argv[4]) if kind == "hier" else 0
    seed = int(argv[argv.index("--seed") + 1]) if "--seed" in argv else 1
    digits = int(argv[argv.index("--digits") + 1]) if "--digits" in argv else 6
    rng = random.Random(seed)
    beta = [rng.gauss(0, 1) for _ in range(k)]
    alpha = [rng.gauss(0, 1) for _ in range(max(j, 1))]
    out = sys.stdout
    out.write('{"N": %d, "K": %d,\n' % (n, k))
    if j:
        out.write('"J": %d,\n' % j)
        g = [1 + (i * 7919) % j for i in range(n)]
        out.write('"g": [%s],\n' % ", ".join(str(x) for x in g))
    fmt = "%%.%dg" % digits
    y = []
    out.write('"X": [\n')
    for i in range(n):
        row = [rng.gauss(0, 1) for _ in range(k)]
        eta = alpha[g[i] - 1 if j else 0] + sum(b * x for b, x in zip(beta, row))
        y.append(1 if rng.random() < 1 / (1 + math.exp(-eta)) else 0)
        out.write("[" + ",".join(fmt % x for x in row) + ("]\n" if i == n - 1 else "],\n"))
    out.write('],\n"y": [%s]}\n' % ",".join(str(v) for v in y))


if __name__ == "__main__":
    main(sys.argv)
