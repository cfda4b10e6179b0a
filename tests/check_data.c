/* check_data.c: Stan JSON data through vi_program_load_data: layouts (matrices as rows,
 * arrays of vectors as nested lists, column-major output order), special values
 * ("Infinity", "NaN", inf spellings), integers where reals are declared, zero sizes,
 * transformed data; and every error class with its message: missing variable, wrong
 * size, real for int, constraint violation, duplicate keys, malformed JSON (line and
 * column from jansson), huge and negative sizes. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <vi/lang.h>
#include <vi/status.h>

static vi_program *compile(const char *src)
{
  vi_error err; int st;
  vi_program *p = vi_program_compile(src, strlen(src), "t.stan", &err, &st);
  ck_assert_msg(p != NULL, "compile: %s", err.message);
  return p;
}

/* Load json; return the status and the message in err. */
static int load(vi_program *p, const char *json, vi_error *err)
{
  return vi_program_load_data(p, json, json ? strlen(json) : 0, "d.json", err);
}

/* Outputs of the model at z = 0 (gq copies of the data). */
static void outputs(vi_program *p, double *out, size_t nmax, vi_model *m)
{
  ck_assert_int_eq(vi_program_model(p, m), VI_SUCCESS);
  ck_assert_uint_le(m->n_out, nmax);
  double z[16] = {0};
  ck_assert_int_eq(m->constrain(m->ctx, z, NULL, out), VI_SUCCESS);
}

START_TEST(test_matrix_rows)
{
  vi_program *p = compile(
      "data { int N; int M; matrix[N, M] X; array[N] vector[M] a; array[2, 2] int k; }\n"
      "parameters { real mu; }\n"
      "model { mu ~ normal(0, 1); }\n"
      "generated quantities { matrix[N, M] Xo = X; array[N] vector[M] ao = a;\n"
      "  array[2, 2] int ko = k; }\n");
  vi_error err;
  ck_assert_int_eq(load(p, "{\"N\": 2, \"M\": 3, \"X\": [[1, 2, 3], [4, 5, 6]],"
                           " \"a\": [[1, 2, 3], [4, 5, 6]], \"k\": [[1, 2], [3, 4]]}", &err), 0);
  vi_model m;
  double out[32];
  outputs(p, out, 32, &m);
  ck_assert_uint_eq(m.n_out, 1 + 6 + 6 + 4);
  /* CmdStan order: first index fastest */
  const char *names[] = {"mu", "Xo.1.1", "Xo.2.1", "Xo.1.2", "Xo.2.2", "Xo.1.3", "Xo.2.3",
                         "ao.1.1", "ao.2.1", "ao.1.2"};
  const double vals[] = {0, 1, 4, 2, 5, 3, 6, 1, 4, 2};
  for (int i = 0; i < 10; i++) {
    ck_assert_str_eq(m.out_names[i], names[i]);
    ck_assert_msg(out[i] == vals[i], "%s = %g, want %g", names[i], out[i], vals[i]);
  }
  ck_assert_str_eq(m.out_names[13], "ko.1.1");
  ck_assert(out[13] == 1 && out[14] == 3 && out[15] == 2 && out[16] == 4);
  vi_program_free(p);
}
END_TEST

/* The numbers of a whole variable become its value: matrices transposed in place (an
 * array of non-square ones, each its own block), from a file (read through a mapping). */
START_TEST(test_matrix_blocks_from_file)
{
  vi_program *p = compile(
      "data { array[2] matrix[3, 4] A; matrix[1, 5] r; matrix[4, 1] c; }\n"
      "parameters { real mu; }\n"
      "model { mu ~ normal(0, 1); }\n"
      "generated quantities { array[2] matrix[3, 4] Ao = A; matrix[1, 5] ro = r;\n"
      "  matrix[4, 1] co = c; }\n");
  char path[] = "/tmp/check_data_XXXXXX";
  int fd = mkstemp(path);
  ck_assert_int_ge(fd, 0);
  FILE *f = fdopen(fd, "w");
  fprintf(f, "{\"A\": [");
  for (int a = 1; a <= 2; a++) {
    fprintf(f, "%s[", a > 1 ? "," : "");
    for (int r = 1; r <= 3; r++) {
      fprintf(f, "%s[", r > 1 ? "," : "");
      for (int c = 1; c <= 4; c++) fprintf(f, "%s%d", c > 1 ? "," : "", 100 * a + 10 * r + c);
      fprintf(f, "]");
    }
    fprintf(f, "]");
  }
  fprintf(f, "], \"r\": [[1, 2, 3, 4, 5]], \"c\": [[6], [7], [8], [9]]}\n");
  fclose(f);
  vi_error err;
  int st = vi_program_load_data_file(p, path, &err);
  unlink(path);
  ck_assert_msg(st == 0, "%s", err.message);
  vi_model m;
  double out[64];
  outputs(p, out, 64, &m);
  ck_assert_uint_eq(m.n_out, 1 + 24 + 5 + 4);
  /* CmdStan order: Ao.a.r.c with the first index fastest */
  size_t i = 1;
  for (int c = 1; c <= 4; c++)
    for (int r = 1; r <= 3; r++)
      for (int a = 1; a <= 2; a++, i++) {
        char want[32];
        snprintf(want, sizeof want, "Ao.%d.%d.%d", a, r, c);
        ck_assert_str_eq(m.out_names[i], want);
        ck_assert_msg(out[i] == 100 * a + 10 * r + c, "%s = %g", want, out[i]);
      }
  for (int k = 0; k < 5; k++) ck_assert(out[i + k] == k + 1);
  for (int k = 0; k < 4; k++) ck_assert(out[i + 5 + k] == k + 6);
  vi_program_free(p);
}
END_TEST

