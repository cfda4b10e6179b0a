#!/bin/sh
# The R readers the README names, on a real `vi fit` CSV: posterior::summarise_draws over
# as_draws_df of the draw rows, rstan::read_stan_csv followed by as.matrix() and
# extract(), and rstan's print(fit) / summary(fit), which the README says fail.  Runs
# when Rscript and the Debian packages r-cran-rstan and r-cran-posterior are present;
# skips (77) otherwise.
. "${top_srcdir:-.}/tests/cli/lib.sh"

command -v Rscript >/dev/null 2>&1 || { echo "SKIP: no Rscript"; exit 77; }
Rscript -e 'suppressMessages({library(rstan); library(posterior)})' >/dev/null 2>&1 ||
  { echo "SKIP: R packages rstan and posterior not installed"; exit 77; }

ES="$MODELS/eight_schools.stan"; ESD="$MODELS/eight_schools.data.json"
run fit "$ES" --data "$ESD" --quiet --output "$TMP/es.csv" --output-draws 400
expect_status 0
# vi's own means over the output draws, from its summary table (name, mean, sd, ...)
awk '$1 == "mu" || $1 == "tau" || $1 == "theta.3" { print $1, $2 }' "$TMP/out" >"$TMP/means"
[ "$(wc -l <"$TMP/means")" = 3 ] || fail "summary table rows for mu, tau, theta.3"

Rscript - "$TMP/es.csv" "$TMP/means" >"$TMP/r.out" 2>&1 <<'R' || { cat "$TMP/r.out" >&2; fail "R readers"; }
suppressMessages({library(posterior); library(rstan)})
args <- commandArgs(trailingOnly = TRUE)
csv <- args[1]
vi_means <- read.table(args[2], col.names = c("name", "mean"))
stopifnot_msg <- function(ok, ...) if (!isTRUE(ok)) stop(paste0(...), call. = FALSE)

# the CSV as a table: row 1 is the mean of q, rows 2.. the draws
raw <- read.csv(csv, comment.char = "#", check.names = FALSE)
stopifnot_msg(nrow(raw) == 401, "rows: ", nrow(raw))
draws <- raw[-1, ]

# posterior::summarise_draws(as_draws_df(...)) over the draw rows
s <- posterior::summarise_draws(posterior::as_draws_df(draws))
for (i in seq_len(nrow(vi_means))) {
  v <- vi_means$name[i]
  m <- s$mean[s$variable == v]
  stopifnot_msg(length(m) == 1 && abs(m - vi_means$mean[i]) <= 1e-3 * max(1, abs(m)),
                "summarise_draws mean of ", v, ": ", m, " vs vi's ", vi_means$mean[i])
}

# rstan::read_stan_csv + as.matrix: the draws without the mean row, Stan's names
fit <- suppressWarnings(rstan::read_stan_csv(csv))
m <- as.matrix(fit)
stopifnot_msg(nrow(m) == 400, "as.matrix rows: ", nrow(m))
stopifnot_msg(all(c("mu", "tau", "theta[1]", "theta[8]", "lp__") %in% colnames(m)),
              "as.matrix columns: ", paste(colnames(m), collapse = " "))
for (v in c("mu", "tau", "theta[3]"))
  stopifnot_msg(max(abs(m[, v] - draws[[sub("\\[(.*)\\]", ".\\1", v)]])) < 1e-12, "as.matrix values of ", v)
# extract(): arrays by parameter, draws in the CSV's order
e <- rstan::extract(fit, permuted = FALSE)
stopifnot_msg(dim(e)[1] == 400, "extract iterations: ", dim(e)[1])
ex <- rstan::extract(fit)
stopifnot_msg(all(dim(ex$theta) == c(400, 8)), "extract theta dims")
stopifnot_msg(max(abs(sort(ex$theta[, 3]) - sort(draws[["theta.3"]]))) < 1e-12,
              "extract theta[, 3]")

# print(fit) and summary(fit) fail, as the README says (rstan's summary of a
# read_stan_csv variational fit); if they start to work, the README must change
p <- try(capture.output(print(fit)), silent = TRUE)
stopifnot_msg(inherits(p, "try-error"), "print(fit) works now: update the README")
p <- try(summary(fit), silent = TRUE)
stopifnot_msg(inherits(p, "try-error"), "summary(fit) works now: update the README")
cat("ok\n")
R
grep -q '^ok$' "$TMP/r.out" || fail "R readers: $(cat "$TMP/r.out")"
exit 0
