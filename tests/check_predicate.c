/* check_predicate.c: branches and indexes that differ between draws, kept in one batched
 * pass by masks and per-draw gathers (src/lang/back/predicate.c).  The outputs of a
 * batched constrain_n over S draws must equal, exactly, those of S one-draw passes
 * (constrain); two _rng calls tell which path ran (a batched pass draws the first
 * number for every draw before the second, one-draw passes alternate), so the tests
 * also see that the batch stood where it should and fell back where it must (an index
 * out of range in a draw the mask turns off).  A model-block branch: the log joint
 * without gradient (masked) equals the one with gradient (per draw). */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <gsl/gsl_rng.h>
#include <vi/lang.h>
#include <vi/model.h>
#include <vi/status.h>

#define S 9

static vi_program *make(const char *src, const char *json, vi_model *m)
{
  vi_error err; int st;
  vi_program *p = vi_program_compile(src, strlen(src), "t.stan", &err, &st);
  ck_assert_msg(p != NULL, "compile: %s", err.message);
  st = vi_program_load_data(p, json, strlen(json), "t.json", &err);
  ck_assert_msg(st == 0, "data: %s", err.message);
  ck_assert_int_eq(vi_program_model(p, m), VI_SUCCESS);
  return p;
}

static void fill_z(double *z, size_t n)
{
  for (size_t i = 0; i < n; i++) z[i] = 1.3 * sin(1.7 * (double)i + 0.4);
}

static size_t out_index(const vi_model *m, const char *name)
{
  for (size_t k = 0; k < m->n_out; k++)
    if (!strcmp(m->out_names[k], name)) return k;
  ck_abort_msg("no output %s", name);
  return 0;
}

/* The first n normals of the stream that seed 5 gives normal_rng (a batched pass of a
 * program with one draw per point). */
static void stream(double *seq, size_t n)
{
  vi_model m;
  vi_program *p = make("parameters { real x; } generated quantities { real u1 = normal_rng(0, 1); }",
                       "{}", &m);
  double *z = calloc(n, sizeof *z), *o = malloc(n * m.n_out * sizeof *o);
  gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
  gsl_rng_set(r, 5);
  ck_assert_int_eq(m.constrain_n(m.ctx, n, z, r, o), VI_SUCCESS);
  size_t u = out_index(&m, "u1");
  for (size_t s = 0; s < n; s++) seq[s] = o[s * m.n_out + u];
  gsl_rng_free(r);
  free(z); free(o);
  vi_program_free(p);
}

/* Batched and one-draw outputs agree exactly (but for u1, u2 and skip, which read
 * the random stream); returns 1 when the batch stood: u2 of draw 0 is then the
 * (S+1)-th normal of the stream (the one-draw path would have drawn it second). */
static int compare(const char *src, const char *json, const char *skip)
{
  vi_model m;
  vi_program *p = make(src, json, &m);
  size_t D = m.dim, K = m.n_out;
  double *z = malloc(S * D * sizeof *z), *ob = malloc(S * K * sizeof *ob),
         *op = malloc(S * K * sizeof *op), seq[2 * S];
  fill_z(z, S * D);
  gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
  gsl_rng_set(r, 5);
  ck_assert_int_eq(m.constrain_n(m.ctx, S, z, r, ob), VI_SUCCESS);
  gsl_rng_set(r, 5);
  for (size_t s = 0; s < S; s++)
    ck_assert_int_eq(m.constrain(m.ctx, z + s * D, r, op + s * K), VI_SUCCESS);
  size_t u1 = out_index(&m, "u1"), u2 = out_index(&m, "u2");
  size_t sk = skip ? out_index(&m, skip) : K;
  for (size_t s = 0; s < S; s++)
    for (size_t k = 0; k < K; k++) {
      if (k == u1 || k == u2 || k == sk) continue;
      double a = ob[s * K + k], b = op[s * K + k];
      ck_assert_msg(a == b || (isnan(a) && isnan(b)), "%s, draw %zu: batched %.17g, "
                    "per draw %.17g", m.out_names[k], s, a, b);
    }
  stream(seq, 2 * S);
  ck_assert(op[u1] == seq[0] && op[u2] == seq[1]);
  int batched = ob[u2] == seq[S];
  if (batched) ck_assert(ob[K + u1] == seq[1]);
  gsl_rng_free(r);
  free(z); free(ob); free(op);
  vi_program_free(p);
  return batched;
}

