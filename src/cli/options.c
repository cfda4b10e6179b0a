/* options.c: the command line of `vi fit` and `vi check`, parsed with getopt_long (GNU
 * style: long options, `--opt=value` or `--opt value`, options and the model file in any
 * order).  Every value is validated here, and an error names the option and the value:
 *     vi: --draws: expected a positive integer, got 'abc'
 * so the engine never sees an invalid option.  Defaults that depend on the method (fixed
 * or stochastic) are resolved after all options are read. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

enum {
  OPT_SEED = 256, OPT_DRAWS, OPT_METHOD, OPT_OPTIMIZER, OPT_MAX_ITER, OPT_TOL_GRAD,
  OPT_TOL_REL_OBJ, OPT_OUTPUT_DRAWS, OPT_TRACE, OPT_SUMMARY_JSON, OPT_INIT, OPT_EVAL_DRAWS,
  OPT_EVAL_EVERY, OPT_PRINT_EVERY, OPT_STEP_SIZE, OPT_STANDARDIZE, OPT_NO_STANDARDIZE,
  OPT_DRAWS_MAX, OPT_MEMORY_LIMIT, OPT_TOL_ABS_OBJ, OPT_FAMILY, OPT_STARTS, OPT_COVARIANCE,
  OPT_RESAMPLE, OPT_PLOT, OPT_FINISH_SE, OPT_THREADS,
  OPT_SHARD_BY, OPT_MINIBATCH
};

static const struct option fit_options[] = {
  {"data", required_argument, NULL, 'd'},
  {"seed", required_argument, NULL, OPT_SEED},
  {"draws", required_argument, NULL, OPT_DRAWS},
  {"method", required_argument, NULL, OPT_METHOD},
  {"optimizer", required_argument, NULL, OPT_OPTIMIZER},
  {"family", required_argument, NULL, OPT_FAMILY},
  {"starts", required_argument, NULL, OPT_STARTS},
  {"max-iter", required_argument, NULL, OPT_MAX_ITER},
  {"tol-grad", required_argument, NULL, OPT_TOL_GRAD},
  {"tol-rel-obj", required_argument, NULL, OPT_TOL_REL_OBJ},
  {"tol-abs-obj", required_argument, NULL, OPT_TOL_ABS_OBJ},
  {"step-size", required_argument, NULL, OPT_STEP_SIZE},
  {"standardize-draws", no_argument, NULL, OPT_STANDARDIZE},
  {"no-standardize-draws", no_argument, NULL, OPT_NO_STANDARDIZE},
  {"draws-max", required_argument, NULL, OPT_DRAWS_MAX},
  {"output", required_argument, NULL, 'o'},
  {"output-draws", required_argument, NULL, OPT_OUTPUT_DRAWS},
  {"trace", required_argument, NULL, OPT_TRACE},
  {"summary-json", required_argument, NULL, OPT_SUMMARY_JSON},
  {"plot", required_argument, NULL, OPT_PLOT},
  {"init", required_argument, NULL, OPT_INIT},
  {"eval-draws", required_argument, NULL, OPT_EVAL_DRAWS},
  {"finish-se", required_argument, NULL, OPT_FINISH_SE},
  {"eval-every", required_argument, NULL, OPT_EVAL_EVERY},
  {"print-every", required_argument, NULL, OPT_PRINT_EVERY},
  {"refresh", required_argument, NULL, OPT_PRINT_EVERY},
  {"quiet", no_argument, NULL, 'q'},
  {"memory-limit", required_argument, NULL, OPT_MEMORY_LIMIT},
  {"covariance", required_argument, NULL, OPT_COVARIANCE},
  {"threads", required_argument, NULL, OPT_THREADS},
  {"shard-by", required_argument, NULL, OPT_SHARD_BY},
  {"minibatch", required_argument, NULL, OPT_MINIBATCH},
  {"resample", required_argument, NULL, OPT_RESAMPLE},
  {"help", no_argument, NULL, 'h'},
  {NULL, 0, NULL, 0}
};

static const struct option check_options[] = {
  {"data", required_argument, NULL, 'd'},
  {"memory-limit", required_argument, NULL, OPT_MEMORY_LIMIT},
  {"help", no_argument, NULL, 'h'},
  {NULL, 0, NULL, 0}
};

/* --family auto, NAME or NAME:K, the names from the library's table of families. */
static int parse_family(const char *arg, vi_options *opt, int *automatic)
{
  *automatic = strcmp(arg, "auto") == 0;
  if (*automatic) {
    opt->family = NULL;
    opt->family_rank = 0;
    return 0;
  }
  char name[32];
  const char *colon = strchr(arg, ':');
  size_t len = colon ? (size_t)(colon - arg) : strlen(arg);
  const vi_family_type *t = NULL;
  if (len < sizeof name) {
    memcpy(name, arg, len);
    name[len] = '\0';
    t = vi_family_lookup(name);
  }
  if (!t) {
    char list[128] = "auto";
    for (const vi_family_type *const *p = vi_family_types(); *p; p++) {
      strcat(list, ", ");
      strcat(list, vi_family_name(*p));
      if (vi_family_ranked(*p)) strcat(list, ":K");
    }
    cli_error("--family: expected one of %s, got '%s'", list, arg);
    return -1;
  }
  opt->family = t;
  opt->family_rank = 0;
  if (!vi_family_ranked(t)) {
    if (colon) {
      cli_error("--family: '%s' takes no rank, got '%s'", vi_family_name(t), arg);
      return -1;
    }
    return 0;
  }
  char *end;
  errno = 0;
  unsigned long long k = colon ? strtoull(colon + 1, &end, 10) : 0;
  if (!colon || errno || end == colon + 1 || *end != '\0' || k < 1 || colon[1] == '-' ||
      k > SIZE_MAX) {
    cli_error("--family: '%s' needs a rank, a positive integer K as in '%s:2', got '%s'",
              vi_family_name(t), vi_family_name(t), arg);
    return -1;
  }
  opt->family_rank = (size_t)k;
  return 0;
}

