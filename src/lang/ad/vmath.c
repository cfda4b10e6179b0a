/* vmath.c: the array transcendentals of vmath.h and their backends.
 *
 * Three backends, each a table of four array functions (exp, log, log1p, expm1):
 *   scalar  -- libm, one call per number (always built; the reference);
 *   libmvec -- glibc's vector math library (the x86_64 vector-function ABI:
 *              _ZGVbN2v_exp for SSE2, _ZGVdN4v_exp for AVX2, _ZGVeN8v_exp for AVX-512;
 *              glibc documents its maximum error as 4 ulp), found by ./configure;
 *   sleef   -- SLEEF (Shibata & Petrogalli, "SLEEF: A Portable Vectorized Library of C
 *              Standard Mathematical Functions", IEEE TPDS 2020), its 1.0-ulp ("u10")
 *              functions, when ./configure finds libsleef-dev (--with-sleef).
 * The vector width is chosen at run time from the CPU (__builtin_cpu_supports; valgrind
 * reports no AVX-512, so a run under it takes AVX2), the vector routines being called
 * from functions compiled for that target, so the build needs no -march flag.
 *
 * The default is the backend bench/vmath measured fastest on the kernels that matter
 * (see bench/README.md): libmvec at the widest width, else SLEEF, else scalar.
 *
 * A tail shorter than a vector goes through the same vector routine, padded with 1.0 (a
 * harmless argument for all four), so an element's bits never depend on where it sits
 * in an array: the thread-count and batch-size invariance of the evaluator rests on it. */
#ifdef HAVE_CONFIG_H   /* not in the fuzz build, which runs no configure: libm there */
#include <config.h>
#endif

#include <math.h>
#include <pthread.h>
#include <string.h>

#include "lang/ad/vmath.h"

#if defined(__x86_64__) && defined(__GNUC__) && (defined(HAVE_LIBMVEC) || defined(HAVE_SLEEF))
#define VMATH_X86 1
#include <immintrin.h>
#endif

typedef void (*vmath_fn)(double *y, const double *x, size_t n);

typedef struct vmath_table {
  vmath_fn exp, log, log1p, expm1;
  const char *desc;
} vmath_table;

/* ---- scalar (libm) ------------------------------------------------------------- */

#define VMATH_SCALAR(NAME, F)                                                          \
  static void NAME(double *y, const double *x, size_t n)                               \
  {                                                                                    \
    for (size_t i = 0; i < n; i++) y[i] = F(x[i]);                                     \
  }
VMATH_SCALAR(sc_exp, exp)
VMATH_SCALAR(sc_log, log)
VMATH_SCALAR(sc_log1p, log1p)
VMATH_SCALAR(sc_expm1, expm1)

static const vmath_table tab_scalar = {sc_exp, sc_log, sc_log1p, sc_expm1,
                                       "scalar (libm)"};

/* ---- vector loops --------------------------------------------------------------- */

#ifdef VMATH_X86
#define VMATH_T_AVX512 __attribute__((target("avx512f")))
#define VMATH_T_AVX2 __attribute__((target("avx2,fma")))
#define VMATH_T_SSE2

/* y = FN(x) W lanes at a time; the tail padded with 1.0 through the same routine. */
#define VMATH_LOOP(NAME, TGT, VT, W, LD, ST, FN)                                       \
  TGT static void NAME(double *y, const double *x, size_t n)                           \
  {                                                                                    \
    size_t i = 0;                                                                      \
    for (; i + (W) <= n; i += (W)) {                                                   \
      VT v = LD(x + i);                                                                \
      ST(y + i, FN(v));                                                                \
    }                                                                                  \
    if (i < n) {                                                                       \
      double b[W];                                                                     \
      size_t r = n - i;                                                                \
      for (size_t k = 0; k < (W); k++) b[k] = k < r ? x[i + k] : 1.0;                  \
      VT v = LD(b);                                                                    \
      ST(b, FN(v));                                                                    \
      memcpy(y + i, b, r * sizeof *b);                                                 \
    }                                                                                  \
  }

