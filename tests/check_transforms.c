/* check_transforms.c: the constraint transforms (src/lang/back/transforms.c) against their
 * definitions: constrain then unconstrain is the identity; the log-Jacobian equals a
 * numeric log |det| of the finite-difference Jacobian of the free coordinates; the
 * batched tape form gives the same values per draw and a gradient (of a weighted sum of
 * the constrained values plus the log-Jacobian, including through the bounds) equal to
 * finite differences; the checks catch violations. */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <gsl/gsl_linalg.h>
#include <gsl/gsl_matrix.h>
#include <gsl/gsl_permutation.h>
#include <vi/status.h>
#include "lang/back/transforms.h"

typedef struct tcase {
  const char *name;
  vi_constraint con;
  int has_lb, has_ub;
  double lb, ub;
  size_t rows, cols;
} tcase;

static const tcase cases[] = {
  {"lower", CON_BOUNDS, 1, 0, 1.5, 0, 3, 1},
  {"upper", CON_BOUNDS, 0, 1, 0, -2.0, 3, 1},
  {"lower-upper", CON_BOUNDS, 1, 1, -1.0, 4.0, 3, 1},
  {"lower=-inf", CON_BOUNDS, 1, 0, -INFINITY, 0, 2, 1},
  {"offset-multiplier", CON_OFFSET_MULT, 1, 1, 2.0, 3.0, 3, 1},
  {"ordered", CON_ORDERED, 0, 0, 0, 0, 4, 1},
  {"positive_ordered", CON_POSITIVE_ORDERED, 0, 0, 0, 0, 4, 1},
  {"simplex", CON_SIMPLEX, 0, 0, 0, 0, 5, 1},
  {"simplex2", CON_SIMPLEX, 0, 0, 0, 0, 2, 1},
  {"cholesky_factor_cov", CON_CHOLESKY_COV, 0, 0, 0, 0, 4, 3},
  {"cholesky_factor_cov square", CON_CHOLESKY_COV, 0, 0, 0, 0, 3, 3},
  {"cov_matrix", CON_COV_MATRIX, 0, 0, 0, 0, 3, 3},
  {"cholesky_factor_corr", CON_CHOLESKY_CORR, 0, 0, 0, 0, 4, 4},
  {"cholesky_factor_corr 2", CON_CHOLESKY_CORR, 0, 0, 0, 0, 2, 2},
  {"corr_matrix", CON_CORR_MATRIX, 0, 0, 0, 0, 4, 4},
  {"corr_matrix 3", CON_CORR_MATRIX, 0, 0, 0, 0, 3, 3},
  {"sum_to_zero_vector", CON_SUM_TO_ZERO, 0, 0, 0, 0, 5, 1},
};
#define NCASES (sizeof cases / sizeof cases[0])

static void init_spec(const tcase *c, tr_spec *s, size_t nelem)
{
  char why[128];
  ck_assert_int_eq(tr_spec_init(s, c->con, c->has_lb, c->has_ub, nelem, c->rows, c->cols,
                                why, sizeof why), VI_SUCCESS);
}

static void fill_u(double *u, size_t n, double seed)
{
  for (size_t i = 0; i < n; i++) u[i] = 0.9 * sin(1.3 * (double)i + seed) + 0.1;
}

/* The free coordinates of x: those that determine it (lower triangle of symmetric or
 * triangular matrices; the first K - 1 of a simplex; all others). */
static size_t free_coords(const tr_spec *s, const double *x, double *f)
{
  size_t k = 0, i, j;
  switch (s->con) {
  case CON_SIMPLEX:
    for (i = 0; i + 1 < s->rows; i++) f[k++] = x[i];
    return k;
  case CON_CHOLESKY_CORR: case CON_CORR_MATRIX:
    for (i = 1; i < s->rows; i++)
      for (j = 0; j < i; j++) f[k++] = x[i + j * s->rows];
    return k;
  case CON_CHOLESKY_COV: case CON_COV_MATRIX:
    for (i = 0; i < s->rows; i++)
      for (j = 0; j <= i && j < s->cols; j++) f[k++] = x[i + j * s->rows];
    return k;
  default:
    for (i = 0; i < s->csize; i++) f[k++] = x[i];
    return k;
  }
}