/* --family auto: full rank for small D on fixed draws; mean-field otherwise, and always
 * where the fit needs mean-field (the linear-response correction, fresh draws). */
void cli_family_choose(cli_config *cfg, size_t dim)
{
  if (!cfg->family_auto) return;
  int fullrank = dim <= CLI_AUTO_FULLRANK_MAX_DIM && !cfg->lrvb &&
                 cfg->opt.estimator == VI_FIXED_DRAWS;
  cfg->opt.family = fullrank ? vi_family_fullrank : vi_family_meanfield;
  cfg->opt.family_rank = 0;
}

const char *cli_optimizer_name(vi_optimizer o)
{
  const char *n = vi_optimizer_name(o);
  return n ? n : "?";
}

const char *cli_method_name(vi_estimator e)
{
  return e == VI_FRESH_DRAWS ? "stochastic" : "fixed";
}

const char *cli_family_description(const vi_fit *f)
{
  static char buf[64];
  const vi_family_type *t = vi_fit_family(f);
  if (t == vi_family_fullrank)
    return "full-rank Gaussian";
  if (t == vi_family_lowrank) {
    snprintf(buf, sizeof buf, "low-rank Gaussian (diagonal + rank %zu)", vi_fit_family_rank(f));
    return buf;
  }
  return "mean-field Gaussian";
}

const char *cli_init_name(vi_init i)
{
  return i == VI_INIT_LAPLACE ? "laplace" : i == VI_INIT_RANDOM ? "random" : "zero";
}

/* Draw counts are held in memory (draws x dimension doubles): a bound keeps a typo from
 * asking for terabytes. */
#define MAX_DRAWS 10000000
#define MAX_STARTS 1000

/* A count of draws: as parse_count, and at most MAX_DRAWS. */
static int parse_count(const char *opt, const char *s, size_t min, size_t *out);
static int parse_draws(const char *opt, const char *s, size_t *out)
{
  if (parse_count(opt, s, 1, out))
    return -1;
  if (*out > MAX_DRAWS) {
    cli_error("--%s: expected at most %d draws, got '%s'", opt, MAX_DRAWS, s);
    return -1;
  }
  return 0;
}

/* A count: decimal digits only (no sign, no spaces), >= min. */
static int parse_count(const char *opt, const char *s, size_t min, size_t *out)
{
  const char *what = min > 0 ? "a positive integer" : "a non-negative integer";
  int ok = s[0] >= '0' && s[0] <= '9';
  for (const char *c = s; ok && *c; c++)
    ok = *c >= '0' && *c <= '9';
  unsigned long long v = 0;
  if (ok) {
    errno = 0;
    v = strtoull(s, NULL, 10);
    if (errno == ERANGE || v > SIZE_MAX / 2)
      ok = 0;
  }
  if (!ok || v < min) {
    cli_error("--%s: expected %s, got '%s'", opt, what, s);
    return -1;
  }
  *out = (size_t)v;
  return 0;
}

