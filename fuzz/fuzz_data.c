/* fuzz_data.c: libFuzzer target for the JSON data loader.  A fixed model declares data
 * of several types, shapes and constraints (sizes from earlier data, bounds from earlier
 * data, int ranges, a simplex, a covariance matrix, nested arrays); the input bytes are
 * the JSON.  vi_program_load_data must accept it or fail cleanly (VI_EDATA and a message),
 * and after a success the model must evaluate.  The same program is reloaded for every
 * input, which also exercises reloading. */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <vi/lang.h>
#include <vi/model.h>
#include <vi/status.h>

static const char model[] =
  "data {\n"
  "  int<lower=0> N;\n"
  "  int<lower=0, upper=N> K;\n"
  "  vector[N] y;\n"
  "  array[N] int<lower=0, upper=1> z;\n"
  "  matrix[N, K] X;\n"
  "  real<lower=0> sigma;\n"
  "  real lo;\n"
  "  real<lower=lo> hi;\n"
  "  simplex[3] s;\n"
  "  cov_matrix[2] S;\n"
  "  array[2, K] real<lower=-1, upper=1> a;\n"
  "  array[K] vector<lower=0>[2] v;\n"
  "  row_vector[K] r;\n"
  "  array[N] int cnt;\n"
  "}\n"
  "transformed data {\n"
  "  real ty = N > 0 ? sum(y) : 0;\n"
  "}\n"
  "parameters {\n"
  "  real mu;\n"
  "  vector[K] beta;\n"
  "  real<lower=lo, upper=hi> w;\n"
  "}\n"
  "model {\n"
  "  mu ~ normal(0, 10);\n"
  "  beta ~ normal(0, 1);\n"
  "  y ~ normal(mu + X * beta, sigma);\n"
  "}\n";

static vi_program *prog;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  vi_error err;
  int st;
  if (!prog) {
    prog = vi_program_compile(model, sizeof model - 1, "fixed.stan", &err, &st);
    if (!prog) abort();   /* the fixed model must compile */
  }
  st = vi_program_load_data(prog, (const char *)data, size, "fuzz.json", &err);
  if (st != VI_SUCCESS) {
    if (st >= 0 || !err.message[0]) abort();
    return 0;
  }
  vi_model m;
  if (vi_program_model(prog, &m) != VI_SUCCESS) abort();
  double z[2 * 64], lp[2], g[2 * 64];
  if (m.dim > 64) return 0;
  for (size_t j = 0; j < 2 * m.dim; j++) z[j] = 0.1 * (double)(j % 7) - 0.3;
  st = m.log_joint(m.ctx, 2, z, lp, g);
  (void)st;
  return 0;
}