START_TEST(test_special_values)
{
  vi_program *p = compile(
      "data { array[6] real x; real r; int<lower=0> N; vector[N] e; }\n"
      "transformed data { real s = r + 1; }\n"
      "parameters { real mu; }\n"
      "model { mu ~ normal(0, 1); }\n"
      "generated quantities { array[6] real xo = x; real so = s; int no = N; }\n");
  vi_error err;
  int st = load(p, "{\"x\": [\"Infinity\", \"-Infinity\", \"NaN\", \"inf\", \"-inf\", 1e300],"
                   " \"r\": 3, \"N\": 0, \"e\": []}", &err);
  ck_assert_msg(st == 0, "%s", err.message);
  vi_model m;
  double out[16];
  outputs(p, out, 16, &m);
  ck_assert(isinf(out[1]) && out[1] > 0);
  ck_assert(isinf(out[2]) && out[2] < 0);
  ck_assert(isnan(out[3]));
  ck_assert(isinf(out[4]) && out[4] > 0 && isinf(out[5]) && out[5] < 0);
  ck_assert(out[6] == 1e300);
  ck_assert(out[7] == 4);   /* int 3 read as real, plus 1 in transformed data */
  ck_assert(out[8] == 0);
  /* a zero-size variable may be left out */
  st = load(p, "{\"x\": [1, 2, 3, 4, 5, 6], \"r\": 3.5, \"N\": 0}", &err);
  ck_assert_msg(st == 0, "%s", err.message);
  vi_program_free(p);
}
END_TEST

/* Expect load to fail with VI_EDATA and a message containing each of the needles. */
static void expect_error(const char *src, const char *json, int status, const char *n1,
                         const char *n2, const char *n3)
{
  vi_program *p = compile(src);
  vi_error err;
  int st = load(p, json, &err);
  ck_assert_msg(st == status, "status %d, want %d (%s)", st, status, err.message);
  ck_assert_int_eq(err.status, status);
  const char *needles[3] = {n1, n2, n3};
  for (int i = 0; i < 3; i++)
    if (needles[i])
      ck_assert_msg(strstr(err.message, needles[i]) != NULL, "'%s' not in: %s", needles[i],
                    err.message);
  vi_model m;
  ck_assert_int_ne(vi_program_model(p, &m), VI_SUCCESS);   /* nothing half-loaded */
  vi_program_free(p);
}

static const char *SRC =
    "data { int<lower=0> N; vector[N] y; array[N] int<lower=0> k; real<lower=0> sigma; }\n"
    "parameters { real mu; }\n"
    "model { y ~ normal(mu, sigma); }\n";

