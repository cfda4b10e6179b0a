/* program_testutil.h: helpers of the language tests that compare whole models
 * (check_complex.c, check_tuples.c): compile a model with its data, a fixed sequence of
 * unconstrained points, two models that must give the same log density and gradient,
 * and a model's gradient against central finite differences (and its batch against one
 * draw at a time).  Static functions: each test program includes it once. */
#ifndef VI_TESTS_PROGRAM_TESTUTIL_H
#define VI_TESTS_PROGRAM_TESTUTIL_H

#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <vi/lang.h>
#include <vi/status.h>

static vi_program *make(const char *src, const char *json, vi_model *m)
{
  vi_error err;
  int st;
  vi_program *p = vi_program_compile(src, strlen(src), "test.stan", &err, &st);
  ck_assert_msg(p != NULL, "compile: %s", err.message);
  st = vi_program_load_data(p, json, json ? strlen(json) : 0, "test.json", &err);
  ck_assert_msg(st == 0, "data: %s", err.message);
  ck_assert_int_eq(vi_program_model(p, m), VI_SUCCESS);
  return p;
}

static double point(size_t i) { return 0.9 * sin(1.3 * (double)i + 0.4); }

/* Two models with the same data: the same log density and gradient at n points. */
static void same_model(const char *a, const char *b, const char *json, size_t n, double tol)
{
  vi_model ma, mb;
  vi_program *pa = make(a, json, &ma), *pb = make(b, json, &mb);
  size_t D = ma.dim;
  ck_assert_uint_eq(D, mb.dim);
  double *z = malloc(n * D * sizeof *z), *ga = malloc(n * D * sizeof *ga);
  double *gb = malloc(n * D * sizeof *gb), *la = malloc(n * sizeof *la);
  double *lb = malloc(n * sizeof *lb);
  for (size_t i = 0; i < n * D; i++) z[i] = point(i);
  ck_assert_int_eq(ma.log_joint(ma.ctx, n, z, la, ga), VI_SUCCESS);
  ck_assert_int_eq(mb.log_joint(mb.ctx, n, z, lb, gb), VI_SUCCESS);
  for (size_t s = 0; s < n; s++) {
    ck_assert_msg(isfinite(la[s]), "draw %zu: lp %g", s, la[s]);
    ck_assert_msg(fabs(la[s] - lb[s]) <= tol * fmax(1, fabs(lb[s])),
                  "draw %zu: model %.17g reference %.17g", s, la[s], lb[s]);
  }
  for (size_t i = 0; i < n * D; i++)
    ck_assert_msg(fabs(ga[i] - gb[i]) <= tol * fmax(1, fabs(gb[i])),
                  "gradient %zu: model %.17g reference %.17g", i, ga[i], gb[i]);
  free(z); free(ga); free(gb); free(la); free(lb);
  vi_program_free(pa);
  vi_program_free(pb);
}

/* The gradient against central differences at 3 points (and the batch against one
 * draw at a time). */
static void fd_check(const char *src, const char *json)
{
  vi_model m;
  vi_program *p = make(src, json, &m);
  size_t D = m.dim, n = 3;
  double *z = malloc(n * D * sizeof *z), *g = malloc(n * D * sizeof *g), lp[3];
  double *g1 = malloc(D * sizeof *g1), *zp = malloc(D * sizeof *zp);
  for (size_t i = 0; i < n * D; i++) z[i] = point(i);
  ck_assert_int_eq(m.log_joint(m.ctx, n, z, lp, g), VI_SUCCESS);
  for (size_t s = 0; s < n; s++) {
    double l1;
    ck_assert_int_eq(m.log_joint(m.ctx, 1, z + s * D, &l1, g1), VI_SUCCESS);
    ck_assert_msg(isfinite(l1) && fabs(l1 - lp[s]) <= 1e-12 * fmax(1, fabs(l1)),
                  "draw %zu: batch %.17g single %.17g", s, lp[s], l1);
    for (size_t d = 0; d < D; d++) {
      double h = 1e-6, lph, lmh;
      memcpy(zp, z + s * D, D * sizeof *zp);
      zp[d] += h;
      ck_assert_int_eq(m.log_joint(m.ctx, 1, zp, &lph, NULL), VI_SUCCESS);
      zp[d] -= 2 * h;
      ck_assert_int_eq(m.log_joint(m.ctx, 1, zp, &lmh, NULL), VI_SUCCESS);
      double fd = (lph - lmh) / (2 * h);
      ck_assert_msg(fabs(fd - g1[d]) <= 1e-6 * fmax(1, fabs(fd)),
                    "draw %zu, coordinate %zu: gradient %.12g, finite difference %.12g", s, d,
                    g1[d], fd);
      ck_assert_msg(fabs(g[s * D + d] - g1[d]) <= 1e-12 * fmax(1, fabs(g1[d])),
                    "batched gradient differs at %zu, %zu", s, d);
    }
  }
  free(z); free(g); free(g1); free(zp);
  vi_program_free(p);
}

#endif
