/* signals.c: Ctrl-C stops a fit cleanly.  The SIGINT handler only sets a flag (the one
 * thing a handler may safely do); the fit's observer (progress.c) reads it after every
 * iteration and asks vi_fit_run to stop, so the command still reports and writes the
 * current approximation, marked interrupted, and exits 130.  SA_RESETHAND restores the
 * default action, so a second Ctrl-C ends the program at once (its temporary files, if
 * any, are left behind; existing output files are untouched either way). */
#include <signal.h>
#include <string.h>

#include "cli/cli.h"

static volatile sig_atomic_t interrupted;
static struct sigaction saved;
static int installed;

static void on_sigint(int sig)
{
  (void)sig;
  interrupted = 1;
}

void cli_signals_install(void)
{
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_sigint;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESETHAND;
  /* Installed even when SIGINT was ignored (a background job of a script): the signal
   * is then sent on purpose, by kill -INT. */
  if (sigaction(SIGINT, &sa, &saved) == 0)
    installed = 1;
}

void cli_signals_restore(void)
{
  if (installed) {
    sigaction(SIGINT, &saved, NULL);
    installed = 0;
  }
}

int cli_signals_interrupted(void)
{
  return interrupted != 0;
}
