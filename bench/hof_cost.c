/* bench/hof_cost.c: the cost of the higher-order builtins of src/lang/back/hof.c.  Times
 * one batched log-joint + gradient over 32 draws of a model written with solve_newton,
 * solve_powell, integrate_1d and map_rect against the same model in closed form
 * (sqrt, A \ b, normal_lccdf) or as a loop, and reports the median over repetitions
 * and the ratio.  Not a test: no assertions on time. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <vi/lang.h>
#include <vi/model.h>
#include <vi/status.h>

#define NDRAWS 32

static double now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* Median seconds of one log_joint(NDRAWS draws, with gradient); lp of draw 0. */
static double time_src(const char *src, const char *json, int reps, double *lp0)
{
  vi_error err;
  int st;
  vi_program *p = vi_program_compile(src, strlen(src), "bench.stan", &err, &st);
  if (!p || vi_program_load_data(p, json, strlen(json), "bench.json", &err)) {
    fprintf(stderr, "hof_cost: %s\n", err.message);
    exit(1);
  }
  vi_model m;
  vi_program_model(p, &m);
  size_t D = m.dim;
  double *z = malloc(NDRAWS * D * sizeof *z), *g = malloc(NDRAWS * D * sizeof *g);
  double lp[NDRAWS], t[101];
  for (size_t i = 0; i < NDRAWS * D; i++) z[i] = 0.3 * sin((double)i);
  m.log_joint(m.ctx, NDRAWS, z, lp, g);   /* warm-up */
  if (reps > 101) reps = 101;
  for (int r = 0; r < reps; r++) {
    double t0 = now();
    m.log_joint(m.ctx, NDRAWS, z, lp, g);
    t[r] = now() - t0;
  }
  qsort(t, (size_t)reps, sizeof t[0], cmp);
  *lp0 = lp[0];
  free(z);
  free(g);
  vi_program_free(p);
  return t[reps / 2];
}

static void pair(const char *name, const char *a, const char *b, const char *json, int reps)
{
  double la, lb;
  double ta = time_src(a, json, reps, &la), tb = time_src(b, json, reps, &lb);
  printf("%-34s %10.1f us %10.1f us %8.1fx   (lp %.10g vs %.10g)\n", name, 1e6 * ta, 1e6 * tb,
         ta / tb, la, lb);
}

static const char *JSON = "{\"N\": 5, \"y\": [1.1, 1.6, 0.9, 1.4, 1.2], \"a\": 0.5, \"J\": 20}";

int main(void)
{
  printf("log-joint + gradient over %d draws, median       builtin   closed form   ratio\n",
         NDRAWS);
  pair("solve_newton, x^2 = theta",
       "functions { vector sq(vector x, real theta) { return [x[1]^2 - theta]'; } }\n"
       "data { int N; vector[N] y; }\nparameters { real<lower=0> th; }\n"
       "model { vector[1] r = solve_newton(sq, [1.0]', th); y ~ normal(r[1], 0.5); }\n",
       "data { int N; vector[N] y; }\nparameters { real<lower=0> th; }\n"
       "model { y ~ normal(sqrt(th), 0.5); }\n", JSON, 31);
  pair("solve_powell, 3x3 linear system",
       "functions { vector lin(vector x, matrix A, vector b) { return A * x - b; } }\n"
       "data { int N; vector[N] y; }\nparameters { vector[3] b; }\n"
       "model { vector[3] x = solve_powell(lin, rep_vector(0, 3), [[3, 1, 0], [1, 4, 1], [0, 1, 5]], b);\n"
       "  y[1:3] ~ normal(x, 0.5); }\n",
       "data { int N; vector[N] y; }\nparameters { vector[3] b; }\n"
       "model { vector[3] x = [[3, 1, 0], [1, 4, 1], [0, 1, 5]] \\ b; y[1:3] ~ normal(x, 0.5); }\n",
       JSON, 31);
  pair("integrate_1d, normal over [a, inf)",
       "functions { real dens(real x, real xc, array[] real th, array[] real xr, array[] int xi) {\n"
       "  return exp(normal_lpdf(x | th[1], th[2])); } }\n"
       "data { int N; vector[N] y; real a; }\nparameters { real mu; real<lower=0> s; }\n"
       "model { y ~ normal(mu, s);\n"
       "  target += -N * log(integrate_1d(dens, a, positive_infinity(), {mu, s}, {0.0}, {0})); }\n",
       "data { int N; vector[N] y; real a; }\nparameters { real mu; real<lower=0> s; }\n"
       "model { y ~ normal(mu, s); target += -N * normal_lccdf(a | mu, s); }\n", JSON, 11);
  pair("map_rect, 20 jobs",
       "functions { vector job(vector phi, vector th, array[] real xr, array[] int xi) {\n"
       "  return [normal_lpdf(xr[1] | phi[1] + th[1], 1)]'; } }\n"
       "data { int J; }\ntransformed data { array[J, 1] real xs; array[J, 0] int ks;\n"
       "  for (j in 1:J) xs[j, 1] = j * 0.1; }\n"
       "parameters { vector[1] phi; array[J] vector[1] th; }\n"
       "model { target += sum(map_rect(job, phi, th, xs, ks)); }\n",
       "data { int J; }\ntransformed data { array[J, 1] real xs;\n"
       "  for (j in 1:J) xs[j, 1] = j * 0.1; }\n"
       "parameters { vector[1] phi; array[J] vector[1] th; }\n"
       "model { for (j in 1:J) target += normal_lpdf(xs[j, 1] | phi[1] + th[j][1], 1); }\n",
       JSON, 31);
  return 0;
}
