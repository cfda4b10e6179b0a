#!/bin/sh
# vi fit on eight schools with the defaults (--family auto: full rank at D = 10): exit 0 (converged); stdout reports the stop
# reason, the decomposition with exact/estimated labels, k-hat in words, and a summary row
# for every output (mu, tau, theta_tilde.1-8, theta.1-8); stderr shows the progress as
# plain key=value lines (stderr is not a terminal here), starting at iteration 0.
. "${top_srcdir:-.}/tests/cli/lib.sh"

run fit "$ES" --data "$ESD"
expect_status 0
expect_out "Model:    $ES  (data: $ESD)"
expect_out "Fit:      full-rank Gaussian over D = 10 unconstrained dimensions; fixed draws (M = "
expect_out ", adaptive from 32 up to 512, standardized), bfgs2, seed 1"
expect_out "Stopped:  converged: "
# the shared finish: between the 1000 output draws and --eval-draws (2000)
grep -Eq '^Decomposition  log p\(X\) = ELBO \+ KL\(q \|\| p\), from (1[0-9]{3}|2000) fresh draws from q:$' \
  "$TMP/out" || fail "stdout lacks the decomposition line with 1000-2000 draws"
expect_out "estimated (importance sampling, q as proposal)"
expect_out "estimated (Monte Carlo over q)"
expect_out "estimated (log p(X) - ELBO)"
expect_out "PSIS k-hat: "
grep -E -q '^PSIS k-hat: +[0-9.-]+  (good|ok|unreliable)$' "$TMP/out" || fail "k-hat line with its word"
expect_out "Outputs (1000 draws from q):"
grep -E -q '^ +mean +sd +5% +50% +95%$' "$TMP/out" || fail "summary table header"
for name in mu tau theta_tilde.1 theta_tilde.8 theta.1 theta.2 theta.3 theta.4 theta.5 \
            theta.6 theta.7 theta.8; do
  grep -E -q "^$name +[-0-9.e+]+ +[0-9.e+-]+ +[-0-9.e+]+ +[-0-9.e+]+ +[-0-9.e+]+$" "$TMP/out" ||
    fail "no summary row for $name"
done
# The decomposition adds up: log p(X) = ELBO + KL (to the printed precision).
awk '/^  log p\(X\) +=/ {lp=$4} /^  ELBO +=/ {e=$3} /^  KL\(q \|\| p\) +=/ {kl=$5}
     END {d = lp - e - kl; if (d < 0) d = -d; exit !(lp != "" && d < 2e-4)}' "$TMP/out" ||
  fail "log p(X) != ELBO + KL in the report"
# tau is positive in every summary column
awk '$1 == "tau" {exit !($2 > 0 && $4 > 0 && $5 > 0 && $6 > 0)}' "$TMP/out" || fail "tau > 0"

# progress: plain lines on a non-terminal, iteration 0 first
head -n 1 "$TMP/err" | grep -q '^iter=0 elbo=' || fail "first progress line is iteration 0"
grep -q '^iter=[0-9]* elbo=[-0-9.e]* kl=.* log_p_x=.* log_p_x_se=.* log_p_x_exact=0 grad_norm=.* evals=[0-9]* seconds=' "$TMP/err" ||
  fail "progress line layout"
exit 0
