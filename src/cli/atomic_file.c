/* atomic_file.c: output files that appear whole or not at all.  We write to a temporary
 * file in the same directory as the target (so rename(2) stays within one file system,
 * where POSIX makes it atomic), flush and fsync it, then rename it over the target.  A
 * run that fails removes the temporary file, so an existing file is never truncated or
 * half-written.  The temporary file is created before the fit starts, so an unwritable
 * directory is reported before any time is spent. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"

static void atomic_clear(cli_atomic_file *af)
{
  free(af->path);
  free(af->tmp);
  af->path = af->tmp = NULL;
  af->fp = NULL;
}

int cli_atomic_open(cli_atomic_file *af, const char *path)
{
  memset(af, 0, sizeof *af);
  size_t len = strlen(path);
  if (len == 0) {
    cli_error("cannot write to an empty file name");
    return -1;
  }
  const char *slash = strrchr(path, '/');
  size_t dirlen = slash ? (size_t)(slash - path) + 1 : 0;
  const char *base = path + dirlen;
  if (*base == '\0') {
    cli_error("%s: is a directory, expected a file name", path);
    return -1;
  }
  af->path = strdup(path);
  af->tmp = malloc(len + 16);
  if (!af->path || !af->tmp) {
    cli_error("%s: out of memory", path);
    atomic_clear(af);
    return -1;
  }
  /* dir/.base.XXXXXX: hidden, next to the target. */
  memcpy(af->tmp, path, dirlen);
  sprintf(af->tmp + dirlen, ".%s.XXXXXX", base);
  int fd = mkstemp(af->tmp);
  if (fd < 0) {
    cli_error("%s: cannot create a file there: %s", path, strerror(errno));
    atomic_clear(af);
    return -1;
  }
  /* mkstemp makes the file 0600; give it the mode a plain fopen would have. */
  mode_t mask = umask(0);
  umask(mask);
  (void)fchmod(fd, 0666 & ~mask);   /* not fatal: the file is still ours */
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

int cli_atomic_commit(cli_atomic_file *af)
{
  if (!af->fp)
    return -1;
  int err = 0;
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
    unlink(af->tmp);
  }
  atomic_clear(af);
}