/* A finite real, > 0 (positive) or >= 0. */
static int parse_real(const char *opt, const char *s, int positive, double *out)
{
  char *end = NULL;
  errno = 0;
  double v = s[0] ? strtod(s, &end) : NAN;
  int ok = s[0] && end && *end == '\0' && errno != ERANGE && isfinite(v) &&
           (positive ? v > 0 : v >= 0);
  if (!ok) {
    cli_error("--%s: expected a %s number, got '%s'", opt,
              positive ? "positive" : "non-negative", s);
    return -1;
  }
  *out = v;
  return 0;
}

/* CmdStan's names (and common slips) for our options, for "did you mean". */
static const struct { const char *theirs, *ours; } similar[] = {
  {"iter", "max-iter"}, {"max_iter", "max-iter"}, {"max_iterations", "max-iter"},
  {"algorithm", "method"}, {"grad_samples", "draws"}, {"elbo_samples", "eval-draws"},
  {"output_samples", "output-draws"}, {"draws-out", "output-draws"}, {"eta", "step-size"},
  {"eval_elbo", "eval-every"}, {"tol_rel_obj", "tol-rel-obj"}, {"tol_grad", "tol-grad"},
  {"random_seed", "seed"}, {"file", "output"}, {"data_file", "data"}, {"init_file", "init"},
};

/* The option the user probably meant by the unknown word (leading dashes and any
 * "=value" removed): CmdStan's spelling, or ours with '_' for '-'; NULL if none. */
static const char *did_you_mean(const char *word, const struct option *longopts)
{
  char name[64];
  word += strspn(word, "-");
  size_t n = strcspn(word, "=");
  if (n == 0 || n >= sizeof name)
    return NULL;
  memcpy(name, word, n);
  name[n] = '\0';
  for (size_t i = 0; i < sizeof similar / sizeof similar[0]; i++)
    if (strcmp(name, similar[i].theirs) == 0)
      return similar[i].ours;
  for (char *c = name; *c; c++)
    if (*c == '_')
      *c = '-';
  for (const struct option *o = longopts; o->name; o++)
    if (strcmp(name, o->name) == 0)
      return o->name;
  return NULL;
}

/* The command-line word of the option just read by getopt_long, for error messages:
 * after a value-less or unknown option, or one missing its value, it is the last word
 * consumed. */
static const char *last_word(char **argv)
{
  return optind > 0 ? argv[optind - 1] : "?";
}

