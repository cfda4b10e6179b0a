/* check_tuples.c: tuples in the language (Stan 2.33+) and the functions that return
 * them.  A model that goes through tuples (construction, x.k, unpacking, arrays of
 * tuples, user functions taking and returning them) must give the log density and
 * gradient of the same model written without them, to the last bit; the tuple
 * functions (eigendecompose_sym, svd, qr_thin, qr, eigendecompose,
 * complex_schur_decompose, csr_extract) are checked by the identities their factors
 * satisfy (A V = V diag(lambda), U diag(s) V' = A, Q R = A, Q'Q = I), against the
 * separate builtins of their elements, and their gradients against central finite
 * differences; tuple JSON data with its located errors; CmdStan's CSV names x:1,
 * x.2:3.1 and the values under them. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <gsl/gsl_rng.h>
#include <vi/fit.h>
#include <vi/lang.h>
#include <vi/status.h>
#include "program_testutil.h"

/* ---- the language --------------------------------------------------------------------- */

START_TEST(test_tuples_are_transparent)
{
  /* the same density through tuples and without them */
  const char *with =
      "functions {\n"
      "  tuple(real, vector) split(vector v) { return (v[1], v[2:3]); }\n"
      "  real use(tuple(real, vector) t, real k) { return t.1 * k + sum(t.2); }\n"
      "}\n"
      "data { int N; }\n"
      "parameters { real mu; vector[3] v; }\n"
      "transformed parameters {\n"
      "  tuple(real, vector[2]) tp = split(v);\n"
      "}\n"
      "model {\n"
      "  array[2] tuple(real, int) arr = {(mu, 1), (2 * mu, 2)};\n"
      "  real a; vector[2] b;\n"
      "  (a, b) = tp;\n"
      "  (a, b[1]) = (b[1], a);       // swap: the right side first\n"
      "  arr[2].1 += a;\n"
      "  tuple(real, tuple(real, vector[2])) nest = (mu, tp);\n"
      "  nest.2.2[2] = nest.2.2[2] * 3;\n"
      "  target += -0.5 * square(arr[1].1) - 0.5 * square(arr[2].1) * arr[2].2;\n"
      "  target += -0.5 * dot_self(b) - 0.5 * dot_self(nest.2.2) + use(tp, mu);\n"
      "  for (t in arr) target += -0.1 * square(t.1);\n"
      "}\n";
  const char *without =
      "data { int N; }\n"
      "parameters { real mu; vector[3] v; }\n"
      "model {\n"
      "  real a = v[1];\n"
      "  vector[2] b = v[2:3];\n"
      "  real a0 = a;\n"
      "  a = b[1]; b[1] = a0;\n"
      "  real x1 = mu, x2 = 2 * mu + a;\n"
      "  vector[2] n2 = v[2:3];\n"
      "  n2[2] = n2[2] * 3;\n"
      "  target += -0.5 * square(x1) - 0.5 * square(x2) * 2;\n"
      "  target += -0.5 * dot_self(b) - 0.5 * dot_self(n2) + (v[1] * mu + sum(v[2:3]));\n"
      "  target += -0.1 * square(x1) - 0.1 * square(x2);\n"
      "}\n";
  same_model(with, without, "{\"N\": 1}", 4, 0);
  fd_check(with, "{\"N\": 1}");
}
END_TEST

/* Writes into a tuple element in a loop (x.1[i] = f(x.1[i - 1]), in place like a vector
 * variable's) keep tuples values: a copy taken before, or after, still holds what it
 * held; the same density and gradient as with vectors. */