/* Viterbi in generated quantities, as bench/time_to_answer/hmm.stan (K = 3, N = 12) */
static const char *VITERBI =
    "data { int<lower=1> K; int<lower=1> N; array[N] real y; }\n"
    "parameters { array[K] simplex[K] theta; positive_ordered[K] mu; }\n"
    "model { mu ~ normal(3, 5); }\n"
    "generated quantities {\n"
    "  real u1 = normal_rng(0, 1); real u2 = normal_rng(0, 1);\n"
    "  array[N] int<lower=1, upper=K> z_star;\n"
    "  real log_p_z_star;\n"
    "  {\n"
    "    array[N, K] int back_ptr;\n"
    "    array[N, K] real best_logp;\n"
    "    for (k in 1:K) best_logp[1, k] = normal_lpdf(y[1] | mu[k], 1);\n"
    "    for (t in 2:N) {\n"
    "      for (k in 1:K) {\n"
    "        best_logp[t, k] = negative_infinity();\n"
    "        for (j in 1:K) {\n"
    "          real logp = best_logp[t - 1, j] + log(theta[j, k]) + normal_lpdf(y[t] | mu[k], 1);\n"
    "          if (logp > best_logp[t, k]) {\n"
    "            back_ptr[t, k] = j;\n"
    "            best_logp[t, k] = logp;\n"
    "          }\n"
    "        }\n"
    "      }\n"
    "    }\n"
    "    log_p_z_star = max(best_logp[N]);\n"
    "    for (k in 1:K)\n"
    "      if (best_logp[N, k] == log_p_z_star) z_star[N] = k;\n"
    "    for (t in 1:(N - 1))\n"
    "      z_star[N - t] = back_ptr[N - t + 1, z_star[N - t + 1]];\n"
    "  }\n"
    "}\n";

static const char *VITERBI_DATA =
    "{\"K\": 3, \"N\": 12, \"y\": [1.2, 0.4, 3.9, 4.4, 8.1, 7.7, 3.6, 1.1, 0.2, 4.8, 8.3, 4.1]}";

START_TEST(viterbi_batched)
{
  ck_assert_int_eq(compare(VITERBI, VITERBI_DATA, NULL), 1);
}
END_TEST

/* if / else, nested, on locals and block variables, a compound assignment, a whole
 * vector, a per-draw index read of a vector and of a matrix, conditional expressions */
static const char *BRANCHES =
    "parameters { vector[3] mu; }\n"
    "generated quantities {\n"
    "  real u1 = normal_rng(0, 1); real u2 = normal_rng(0, 1);\n"
    "  int k = 1; real best = negative_infinity(); vector[3] v = mu; real g; real h;\n"
    "  matrix[2, 3] M = [[1, 2, 3], [4, 5, 6]];\n"
    "  for (j in 1:3) if (mu[j] > best) { best = mu[j]; k = j; }\n"
    "  if (mu[1] > 0) {\n"
    "    real w = mu[2] * 2;\n"
    "    if (mu[2] > 0) v[1] = 1; else { v[2] = w; v[3] += w; }\n"
    "  } else {\n"
    "    v = -v;\n"
    "    M[2, 1] = best;\n"
    "  }\n"
    "  g = v[k];\n"
    "  h = M[2, k] + M[1, k];\n"
    "  real tq = mu[1] > 0 ? mu[2] : -1;\n"
    "  int ti = mu[3] > mu[2] ? 1 : 2;\n"
    "}\n";

START_TEST(branches_batched)
{
  ck_assert_int_eq(compare(BRANCHES, "{}", NULL), 1);
}
END_TEST