START_TEST(test_round_trip)
{
  for (size_t c = 0; c < NCASES; c++) {
    tr_spec s;
    init_spec(&cases[c], &s, 1);
    double u[64], x[64], u2[64], x2[64];
    fill_u(u, s.usize, (double)c);
    tr_constrain_d(&s, u, cases[c].lb, cases[c].ub, x);
    ck_assert_msg(tr_unconstrain_d(&s, x, cases[c].lb, cases[c].ub, u2) == VI_SUCCESS,
                  "%s: unconstrain failed", cases[c].name);
    for (size_t i = 0; i < s.usize; i++)
      ck_assert_msg(fabs(u[i] - u2[i]) < 1e-9, "%s: u[%zu] %g != %g", cases[c].name, i, u[i], u2[i]);
    tr_constrain_d(&s, u2, cases[c].lb, cases[c].ub, x2);
    for (size_t i = 0; i < s.csize; i++)
      ck_assert_msg(fabs(x[i] - x2[i]) < 1e-9, "%s", cases[c].name);
  }
}
END_TEST

START_TEST(test_values)
{
  /* a few values by hand */
  tr_spec s;
  double u[3] = {0.0, log(2.0), -1.0}, x[3];
  init_spec(&cases[0], &s, 1);           /* lower = 1.5 */
  double lj = tr_constrain_d(&s, u, 1.5, 0, x);
  ck_assert(fabs(x[0] - 2.5) < 1e-15 && fabs(x[1] - 3.5) < 1e-15);
  ck_assert(fabs(lj - (log(2.0) - 1.0)) < 1e-15);
  init_spec(&cases[2], &s, 1);           /* (-1, 4) */
  tr_constrain_d(&s, u, -1.0, 4.0, x);
  ck_assert(fabs(x[0] - 1.5) < 1e-15);
  /* simplex at 0: stick-breaking with the log(K - k) centring gives uniform weights */
  init_spec(&cases[7], &s, 1);
  double z[4] = {0, 0, 0, 0}, w[5];
  tr_constrain_d(&s, z, 0, 0, w);
  for (int i = 0; i < 5; i++) ck_assert(fabs(w[i] - 0.2) < 1e-15);
  /* unit vector: direction and -0.5 |u|^2 */
  tr_spec sv;
  char why[64];
  tr_spec_init(&sv, CON_UNIT_VECTOR, 0, 0, 1, 3, 1, why, sizeof why);
  double uv[3] = {3, 0, 4}, xv[3];
  lj = tr_constrain_d(&sv, uv, 0, 0, xv);
  ck_assert(fabs(xv[0] - 0.6) < 1e-15 && fabs(xv[2] - 0.8) < 1e-15);
  ck_assert(fabs(lj + 12.5) < 1e-12);
  /* sum_to_zero_vector: sums to 0, no Jacobian, and an isometry (|x| = |u|) */
  tr_spec_init(&sv, CON_SUM_TO_ZERO, 0, 0, 1, 4, 1, why, sizeof why);
  ck_assert_uint_eq(sv.usize, 3);
  double us[3] = {0.3, -1.2, 2.0}, xs[4];
  ck_assert(tr_constrain_d(&sv, us, 0, 0, xs) == 0);
  ck_assert(fabs(xs[0] + xs[1] + xs[2] + xs[3]) < 1e-14);
  ck_assert(fabs(xs[0] * xs[0] + xs[1] * xs[1] + xs[2] * xs[2] + xs[3] * xs[3]
                 - (0.09 + 1.44 + 4.0)) < 1e-13);
  /* sizes */
  tr_spec_init(&sv, CON_CHOLESKY_COV, 0, 0, 2, 4, 3, why, sizeof why);
  ck_assert_uint_eq(sv.usize, 6 + 3);
  tr_spec_init(&sv, CON_COV_MATRIX, 0, 0, 1, 4, 4, why, sizeof why);
  ck_assert_uint_eq(sv.usize, 10);
  ck_assert_int_eq(tr_spec_init(&sv, CON_SIMPLEX, 0, 0, 1, 0, 1, why, sizeof why), VI_EDATA);
  ck_assert_int_eq(tr_spec_init(&sv, CON_CHOLESKY_COV, 0, 0, 1, 2, 3, why, sizeof why), VI_EDATA);
}
END_TEST

