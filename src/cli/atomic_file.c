/* atomic_file.c: output files that appear whole or not at all.  We write to a temporary
 * file in the same directory as the target (so rename(2) stays within one file system,
 * where POSIX makes it atomic), flush and fsync it, then rename it over the target.  A
 * run that fails removes the temporary file, so an existing file is never truncated or
 * half-written.  The temporary file is created before the fit starts, so an unwritable
 * directory is reported before any time is spent.
 *
 * Targets that are not regular files are not replaced: a symbolic link is followed (the
 * file it names is replaced, the link stays), and a device or FIFO (/dev/stdout, a pipe)
 * is written in place at commit time from a buffer held in memory, so nothing reaches it
 * from a run that fails.  An existing file keeps its permission bits; a new one gets
 * those of fopen (0666 less the umask).  The temporary file is registered with signals.c,
 * which removes it if a second signal ends the program before the commit. */
#define _XOPEN_SOURCE 700   /* realpath (XSI) */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"

static void atomic_clear(cli_atomic_file *af)
{
  if (af->tmp)
    cli_signals_untrack(af->track);
  free(af->path);
  free(af->tmp);
  free(af->buf);
  memset(af, 0, sizeof *af);
  af->track = -1;
}

/* Direct mode: collect the output in memory, write it to the target at commit. */
static int open_direct(cli_atomic_file *af)
{
  af->direct = 1;
  af->fp = open_memstream(&af->buf, &af->buflen);
  if (!af->fp) {
    cli_error("%s: %s", af->path, strerror(errno));
    atomic_clear(af);
    return -1;
  }
  return 0;
}

int cli_atomic_open(cli_atomic_file *af, const char *path)
{
  struct stat st;
  memset(af, 0, sizeof *af);
  af->track = -1;
  if (path[0] == '\0') {
    cli_error("cannot write to an empty file name");
    return -1;
  }
  /* Follow a symbolic link to the file it names (a dangling one is replaced). */
  if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode))
    af->path = realpath(path, NULL);
  if (!af->path)
    af->path = strdup(path);
  if (!af->path) {
    cli_error("%s: out of memory", path);
    return -1;
  }
  int exists = stat(af->path, &st) == 0;
  if (exists && S_ISDIR(st.st_mode)) {
    cli_error("%s: is a directory, expected a file name", path);
    atomic_clear(af);
    return -1;
  }
  if (exists && !S_ISREG(st.st_mode))
    return open_direct(af);

  const char *slash = strrchr(af->path, '/');
  size_t dirlen = slash ? (size_t)(slash - af->path) + 1 : 0;
  const char *base = af->path + dirlen;
  if (*base == '\0') {
    cli_error("%s: is a directory, expected a file name", path);
    atomic_clear(af);
    return -1;
  }
  af->tmp = malloc(strlen(af->path) + 16);
  if (!af->tmp) {
    cli_error("%s: out of memory", path);
    atomic_clear(af);
    return -1;
  }
  /* dir/.base.XXXXXX: hidden, next to the target. */
  memcpy(af->tmp, af->path, dirlen);
  sprintf(af->tmp + dirlen, ".%s.XXXXXX", base);
  int fd = mkstemp(af->tmp);
  if (fd < 0) {
    cli_error("%s: cannot create a file there: %s", path, strerror(errno));
    atomic_clear(af);
    return -1;
  }
  af->track = cli_signals_track(af->tmp);   /* a second signal removes it */
  /* mkstemp makes the file 0600: keep the mode of the file we replace, or give a new
   * file the mode a plain fopen would. */
  mode_t mode;
  if (exists) {
    mode = st.st_mode & 07777;
  } else {
    mode_t mask = umask(0);
    umask(mask);
    mode = 0666 & ~mask;
  }
  (void)fchmod(fd, mode);   /* not fatal: the file is still ours */
  af->fp = fdopen(fd, "w");
  if (!af->fp) {
    cli_error("%s: %s", path, strerror(errno));
    close(fd);
    unlink(af->tmp);
    atomic_clear(af);
    return -1;
  }
  return 0;
}

static int commit_direct(cli_atomic_file *af)
{
  int err = 0;
  if (fclose(af->fp) != 0)
    err = errno ? errno : EIO;
  af->fp = NULL;
  if (!err) {
    FILE *out = fopen(af->path, "w");
    if (!out)
      err = errno;
    else {
      if (af->buflen > 0 && fwrite(af->buf, 1, af->buflen, out) != af->buflen)
        err = errno ? errno : EIO;
      if (fclose(out) != 0 && !err)
        err = errno ? errno : EIO;
    }
  }
  if (err)
    cli_error("%s: cannot write: %s", af->path, strerror(err));
  atomic_clear(af);
  return err ? -1 : 0;
}

int cli_atomic_commit(cli_atomic_file *af)
{
  if (!af->fp)
    return -1;
  if (af->direct)
    return commit_direct(af);
  int err = 0;
  errno = 0;
  if (fflush(af->fp) != 0 || ferror(af->fp))
    err = errno ? errno : EIO;
  if (!err && fsync(fileno(af->fp)) != 0 && errno != EINVAL && errno != EROFS)
    err = errno;
  if (fclose(af->fp) != 0 && !err)
    err = errno ? errno : EIO;
  af->fp = NULL;
  if (!err && rename(af->tmp, af->path) != 0)
    err = errno;
  if (err) {
    cli_error("%s: cannot write: %s", af->path, strerror(err));
    unlink(af->tmp);
    atomic_clear(af);
    return -1;
  }
  atomic_clear(af);
  return 0;
}

void cli_atomic_abort(cli_atomic_file *af)
{
  if (af->fp) {
    fclose(af->fp);
    if (!af->direct)
      unlink(af->tmp);
  }
  atomic_clear(af);
}
