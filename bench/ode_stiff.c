/* bench/ode_stiff.c: ode_bdf against ode_rk45 on two stiff systems, one draw per
 * evaluation with the gradient: accepted steps per solve (ode_steps_taken) and seconds
 * per evaluation.  The one-compartment model has elimination ke = 1000 ka (outputs to
 * t = 24); Robertson's kinetics run to t = 40.  ode_rk45 proves both stiff in its first
 * steps and hands the draw to the same stiff method (as LSODA switches), so its line
 * shows the switch's cost (its own Dormand-Prince steps alone took tens of thousands
 * per solve).  Run: bench/ode_stiff [reps]. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <vi/lang.h>
#include "lang/back/ode.h"

static const char *PK =
    "functions { vector one_cpt(real t, vector y, real ka, real ke) {\n"
    "  return [-ka * y[1], ka * y[1] - ke * y[2]]'; } }\n"
    "data { array[8] real ts; }\n"
    "parameters { real la; real<lower=0> dose; }\n"
    "model { real ka = exp(la);\n"
    "  array[8] vector[2] y = %s(one_cpt, [dose, 0]', 0, ts, ka, 1000 * ka);\n"
    "  for (t in 1:8) target += -square(y[t][2]); }\n";
static const char *ROBER =
    "functions { vector rober(real t, vector y, vector k) {\n"
    "  return [-k[1] * y[1] + k[3] * y[2] * y[3],\n"
    "          k[1] * y[1] - k[2] * y[2] * y[2] - k[3] * y[2] * y[3], k[2] * y[2] * y[2]]'; } }\n"
    "data { array[2] real ts; }\n"
    "parameters { vector[3] lk; }\n"
    "model { vector[3] k = exp(lk) .* [0.04, 3e7, 1e4]';\n"
    "  array[2] vector[3] y = %s(rober, [1, 0, 0]', 0, ts, k);\n"
    "  target += y[2][1]; }\n";

static double now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void run(const char *name, const char *tmpl, const char *solver, const char *json,
                int reps)
{
  char src[2048];
  snprintf(src, sizeof src, tmpl, solver);
  vi_error err;
  int st;
  vi_program *p = vi_program_compile(src, strlen(src), "b.stan", &err, &st);
  if (!p || vi_program_load_data(p, json, strlen(json), "b.json", &err)) {
    fprintf(stderr, "%s: %s\n", name, err.message);
    exit(1);
  }
  vi_model m;
  vi_program_model(p, &m);
  double z[3] = {0.1, 0.2, -0.1}, lp, g[3];
  long s0 = ode_steps_taken();
  double t0 = now();
  for (int r = 0; r < reps; r++)
    if (m.log_joint(m.ctx, 1, z, &lp, g)) {
      fprintf(stderr, "%s %s: %s\n", name, solver, vi_program_last_error(p));
      exit(1);
    }
  double sec = (now() - t0) / reps;
  printf("%-10s %-9s steps/solve %8.0f  ms/eval %9.3f  lp %.10g\n", name, solver,
         (double)(ode_steps_taken() - s0) / reps, 1e3 * sec, lp);
  vi_program_free(p);
}

int main(int argc, char **argv)
{
  int reps = argc > 1 ? atoi(argv[1]) : 5;
  const char *pkd = "{\"ts\": [0.25, 0.5, 1, 2, 4, 8, 12, 24]}";
  const char *rod = "{\"ts\": [0.4, 40]}";
  run("pk", PK, "ode_bdf", pkd, reps);
  run("pk", PK, "ode_rk45", pkd, reps);
  run("robertson", ROBER, "ode_bdf", rod, reps);
  run("robertson", ROBER, "ode_rk45", rod, reps);
  return 0;
}
