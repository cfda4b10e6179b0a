/* help.c: the text of `vi --help`, `vi help fit`, `vi help check` and `vi --version`.
 * Keep the option list in step with options.c and the man page (vi.1), and the exit
 * codes in step with enum cli_exit (cli.h). */
#include "config.h"

#include <stdio.h>

#include "cli/cli.h"

static const char exit_codes[] =
    "Exit status:\n"
    "  0    converged (fit); success (check, plot)\n"
    "  1    not converged (iteration cap or no further progress); results still\n"
    "       reported and written\n"
    "  2    usage error (bad command line)\n"
    "  3    model error (syntax, type, unsupported Stan feature)\n"
    "  4    data error (missing, malformed or invalid data)\n"
    "  5    numerical failure or runtime error in the model (or a linear-response\n"
    "       Hessian that is not positive definite); also a fit whose fresh draws\n"
    "       from q meet a non-finite log density, or whose final ELBO, log p(X) or KL\n"
    "       is not finite (reported and written, marked unreliable)\n"
    "  6    I/O error (a file could not be read or written, or is truncated or\n"
    "       malformed)\n"
    "  7    plots: gnuplot is not installed or failed (vi plot, vi fit --plot)\n"
    "  130  interrupted (SIGINT); the current approximation is reported and written\n"
    "  143  terminated (SIGTERM; 129 for SIGHUP): as 130\n";

static const char check_exit_codes[] =
    "Exit status:\n"
    "  0    the model compiles (and the data, if given, is valid)\n"
    "  2    usage error (bad command line)\n"
    "  3    model error (syntax, type, unsupported Stan feature)\n"
    "  4    data error (missing, malformed or invalid data)\n"
    "  5    runtime error in transformed data\n"
    "  6    I/O error (a file could not be read)\n";

void cli_help_main(FILE *out)
{
  fputs("Usage: vi fit MODEL.stan [--data DATA.json] [options]\n"
        "       vi check MODEL.stan [--data DATA.json]\n"
        "       vi plot trace|marginals|weights FILE... -o OUT.png|.svg|.pdf\n"
        "       vi help [fit|check|plot]\n"
        "       vi --help | --version\n"
        "\n"
        "Variational inference for models written in a subset of the Stan language.\n"
        "vi fits a mean-field Gaussian q to the posterior by maximising the ELBO and\n"
        "shows, every iteration, the decomposition  log p(X) = ELBO + KL(q || p).\n"
        "\n"
        "Commands:\n"
        "  fit     compile the model, load the data, fit, report; write draws in\n"
        "          CmdStan's CSV layout (see 'vi help fit')\n"
        "  check   compile the model and validate the data; list the parameters\n"
        "          with their sizes and the total unconstrained dimension\n"
        "  plot    draw a saved run with gnuplot: the decomposition per iteration\n"
        "          (trace), q's marginals against the reweighted draws (marginals), the\n"
        "          importance weights and their Pareto tail (weights); see 'vi help plot'\n"
        "  help    show help for a command\n"
        "\n",
        out);
  fputs(exit_codes, out);
  fputs("\n"
        "Note: installed as 'vi' this command shadows the vi editor on PATH.  To\n"
        "install it under another name, configure with e.g.\n"
        "  ./configure --program-prefix=stan-     (installs 'stan-vi')\n"
        "or install it into a prefix of its own (./configure --prefix=$HOME/opt/vi).\n",
        out);
}