START_TEST(test_tuple_element_writes)
{
  const char *with =
      "data { int N; }\n"
      "parameters { real x; vector[3] v; }\n"
      "model {\n"
      "  tuple(vector[N], real) t = (rep_vector(0, N), x);\n"
      "  tuple(vector[N], real) before = t;\n"
      "  t.1[1] = x;\n"
      "  for (i in 2:N) t.1[i] = t.1[i - 1] * 0.9 + x * v[1 + i % 3];\n"
      "  tuple(vector[N], real) after = t;\n"
      "  for (i in 1:N) { t.1[i] *= 2; before.1[i] += i; }\n"
      "  t.2 = t.1[N];\n"
      "  target += -0.5 * dot_self(t.1) / N - 0.5 * dot_self(after.1) / N\n"
      "            - 0.01 * sum(before.1) - 0.5 * square(t.2 - after.2);\n"
      "  target += -0.5 * dot_self(v);\n"
      "}\n";
  const char *without =
      "data { int N; }\n"
      "parameters { real x; vector[3] v; }\n"
      "model {\n"
      "  vector[N] t1 = rep_vector(0, N);\n"
      "  real t2 = x;\n"
      "  vector[N] b1 = t1;\n"
      "  t1[1] = x;\n"
      "  for (i in 2:N) t1[i] = t1[i - 1] * 0.9 + x * v[1 + i % 3];\n"
      "  vector[N] a1 = t1;\n"
      "  real a2 = t2;\n"
      "  for (i in 1:N) { t1[i] *= 2; b1[i] += i; }\n"
      "  t2 = t1[N];\n"
      "  target += -0.5 * dot_self(t1) / N - 0.5 * dot_self(a1) / N\n"
      "            - 0.01 * sum(b1) - 0.5 * square(t2 - a2);\n"
      "  target += -0.5 * dot_self(v);\n"
      "}\n";
  same_model(with, without, "{\"N\": 7}", 4, 0);
  fd_check(with, "{\"N\": 7}");
}
END_TEST

/* ---- the functions that return tuples -------------------------------------------------- */

/* A symmetric (and a general) matrix from the parameters, and data weights. */
#define DECOMP_HEAD                                                                    \
  "data { matrix[3, 3] W; vector[3] w; }\n"                                            \
  "parameters { vector[6] a; }\n"                                                      \
  "model {\n"                                                                          \
  "  matrix[3, 3] S = [[2 + a[1], a[2], a[3]], [a[2], 3 + a[4], a[5]],\n"              \
  "                    [a[3], a[5], 5 + a[6]]];\n"                                     \
  "  matrix[3, 2] B = [[1 + a[1], a[2]], [a[3], 2 + a[4]], [a[5], a[6] - 1]];\n"
static const char *DECOMP_DATA =
    "{\"W\": [[0.3, -0.2, 0.1], [0.5, 0.4, -0.6], [0.2, 0.7, 0.25]], \"w\": [0.5, -1, 2]}";

START_TEST(test_decompositions_match_their_elements)
{
  /* sign conventions agree because the same builtins compute them */
  const char *with = DECOMP_HEAD
      "  tuple(vector[3], matrix[3, 3]) e = eigendecompose_sym(S);\n"
      "  tuple(matrix[3, 2], vector[2], matrix[2, 2]) s = svd(B);\n"
      "  matrix[3, 2] Q; matrix[2, 2] R;\n"
      "  (Q, R) = qr_thin(B);\n"
      "  tuple(matrix[3, 3], matrix[3, 3]) qf = qr(S);\n"
      "  target += dot_product(w, e.1) + sum(W .* square(e.2));\n"
      "  target += sum(s.1[:, 1] .* w) + s.2[1] - s.2[2] + sum(s.3 .* W[1:2, 1:2]);\n"
      "  target += sum(Q[:, 2] .* w) + R[1, 2] + sum(qf.1 .* W) - qf.2[2, 2];\n"
      "}\n";
  const char *without = DECOMP_HEAD
      "  target += dot_product(w, eigenvalues_sym(S)) + sum(W .* square(eigenvectors_sym(S)));\n"
      "  target += sum(svd_U(B)[:, 1] .* w) + singular_values(B)[1] - singular_values(B)[2]\n"
      "            + sum(svd_V(B) .* W[1:2, 1:2]);\n"
      "  target += sum(qr_thin_Q(B)[:, 2] .* w) + qr_thin_R(B)[1, 2] + sum(qr_Q(S) .* W)\n"
      "            - qr_R(S)[2, 2];\n"
      "}\n";
  same_model(with, without, DECOMP_DATA, 3, 1e-13);   /* the adjoints add in another order */
  fd_check(with, DECOMP_DATA);
}
END_TEST

