/* vmath.h: transcendentals over arrays of doubles (exp, log, log1p, expm1 and the
 * logistic helpers built from them), vectorised where the machine and the build allow:
 * the elementwise kernels of the batched tape call these on whole rows of draws instead
 * of libm once per number.  See vmath.c for the backends and how one is chosen.
 *
 * Every element's result depends on its value alone, never on its position or on n
 * (the tail of an array goes through the same vector routine, padded), so a batched
 * pass, a chunk of it on another thread and a single draw give the same bits. */
#ifndef VI_LANG_AD_VMATH_H
#define VI_LANG_AD_VMATH_H

#include <stddef.h>

/* Put before a loop whose iterations are independent, so the compiler vectorises it at
 * -O2 (OpenMP's `simd`; ./configure adds -fopenmp-simd when the compiler has it).  Only
 * for + - * / and comparisons, which give the same bits in any lane or in the tail. */
#if defined(_OPENMP) || defined(VI_OMP_SIMD)
#define VI_SIMD _Pragma("omp simd")
#else
#define VI_SIMD
#endif

/* y[i] = f(x[i]) for i < n; y may be x (in place), otherwise they must not overlap. */
void vmath_exp(double *y, const double *x, size_t n);
void vmath_log(double *y, const double *x, size_t n);
void vmath_log1p(double *y, const double *x, size_t n);
void vmath_expm1(double *y, const double *x, size_t n);

/* log(1 + exp(x)), stable for every x (max(x, 0) + log1p(exp(-|x|))). */
void vmath_log1p_exp(double *y, const double *x, size_t n);
/* 1 / (1 + exp(-x)), stable at both ends. */
void vmath_inv_logit(double *y, const double *x, size_t n);

/* The backend in use.  vmath_select picks one by name ("scalar": libm, "libmvec":
 * glibc's vector math, "sleef": SLEEF) with at most `lanes` doubles per vector (0: the
 * widest the CPU has; 2, 4, 8: SSE2, AVX2, AVX-512); it returns 0, or -1 (nothing
 * changed) when that backend is not built in or the CPU lacks that width.  For benches
 * and tests; not thread-safe (call it before evaluating).  The default is chosen once,
 * at the first call. */
int vmath_select(const char *backend, int lanes);
/* "libmvec, 8 lanes (AVX-512)" etc.: a static string. */
const char *vmath_describe(void);
/* 1 when the named backend was built in ("scalar" always). */
int vmath_available(const char *backend);

#endif
