/* vi/status.h: status codes shared by every part of libvi.
 * 0 is success, VI_CONTINUE (> 0) means "not finished, iterate again", errors are
 * negative.  The library never prints and never exits: it returns one of these.
 * Keep vi_strerror (src/engine/status.c) in step with this list. */
#ifndef VI_STATUS_H
#define VI_STATUS_H

#ifdef __cplusplus
extern "C" {
#endif

enum vi_status {
  VI_SUCCESS = 0,       /* the call succeeded (from vi_fit_test: stopped; see there) */
  VI_CONTINUE = 1,      /* iteration not finished: call iterate again */
  VI_EINVAL = -1,       /* invalid argument or option */
  VI_ENOMEM = -2,       /* out of memory */
  VI_ENOPROG = -3,      /* the optimiser can make no further progress */
  VI_ENONFINITE = -4,   /* objective or gradient non-finite where it must be finite */
  VI_EMAXITER = -5,     /* iteration cap reached before convergence */
  VI_EMODEL = -6,       /* the model callback reported an error */
  VI_EPARSE = -7,       /* model file: syntax error */
  VI_ECHECK = -8,       /* model file: scope, type, size or block-rule error */
  VI_EUNSUPPORTED = -9, /* model file: a Stan feature outside vi's subset */
  VI_EDATA = -10,       /* data file: missing, malformed or invalid data */
  VI_ERUNTIME = -11,    /* model evaluation: index out of range, reject, ... */
  VI_EIO = -12,         /* file could not be read or written */
  VI_EINTERRUPTED = -13, /* stopped on request */
  VI_ENOTPD = -14       /* a matrix that must be positive definite is not (the negative
                           Hessian of vi_fit_lrvb) */
};

/* A static, human-readable description of a status code (never NULL). */
const char *vi_strerror(int status);

#ifdef __cplusplus
}
#endif
#endif
