/* fuzz_compile.c: libFuzzer target for the model front end.  The input bytes are a model
 * source (any bytes: NUL, invalid UTF-8, truncated tokens); vi_program_compile must parse
 * and check it, or return a clean error with a status and a message, and never crash,
 * hang or leak.  Built and run by .ci/fuzz with -fsanitize=fuzzer,address,undefined. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <vi/lang.h>
#include <vi/status.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  vi_error err;
  int st = 12345;
  vi_program *p = vi_program_compile((const char *)data, size, "fuzz.stan", &err, &st);
  if (p) {
    if (st != VI_SUCCESS) abort();
    /* the parameter listing of `vi check` works before data is loaded */
    size_t np = vi_program_n_params(p);
    for (size_t i = 0; i < np; i++) {
      vi_param_info info;
      if (vi_program_param_info(p, i, &info) != VI_SUCCESS || !info.name) abort();
    }
    vi_program_free(p);
  } else {
    /* a failure has a negative status, the same in err, and a message */
    if (st >= 0 || err.status != st || !err.message[0]) abort();
    if (!memchr(err.message, '\0', sizeof err.message)) abort();
  }
  return 0;
}