START_TEST(test_decompositions_identities)
{
  /* each factorisation reconstructs its matrix: the residuals enter target with a
   * huge weight, so anything but rounding shows in lp */
  const char *src = DECOMP_HEAD
      "  tuple(vector[3], matrix[3, 3]) e = eigendecompose_sym(S);\n"
      "  tuple(matrix[3, 2], vector[2], matrix[2, 2]) s = svd(B);\n"
      "  tuple(matrix[3, 2], matrix[2, 2]) q = qr_thin(B);\n"
      "  tuple(matrix[3, 3], matrix[3, 3]) qf = qr(S);\n"
      "  real r = max(abs(S * e.2 - e.2 * diag_matrix(e.1)))\n"
      "         + max(abs(s.1 * diag_matrix(s.2) * s.3' - B))\n"
      "         + max(abs(q.1 * q.2 - B)) + max(abs(qf.1 * qf.2 - S))\n"
      "         + max(abs(qf.1' * qf.1 - identity_matrix(3)))\n"
      "         + max(abs(e.2' * e.2 - identity_matrix(3)));\n"
      "  target += -1e12 * r;\n"
      "  target += s.2[1] >= s.2[2] ? 0 : -1e300;      // singular values descend\n"
      "  target += e.1[1] <= e.1[2] && e.1[2] <= e.1[3] ? 0 : -1e300;   // ascend\n"
      "}\n";
  vi_model m;
  vi_program *p = make(src, DECOMP_DATA, &m);
  double z[6], lp;
  for (size_t i = 0; i < 6; i++) z[i] = point(i);
  ck_assert_int_eq(m.log_joint(m.ctx, 1, z, &lp, NULL), VI_SUCCESS);
  ck_assert_msg(lp > -1e12 * 1e-13 && lp <= 0, "residual term %g", lp);
  vi_program_free(p);
}
END_TEST

START_TEST(test_complex_and_sparse_tuples)
{
  /* eigendecompose / complex_schur_decompose: A v = lambda v per column, T upper
   * triangular with A's trace; csr_extract's three arrays rebuild the matrix */
  const char *src =
      "transformed data {\n"
      "  matrix[3, 3] A = [[1, 2, 0], [-2, 1, 0.5], [0.3, 0, 4]];\n"
      "  tuple(complex_vector[3], complex_matrix[3, 3]) e = eigendecompose(A);\n"
      "  real r = 0;\n"
      "  for (k in 1:3) r = fmax(r, max(abs(A * e.2[:, k] - e.1[k] * e.2[:, k])));\n"
      "  tuple(complex_matrix[3, 3], complex_matrix[3, 3]) sc = complex_schur_decompose(A);\n"
      "  complex tr = sc.2[1, 1] + sc.2[2, 2] + sc.2[3, 3];\n"
      "  r = fmax(r, abs(tr - trace(A)));\n"
      "  r = fmax(r, abs(sc.2[2, 1]) + abs(sc.2[3, 1]) + abs(sc.2[3, 2]));\n"
      "  matrix[3, 2] M = [[1, 0], [2, 3], [0, 4.5]];\n"
      "  tuple(vector[4], array[4] int, array[4] int) c = csr_extract(M);\n"
      "  r = fmax(r, max(abs(csr_to_dense_matrix(3, 2, c.1, c.2, c.3) - M)));\n"
      "  if (r > 1e-12) reject(\"residual \", r);\n"
      "  if (c.2[3] != 2 || c.3[4] != 5) reject(\"csr \", c);\n"
      "}\n"
      "parameters { real x; }\n"
      "model { x ~ normal(0, 1); }\n";
  vi_model m;
  vi_program *p = make(src, NULL, &m);
  vi_program_free(p);
}
END_TEST

/* ---- tuple parameters ------------------------------------------------------------------ */

/* Parameters of tuple type: each element keeps its own constraint and transform, laid
 * out in declaration order, array positions row-major, then element order (as Stan
 * reads them), so the model is the one with the elements declared one by one: the same
 * log density and gradient to the last bit, and the same fit. */
static const char *TUPLE_PARAMS =
    "data { int N; vector[N] y; }\n"
    "parameters {\n"
    "  real a;\n"
    "  tuple(real, real<lower=0>) p;\n"
    "  array[2] tuple(vector<lower=-1, upper=1>[2], simplex[3]) q;\n"
    "  tuple(cholesky_factor_corr[3], tuple(real<lower=a>, ordered[2])) r;\n"
    "}\n"
    "model {\n"
    "  a ~ normal(0, 1);\n"
    "  y ~ normal(p.1 + a, p.2);\n"
    "  p.1 ~ normal(0, 3);\n"
    "  p.2 ~ lognormal(0, 1);\n"
    "  for (i in 1:2) { q[i].1 ~ normal(0.3 * i, 0.5); q[i].2 ~ dirichlet([1, 2, 3]'); }\n"
    "  r.1 ~ lkj_corr_cholesky(2);\n"
    "  r.2.1 ~ normal(a + 1, 1);\n"
    "  r.2.2 ~ normal(0, 2);\n"
    "  target += 0.1 * (r.1[3, 2] + r.2.2[2]);\n"
    "}\n";