START_TEST(test_errors)
{
  expect_error(SRC, "{\"N\": 2, \"y\": [1, 2], \"k\": [1, 2]}", VI_EDATA,
               "d.json: error:", "'sigma'", "missing");
  expect_error(SRC, "{\"N\": 3, \"y\": [1, 2], \"k\": [1, 2, 3], \"sigma\": 1}", VI_EDATA,
               "'y'", "dimension 1", "declared size 3, found 2");
  expect_error(SRC, "{\"N\": 2, \"y\": [1, 2], \"k\": [1, 2.5], \"sigma\": 1}", VI_EDATA,
               "'k'", "k[2]", "declared int");
  expect_error(SRC, "{\"N\": 2.0, \"y\": [1, 2], \"k\": [1, 2], \"sigma\": 1}", VI_EDATA,
               "'N'", "declared int", NULL);
  expect_error(SRC, "{\"N\": 2, \"y\": [1, 2], \"k\": [1, -2], \"sigma\": 1}", VI_EDATA,
               "'k'", "k[2] is -2", "must be >= 0");
  expect_error(SRC, "{\"N\": 2, \"y\": [1, 2], \"k\": [1, 2], \"sigma\": -1}", VI_EDATA,
               "'sigma'", "must be >= 0", NULL);
  expect_error(SRC, "{\"N\": 2, \"y\": [1, 2], \"k\": [1, 2], \"sigma\": \"NaN\"}", VI_EDATA,
               "'sigma'", "is nan", "must be >= 0");
  expect_error(SRC, "{\"N\": 2, \"y\": [1, 2], \"k\": [1, 2], \"sigma\": 1, \"N\": 3}", VI_EDATA,
               "d.json:1:", "duplicate", NULL);
  expect_error(SRC, "{\"N\": 2,\n \"y\": [1, 2],\n \"k\": [1 2], \"sigma\": 1}", VI_EDATA,
               "d.json:3:", "invalid JSON", NULL);
  expect_error(SRC, "{\"N\": 2, \"y\": [1, \"x\"], \"k\": [1, 2], \"sigma\": 1}", VI_EDATA,
               "y[2]", "a string", NULL);
  expect_error(SRC, "[1, 2]", VI_EDATA, "JSON object", NULL, NULL);
  expect_error(SRC, "{\"N\": 2, \"y\": [[1], [2]], \"k\": [1, 2], \"sigma\": 1}", VI_EDATA,
               "y[1]", "should be a number", "a list");
  /* sizes: negative, enormous (no huge allocation: the shape check comes first) */
  expect_error("data { int N; vector[N] y; } parameters { real mu; } model { }",
               "{\"N\": -3, \"y\": []}", VI_EDATA, "negative", "'y'", NULL);
  expect_error("data { int N; vector[N] y; } parameters { real mu; } model { }",
               "{\"N\": 2000000000, \"y\": [1, 2]}", VI_EDATA, "'y'", "declared size 2000000000", NULL);
  expect_error("data { int N; matrix[N, N] y; } parameters { real mu; } model { }",
               "{\"N\": 2000000000, \"y\": []}", VI_EDATA, "too large", NULL, NULL);
  expect_error("data { int N; } parameters { vector[N] b; } model { }",
               "{\"N\": 2147483647}", VI_EDATA, "'b' is too large", NULL, NULL);
  expect_error("data { int N; } parameters { vector[N] b; } model { }",
               "{\"N\": 20000000}", VI_EDATA, "too many parameters", "'b'", NULL);
  /* int out of range */
  expect_error("data { int N; } parameters { real mu; } model { }",
               "{\"N\": 3000000000}", VI_EDATA, "out of range", NULL, NULL);
  /* simplex data */
  expect_error("data { simplex[3] w; } parameters { real mu; } model { }",
               "{\"w\": [0.2, 0.2, 0.2]}", VI_EDATA, "'w'", "sum", NULL);
  /* transformed data errors */
  expect_error("data { int N; } transformed data { if (N > 1) reject(\"N is \", N); }"
               " parameters { real mu; } model { }",
               "{\"N\": 2}", VI_ERUNTIME, "t.stan:1:", "N is 2", NULL);
  expect_error("data { int N; } transformed data { real<lower=0> x = -N; }"
               " parameters { real mu; } model { }",
               "{\"N\": 2}", VI_EDATA, "'x'", "must be >= 0", NULL);
}
END_TEST

START_TEST(test_sizes_and_no_data)
{
  vi_program *p = compile("data { int N; vector[N + 1] y; matrix[N, 2 * N] X; }\n"
                          "parameters { vector[N] b; }\n"
                          "model { b ~ normal(0, 1); }\n");
  vi_error err;
  ck_assert_int_eq(load(p, "{\"N\": 1, \"y\": [1, 2], \"X\": [[1, 2]]}", &err), 0);
  vi_param_info info;
  ck_assert_int_eq(vi_program_param_info(p, 0, &info), 0);
  ck_assert_uint_eq(info.unconstrained_size, 1);
  vi_program_free(p);
  /* a model without data: NULL json */
  p = compile("parameters { real mu; } model { mu ~ normal(0, 1); }");
  ck_assert_int_eq(vi_program_load_data(p, NULL, 0, NULL, &err), 0);
  vi_model m;
  ck_assert_int_eq(vi_program_model(p, &m), 0);
  ck_assert_uint_eq(m.dim, 1);
  vi_program_free(p);
}
END_TEST

int main(void)
{
  Suite *s = suite_create("data");
  TCase *tc = tcase_create("core");
  tcase_add_test(tc, test_matrix_rows);
  tcase_add_test(tc, test_matrix_blocks_from_file);
  tcase_add_test(tc, test_special_values);
  tcase_add_test(tc, test_errors);
  tcase_add_test(tc, test_sizes_and_no_data);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