int cli_options_parse(int argc, char **argv, int fit, cli_config *cfg, int *help_shown)
{
  const char *cmd = fit ? "fit" : "check";
  int optimizer_set = 0, draws_max_set = 0, standardize_set = 0;
  size_t n;

  memset(cfg, 0, sizeof *cfg);
  vi_options_default(&cfg->opt);
  cfg->output_draws = 1000;
  cfg->family_auto = 1;
  cfg->finish_se = CLI_FINISH_SE;
  *help_shown = 0;

  opterr = 0;   /* we print our own messages */
  optind = 1;
  const char *shortopts = fit ? ":d:o:qh" : ":d:h";
  const struct option *longopts = fit ? fit_options : check_options;
  for (;;) {
    int li = -1;
    int c = getopt_long(argc, argv, shortopts, longopts, &li);
    if (c == -1)
      break;
    switch (c) {
    case 'h':
      if (fit)
        cli_help_fit(stdout);
      else
        cli_help_check(stdout);
      *help_shown = 1;
      return CLI_EXIT_OK;
    case 'd': cfg->data_path = optarg; break;
    case 'o': cfg->output_path = optarg; break;
    case 'q': cfg->quiet = 1; break;
    case OPT_TRACE: cfg->trace_path = optarg; break;
    case OPT_SUMMARY_JSON: cfg->json_path = optarg; break;
    case OPT_PLOT:
      if (!optarg[0]) {
        cli_error("--plot: expected a directory name");
        return CLI_EXIT_USAGE;
      }
      cfg->plot_dir = optarg;
      break;
    case OPT_MEMORY_LIMIT:
      if (parse_count("memory-limit", optarg, 1, &n))
        return CLI_EXIT_USAGE;
      if (n > (SIZE_MAX >> 21)) {
        cli_error("--memory-limit: %s MB is more than any machine has", optarg);
        return CLI_EXIT_USAGE;
      }
      cfg->memory_limit = n << 20;
      break;
    case OPT_THREADS:
      if (parse_count("threads", optarg, 1, &n))
        return CLI_EXIT_USAGE;
      if (n > 1024) {
        cli_error("--threads: expected at most 1024, got '%s'", optarg);
        return CLI_EXIT_USAGE;
      }
      cfg->threads = n;
      break;
    case OPT_SHARD_BY:
      if (!optarg[0]) {
        cli_error("--shard-by: expected the name of the data int that counts the "
                  "observations (N)");
        return CLI_EXIT_USAGE;
      }
      cfg->shard_by = optarg;
      break;
    case OPT_MINIBATCH:   /* B of the rows of --shard-by's N (checked once they are read) */
      if (parse_count("minibatch", optarg, 1, &cfg->opt.minibatch))
        return CLI_EXIT_USAGE;
      break;
    case OPT_SEED:
      if (parse_count("seed", optarg, 0, &n))
        return CLI_EXIT_USAGE;
      cfg->opt.seed = (unsigned long)n;
      break;
    case OPT_DRAWS:
      /* 'auto': adaptive M from the default start; a number fixes M */
      if (strcmp(optarg, "auto") == 0) {
        cfg->opt.draws = 0;   /* the library's "unset" */
        break;
      }
      if (parse_draws("draws", optarg, &cfg->opt.draws))
        return CLI_EXIT_USAGE;
      break;
    case OPT_DRAWS_MAX:
      if (parse_draws("draws-max", optarg, &cfg->opt.draws_max))
        return CLI_EXIT_USAGE;
      draws_max_set = 1;
      break;
    case OPT_STARTS:
      if (strcmp(optarg, "auto") == 0) {
        cfg->opt.starts = VI_STARTS_AUTO;
        break;
      }
      if (parse_count("starts", optarg, 1, &cfg->opt.starts))
        return CLI_EXIT_USAGE;
      if (cfg->opt.starts > MAX_STARTS) {
        cli_error("--starts: at most %d mode searches, got %zu", MAX_STARTS, cfg->opt.starts);
        return CLI_EXIT_USAGE;
      }
      break;
    case OPT_MAX_ITER:
      if (parse_count("max-iter", optarg, 1, &cfg->opt.max_iter))
        return CLI_EXIT_USAGE;
      break;
    case OPT_OUTPUT_DRAWS:
      if (parse_draws("output-draws", optarg, &cfg->output_draws))
        return CLI_EXIT_USAGE;
      break;
    case OPT_EVAL_DRAWS:
      if (parse_draws("eval-draws", optarg, &cfg->opt.eval_draws))
        return CLI_EXIT_USAGE;
      break;
    case OPT_FINISH_SE:
      if (parse_real("finish-se", optarg, 0, &cfg->finish_se))
        return CLI_EXIT_USAGE;
      break;
    case OPT_EVAL_EVERY:
      if (parse_count("eval-every", optarg, 0, &cfg->opt.eval_every))
        return CLI_EXIT_USAGE;
      break;
    case OPT_PRINT_EVERY:   /* 0: no progress lines (CmdStan's refresh=0) */
      if (parse_count(li >= 0 ? longopts[li].name : "print-every", optarg, 0,
                      &cfg->print_every))
        return CLI_EXIT_USAGE;
      cfg->no_progress = cfg->print_every == 0;
      break;
    case OPT_TOL_GRAD:
      if (parse_real("tol-grad", optarg, 0, &cfg->opt.tol_grad))
        return CLI_EXIT_USAGE;
      break;
    case OPT_TOL_ABS_OBJ:
      if (parse_real("tol-abs-obj", optarg, 0, &cfg->opt.tol_abs_obj))
        return CLI_EXIT_USAGE;
      break;
    case OPT_TOL_REL_OBJ:
      if (parse_real("tol-rel-obj", optarg, 0, &cfg->opt.tol_rel_obj))
        return CLI_EXIT_USAGE;
      break;
    case OPT_STEP_SIZE:
      if (parse_real("step-size", optarg, 1, &cfg->opt.step_size))
        return CLI_EXIT_USAGE;
      break;
    case OPT_STANDARDIZE: cfg->opt.standardize_draws = 1; standardize_set = 1; break;
    case OPT_NO_STANDARDIZE: cfg->opt.standardize_draws = 0; break;
    case OPT_METHOD:
      if (strcmp(optarg, "fixed") == 0)
        cfg->opt.estimator = VI_FIXED_DRAWS;
      else if (strcmp(optarg, "stochastic") == 0)
        cfg->opt.estimator = VI_FRESH_DRAWS;
      else {
        cli_error("--method: expected 'fixed' or 'stochastic', got '%s'", optarg);
        return CLI_EXIT_USAGE;
      }
      break;
    case OPT_OPTIMIZER:
      if (vi_optimizer_lookup(optarg, &cfg->opt.optimizer) != 0) {
        char list[128] = "";
        for (int o = 0; vi_optimizer_name((vi_optimizer)o); o++) {
          strcat(list, o ? ", " : "");
          strcat(list, vi_optimizer_name((vi_optimizer)o));
        }
        cli_error("--optimizer: expected one of %s, got '%s'", list, optarg);
        return CLI_EXIT_USAGE;
      }
      optimizer_set = 1;
      break;
    case OPT_FAMILY:
      if (parse_family(optarg, &cfg->opt, &cfg->family_auto) != 0)
        return CLI_EXIT_USAGE;
      break;
    case OPT_INIT:
      if (strcmp(optarg, "zero") == 0)
        cfg->opt.init = VI_INIT_ZERO;
      else if (strcmp(optarg, "random") == 0)
        cfg->opt.init = VI_INIT_RANDOM;
      else if (strcmp(optarg, "laplace") == 0)
        cfg->opt.init = VI_INIT_LAPLACE;
      else if (strlen(optarg) > 5 && strcmp(optarg + strlen(optarg) - 5, ".json") == 0)
        cfg->init_file = optarg;   /* read once the model and data are in (cmd_fit.c) */
      else {
        cli_error("--init: expected 'zero', 'random', 'laplace' or a FILE.json of initial "
                  "values, got '%s'", optarg);
        return CLI_EXIT_USAGE;
      }
      break;
    case OPT_COVARIANCE:
      if (strcmp(optarg, "meanfield") == 0)
        cfg->lrvb = 0;
      else if (strcmp(optarg, "lrvb") == 0)
        cfg->lrvb = 1;
      else {
        cli_error("--covariance: expected 'meanfield' or 'lrvb', got '%s'", optarg);
        return CLI_EXIT_USAGE;
      }
      break;
    case OPT_RESAMPLE:
      if (strcmp(optarg, "none") == 0)
        cfg->resample = 0;
      else if (strcmp(optarg, "psis") == 0)
        cfg->resample = 1;
      else {
        cli_error("--resample: expected 'none' or 'psis', got '%s'", optarg);
        return CLI_EXIT_USAGE;
      }
      break;
    case ':':
      cli_error("%s: option requires a value", last_word(argv));
      return CLI_EXIT_USAGE;
    case '?':
    default:
      if (optopt > 0 && optopt < 256) {
        cli_error("%s: unknown option '-%c' (try 'vi help %s')", cmd, optopt, cmd);
      } else {
        const char *mean = did_you_mean(last_word(argv), longopts);
        if (mean)
          cli_error("%s: unknown option '%s' (did you mean '--%s'? try 'vi help %s')", cmd,
                    last_word(argv), mean, cmd);
        else
          cli_error("%s: unknown option '%s' (try 'vi help %s')", cmd, last_word(argv), cmd);
      }
      return CLI_EXIT_USAGE;
    }
  }

  if (optind >= argc) {
    cli_error("%s: missing the model file (usage: vi %s MODEL.stan [--data DATA.json]%s)",
              cmd, cmd, fit ? " [options]" : "");
    return CLI_EXIT_USAGE;
  }
  if (optind + 1 < argc) {
    cli_error("%s: unexpected argument '%s' (one model file per run)", cmd, argv[optind + 1]);
    return CLI_EXIT_USAGE;
  }
  cfg->model_path = argv[optind];

  /* threads: --threads, else the environment's VI_NUM_THREADS, else the cores (0) */
  const char *env = fit ? getenv("VI_NUM_THREADS") : NULL;
  if (fit && cfg->threads == 0 && env && env[0]) {
    const char *c = env;
    while (*c >= '0' && *c <= '9') c++;
    unsigned long long v = *c || c == env ? 0 : strtoull(env, NULL, 10);
    if (v < 1 || v > 1024) {
      cli_error("VI_NUM_THREADS: expected a number of threads from 1 to 1024, got '%s'", env);
      return CLI_EXIT_USAGE;
    }
    cfg->threads = (size_t)v;
  }

  /* --draws M fixes M, unless --draws-max asks for adaptive M from M (the library's rule:
   * the defaults that depend on the method or on other options are left unset and
   * resolved by vi_fit_alloc). */
  size_t start = cfg->opt.draws ? cfg->opt.draws : 32;
  if (draws_max_set && cfg->opt.draws_max <= start) {
    cli_error("--draws-max: expected more than the starting --draws %zu, got %zu",
              start, cfg->opt.draws_max);
    return CLI_EXIT_USAGE;
  }

  if (cfg->opt.estimator == VI_FRESH_DRAWS) {
    if (!optimizer_set)
      cfg->opt.optimizer = VI_OPT_ADAM;
    if (cfg->opt.optimizer != VI_OPT_ADAM) {
      cli_error("--optimizer: '%s' needs a deterministic objective (--method fixed); "
                "--method stochastic uses adam", cli_optimizer_name(cfg->opt.optimizer));
      return CLI_EXIT_USAGE;
    }
    if (standardize_set) {
      cli_error("--standardize-draws: needs --method fixed (the stochastic method draws "
                "afresh every step)");
      return CLI_EXIT_USAGE;
    }
    if (draws_max_set) {
      cli_error("--draws-max: needs --method fixed (adaptive M grows a fixed sample)");
      return CLI_EXIT_USAGE;
    }
    if (cfg->lrvb) {
      cli_error("--covariance lrvb: needs --method fixed (the linear response is the "
                "Hessian of the fixed-draw objective at its optimum; the stochastic "
                "method's objective changes every step)");
      return CLI_EXIT_USAGE;
    }
  }
  if (cfg->opt.minibatch && cfg->opt.estimator != VI_FRESH_DRAWS) {
    cli_error("--minibatch: needs --method stochastic (the fixed-draw objective must stay "
              "the same function from one line-search step to the next)");
    return CLI_EXIT_USAGE;
  }
  if (cfg->opt.minibatch && !cfg->shard_by) {
    cli_error("--minibatch: needs --shard-by N, the data int that counts the rows the "
              "minibatches are drawn from");
    return CLI_EXIT_USAGE;
  }
  if (cfg->lrvb && cfg->opt.family && cfg->opt.family != vi_family_meanfield) {
    cli_error("--covariance lrvb: corrects a mean-field fit; --family %s has a covariance of "
              "its own", vi_family_name(cfg->opt.family));
    return CLI_EXIT_USAGE;
  }

  if (cfg->resample && (size_t)MAX_DRAWS / CLI_RESAMPLE_FACTOR < cfg->output_draws) {
    cli_error("--resample psis: draws %d proposal points per output draw; --output-draws "
              "%zu is more than %d", CLI_RESAMPLE_FACTOR, cfg->output_draws,
              MAX_DRAWS / CLI_RESAMPLE_FACTOR);
    return CLI_EXIT_USAGE;
  }

  if (cfg->plot_dir && cfg->output_draws < 5) {
    cli_error("--plot: the marginals and weights plots need --output-draws of at least 5");
    return CLI_EXIT_USAGE;
  }

  /* Two outputs to one file would leave only the last one. */
  const char *paths[3] = {cfg->output_path, cfg->trace_path, cfg->json_path};
  const char *names[3] = {"--output", "--trace", "--summary-json"};
  for (int i = 0; i < 3; i++)
    for (int j = i + 1; j < 3; j++)
      if (paths[i] && paths[j] && strcmp(paths[i], paths[j]) == 0) {
        cli_error("%s and %s name the same file '%s'", names[i], names[j], paths[i]);
        return CLI_EXIT_USAGE;
      }
  return CLI_EXIT_OK;
}
