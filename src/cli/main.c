/* main.c: entry point of the `vi` command; dispatches to a subcommand.
 *
 *   vi fit MODEL.stan [--data DATA.json] [options]    fit, report, write files
 *   vi check MODEL.stan [--data DATA.json]            compile and validate only
 *   vi plot trace|marginals|weights FILE... -o OUT    draw a saved run (gnuplot)
 *   vi help [fit|check|plot], vi --help, vi --version
 *
 * Subcommands parse their own options (getopt_long, options.c), like git's. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

int main(int argc, char **argv)
{
  if (argc < 2) {
    cli_help_main(stderr);
    return CLI_EXIT_USAGE;
  }
  const char *cmd = argv[1];
  if (strcmp(cmd, "fit") == 0)
    return cli_cmd_fit(argc - 1, argv + 1);
  if (strcmp(cmd, "check") == 0)
    return cli_cmd_check(argc - 1, argv + 1);
  if (strcmp(cmd, "plot") == 0)
    return cli_cmd_plot(argc - 1, argv + 1);
  if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
    cli_help_main(stdout);
    return CLI_EXIT_OK;
  }
  if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "-V") == 0) {
    cli_version(stdout);
    return CLI_EXIT_OK;
  }
  if (strcmp(cmd, "help") == 0) {
    if (argc == 2) {
      cli_help_main(stdout);
      return CLI_EXIT_OK;
    }
    if (argc == 3 && strcmp(argv[2], "fit") == 0) {
      cli_help_fit(stdout);
      return CLI_EXIT_OK;
    }
    if (argc == 3 && strcmp(argv[2], "check") == 0) {
      cli_help_check(stdout);
      return CLI_EXIT_OK;
    }
    if (argc == 3 && strcmp(argv[2], "plot") == 0) {
      cli_help_plot(stdout);
      return CLI_EXIT_OK;
    }
    if (argc == 3)
      cli_error("help: unknown command '%s' (commands: fit, check, plot)", argv[2]);
    else
      cli_error("help: expected at most one command name");
    return CLI_EXIT_USAGE;
  }
  if (cmd[0] == '-')
    cli_error("unknown option '%s' (try 'vi --help')", cmd);
  else
    cli_error("unknown command '%s' (commands: fit, check, plot, help; try 'vi --help')",
              cmd);
  return CLI_EXIT_USAGE;
}