static const char *TUPLE_PARAMS_SEPARATE =
    "data { int N; vector[N] y; }\n"
    "parameters {\n"
    "  real a;\n"
    "  real p1; real<lower=0> p2;\n"
    "  vector<lower=-1, upper=1>[2] q11; simplex[3] q12;\n"
    "  vector<lower=-1, upper=1>[2] q21; simplex[3] q22;\n"
    "  cholesky_factor_corr[3] r1; real<lower=a> r21; ordered[2] r22;\n"
    "}\n"
    "model {\n"
    "  a ~ normal(0, 1);\n"
    "  y ~ normal(p1 + a, p2);\n"
    "  p1 ~ normal(0, 3);\n"
    "  p2 ~ lognormal(0, 1);\n"
    "  q11 ~ normal(0.3 * 1, 0.5); q12 ~ dirichlet([1, 2, 3]');\n"
    "  q21 ~ normal(0.3 * 2, 0.5); q22 ~ dirichlet([1, 2, 3]');\n"
    "  r1 ~ lkj_corr_cholesky(2);\n"
    "  r21 ~ normal(a + 1, 1);\n"
    "  r22 ~ normal(0, 2);\n"
    "  target += 0.1 * (r1[3, 2] + r22[2]);\n"
    "}\n";
static const char *TUPLE_PARAMS_DATA = "{\"N\": 5, \"y\": [0.3, 1.2, -0.4, 2.1, 0.8]}";