START_TEST(test_log_jacobian)
{
  for (size_t c = 0; c < NCASES; c++) {
    tr_spec s;
    init_spec(&cases[c], &s, 1);
    /* an isometry onto {sum x = 0}: Stan counts no Jacobian for it (checked in
       test_values), which is not the determinant on the first K - 1 coordinates */
    if (s.con == CON_SUM_TO_ZERO) continue;
    size_t m = s.usize;
    double u[64], x[64], f1[64], f2[64];
    fill_u(u, m, 0.5 + (double)c);
    double lj = tr_constrain_d(&s, u, cases[c].lb, cases[c].ub, x);
    gsl_matrix *J = gsl_matrix_alloc(m, m);
    for (size_t j = 0; j < m; j++) {
      double h = 1e-6, uj = u[j];
      u[j] = uj + h; tr_constrain_d(&s, u, cases[c].lb, cases[c].ub, x);
      size_t k = free_coords(&s, x, f1);
      ck_assert_uint_eq(k, m);
      u[j] = uj - h; tr_constrain_d(&s, u, cases[c].lb, cases[c].ub, x);
      free_coords(&s, x, f2);
      u[j] = uj;
      for (size_t i = 0; i < m; i++) gsl_matrix_set(J, i, j, (f1[i] - f2[i]) / (2 * h));
    }
    gsl_permutation *perm = gsl_permutation_alloc(m);
    int sg;
    gsl_linalg_LU_decomp(J, perm, &sg);
    double ld = gsl_linalg_LU_lndet(J);
    ck_assert_msg(fabs(ld - lj) < 1e-6 * fmax(1, fabs(lj)), "%s: log J %.12g, numeric %.12g",
                  cases[c].name, lj, ld);
    gsl_permutation_free(perm);
    gsl_matrix_free(J);
  }
}
END_TEST

/* f(u, bounds) = sum_i w_i x_i + logJ, per draw, through the tape; its gradient w.r.t.
 * u and the bounds against finite differences of the plain-double version. */
static double f_plain(const tr_spec *s, const double *u, double lb, double ub)
{
  double x[256], acc = 0;
  size_t us = s->usize, cs = s->csize;
  for (size_t a = 0; a < s->nelem; a++) {
    acc += tr_constrain_d(s, u + a * us, lb, ub, x);
    for (size_t i = 0; i < cs; i++) acc += sin(1.0 + (double)(a * cs + i)) * x[i];
  }
  return acc;
}

static vi_type type_of(const tcase *c)
{
  vi_type t = {VT_VECTOR, 1};
  if (c->con == CON_CHOLESKY_COV || c->con == CON_COV_MATRIX || c->con == CON_CHOLESKY_CORR
      || c->con == CON_CORR_MATRIX)
    t.base = VT_MATRIX;
  return t;
}

START_TEST(test_tape)
{
  const size_t n = 3, nelem = 2;
  for (size_t c = 0; c < NCASES; c++) {
    const tcase *tc = &cases[c];
    tr_spec s;
    init_spec(tc, &s, nelem);
    size_t D = nelem * s.usize + 1, len = nelem * s.csize;
    ad_tape *t = ad_tape_alloc();
    ad_tape_reset(t, n, 1);
    size_t dz = D;
    ad_val *z = ad_new(t, (vi_type){VT_VECTOR, 0}, 1, &dz, 1, 1);
    double zr[3][64];
    for (size_t d = 0; d < n; d++) {
      fill_u(zr[d], D, 0.3 * (double)d + (double)c);
      for (size_t j = 0; j < D; j++) z->x[j * n + d] = zr[d][j];
    }
    /* the lower bound varies by draw and has an adjoint; the upper is constant */
    ad_val *lb = NULL, *ub = NULL;
    double lbv[3] = {tc->lb, tc->lb + 0.25, tc->lb - 0.5};
    if (tc->has_lb) {
      size_t one = 1;
      lb = ad_new(t, (vi_type){VT_REAL, 0}, 0, &one, 1, 1);
      for (size_t d = 0; d < n; d++) lb->x[d] = isinf(tc->lb) ? tc->lb : lbv[d];
    }
    if (tc->has_ub) ub = ad_scalar(t, tc->ub, 0);
    size_t dims[3] = {nelem, tc->rows, tc->cols};
    vi_type ty = type_of(tc);
    ad_val *lj = NULL;
    ad_val *x = tr_constrain(t, &s, ty, ty.base == VT_MATRIX ? 3 : 2, dims, z, 1, lb, ub, &lj);
    ck_assert_msg(x != NULL, "%s: %s", tc->name, ad_tape_error(t));
    for (size_t d = 0; d < n; d++) {
      double l = lb ? lb->x[d] : 0;
      double want = f_plain(&s, zr[d] + 1, l, tc->ub), got = lj ? lj->x[d] : 0;
      for (size_t e = 0; e < len; e++) got += sin(1.0 + (double)e) * x->x[e * n + d];
      ck_assert_msg(fabs(want - got) < 1e-12 * fmax(1, fabs(want)), "%s: value", tc->name);
    }
    /* seed and sweep */
    for (size_t e = 0; e < len; e++)
      for (size_t d = 0; d < n; d++) x->adj[e * n + d] = sin(1.0 + (double)e);
    if (lj) for (size_t d = 0; d < n; d++) lj->adj[d] = 1;
    ad_tape_backward(t);
    for (size_t d = 0; d < n; d++) {
      double l = lb ? lb->x[d] : 0, h = 1e-6;
      for (size_t j = 1; j < D; j++) {
        double uj = zr[d][j];
        zr[d][j] = uj + h; double a = f_plain(&s, zr[d] + 1, l, tc->ub);
        zr[d][j] = uj - h; double b = f_plain(&s, zr[d] + 1, l, tc->ub);
        zr[d][j] = uj;
        double fd = (a - b) / (2 * h);
        ck_assert_msg(fabs(fd - z->adj[j * n + d]) < 1e-6 * fmax(1, fabs(fd)),
                      "%s: d/du[%zu] draw %zu: tape %.10g, fd %.10g", tc->name, j, d,
                      z->adj[j * n + d], fd);
      }
      ck_assert(z->adj[0 * n + d] == 0);   /* coordinate 0 is not used */
      if (lb && !isinf(tc->lb)) {
        double a = f_plain(&s, zr[d] + 1, l + h, tc->ub), b = f_plain(&s, zr[d] + 1, l - h, tc->ub);
        double fd = (a - b) / (2 * h);
        ck_assert_msg(fabs(fd - lb->adj[d]) < 1e-6 * fmax(1, fabs(fd)),
                      "%s: d/dlb draw %zu: tape %.10g, fd %.10g", tc->name, d, lb->adj[d], fd);
      }
    }
    ad_tape_free(t);
  }
}
END_TEST

