/* signals.c: Ctrl-C (SIGINT), SIGTERM (what `timeout`, batch schedulers and `kill` send)
 * and SIGHUP stop a fit cleanly.  The handler only records the signal (the one thing a
 * handler may safely do); the fit's observer (progress.c) reads it after every iteration
 * and asks vi_fit_run to stop, so the command still reports and writes the current
 * approximation, marked interrupted, and exits with 128 + the signal's number (130 for
 * SIGINT, 143 for SIGTERM), as shells report a death by that signal.
 *
 * A second signal ends the program at once.  Before it dies (by the default action of
 * that signal, re-raised) the handler removes the temporary files of the outputs
 * (atomic_file.c registers them here): unlink(2) is async-signal-safe, and the names are
 * copied into static buffers, so the handler never reads memory the program may be
 * freeing.  Existing output files are untouched either way. */
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"

#define TRACKED 4        /* temporary files at once: --output, --trace, --summary-json */
#define TRACKED_PATH 4096

static const int handled[] = {SIGINT, SIGTERM, SIGHUP};
#define NHANDLED (sizeof handled / sizeof handled[0])

static volatile sig_atomic_t caught;   /* the first signal's number, 0 before */
static struct sigaction saved[NHANDLED];
static int installed;
static char tracked[TRACKED][TRACKED_PATH];
static volatile sig_atomic_t tracked_used[TRACKED];

static void on_signal(int sig)
{
  if (!caught) {
    caught = sig;
    return;
  }
  for (int i = 0; i < TRACKED; i++)
    if (tracked_used[i])
      unlink(tracked[i]);
  signal(sig, SIG_DFL);
  raise(sig);
}

void cli_signals_install(void)
{
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  for (size_t i = 0; i < NHANDLED; i++)
    sigaddset(&sa.sa_mask, handled[i]);   /* one handler at a time */
  /* Installed even when a signal was ignored (a background job of a script): it is then
   * sent on purpose, by kill. */
  for (size_t i = 0; i < NHANDLED; i++)
    sigaction(handled[i], &sa, &saved[i]);
  installed = 1;
}

void cli_signals_restore(void)
{
  if (!installed)
    return;
  for (size_t i = 0; i < NHANDLED; i++)
    sigaction(handled[i], &saved[i], NULL);
  installed = 0;
}

int cli_signals_interrupted(void)
{
  return caught;
}

const char *cli_signal_name(int sig)
{
  switch (sig) {
  case SIGINT: return "SIGINT";
  case SIGTERM: return "SIGTERM";
  case SIGHUP: return "SIGHUP";
  }
  return "a signal";
}

int cli_signals_track(const char *path)
{
  if (strlen(path) >= TRACKED_PATH)
    return -1;
  for (int i = 0; i < TRACKED; i++)
    if (!tracked_used[i]) {
      memcpy(tracked[i], path, strlen(path) + 1);
      tracked_used[i] = 1;   /* only once the name is complete */
      return i;
    }
  return -1;
}

void cli_signals_untrack(int slot)
{
  if (slot >= 0 && slot < TRACKED)
    tracked_used[slot] = 0;
}
