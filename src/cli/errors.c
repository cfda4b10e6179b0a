/* errors.c: how the command reports trouble.  One line (two for a model error with its
 * caret) on stderr, prefixed "vi: ", and one exit code per class of error (cli.h).  The
 * library never prints: it returns a status and, for the language, a vi_error whose
 * message already holds file:line:col and the caret line. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

void cli_error(const char *fmt, ...)
{
  va_list ap;
  fflush(stdout);   /* keep the order readable when both go to one terminal */
  fputs("vi: ", stderr);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
}

int cli_exit_for_status(int status)
{
  switch (status) {
  case VI_SUCCESS: return CLI_EXIT_OK;
  case VI_EMAXITER: return CLI_EXIT_NOT_CONVERGED;
  case VI_EINVAL: return CLI_EXIT_USAGE;
  case VI_EPARSE:
  case VI_ECHECK:
  case VI_EUNSUPPORTED: return CLI_EXIT_MODEL;
  case VI_EDATA: return CLI_EXIT_DATA;
  case VI_EIO: return CLI_EXIT_IO;
  case VI_EINTERRUPTED: return CLI_EXIT_INTERRUPTED;
  case VI_ENOMEM:
  case VI_ENOPROG:
  case VI_ENONFINITE:
  case VI_ENOTPD:
  case VI_EMODEL:
  case VI_ERUNTIME:
  default: return CLI_EXIT_NUMERICAL;
  }
}

int cli_report_lang_error(const vi_error *err, int status)
{
  int st = err && err->status < 0 ? err->status : status;
  if (st >= 0)
    st = VI_EMODEL;
  if (err && err->message[0]) {
    fflush(stdout);
    /* The message is complete (file:line:col: error: ..., caret line); only add our
     * prefix when it does not start with a location already. */
    if (err->file[0] && strncmp(err->message, err->file, strlen(err->file)) == 0)
      fprintf(stderr, "%s\n", err->message);
    else
      fprintf(stderr, "vi: %s\n", err->message);
  } else {
    cli_error("%s", vi_strerror(st));
  }
  return cli_exit_for_status(st);
}