START_TEST(test_tuple_parameters)
{
  same_model(TUPLE_PARAMS, TUPLE_PARAMS_SEPARATE, TUPLE_PARAMS_DATA, 4, 0.0);
  fd_check(TUPLE_PARAMS, TUPLE_PARAMS_DATA);
  vi_model m;
  vi_program *p = make(TUPLE_PARAMS, TUPLE_PARAMS_DATA, &m);
  ck_assert_uint_eq(m.dim, 1 + 2 + 2 * (2 + 2) + 3 + 1 + 2);
  /* CmdStan's columns; the coordinates named after them */
  const char *want[] = {"a", "p:1", "p:2", "q.1:1.1", "q.1:1.2", "q.1:2.1", "q.1:2.2",
                        "q.1:2.3", "q.2:1.1"};
  for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
    ck_assert_str_eq(m.out_names[i], want[i]);
  ck_assert_str_eq(m.out_names[1 + 2 + 10], "r:1.1.1");
  ck_assert_str_eq(m.out_names[1 + 2 + 10 + 9], "r:2:1");
  ck_assert_str_eq(m.out_names[1 + 2 + 10 + 11], "r:2:2.2");
  ck_assert_uint_eq(m.n_out, 1 + 2 + 10 + 9 + 3);
  ck_assert_str_eq(m.names[2], "log(p:2)");
  ck_assert_str_eq(m.names[3], "logit((q.1:1.1 - -1) / (1 - -1))");
  ck_assert_str_eq(m.names[14], "log(r:2:1 - a)");
  vi_param_info info;
  ck_assert_uint_eq(vi_program_n_params(p), 4);
  ck_assert_int_eq(vi_program_param_info(p, 2, &info), VI_SUCCESS);
  ck_assert_str_eq(info.name, "q");
  ck_assert_uint_eq(info.constrained_size, 10);
  ck_assert_uint_eq(info.unconstrained_size, 8);
  /* the constrained values in the output, each from its own transform */
  double z[32], out[32];
  for (size_t i = 0; i < m.dim; i++) z[i] = 0.3 * sin((double)i + 1);
  gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
  ck_assert_int_eq(m.constrain(m.ctx, z, rng, out), VI_SUCCESS);
  gsl_rng_free(rng);
  ck_assert(fabs(out[2] - exp(z[2])) < 1e-15);
  ck_assert(fabs(out[3] - (-1 + 2 / (1 + exp(-z[3])))) < 1e-15);
  ck_assert(fabs(out[5] + out[6] + out[7] - 1) < 1e-15);
  ck_assert(fabs(out[13 + 9] - (out[0] + exp(z[14]))) < 1e-15);   /* r.2.1 > a */
  ck_assert(out[13 + 11] > out[13 + 10]);                          /* ordered */
  /* initial values: a tuple parameter as a JSON object, each element unconstrained */
  const char *init = "{\"a\": 0.5, \"p\": {\"1\": 2, \"2\": 3},"
                     " \"r\": {\"2\": {\"1\": 1.5, \"2\": [-1, 1]},"
                     " \"1\": [[1, 0, 0], [0, 1, 0], [0, 0, 1]]}}";
  vi_error err;
  double zi[32];
  ck_assert_int_eq(vi_program_unconstrain(p, init, strlen(init), "init.json", zi, &err), 0);
  ck_assert(zi[0] == 0.5 && zi[1] == 2 && fabs(zi[2] - log(3.0)) < 1e-15);
  for (size_t i = 3; i < 11; i++) ck_assert(zi[i] == 0);   /* q not given */
  for (size_t i = 11; i < 14; i++) ck_assert(fabs(zi[i]) < 1e-15);   /* the identity */
  ck_assert(fabs(zi[14] - 0) < 1e-15 && zi[15] == -1 && fabs(zi[16] - log(2.0)) < 1e-15);
  /* precise errors: an element outside its constraint, a malformed tuple */
  static const char *const bad[][2] = {
    {"{\"p\": {\"1\": 2, \"2\": -3}}", "'p.2': p.2 is -3, must be >= 0"},
    {"{\"p\": [2, 3]}", "variable 'p': a tuple of 2 elements is an object"},
    {"{\"a\": 2, \"r\": {\"1\": [[1, 0, 0], [0, 1, 0], [0, 0, 1]], \"2\": {\"1\": 1.5,"
     " \"2\": [-1, 1]}}}", "'r.2.1': r.2.1 is 1.5, must be >= 2"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    int st = vi_program_unconstrain(p, bad[i][0], strlen(bad[i][0]), "init.json", zi, &err);
    ck_assert_int_eq(st, VI_EDATA);
    ck_assert_msg(strstr(err.message, bad[i][1]) != NULL, "message: %s\nwanted: %s",
                  err.message, bad[i][1]);
  }
  vi_program_free(p);
  /* the same fit (a whole fit: slow under valgrind, where the checks above suffice) */
  if (getenv("VALGRIND")) return;
  vi_model ma, mb;
  vi_program *pa = make(TUPLE_PARAMS, TUPLE_PARAMS_DATA, &ma);
  vi_program *pb = make(TUPLE_PARAMS_SEPARATE, TUPLE_PARAMS_DATA, &mb);
  vi_options opt;
  vi_options_default(&opt);
  int st;
  vi_fit *fa = vi_fit_alloc(&ma, &opt, &st), *fb = vi_fit_alloc(&mb, &opt, &st);
  ck_assert(fa && fb);
  ck_assert_int_eq(vi_fit_run(fa, NULL, NULL), VI_SUCCESS);
  ck_assert_int_eq(vi_fit_run(fb, NULL, NULL), VI_SUCCESS);
  for (size_t j = 0; j < ma.dim; j++) {
    ck_assert_msg(vi_fit_mean(fa)[j] == vi_fit_mean(fb)[j], "mean %zu: %.17g vs %.17g", j,
                  vi_fit_mean(fa)[j], vi_fit_mean(fb)[j]);
    ck_assert(vi_fit_sd(fa)[j] == vi_fit_sd(fb)[j]);
  }
  vi_fit_free(fa);
  vi_fit_free(fb);
  vi_program_free(pa);
  vi_program_free(pb);
}
END_TEST

/* ---- data and output ------------------------------------------------------------------ */

START_TEST(test_json_data_and_csv_names)
{
  const char *src =
      "data { int N; tuple(real, array[N] int) d; array[2] tuple(vector[N], real<lower=0>) a; }\n"
      "parameters { real x; }\n"
      "model { x ~ normal(d.1 + d.2[2] + a[2].1[1] + a[1].2, 1); }\n"
      "generated quantities {\n"
      "  tuple(real, vector[2]) g = (x, [x + 1, x + 2]');\n"
      "  array[2] tuple(int, tuple(real, real)) h = {(1, (x, 2.5)), (2, (3.5, -x))};\n"
      "}\n";
  const char *good = "{\"N\": 2, \"d\": {\"1\": 1, \"2\": [0, 3]},"
                     " \"a\": [{\"1\": [0, 0], \"2\": 5}, {\"2\": 0.5, \"1\": [7, 0]}]}";
  vi_error err;
  int st;
  vi_program *p = vi_program_compile(src, strlen(src), "t.stan", &err, &st);
  ck_assert_msg(p != NULL, "compile: %s", err.message);
  st = vi_program_load_data(p, good, strlen(good), "t.json", &err);
  ck_assert_msg(st == 0, "data: %s", err.message);
  vi_model m;
  ck_assert_int_eq(vi_program_model(p, &m), VI_SUCCESS);
  double z = 16, lp, g;   /* the mean is 1 + 3 + 7 + 5 = 16: the gradient is 0 there */
  ck_assert_int_eq(m.log_joint(m.ctx, 1, &z, &lp, &g), VI_SUCCESS);
  ck_assert_msg(fabs(g) < 1e-12, "gradient %g at the mean", g);
  ck_assert_msg(fabs(lp + 0.91893853320467274) < 1e-12, "lp %g", lp);
  const char *want[] = {"x", "g:1", "g:2.1", "g:2.2", "h.1:1", "h.1:2:1", "h.1:2:2",
                        "h.2:1", "h.2:2:1", "h.2:2:2"};
  const double val[] = {16, 16, 17, 18, 1, 16, 2.5, 2, 3.5, -16};
  ck_assert_uint_eq(m.n_out, 10);
  for (size_t i = 0; i < m.n_out; i++) ck_assert_str_eq(m.out_names[i], want[i]);
  double out[10];
  gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
  ck_assert_int_eq(m.constrain(m.ctx, &z, rng, out), VI_SUCCESS);
  gsl_rng_free(rng);
  for (size_t i = 0; i < 10; i++)
    ck_assert_msg(out[i] == val[i], "%s = %g, want %g", want[i], out[i], val[i]);
  static const char *const bad[][2] = {
    {"{\"N\": 2, \"d\": [1, [0, 3]], \"a\": []}",
     "variable 'd': a tuple of 2 elements is an object {\"1\": ..., \"2\": ...}, found a list"},
    {"{\"N\": 2, \"d\": {\"1\": 1, \"3\": [0, 3]}, \"a\": []}",
     "variable 'd': a tuple's members must be \"1\" to \"2\", each once"},
    {"{\"N\": 2, \"d\": {\"1\": 1, \"2\": [0, 3.5]}, \"a\": []}",
     "variable 'd.2': d.2[2] is the real number 3.5, but 'd.2' is declared int"},
    {"{\"N\": 2, \"d\": {\"1\": 1, \"2\": [0, 3]},"
     " \"a\": [{\"1\": [0, 0], \"2\": 5}, {\"2\": -0.5, \"1\": [7, 0]}]}",
     "variable 'a.2': a.2 is -0.5, must be >= 0"},
    {"{\"N\": 2, \"d\": {\"1\": 1, \"2\": [0, 3]}, \"a\": [{\"1\": [0, 0], \"2\": 5}]}",
     "variable 'a': dimension 1: declared size 2, found 1"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    st = vi_program_load_data(p, bad[i][0], strlen(bad[i][0]), "t.json", &err);
    ck_assert_int_eq(st, VI_EDATA);
    ck_assert_msg(strstr(err.message, bad[i][1]) != NULL, "message: %s\nwanted: %s",
                  err.message, bad[i][1]);
  }
  vi_program_free(p);
}
END_TEST

static Suite *suite(void)
{
  Suite *s = suite_create("tuples");
  TCase *tc = tcase_create("core");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, test_tuples_are_transparent);
  tcase_add_test(tc, test_tuple_element_writes);
  tcase_add_test(tc, test_decompositions_match_their_elements);
  tcase_add_test(tc, test_decompositions_identities);
  tcase_add_test(tc, test_complex_and_sparse_tuples);
  tcase_add_test(tc, test_json_data_and_csv_names);
  tcase_add_test(tc, test_tuple_parameters);
  suite_add_tcase(s, tc);
  return s;
}

int main(void)
{
  SRunner *sr = srunner_create(suite());
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
