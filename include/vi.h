/* vi.h: the public API of libvi, a variational-inference engine.
 *
 * A model is a log-joint callback with gradient over an unconstrained vector z in R^D
 * (vi/model.h), either written by hand in C or compiled from a Stan-subset model file
 * (vi/lang.h).  A fit (vi/fit.h) maximises the ELBO of a mean-field Gaussian
 * q(z) = N(mu, diag(exp(omega))^2) over that space, GSL-style: alloc, iterate, test,
 * free, and reports the decomposition log p(X) = ELBO + KL(q || p) each iteration.
 * The linear-response covariance of a fit: vi/lrvb.h.  Information utilities (entropy, KL) are in vi/info.h.  Status codes: vi/status.h.
 */
#ifndef VI_H
#define VI_H

#include <vi/version.h>
#include <vi/status.h>
#include <vi/model.h>
#include <vi/family.h>
#include <vi/fit.h>
#include <vi/lrvb.h>
#include <vi/info.h>
#include <vi/lang.h>

#endif