/* a branch that would index out of range in the draws that do not take it: the batch
 * falls back to one-draw passes, which give the right values and no error */
static const char *GUARDED =
    "parameters { vector[2] mu; }\n"
    "generated quantities {\n"
    "  real u1 = normal_rng(0, 1); real u2 = normal_rng(0, 1);\n"
    "  array[3] real a = {1.5, 2.5, 3.5};\n"
    "  int j = 1; real w = 0;\n"
    "  if (mu[1] > 0) j = 4;\n"
    "  if (mu[1] <= 0) w = a[j];\n"
    "}\n";

START_TEST(guarded_falls_back)
{
  ck_assert_int_eq(compare(GUARDED, "{}", NULL), 0);
}
END_TEST

/* an _rng call inside the branch: per draw (the stream's order is per draw) */
static const char *RNG_IN_BRANCH =
    "parameters { vector[2] mu; }\n"
    "generated quantities {\n"
    "  real u1 = normal_rng(0, 1); real u2 = normal_rng(0, 1);\n"
    "  real w = 0;\n"
    "  if (mu[1] > 0) w = uniform_rng(0, 1);\n"
    "}\n";

START_TEST(rng_in_branch_per_draw)
{
  ck_assert_int_eq(compare(RNG_IN_BRANCH, "{}", "w"), 0);
}
END_TEST

/* the model block: without gradient (masked) and with (per draw) the same log joint */
START_TEST(model_branch)
{
  const char *src =
      "parameters { vector[3] mu; }\n"
      "model { real m = 0; vector[3] v = mu;\n"
      "  if (mu[1] > 0) { m = mu[2]; v[3] = 2 * mu[1]; } else m = -mu[3];\n"
      "  mu ~ normal(0, 1); target += normal_lpdf(m | 1, 2) + normal_lpdf(v | 0, 3); }\n";
  vi_model m;
  vi_program *p = make(src, "{}", &m);
  size_t D = m.dim;
  double z[S * 3], g[S * 3], la[S], lb[S];
  fill_z(z, S * D);
  ck_assert_int_eq(m.log_joint(m.ctx, S, z, la, NULL), VI_SUCCESS);
  ck_assert_int_eq(m.log_joint(m.ctx, S, z, lb, g), VI_SUCCESS);
  for (size_t s = 0; s < S; s++)
    ck_assert_msg(la[s] == lb[s], "draw %zu: %.17g vs %.17g", s, la[s], lb[s]);
  /* and against the closed form */
  for (size_t s = 0; s < S; s++) {
    const double *u = z + s * D;
    double mm = u[0] > 0 ? u[1] : -u[2], v3 = u[0] > 0 ? 2 * u[0] : u[2], lp = 0;
    double l2pi = log(2 * 3.14159265358979323846);
    for (int i = 0; i < 3; i++) lp += -0.5 * u[i] * u[i] - 0.5 * l2pi;
    lp += -0.5 * (mm - 1) * (mm - 1) / 4 - log(2.0) - 0.5 * l2pi;
    double vv[3] = {u[0], u[1], v3};
    for (int i = 0; i < 3; i++) lp += -0.5 * vv[i] * vv[i] / 9 - log(3.0) - 0.5 * l2pi;
    ck_assert_msg(fabs(la[s] - lp) < 1e-12 * fmax(1, fabs(lp)), "draw %zu: %.17g vs %.17g",
                  s, la[s], lp);
  }
  vi_program_free(p);
}
END_TEST

int main(void)
{
  Suite *s = suite_create("predicate");
  TCase *tc = tcase_create("core");
  tcase_add_test(tc, viterbi_batched);
  tcase_add_test(tc, branches_batched);
  tcase_add_test(tc, guarded_falls_back);
  tcase_add_test(tc, rng_in_branch_per_draw);
  tcase_add_test(tc, model_branch);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int nf = srunner_ntests_failed(sr);
  srunner_free(sr);
  return nf ? EXIT_FAILURE : EXIT_SUCCESS;
}
