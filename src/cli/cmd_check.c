/* cmd_check.c: `vi check MODEL.stan [--data DATA.json]`: compile the model and, with
 * data, validate it, without fitting.  Prints each parameter (declaration order) with its
 * declared type, its constrained size and its share of the unconstrained dimension (K and
 * K - 1 for simplex[K], as Stan maps it), then the total dimension D and the number of
 * outputs per draw.  Exit codes as for fit: 3 model error, 4 data error, 6 I/O. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

int cli_cmd_check(int argc, char **argv)
{
  cli_config cfg;
  int help = 0;
  int rc = cli_options_parse(argc, argv, 0, &cfg, &help);
  if (rc != CLI_EXIT_OK || help)
    return rc;

  vi_error err;
  memset(&err, 0, sizeof err);
  int st = VI_SUCCESS;
  vi_program *p = vi_program_compile_file(cfg.model_path, &err, &st);
  if (!p)
    return cli_report_lang_error(&err, st);
  vi_program_set_memory_limit(p, cfg.memory_limit);
  /* the compiler's warnings (a parameter with no prior) first, as a compiler prints
   * them; they change no exit status */
  for (size_t i = 0; i < vi_program_n_warnings(p); i++)
    fprintf(stderr, "%s\n", vi_program_warning(p, i));

  memset(&err, 0, sizeof err);
  st = vi_program_load_data_file(p, cfg.data_path, &err);
  int have_sizes = st == VI_SUCCESS;
  /* Without --data only missing data is expected; a failure in transformed data of a
   * model that needs none is an error like any other. */
  if (!have_sizes && (cfg.data_path || st != VI_EDATA)) {
    rc = cli_report_lang_error(&err, st);
    vi_program_free(p);
    return rc;
  }

  printf("Model:  %s: ok\n", cfg.model_path);
  if (cfg.data_path)
    printf("Data:   %s: ok\n", cfg.data_path);
  else if (!have_sizes)
    printf("Data:   none given; the sizes below need the data (--data DATA.json)\n");

  size_t np = vi_program_n_params(p);
  int wn = 4, wt = 4;
  for (size_t i = 0; i < np; i++) {
    vi_param_info info;
    if (vi_program_param_info(p, i, &info) != VI_SUCCESS)
      continue;
    int ln = info.name ? (int)strlen(info.name) : 0;
    int lt = info.type ? (int)strlen(info.type) : 0;
    if (ln > wn)
      wn = ln;
    if (lt > wt)
      wt = lt;
  }
  printf("Parameters (%zu, in declaration order):\n", np);
  printf("  %-*s  %-*s  %11s  %13s\n", wn, "name", wt, "type", "constrained", "unconstrained");
  size_t total = 0;
  for (size_t i = 0; i < np; i++) {
    vi_param_info info;
    memset(&info, 0, sizeof info);
    if (vi_program_param_info(p, i, &info) != VI_SUCCESS)
      continue;
    const char *name = info.name ? info.name : "?";
    const char *type = info.type ? info.type : "?";
    if (have_sizes)
      printf("  %-*s  %-*s  %11zu  %13zu\n", wn, name, wt, type, info.constrained_size,
             info.unconstrained_size);
    else
      printf("  %-*s  %-*s  %11s  %13s\n", wn, name, wt, type, "?", "?");
    total += info.unconstrained_size;
  }
  if (have_sizes) {
    vi_model m;
    memset(&m, 0, sizeof m);
    if (vi_program_model(p, &m) == VI_SUCCESS) {
      printf("Total unconstrained dimension: D = %zu\n", m.dim);
      printf("Outputs per draw: %zu (parameters, transformed parameters, generated "
             "quantities)\n", m.n_out > 0 ? m.n_out : m.dim);
    } else {
      printf("Total unconstrained dimension: D = %zu\n", total);
    }
  } else {
    printf("Total unconstrained dimension: unknown without data\n");
  }
  vi_program_free(p);
  return CLI_EXIT_OK;
}
