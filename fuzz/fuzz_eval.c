/* fuzz_eval.c: libFuzzer target for the whole language path: compile a model, load a
 * fixed data file, evaluate log p(x, z) with its gradient at a few points, and map a
 * point to the outputs.  Input: the model source, optionally followed by a line "@@" and
 * bytes from which the points are derived (each byte a coordinate, a few of them huge).
 * The fixed data binds the names most models in the seed corpus use (N, K, y, x, X, ...);
 * a model asking for other data fails to load, cleanly.  Models whose loops could run
 * for as long as they like (while loops) are only compiled: a hang there is the
 * model's, not a fault. */
#define _GNU_SOURCE 1  /* memmem */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <gsl/gsl_rng.h>
#include <vi/lang.h>
#include <vi/model.h>
#include <vi/status.h>

static const char data_json[] =
  "{\"N\": 4, \"K\": 2, \"J\": 3, \"D\": 2, \"M\": 2, \"n\": 3,"
  " \"y\": [0.5, -1.25, 2.0, 0.0], \"x\": [1.0, 2.0, 3.0, 4.0],"
  " \"X\": [[1, 0.5], [1, -0.5], [1, 2], [1, 0]],"
  " \"z\": [0, 1, 1, 0], \"cnt\": [0, 3, 1, 7], \"sigma\": [15, 10, 16],"
  " \"g\": [1, 2, 3, 1], \"lo\": -1, \"hi\": 2, \"alpha\": [1, 1, 1],"
  " \"mu0\": 0, \"s\": 1.5, \"w\": [0.2, 0.3, 0.5]}";

#define MAXD 256

static double coord(uint8_t b)
{
  switch (b) {
  case 0xff: return 1e300;
  case 0xfe: return -1e300;
  case 0xfd: return 750.0;      /* exp overflows */
  case 0xfc: return -750.0;     /* exp underflows to 0 */
  default: return ((double)b - 128.0) / 16.0;
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  const uint8_t *pts = NULL;
  size_t npts = 0, msize = size;
  for (size_t i = 0; i + 3 <= size; i++)
    if (data[i] == '@' && data[i + 1] == '@' && data[i + 2] == '\n') {
      msize = i; pts = data + i + 3; npts = size - i - 3; break;
    }
  vi_error err;
  int st;
  vi_program *p = vi_program_compile((const char *)data, msize, "fuzz.stan", &err, &st);
  if (!p) {
    if (st >= 0 || !err.message[0]) abort();
    return 0;
  }
  if (memmem(data, msize, "while", 5)) { vi_program_free(p); return 0; }
  st = vi_program_load_data(p, data_json, sizeof data_json - 1, "fixed.json", &err);
  vi_model m;
  if (st == VI_SUCCESS && vi_program_model(p, &m) == VI_SUCCESS && m.dim <= MAXD) {
    enum { NP = 3 };
    static double z[NP * MAXD], g[NP * MAXD], lp[NP], out[1 << 12];
    for (size_t j = 0; j < NP * m.dim; j++)
      z[j] = npts ? coord(pts[j % npts]) : 0.25 * (double)(j % 5) - 0.5;
    st = m.log_joint(m.ctx, NP, z, lp, g);
    if (st == VI_SUCCESS) {
      /* one draw at a time must agree with the batch, gradient included */
      double lp1, g1[MAXD];
      for (size_t s = 0; s < NP; s++) {
        if (m.log_joint(m.ctx, 1, z + s * m.dim, &lp1, g1) != VI_SUCCESS) continue;
        if (isfinite(lp1) && isfinite(lp[s]) &&
            fabs(lp1 - lp[s]) > 1e-9 * (1 + fabs(lp1)))
          abort();
      }
    }
    if (m.log_lik) m.log_lik(m.ctx, NP, z, lp);
    if (m.constrain && m.n_out <= sizeof out / sizeof *out) {
      gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
      if (r) { m.constrain(m.ctx, z, r, out); gsl_rng_free(r); }
    }
  }
  vi_program_free(p);
  return 0;
}
