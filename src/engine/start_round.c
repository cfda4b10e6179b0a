/* start_round.c: a round of mode searches in lockstep (issue 15).  A mode search
 * (laplace.c) is a sequence of model calls of one point (BFGS, damped Newton) or 2D points
 * (difference Hessians), each depending on the last, and GSL's minimiser makes them from
 * inside its own loop, so a search cannot be cut into resumable steps without rewriting
 * GSL's BFGS.  Instead each search of a round runs as a coroutine on a stack of its own
 * (makecontext / swapcontext): its model posts the points and switches back, and the
 * calling code, once every search still running has posted (or ended), evaluates all
 * posted points in one batched call and resumes them, in order.  Everything runs on the
 * fit's thread: the model is called from it, one call at a time (vi/model.h), and a batch
 * is whatever the searches asked for, in their order: the round is as deterministic as
 * the model.  The gain is the batched evaluation (the language's tape pays its
 * interpretation once per op for all points, and uses the program's threads over 16
 * points): K searches cost about as many calls as the longest of them.  Coroutines, not
 * threads (a first version ran each search on a pthread): a switch costs a fraction of a
 * microsecond, a thread's hand-over tens (on a loaded machine, a scheduler's time slice),
 * which made the searches of cheap models up to 7x slower.  This is the lockstep batching
 * of independent optimisation runs, as of multi-path Pathfinder's (Zhang, Carpenter,
 * Gelman & Vehtari, JMLR 2022) paths, made on one model.  Valgrind is told of the
 * stacks. */
#ifndef _DEFAULT_SOURCE
#define _DEFAULT_SOURCE   /* ucontext_t's members under -D_POSIX_C_SOURCE */
#endif
#ifdef HAVE_CONFIG_H
#include <config.h>
#endif
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <vi/status.h>
#include "engine/start_round.h"
/* Under ASan the rounds run one search after another: its swapcontext interceptor prints
 * a warning on every run (a fit's stderr must stay clean), whatever the annotations. */
#if defined(__SANITIZE_ADDRESS__)
#define ROUND_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ROUND_ASAN 1
#endif
#endif
#if defined(HAVE_UCONTEXT_H) && defined(HAVE_MAKECONTEXT) && defined(HAVE_SWAPCONTEXT) && \
    !defined(ROUND_ASAN)
#define ROUND_COROUTINES 1
#include <ucontext.h>
#ifdef HAVE_VALGRIND_VALGRIND_H
#include <valgrind/valgrind.h>
#endif
#endif

int start_round_sequential = 0;
#ifdef ROUND_COROUTINES
const int start_round_lockstep = 1;
#else
const int start_round_lockstep = 0;
#endif

/* ---- one job after another, on the calling thread --------------------------------- */

typedef struct {
  const vi_model *m;
  start_round_counts *c;
} round_pass;

static int round_pass_log_joint(void *ctx, size_t n, const double *z, double *lp,
                                double *grad)
{
  round_pass *p = ctx;
  p->c->n_calls++;
  p->c->n_gcalls += grad != NULL;
  p->c->n_points += n;
  return p->m->log_joint(p->m->ctx, n, z, lp, grad);
}

static void round_one_by_one(const vi_model *m, size_t i0, size_t n, start_round_fn fn,
                             void *const *args, int *status, start_round_counts *c)
{
  round_pass p = {m, c};
  vi_model pm = *m;
  pm.ctx = &p;
  pm.log_joint = round_pass_log_joint;
  for (size_t i = i0; i < n; i++) status[i] = fn(args[i], &pm);
}

#ifdef ROUND_COROUTINES
/* ---- in lockstep, as coroutines ---------------------------------------------------- */

#define ROUND_STACK ((size_t)1 << 20)   /* a search's stack: laplace.c, GSL, OpenBLAS */

typedef struct round round;

typedef struct {
  round *r;
  start_round_fn fn;
  void *arg;
  int result;
  vi_model m;           /* the job's model: posts to the round */
  ucontext_t uc;
  char *stack;
  unsigned vg_id;       /* valgrind's name for the stack */
  int live;             /* started, not yet returned */
  int posted;           /* 1 while its request waits for values */
  size_t n;             /* the request: n points z, into lp (and grad when asked) */
  const double *z;
  double *lp, *grad;
  int status;           /* the request's */
} round_slot;