void cli_help_fit(FILE *out)
{
  fputs("Usage: vi fit MODEL.stan [--data DATA.json] [options]\n"
        "\n"
        "Fit a Gaussian approximation q (mean-field unless --family says otherwise) to\n"
        "the posterior of MODEL.stan.\n"
        "Progress (iteration, KL + ELBO = log p(X), gradient norm, evaluations,\n"
        "seconds) goes to stderr; the report (stop reason, final decomposition with\n"
        "standard errors, PSIS k-hat, summary of every output) goes to stdout.\n"
        "\n"
        "Model and data:\n"
        "  -d, --data FILE.json      data in Stan's JSON format (as CmdStan reads it)\n"
        "\n"
        "Fit:\n"
        "      --method fixed|stochastic\n"
        "                            fixed: M draws fixed once, a deterministic objective\n"
        "                            maximised by a quasi-Newton method (default);\n"
        "                            stochastic: fresh draws each step (ADVI) with adam\n"
        "      --family meanfield|lowrank:K|fullrank\n"
        "                            q's Gaussian family over the unconstrained space:\n"
        "                            diagonal (default), diagonal + rank K, or a full\n"
        "                            covariance (Stan's fullrank; fixed draws then use\n"
        "                            M > D draws). Richer families give correlations and\n"
        "                            sds that mean-field cannot, at a higher cost\n"        "      --optimizer bfgs2|cg-fr|cg-pr|steepest|adam\n"
        "                            default bfgs2 (fixed), adam (stochastic)\n"
        "      --draws M|auto        draws per ELBO estimate; auto (default, fixed draws):\n"
        "                            start at 32 and double until q moves by less than\n"
        "                            0.05 sd between sizes, or M reaches --draws-max;\n"
        "                            a number fixes M\n"
        "      --draws-max N         largest M of --draws auto (default 512)\n"
        "      --seed N              random seed (default 1): same seed, same results\n"
        "      --max-iter N          iteration cap (default 1000 fixed, 10000 stochastic)\n"
        "      --tol-grad X          stop when |grad ELBO| < X (default 1e-6)\n"
        "      --tol-rel-obj X       stop when the relative ELBO change < X\n"
        "                            (default 1e-10 fixed, 1e-3 stochastic)\n"
        "      --tol-abs-obj X       fixed draws: stop when the ELBO rose by less than X\n"
        "                            nats over the last 10 iterations (default 1e-4;\n"
        "                            0: off)\n"
        "      --step-size X         first line-search step / adam learning rate\n"
        "      --standardize-draws   fixed draws (default): make their sample mean 0 and\n"
        "                            covariance I exactly when M > D (exact for Gaussian\n"
        "                            posteriors), else mean 0 and variance 1 per coordinate\n"
        "      --no-standardize-draws  use the fixed draws as drawn (plain DADVI)\n"
        "      --init zero|random|laplace|FILE.json\n"
        "                            q's start: mean 0, or uniform(-2, 2), sd 1; or laplace:\n"
        "                            mean at a mode search's end, sd from the curvature\n"
        "                            there, kept if its ELBO beats zero's (default laplace;\n"
        "                            zero with --method stochastic); or FILE.json: the\n"
        "                            parameters' values (a CmdStan init file) as q's mean\n"
        "      --starts K            laplace: K mode searches, the first from zero, the\n"
        "                            others from uniform(-2, 2) (per seed); the fit starts\n"
        "                            from the best distinct mode, and the report lists the\n"
        "                            modes, warning when two are within 3 nats (default 4)\n"
        "      --eval-draws N        fresh draws for the final diagnostics (default 2000)\n"
        "      --eval-every K        fresh-draw diagnostics every K iterations (default 0:\n"
        "                            use the optimiser's own draws)\n"
        "      --covariance meanfield|lrvb\n"
        "                            sds and output draws from q (meanfield, default) or\n"
        "                            from the linear-response covariance of the fit (lrvb:\n"
        "                            exact for Gaussian posteriors; M + 2DM model points;\n"
        "                            --method fixed and D <= 2000 only)\n"
        "      --resample none|psis  psis: draw 10x --output-draws points, keep that many\n"
        "                            by Pareto-smoothed importance resampling (not done\n"
        "                            when k-hat > 0.7: the draws are then kept as drawn)\n"
        "\n"
        "Output:\n"
        "  -o, --output FILE.csv     draws in CmdStan's variational CSV layout: header\n"
        "                            lp__,log_p__,log_g__,<outputs>, the mean of q first,\n"
        "                            then the draws\n"
        "      --output-draws N      draws from q (or N(mu, Sigma_LR) with --covariance\n"
        "                            lrvb) for the CSV and the summary (default 1000)\n"
        "      --trace FILE.csv      one row per iteration with every diagnostic\n"
        "      --summary-json FILE   the report and final diagnostics as JSON\n"
        "      --plot DIR            at the end, draw DIR/trace.png, DIR/marginals.png and\n"
        "                            DIR/weights.png as 'vi plot' does (needs gnuplot,\n"
        "                            checked before the fit; DIR is created if missing);\n"
        "                            a plot that fails after a successful fit makes the\n"
        "                            exit status 6 or 7\n"
        "      --print-every K       show every K-th iteration (default: automatic;\n"
        "                            0: no progress lines)\n"
        "      --refresh K           same as --print-every (CmdStan's name)\n"
        "  -q, --quiet               no progress on stderr\n"
        "      --memory-limit MB     most memory one evaluation of the model may use\n"
        "                            (default: half the machine's); past it the run stops\n"
        "                            with an error naming the statement\n"
        "  -h, --help                this help\n"
        "\n"
        "Files are written whole or not at all: an existing file is replaced only\n"
        "when the run succeeds, is not converged, is unreliable, or is interrupted.\n"
        "Ctrl-C (or SIGTERM, SIGHUP) stops the fit at the end of the current iteration\n"
        "and reports the current approximation (marked interrupted); a second signal\n"
        "ends the program at once, leaving no temporary file behind.\n"
        "\n",
        out);
  fputs(exit_codes, out);
}

