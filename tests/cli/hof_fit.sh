#!/bin/sh
# Fits through the higher-order builtins: a model written with solve_newton /
# solve_powell, one with integrate_1d and one with map_rect each fit to the same q
# (means, sds, ELBO on the optimiser's draws) as the same model written in closed form
# (sqrt, normal_lccdf) or as a plain loop.  The fixed-draw objective is deterministic,
# so only the solver's and quadrature's last digits may differ.
. "${top_srcdir:-.}/tests/cli/lib.sh"
have_python || { echo "SKIP: python3 not found"; exit 77; }

# same_fit A.stan B.stan DATA TOL: both fits converge; q and the ELBO agree to TOL
same_fit() {
  run fit "$1" --data "$3" --summary-json "$TMP/a.json" --quiet
  expect_status 0 "$1"
  run fit "$2" --data "$3" --summary-json "$TMP/b.json" --quiet
  expect_status 0 "$2"
  "$PYTHON" - "$TMP/a.json" "$TMP/b.json" "$4" <<'PY' || fail "$1 and $2 fit differently"
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
tol = float(sys.argv[3])
assert a["status"] == "converged" and b["status"] == "converged", (a["status"], b["status"])
pairs = list(zip(a["q"]["mean"] + a["q"]["sd"], b["q"]["mean"] + b["q"]["sd"]))
pairs.append((a["last_iteration"]["elbo"], b["last_iteration"]["elbo"]))
for x, y in pairs:
    assert abs(x - y) <= tol * max(1, abs(y)), (x, y)
PY
}

cat >"$TMP/y.json" <<'J'
{"N": 5, "y": [1.1, 1.6, 0.9, 1.4, 1.2], "a": 0.5, "J": 3,
 "x": [[0.5, 1.5], [-1, 2], [0.2, 0.1]], "k": [[1, 2], [0, 4], [3, 1]]}
J

# the root of x^2 = theta and of a linear system, against sqrt and A \ b
cat >"$TMP/solve.stan" <<'S'
functions {
  vector sq(vector x, real theta) { return [x[1]^2 - theta]'; }
  vector lin(vector x, matrix A, vector b) { return A * x - b; }
}
data { int N; vector[N] y; }
parameters { real<lower=0> th; real mu; }
model {
  vector[1] r = solve_newton(sq, [1.0]', th);
  vector[2] s = solve_powell(lin, [0, 0]', [[2, 1], [1, 3]], [mu, 1]');
  th ~ gamma(2, 1);
  mu ~ normal(0, 2);
  y ~ normal(r[1] + s[1], 0.5);
}
S
cat >"$TMP/solve_cf.stan" <<'S'
data { int N; vector[N] y; }
parameters { real<lower=0> th; real mu; }
model {
  vector[2] s = [[2, 1], [1, 3]] \ [mu, 1]';
  th ~ gamma(2, 1);
  mu ~ normal(0, 2);
  y ~ normal(sqrt(th) + s[1], 0.5);
}
S
same_fit "$TMP/solve.stan" "$TMP/solve_cf.stan" "$TMP/y.json" 1e-6

# a normal truncated below at a: its normalising constant by integrate_1d
cat >"$TMP/integ.stan" <<'S'
functions {
  real dens(real x, real xc, array[] real theta, array[] real x_r, array[] int x_i) {
    return exp(normal_lpdf(x | theta[1], theta[2]));
  }
}
data { int N; vector[N] y; real a; }
parameters { real mu; real<lower=0> sigma; }
model {
  mu ~ normal(1, 1);
  sigma ~ lognormal(0, 0.5);
  y ~ normal(mu, sigma);
  target += -N * log(integrate_1d(dens, a, positive_infinity(), {mu, sigma}, {0.0}, {0}, 1e-10));
}
S
cat >"$TMP/integ_cf.stan" <<'S'
data { int N; vector[N] y; real a; }
parameters { real mu; real<lower=0> sigma; }
model {
  mu ~ normal(1, 1);
  sigma ~ lognormal(0, 0.5);
  y ~ normal(mu, sigma);
  target += -N * normal_lccdf(a | mu, sigma);
}
S
same_fit "$TMP/integ.stan" "$TMP/integ_cf.stan" "$TMP/y.json" 1e-5

# a Poisson regression with job-specific slopes, by map_rect and by a loop
cat >"$TMP/mr.stan" <<'S'
functions {
  vector job(vector phi, vector theta, array[] real x_r, array[] int x_i) {
    vector[2] lp;
    for (i in 1:2) lp[i] = poisson_log_lpmf(x_i[i] | phi[1] + theta[1] * x_r[i]);
    return lp;
  }
}
data { int J; array[J, 2] real x; array[J, 2] int k; }
parameters { vector[1] phi; array[J] vector[1] th; }
model {
  target += sum(map_rect(job, phi, th, x, k));
  phi ~ normal(0, 1);
  for (j in 1:J) th[j] ~ normal(0, 1);
}
S
cat >"$TMP/mr_cf.stan" <<'S'
data { int J; array[J, 2] real x; array[J, 2] int k; }
parameters { vector[1] phi; array[J] vector[1] th; }
model {
  for (j in 1:J) for (i in 1:2) target += poisson_log_lpmf(k[j, i] | phi[1] + th[j][1] * x[j, i]);
  phi ~ normal(0, 1);
  for (j in 1:J) th[j] ~ normal(0, 1);
}
S
same_fit "$TMP/mr.stan" "$TMP/mr_cf.stan" "$TMP/y.json" 1e-10
exit 0