struct round {
  ucontext_t main;      /* the caller's context, while a job runs */
  round_slot *slot;
  size_t n;
  const vi_model *model;
  double *z, *lp, *g;   /* a batched call's points, values, gradients */
  size_t cap;           /* points they hold */
};

/* From a job back to the caller. */
static void round_yield(round_slot *s)
{
  swapcontext(&s->uc, &s->r->main);
}

/* From the caller into job s, until it posts or ends. */
static void round_resume(round *r, round_slot *s)
{
  swapcontext(&r->main, &s->uc);
}

static int round_log_joint(void *ctx, size_t n, const double *z, double *lp, double *grad)
{
  round_slot *s = ctx;
  s->n = n;
  s->z = z;
  s->lp = lp;
  s->grad = grad;
  s->posted = 1;
  round_yield(s);
  return s->status;
}

/* A job's body: makecontext passes ints, so the slot's address comes in two halves. */
static void round_entry(unsigned hi, unsigned lo)
{
  round_slot *s = (round_slot *)(uintptr_t)(((uint64_t)hi << 32) | (uint64_t)lo);
  s->result = s->fn(s->arg, &s->m);
  s->live = 0;
  /* returning resumes uc_link: the caller's context */
}

/* Evaluate the posted requests a..b-1 (slots in order, some not posted) in one call. */
static int round_call(round *r, size_t a, size_t b, start_round_counts *c)
{
  size_t D = r->model->dim, N = 0, k = 0;
  int grad = 0;
  round_slot *one = NULL;
  for (size_t i = a; i < b; i++)
    if (r->slot[i].posted) {
      N += r->slot[i].n;
      grad |= r->slot[i].grad != NULL;
      if (!k++) one = &r->slot[i];
    }
  if (k == 0) return VI_SUCCESS;
  c->n_calls++;
  c->n_gcalls += grad;
  c->n_points += N;
  if (k == 1) {   /* a request alone: straight into its own arrays */
    one->status = r->model->log_joint(r->model->ctx, one->n, one->z, one->lp, one->grad);
    return VI_SUCCESS;
  }
  if (N > r->cap) {
    double *z = realloc(r->z, N * D * sizeof(double)), *lp, *g;
    if (z) r->z = z;
    lp = z ? realloc(r->lp, N * sizeof(double)) : NULL;
    if (lp) r->lp = lp;
    g = lp ? realloc(r->g, N * D * sizeof(double)) : NULL;
    if (g) r->g = g;
    if (!g) return VI_ENOMEM;
    r->cap = N;
  }
  size_t o = 0;
  for (size_t i = a; i < b; i++) {
    round_slot *s = &r->slot[i];
    if (!s->posted) continue;
    memcpy(r->z + o * D, s->z, s->n * D * sizeof(double));
    o += s->n;
  }
  int st = r->model->log_joint(r->model->ctx, N, r->z, r->lp, grad ? r->g : NULL);
  o = 0;
  for (size_t i = a; i < b; i++) {
    round_slot *s = &r->slot[i];
    if (!s->posted) continue;
    s->status = st;
    if (st == VI_SUCCESS) {
      memcpy(s->lp, r->lp + o, s->n * sizeof(double));
      if (s->grad) memcpy(s->grad, r->g + o * D, s->n * D * sizeof(double));
    }
    o += s->n;
  }
  return VI_SUCCESS;
}

/* Every live job has posted: evaluate the requests in the jobs' order, in calls of at
 * most START_ROUND_DOUBLES values of z (a larger request alone). */
static int round_batch(round *r, start_round_counts *c)
{
  size_t D = r->model->dim, a = 0, used = 0;
  for (size_t i = 0; i < r->n; i++) {
    round_slot *s = &r->slot[i];
    if (!s->posted) continue;
    if (used > 0 && used + s->n * D > START_ROUND_DOUBLES) {
      int st = round_call(r, a, i, c);
      if (st != VI_SUCCESS) return st;
      a = i;
      used = 0;
    }
    used += s->n * D;
  }
  return round_call(r, a, r->n, c);
}