void cli_help_check(FILE *out)
{
  fputs("Usage: vi check MODEL.stan [--data DATA.json]\n"
        "\n"
        "Compile MODEL.stan and, with --data, load and validate the data.  Prints each\n"
        "parameter with its declared type, constrained size and unconstrained size, and\n"
        "the total unconstrained dimension D.  Without --data, a model whose sizes come\n"
        "from data is checked for syntax and types only.\n"
        "\n"
        "  -d, --data FILE.json      data in Stan's JSON format\n"
        "      --memory-limit MB     most memory one evaluation may use (default: half\n"
        "                            the machine's)\n"
        "  -h, --help                this help\n"
        "\n",
        out);
  fputs(check_exit_codes, out);
}

void cli_help_plot(FILE *out)
{
  fputs("Usage: vi plot trace RUN.trace.csv [MORE.trace.csv ...] -o OUT [options]\n"
        "       vi plot marginals RUN.csv [--params a,b,...] -o OUT [options]\n"
        "       vi plot weights RUN.csv -o OUT [options]\n"
        "\n"
        "Draw a saved run with gnuplot (found on PATH when a plot is asked for, or named\n"
        "by $VI_GNUPLOT; Debian: apt-get install gnuplot-nox).  OUT's extension chooses\n"
        "the format: .svg, .pdf, or PNG (.png or none; cairo where gnuplot has it).\n"
        "\n"
        "  trace      per iteration, from --trace files: the ELBO (solid) and log p(X)\n"
        "             (dashed) with the KL(q || p) as the band between them and\n"
        "             log p(X) +/- its standard error as a lighter band; below, the KL\n"
        "             alone.  The iterations where M doubled and the stop are marked.\n"
        "             Several runs overlay; each is named by its file (or --labels) and\n"
        "             its M, and by its method, optimizer and seed when RUN.csv sits next\n"
        "             to RUN.trace.csv.\n"
        "  marginals  one panel per output, from an --output draws CSV: q's density (a\n"
        "             kernel density estimate of the CSV's draws from q, whatever family\n"
        "             drew them) over a histogram of the same draws reweighted by their\n"
        "             PSIS-smoothed importance weights exp(log_p__ - log_g__), an estimate\n"
        "             of the posterior marginal; both over the central 99% of q's draws.\n"
        "             The title names the family the CSV's header states, and k-hat.\n"
        "  weights    the log importance weights log_p__ - log_g__, sorted, against their\n"
        "             rank on a log scale, with the generalized Pareto tail PSIS fits to\n"
        "             the largest, its k-hat and what it means, and the effective sample\n"
        "             size.\n"
        "\n"
        "  -o, --output FILE         the picture: FILE.png (or no extension), FILE.svg or\n"
        "                            FILE.pdf (required)\n"
        "      --size WxH            in pixels (PDF: 100 to the inch); default 1000x700\n"
        "                            (trace), 900x600 (weights), by the number of panels\n"
        "                            (marginals)\n"
        "      --x iter|gradients|points|seconds\n"
        "                            trace: the x axis (default iter)\n"
        "      --labels a,b,...      trace: one legend name per file\n"
        "      --params a,b,...      marginals: the outputs to draw; a name before '.'\n"
        "                            draws all its elements (theta: theta.1, theta.2, ...);\n"
        "                            default the first 16\n"
        "      --keep-data DIR       keep the numbers handed to gnuplot and its script in\n"
        "                            DIR (created if missing) instead of a temporary one\n"
        "  -h, --help                this help\n"
        "\n"
        "The picture is written whole or not at all.  A missing, truncated or malformed\n"
        "CSV, or one of fewer than 5 draws (marginals, weights), is exit 6; a CSV of\n"
        "the other kind (a trace where draws are expected, or the reverse), an unknown\n"
        "--params name or a bad option is exit 2.\n"
        "\n",
        out);
  fputs(exit_codes, out);
}

void cli_version(FILE *out)
{
  fprintf(out, "vi %s\n", PACKAGE_VERSION);
}
