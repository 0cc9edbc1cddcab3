/*
 * spin.h - whether a dvkd thread polls for more work before it sleeps.
 *
 * Polling after work saves the next event a wake-up (about 25 us across
 * cores on a 2-vCPU VM) when it comes soon: a burst of vcopy requests, a
 * stream of messages.  When it does not come (a round trip across nodes
 * takes 100 us or more), the poll only takes a CPU from the processes
 * that would make the next event: on 2 vCPUs under load, dvkd's 50 us
 * and 20 us polls made a remote round trip 190 us instead of 80-140 us
 * (docs/BENCHMARKS.md, "cluster").  So a thread polls while its polls
 * find work; after one that found nothing it sleeps at once the next 1,
 * then 2, 4, ... DVKD_SPIN_BACKOFF_MAX times before it tries again (the
 * rule of include/dvs/backoff.h); and it polls only while a CPU is idle.
 */
#ifndef DVKD_SPIN_H
#define DVKD_SPIN_H

#include "dvs/backoff.h"

#define DVKD_SPIN_BACKOFF_MAX 64u

/* Whether a CPU is idle beside the caller's (the count of running tasks
 * in /proc/loadavg, read by one thread at most every 200 ms and shared by
 * all): a poll on an oversubscribed machine takes the CPU of a process
 * that has work (spin.c). */
int dvkd_cpu_idle(void);

/* Whether to poll after this batch of work (1) or sleep at once (0). */
static inline int
dvkd_spin_ok(struct dvs_backoff *s)
{
	return dvs_backoff_may_spin(s) && dvkd_cpu_idle();
}

/* The end of a poll: it found work, or its time ran out. */
static inline void
dvkd_spin_result(struct dvs_backoff *s, int found)
{
	dvs_backoff_result(s, found, 1, DVKD_SPIN_BACKOFF_MAX);
}

#endif