/* Job s's context: a stack, and round_entry as its body.  Apart from the round's loop:
 * getcontext returns twice in principle (never here, the context is only started). */
static int round_slot_init(round *r, round_slot *s, start_round_fn fn, void *arg)
{
  s->r = r;
  s->fn = fn;
  s->arg = arg;
  s->m = *r->model;
  s->m.ctx = s;
  s->m.log_joint = round_log_joint;
  if (!(s->stack = malloc(ROUND_STACK))) return -1;
  if (getcontext(&s->uc) != 0) {
    free(s->stack);
    s->stack = NULL;
    return -1;
  }
  s->uc.uc_stack.ss_sp = s->stack;
  s->uc.uc_stack.ss_size = ROUND_STACK;
  s->uc.uc_link = &r->main;
#ifdef HAVE_VALGRIND_VALGRIND_H
  s->vg_id = VALGRIND_STACK_REGISTER(s->stack, s->stack + ROUND_STACK);
#endif
  uint64_t a = (uint64_t)(uintptr_t)s;
  makecontext(&s->uc, (void (*)(void))round_entry, 2, (unsigned)(a >> 32),
              (unsigned)(a & 0xffffffffu));
  s->live = 1;
  return 0;
}

/* The lockstep round (*started = n once it runs); VI_ENOMEM, nothing run, when a job's
 * stack cannot be had. */
static int round_coroutines(const vi_model *m, size_t n, start_round_fn fn,
                            void *const *args, int *status, start_round_counts *c,
                            size_t *started)
{
  round r;
  memset(&r, 0, sizeof r);
  *started = 0;
  r.model = m;
  r.n = n;
  if (!(r.slot = calloc(n, sizeof *r.slot))) return VI_ENOMEM;
  for (size_t i = 0; i < n; i++) {
    if (round_slot_init(&r, &r.slot[i], fn, args[i]) != 0) {
      /* no stack: fail before any job ran (running the rest one by one would batch
       * differently, and a fit that absorbs a failure must be the same fit) */
      for (size_t k = 0; k < *started; k++) {
#ifdef HAVE_VALGRIND_VALGRIND_H
        VALGRIND_STACK_DEREGISTER(r.slot[k].vg_id);
#endif
        free(r.slot[k].stack);
      }
      free(r.slot);
      *started = 0;
      return VI_ENOMEM;
    }
    ++*started;
  }
  size_t live = *started;
  while (live > 0) {
    /* resume every job that has its values (or has not started), in order, until it
     * posts again or ends */
    for (size_t i = 0; i < *started; i++) {
      round_slot *s = &r.slot[i];
      if (!s->live) continue;
      s->posted = 0;
      round_resume(&r, s);
      if (!s->live) live--;
    }
    if (live == 0) break;
    int bs = round_batch(&r, c);
    if (bs != VI_SUCCESS)
      for (size_t i = 0; i < *started; i++)
        if (r.slot[i].posted) r.slot[i].status = bs;
  }
  for (size_t i = 0; i < *started; i++) {
    status[i] = r.slot[i].result;
#ifdef HAVE_VALGRIND_VALGRIND_H
    VALGRIND_STACK_DEREGISTER(r.slot[i].vg_id);
#endif
    free(r.slot[i].stack);
  }
  free(r.z);
  free(r.lp);
  free(r.g);
  free(r.slot);
  return VI_SUCCESS;
}
#endif

int start_round_run(const vi_model *m, size_t n, start_round_fn fn, void *const *args,
                    int *status, start_round_counts *c)
{
  size_t started = 0;
#ifdef ROUND_COROUTINES
  if (n > 1 && !start_round_sequential) {
    int st = round_coroutines(m, n, fn, args, status, c, &started);
    if (st != VI_SUCCESS) return st;
  }
#endif
  round_one_by_one(m, started, n, fn, args, status, c);
  return VI_SUCCESS;
}
