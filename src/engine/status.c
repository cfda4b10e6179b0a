/* status.c: human-readable text for the status codes of vi/status.h and the stop reasons
 * of vi/fit.h.  The strings are static, so callers may print them without freeing; the
 * switch must stay in step with the enums (the compiler warns on a missing stop reason). */
#include <vi/status.h>
#include <vi/fit.h>

const char *vi_strerror(int status)
{
  switch (status) {
  case VI_SUCCESS: return "success";
  case VI_CONTINUE: return "iteration not finished";
  case VI_EINVAL: return "invalid argument or option";
  case VI_ENOMEM: return "out of memory";
  case VI_ENOPROG: return "the optimiser can make no further progress";
  case VI_ENONFINITE: return "objective or gradient is not finite";
  case VI_EMAXITER: return "iteration cap reached before convergence";
  case VI_EMODEL: return "the model callback reported an error";
  case VI_EPARSE: return "syntax error in the model file";
  case VI_ECHECK: return "error in the model file (scope, type, size or block rule)";
  case VI_EUNSUPPORTED: return "Stan feature not supported by vi";
  case VI_EDATA: return "missing, malformed or invalid data";
  case VI_ERUNTIME: return "error while evaluating the model";
  case VI_EIO: return "file could not be read or written";
  case VI_EINTERRUPTED: return "stopped on request";
  case VI_ENOTPD: return "matrix not positive definite";
  default: return "unknown status code";
  }
}

const char *vi_stop_reason_string(vi_stop_reason r)
{
  switch (r) {
  case VI_STOP_NONE: return "running";
  case VI_STOP_GRAD: return "gradient norm below tolerance";
  case VI_STOP_REL_OBJ: return "relative ELBO change below tolerance";
  case VI_STOP_MAXITER: return "iteration cap reached";
  case VI_STOP_NOPROGRESS: return "no further progress possible";
  case VI_STOP_FAILED: return "failed";
  case VI_STOP_FLAT: return "ELBO flat over the last iterations";
  case VI_STOP_RESOLUTION: return "no further progress, with less to gain than the ELBO's Monte Carlo error";
  }
  return "unknown stop reason";
}
