/* engine/start_round.h: internal: a round of mode searches run in lockstep as coroutines,
 * their model calls gathered into batched calls (start_round.c). */
#ifndef VI_ENGINE_START_ROUND_H
#define VI_ENGINE_START_ROUND_H

#include <stddef.h>
#include <vi/model.h>

/* One job of a round (a mode search): it evaluates the model only through m, never
 * through the fit's model; its return value is kept in the round's status[i]. */
typedef int (*start_round_fn)(void *arg, const vi_model *m);

/* The model calls a round made: calls (those with gradients), and points over them. */
typedef struct {
  size_t n_calls, n_gcalls, n_points;
} start_round_counts;

/* Run fn(args[i], m_i) for i < n, each as a coroutine on a stack of its own, until all
 * have returned.  m_i's log_joint posts its points and switches back; when every job still
 * running has posted (or ended), all posted points are evaluated with m's log_joint, in
 * the jobs' order, in batched calls of at most START_ROUND_DOUBLES values of z each (a
 * request is never split), and the jobs resumed in order.  A batch's composition depends
 * only on what the jobs ask: with a deterministic model the round is deterministic.  All
 * runs on the calling thread (m's callbacks are called from it, one call at a time, as
 * vi/model.h promises).  With n == 1, without coroutines (configure found no
 * makecontext, or an ASan build) or with start_round_sequential set, the jobs run one after another
 * instead, each call passed through as it comes.
 * A failing batched call gives its status to every request in it.  Counts are added to
 * *c.  Returns VI_SUCCESS (the jobs' own statuses are in status) or VI_ENOMEM. */
int start_round_run(const vi_model *m, size_t n, start_round_fn fn, void *const *args,
                    int *status, start_round_counts *c);

#define START_ROUND_DOUBLES ((size_t)1 << 21)

/* Nonzero: every round runs its jobs one after another (tests compare the two ways). */
extern int start_round_sequential;
/* 1 when rounds run in lockstep (coroutines built in: not without makecontext, nor under
 * ASan), 0 when they always run one job after another. */
extern const int start_round_lockstep;

#endif
