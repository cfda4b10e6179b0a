/* shard_testutil.h: the two models and their data that the sharding and minibatch tests
 * share (check_shard.c, check_minibatch.c): a hierarchical logistic regression with group
 * intercepts (HIER), and a model written per observation with a term on data not sized by
 * N (LOOP).  Static: each test program includes it once. */
#ifndef VI_TESTS_SHARD_TESTUTIL_H
#define VI_TESTS_SHARD_TESTUTIL_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static const char *HIER =
  "data { int<lower=1> N; int<lower=1> J; int<lower=1> K;\n"
  "  array[N] int<lower=1, upper=J> g; matrix[N, K] X; array[N] int<lower=0, upper=1> y; }\n"
  "parameters { real mu; real<lower=0> tau; vector[J] a_raw; vector[K] beta; }\n"
  "transformed parameters { vector[J] a = mu + tau * a_raw; }\n"
  "model { mu ~ normal(0, 2); tau ~ normal(0, 1); a_raw ~ std_normal();\n"
  "  beta ~ normal(0, 2); y ~ bernoulli_logit(a[g] + X * beta); }\n";

static const char *LOOP =
  "data { int<lower=1> N; vector[N] x; vector[N] y; real m0; }\n"
  "parameters { real a; real b; real<lower=0> s; }\n"
  "model { vector[N] mu = a + b * exp(x / 4);\n"
  "  m0 ~ normal(a, 3);\n"   /* on data not sized by N: counted once, never scaled */
  "  s ~ normal(0, 1);\n"
  "  for (n in 1:N) target += normal_lpdf(y[n] | mu[n], s); }\n";

/* Stan JSON data for HIER (n rows) or LOOP. */
static char *hier_json(int n, int bad_len)
{
  size_t cap = 256 + (size_t)n * 64, k = 0;
  char *j = malloc(cap);
  k += (size_t)snprintf(j + k, cap - k, "{\"N\": %d, \"J\": 3, \"K\": 2, \"g\": [", n);
  for (int i = 0; i < n; i++) k += (size_t)snprintf(j + k, cap - k, "%s%d", i ? "," : "", 1 + i % 3);
  k += (size_t)snprintf(j + k, cap - k, "], \"X\": [");
  for (int i = 0; i < n; i++)
    k += (size_t)snprintf(j + k, cap - k, "%s[%.3f, %.3f]", i ? "," : "", sin(i + 1.0), cos(3.0 * i));
  k += (size_t)snprintf(j + k, cap - k, "], \"y\": [");
  for (int i = 0; i < n - bad_len; i++) k += (size_t)snprintf(j + k, cap - k, "%s%d", i ? "," : "", (i * 7) % 3 == 0);
  snprintf(j + k, cap - k, "]}");
  return j;
}

static char *loop_json(int n)
{
  size_t cap = 256 + (size_t)n * 48, k = 0;
  char *j = malloc(cap);
  k += (size_t)snprintf(j + k, cap - k, "{\"N\": %d, \"m0\": 0.7, \"x\": [", n);
  for (int i = 0; i < n; i++) k += (size_t)snprintf(j + k, cap - k, "%s%.4f", i ? "," : "", sin(2.0 * i));
  k += (size_t)snprintf(j + k, cap - k, "], \"y\": [");
  for (int i = 0; i < n; i++) k += (size_t)snprintf(j + k, cap - k, "%s%.4f", i ? "," : "", cos(i + 0.5));
  snprintf(j + k, cap - k, "]}");
  return j;
}


#endif
