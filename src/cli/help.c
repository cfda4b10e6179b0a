/* help.c: the text of `vi --help`, `vi help fit`, `vi help check` and `vi --version`.
 * Keep the option list in step with options.c and the man page (vi.1), and the exit
 * codes in step with enum cli_exit (cli.h). */
#include "config.h"

#include <stdio.h>

#include "cli/cli.h"

static const char exit_codes[] =
    "Exit status:\n"
    "  0    converged\n"
    "  1    not converged (iteration cap or no further progress); results still\n"
    "       reported and written\n"
    "  2    usage error (bad command line)\n"
    "  3    model error (syntax, type, unsupported Stan feature)\n"
    "  4    data error (missing, malformed or invalid data)\n"
    "  5    numerical failure or runtime error in the model; also a fit whose fresh\n"
    "       draws from q meet a non-finite log density, or whose final ELBO, log p(X)\n"
    "       or KL is not finite (reported and written, marked unreliable)\n"
    "  6    I/O error (a file could not be read or written)\n"
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
        "       vi help [fit|check]\n"
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
        "Fit a mean-field Gaussian approximation q to the posterior of MODEL.stan.\n"
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
        "      --optimizer bfgs2|cg-fr|cg-pr|steepest|adam\n"
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
        "      --eval-draws N        fresh draws for the final diagnostics (default 2000)\n"
        "      --eval-every K        fresh-draw diagnostics every K iterations (default 0:\n"
        "                            use the optimiser's own draws)\n"
        "\n"
        "Output:\n"
        "  -o, --output FILE.csv     draws in CmdStan's variational CSV layout: header\n"
        "                            lp__,log_p__,log_g__,<outputs>, the mean of q first,\n"
        "                            then the draws\n"
        "      --output-draws N      draws from q for the CSV and the summary (default 1000)\n"
        "      --trace FILE.csv      one row per iteration with every diagnostic\n"
        "      --summary-json FILE   the report and final diagnostics as JSON\n"
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

void cli_version(FILE *out)
{
  fprintf(out, "vi %s\n", PACKAGE_VERSION);
}