START_TEST(test_check)
{
  ad_tape *t = ad_tape_alloc();
  ad_tape_reset(t, 1, 0);
  char why[256];
  size_t k = 3;
  ad_val *v = ad_new(t, (vi_type){VT_VECTOR, 0}, 1, &k, 0, 0);
  v->x[0] = 0.2; v->x[1] = 0.3; v->x[2] = 0.5;
  tr_spec s;
  tr_spec_init(&s, CON_SIMPLEX, 0, 0, 1, 3, 1, why, sizeof why);
  ck_assert_int_eq(tr_check(&s, v, 0, NULL, NULL, why, sizeof why), -1);
  v->x[2] = 0.6;
  ck_assert_int_eq(tr_check(&s, v, 0, NULL, NULL, why, sizeof why), 0);
  ck_assert_ptr_nonnull(strstr(why, "sum"));
  tr_spec_init(&s, CON_ORDERED, 0, 0, 1, 3, 1, why, sizeof why);
  ck_assert_int_eq(tr_check(&s, v, 0, NULL, NULL, why, sizeof why), -1);
  v->x[2] = 0.1;
  ck_assert_int_eq(tr_check(&s, v, 0, NULL, NULL, why, sizeof why), 2);
  tr_spec_init(&s, CON_BOUNDS, 1, 0, 1, 3, 1, why, sizeof why);
  ad_val *lb = ad_scalar(t, 0.25, 0);
  ck_assert_int_eq(tr_check(&s, v, 0, lb, NULL, why, sizeof why), 0);
  ck_assert_str_eq(why, "is 0.2, must be >= 0.25");
  size_t two[2] = {2, 2};
  ad_val *m = ad_new(t, (vi_type){VT_MATRIX, 0}, 2, two, 0, 0);
  m->x[0] = 2; m->x[1] = 1; m->x[2] = 1; m->x[3] = 2;
  tr_spec_init(&s, CON_COV_MATRIX, 0, 0, 1, 2, 2, why, sizeof why);
  ck_assert_int_eq(tr_check(&s, m, 0, NULL, NULL, why, sizeof why), -1);
  m->x[3] = 0.4;   /* det < 0 */
  ck_assert_int_ge(tr_check(&s, m, 0, NULL, NULL, why, sizeof why), 0);
  m->x[3] = 2; m->x[2] = 1.5;   /* not symmetric */
  ck_assert_int_ge(tr_check(&s, m, 0, NULL, NULL, why, sizeof why), 0);
  ad_tape_free(t);
}
END_TEST

int main(void)
{
  Suite *s = suite_create("transforms");
  TCase *tc = tcase_create("core");
  tcase_add_test(tc, test_round_trip);
  tcase_add_test(tc, test_values);
  tcase_add_test(tc, test_log_jacobian);
  tcase_add_test(tc, test_tape);
  tcase_add_test(tc, test_check);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