/* The four functions of one backend at the three widths. */
#define VMATH_WIDTHS(P, F2, F4, F8)                                                    \
  VMATH_LOOP(P##_2, VMATH_T_SSE2, __m128d, 2, _mm_loadu_pd, _mm_storeu_pd, F2)         \
  VMATH_LOOP(P##_4, VMATH_T_AVX2, __m256d, 4, _mm256_loadu_pd, _mm256_storeu_pd, F4)   \
  VMATH_LOOP(P##_8, VMATH_T_AVX512, __m512d, 8, _mm512_loadu_pd, _mm512_storeu_pd, F8)

#ifdef HAVE_LIBMVEC
/* glibc's vector variants, by the x86_64 vector-function ABI's mangled names ('b' SSE,
 * 'd' AVX2, 'e' AVX-512; N lanes; 'v' one vector argument). */
#define VMATH_MVEC_DECL(F)                                                             \
  __m128d _ZGVbN2v_##F(__m128d);                                                       \
  VMATH_T_AVX2 __m256d _ZGVdN4v_##F(__m256d);                                          \
  VMATH_T_AVX512 __m512d _ZGVeN8v_##F(__m512d);
VMATH_MVEC_DECL(exp)
VMATH_MVEC_DECL(log)
VMATH_MVEC_DECL(log1p)
VMATH_MVEC_DECL(expm1)
VMATH_WIDTHS(mv_exp, _ZGVbN2v_exp, _ZGVdN4v_exp, _ZGVeN8v_exp)
VMATH_WIDTHS(mv_log, _ZGVbN2v_log, _ZGVdN4v_log, _ZGVeN8v_log)
VMATH_WIDTHS(mv_log1p, _ZGVbN2v_log1p, _ZGVdN4v_log1p, _ZGVeN8v_log1p)
VMATH_WIDTHS(mv_expm1, _ZGVbN2v_expm1, _ZGVdN4v_expm1, _ZGVeN8v_expm1)
static const vmath_table tab_mvec[3] = {
  {mv_exp_2, mv_log_2, mv_log1p_2, mv_expm1_2, "libmvec, 2 lanes (SSE2)"},
  {mv_exp_4, mv_log_4, mv_log1p_4, mv_expm1_4, "libmvec, 4 lanes (AVX2)"},
  {mv_exp_8, mv_log_8, mv_log1p_8, mv_expm1_8, "libmvec, 8 lanes (AVX-512)"},
};
#endif

#ifdef HAVE_SLEEF
/* SLEEF's 1.0-ulp functions by ISA (its sleef.h declares them only when the including
 * file is compiled for that ISA, which this file is not). */
#define VMATH_SLEEF_DECL(F)                                                            \
  __m128d Sleef_##F##d2_u10sse2(__m128d);                                              \
  VMATH_T_AVX2 __m256d Sleef_##F##d4_u10avx2(__m256d);                                 \
  VMATH_T_AVX512 __m512d Sleef_##F##d8_u10avx512f(__m512d);
VMATH_SLEEF_DECL(exp)
VMATH_SLEEF_DECL(log)
VMATH_SLEEF_DECL(log1p)
VMATH_SLEEF_DECL(expm1)
VMATH_WIDTHS(sl_exp, Sleef_expd2_u10sse2, Sleef_expd4_u10avx2, Sleef_expd8_u10avx512f)
VMATH_WIDTHS(sl_log, Sleef_logd2_u10sse2, Sleef_logd4_u10avx2, Sleef_logd8_u10avx512f)
VMATH_WIDTHS(sl_log1p, Sleef_log1pd2_u10sse2, Sleef_log1pd4_u10avx2,
             Sleef_log1pd8_u10avx512f)
VMATH_WIDTHS(sl_expm1, Sleef_expm1d2_u10sse2, Sleef_expm1d4_u10avx2,
             Sleef_expm1d8_u10avx512f)
static const vmath_table tab_sleef[3] = {
  {sl_exp_2, sl_log_2, sl_log1p_2, sl_expm1_2, "sleef, 2 lanes (SSE2)"},
  {sl_exp_4, sl_log_4, sl_log1p_4, sl_expm1_4, "sleef, 4 lanes (AVX2)"},
  {sl_exp_8, sl_log_8, sl_log1p_8, sl_expm1_8, "sleef, 8 lanes (AVX-512)"},
};
#endif

/* The widest width index (0: 2 lanes, 1: 4, 2: 8) the CPU runs, capped by lanes. */
static int vmath_width(int lanes)
{
  int w = 0;
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) w = 1;
  if (w == 1 && __builtin_cpu_supports("avx512f")) w = 2;
  if (lanes == 2) return 0;
  if (lanes == 4) return w >= 1 ? 1 : -1;
  if (lanes == 8) return w >= 2 ? 2 : -1;
  return lanes == 0 ? w : -1;
}
#endif /* VMATH_X86 */

/* ---- selection ------------------------------------------------------------------- */

static const vmath_table *vmath_cur = &tab_scalar;
static pthread_once_t vmath_once = PTHREAD_ONCE_INIT;

static const vmath_table *vmath_find(const char *backend, int lanes)
{
  if (!strcmp(backend, "scalar")) return lanes == 0 || lanes == 1 ? &tab_scalar : NULL;
#ifdef VMATH_X86
  int w = vmath_width(lanes);
  if (w < 0) return NULL;
#ifdef HAVE_LIBMVEC
  if (!strcmp(backend, "libmvec")) return &tab_mvec[w];
#endif
#ifdef HAVE_SLEEF
  if (!strcmp(backend, "sleef")) return &tab_sleef[w];
#endif
#endif
  return NULL;
}

static void vmath_init(void)
{
  static const char *const order[] = {"libmvec", "sleef"};
  for (size_t k = 0; k < sizeof order / sizeof order[0]; k++) {
    const vmath_table *t = vmath_find(order[k], 0);
    if (t) { vmath_cur = t; return; }
  }
}

static const vmath_table *vmath_get(void)
{
  pthread_once(&vmath_once, vmath_init);
  return vmath_cur;
}

int vmath_select(const char *backend, int lanes)
{
  const vmath_table *t;
  pthread_once(&vmath_once, vmath_init);
  if (!backend || !(t = vmath_find(backend, lanes))) return -1;
  vmath_cur = t;
  return 0;
}

const char *vmath_describe(void) { return vmath_get()->desc; }

int vmath_available(const char *backend)
{
  if (!strcmp(backend, "scalar")) return 1;
#ifdef VMATH_X86
#ifdef HAVE_LIBMVEC
  if (!strcmp(backend, "libmvec")) return 1;
#endif
#ifdef HAVE_SLEEF
  if (!strcmp(backend, "sleef")) return 1;
#endif
#endif
  return 0;
}

/* ---- the functions ---------------------------------------------------------------- */

void vmath_exp(double *y, const double *x, size_t n) { vmath_get()->exp(y, x, n); }
void vmath_log(double *y, const double *x, size_t n) { vmath_get()->log(y, x, n); }
void vmath_log1p(double *y, const double *x, size_t n) { vmath_get()->log1p(y, x, n); }
void vmath_expm1(double *y, const double *x, size_t n) { vmath_get()->expm1(y, x, n); }

/* The composite functions work through a tile on the stack, so the temporaries stay in
 * the L1 cache. */
#define VMATH_TILE 256

void vmath_log1p_exp(double *y, const double *x, size_t n)
{
  const vmath_table *t = vmath_get();
  double b[VMATH_TILE];
  for (size_t i0 = 0; i0 < n; i0 += VMATH_TILE) {
    size_t m = n - i0 < VMATH_TILE ? n - i0 : VMATH_TILE;
    for (size_t k = 0; k < m; k++) b[k] = -fabs(x[i0 + k]);
    t->exp(b, b, m);
    t->log1p(b, b, m);
    for (size_t k = 0; k < m; k++) {
      double v = x[i0 + k];
      y[i0 + k] = (v > 0 ? v : 0.0) + b[k];   /* fmax(v, 0) (NaN: 0), inlined */
    }
  }
}

void vmath_inv_logit(double *y, const double *x, size_t n)
{
  const vmath_table *t = vmath_get();
  double b[VMATH_TILE];
  for (size_t i0 = 0; i0 < n; i0 += VMATH_TILE) {
    size_t m = n - i0 < VMATH_TILE ? n - i0 : VMATH_TILE;
    for (size_t k = 0; k < m; k++) b[k] = -fabs(x[i0 + k]);
    t->exp(b, b, m);
    for (size_t k = 0; k < m; k++) {
      double e = b[k], v = x[i0 + k];
      y[i0 + k] = (v >= 0 ? 1.0 : e) / (1.0 + e);
    }
  }
}
