/* start_round.c: a round of mode searches in lockstep (issue 15).  A mode search
 * (laplace.c) is a sequence of model calls of one point (BFGS, damped Newton) or 2D points
 * (difference Hessians), each depending on the last, and GSL's minimiser makes them from
 * inside its own loop, so a search cannot be cut into resumable steps without rewriting
 * GSL's BFGS.  Instead each search of a round runs on a thread of its own as a coroutine:
 * its model posts the points and waits, and the calling thread, once every search still
 * running has posted (or ended), evaluates all posted points in one batched call and lets
 * them go on.  The model is thus called from the fit's thread only, one call at a time
 * (vi/model.h), and a batch is whatever the searches asked for, in their order, whatever
 * the threads' timing: the round is as deterministic as the model.  The gain is the
 * batched evaluation (the language's tape pays its interpretation once per op for all
 * points, and uses the program's threads over 16 points): K searches cost about as many
 * calls as the longest of them.  The searches' own arithmetic (GSL's steps, Cholesky
 * factors) runs on their threads in parallel between the calls.  This is the lockstep
 * batching of independent optimisation runs, as in multi-path Pathfinder's (Zhang,
 * Carpenter, Gelman & Vehtari, JMLR 2022) parallel paths, made on one model. */
#ifdef HAVE_CONFIG_H
#include <config.h>
#endif
#include <stdlib.h>
#include <string.h>
#include <vi/status.h>
#include "engine/start_round.h"
#ifdef HAVE_PTHREADS
#include <pthread.h>
#endif

int start_round_sequential = 0;

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

#ifdef HAVE_PTHREADS
/* ---- in lockstep, on threads ----------------------------------------------------- */

typedef struct round round;

typedef struct {
  round *r;
  start_round_fn fn;
  void *arg;
  int result;
  vi_model m;           /* the job's model: posts to the round */
  int posted;           /* 1 while its request waits for values */
  size_t n;             /* the request: n points z, into lp (and grad when asked) */
  const double *z;
  double *lp, *grad;
  int status;           /* the request's */
} round_slot;

struct round {
  pthread_mutex_t mu;
  pthread_cond_t fit_cv;      /* the calling thread waits: a job posted or ended */
  pthread_cond_t job_cv;      /* jobs wait: their values are in */
  size_t live, posted;        /* jobs running, and of those, posted */
  round_slot *slot;
  size_t n;
  const vi_model *model;
  double *z, *lp, *g;         /* a batched call's points, values, gradients */
  size_t cap;                 /* points they hold */
};

static int round_log_joint(void *ctx, size_t n, const double *z, double *lp, double *grad)
{
  round_slot *s = ctx;
  round *r = s->r;
  pthread_mutex_lock(&r->mu);
  s->n = n;
  s->z = z;
  s->lp = lp;
  s->grad = grad;
  s->posted = 1;
  if (++r->posted == r->live) pthread_cond_signal(&r->fit_cv);
  while (s->posted) pthread_cond_wait(&r->job_cv, &r->mu);
  int st = s->status;
  pthread_mutex_unlock(&r->mu);
  return st;
}

static void *round_job(void *p)
{
  round_slot *s = p;
  round *r = s->r;
  s->result = s->fn(s->arg, &s->m);
  pthread_mutex_lock(&r->mu);
  if (--r->live == r->posted) pthread_cond_signal(&r->fit_cv);
  pthread_mutex_unlock(&r->mu);
  return NULL;
}

/* Evaluate the posted requests a..b-1 (slots in order, some not posted) in one call. */
static int round_call(round *r, size_t a, size_t b, start_round_counts *c)
{
  size_t D = r->model->dim, N = 0, k = 0;
  int grad = 0;
  for (size_t i = a; i < b; i++)
    if (r->slot[i].posted) {
      N += r->slot[i].n;
      grad |= r->slot[i].grad != NULL;
      k++;
    }
  if (k == 0) return VI_SUCCESS;
  round_slot *one = NULL;
  for (size_t i = a; i < b && k == 1 && !one; i++)
    if (r->slot[i].posted) one = &r->slot[i];
  c->n_calls++;
  c->n_gcalls += grad;
  c->n_points += N;
  if (one) {   /* a request alone: straight into its own arrays */
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

/* The lockstep round; *started = how many jobs got a thread (the rest are the caller's). */
static int round_threads(const vi_model *m, size_t n, start_round_fn fn, void *const *args,
                         int *status, start_round_counts *c, size_t *started)
{
  round r;
  memset(&r, 0, sizeof r);
  *started = 0;
  r.model = m;
  r.n = n;
  pthread_t *th = malloc(n * sizeof *th);
  r.slot = calloc(n, sizeof *r.slot);
  if (!th || !r.slot) {
    free(th);
    free(r.slot);
    return VI_ENOMEM;
  }
  pthread_mutex_init(&r.mu, NULL);
  pthread_cond_init(&r.fit_cv, NULL);
  pthread_cond_init(&r.job_cv, NULL);
  int st = VI_SUCCESS;
  pthread_mutex_lock(&r.mu);
  for (size_t i = 0; i < n; i++) {
    round_slot *s = &r.slot[i];
    s->r = &r;
    s->fn = fn;
    s->arg = args[i];
    s->m = *m;
    s->m.ctx = s;
    s->m.log_joint = round_log_joint;
    r.live++;
    if (pthread_create(&th[i], NULL, round_job, s) != 0) {
      r.live--;   /* no thread: this job and the rest run on the caller's after the round */
      break;
    }
    ++*started;
  }
  while (r.live > 0) {
    while (r.posted < r.live) pthread_cond_wait(&r.fit_cv, &r.mu);
    if (r.live == 0) break;
    /* every live job waits for its values: nothing else touches the slots meanwhile */
    pthread_mutex_unlock(&r.mu);
    int bs = round_batch(&r, c);
    pthread_mutex_lock(&r.mu);
    for (size_t i = 0; i < *started; i++)
      if (r.slot[i].posted) {
        if (bs != VI_SUCCESS) r.slot[i].status = bs;
        r.slot[i].posted = 0;
      }
    r.posted = 0;
    pthread_cond_broadcast(&r.job_cv);
  }
  pthread_mutex_unlock(&r.mu);
  for (size_t i = 0; i < *started; i++) {
    pthread_join(th[i], NULL);
    status[i] = r.slot[i].result;
  }
  pthread_cond_destroy(&r.job_cv);
  pthread_cond_destroy(&r.fit_cv);
  pthread_mutex_destroy(&r.mu);
  free(r.z);
  free(r.lp);
  free(r.g);
  free(r.slot);
  free(th);
  return st;
}
#endif

int start_round_run(const vi_model *m, size_t n, start_round_fn fn, void *const *args,
                    int *status, start_round_counts *c)
{
  size_t started = 0;
#ifdef HAVE_PTHREADS
  if (n > 1 && !start_round_sequential) {
    int st = round_threads(m, n, fn, args, status, c, &started);
    if (st != VI_SUCCESS) return st;
  }
#endif
  round_one_by_one(m, started, n, fn, args, status, c);
  return VI_SUCCESS;
}
