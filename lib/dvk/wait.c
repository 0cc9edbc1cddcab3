/*
 * wait.c - how libdvk waits: spin briefly when the peer runs on another
 * CPU (a cross-CPU wake-up of an idle vCPU costs tens of microseconds) and,
 * for the waits that back off, the last spins of that kind saw their
 * event (dvs/backoff.h),
 * then sleep on a futex in shared memory for at most DVK_TICK_MS, so that
 * a peer that corrupts shared words can delay a waiter but never hang it.
 */
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <sched.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "dvk_int.h"
#include "dvs/clock.h"

int64_t
dvk_now_ns(void)
{
	return (int64_t)dvs_now_ns(); /* lib/util/clock.c */
}

dvk_deadline_t
dvk_deadline(int timeout_ms)
{
	if (timeout_ms < 0)
		return INT64_MAX;
	return dvk_now_ns() + (int64_t)timeout_ms * 1000000;
}

int
dvk_cpu(void)
{
	int c = sched_getcpu();

	return c < 0 ? 0 : c;
}

void
dvk_futex_wake(_Atomic uint32_t *futex)
{
	atomic_fetch_add_explicit(futex, 1, memory_order_release);
	/* Not FUTEX_PRIVATE: the word is shared between processes. */
	syscall(SYS_futex, (uint32_t *)futex, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
}

static inline void
cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield");
#endif
}

int
dvk_wait(struct dvk *h, _Atomic uint32_t *futex, _Atomic uint32_t *sleeping,
	 int (*ready)(void *), void *arg, dvk_deadline_t dl, int spin,
	 struct dvs_backoff *bo)
{
	struct timespec ts;
	int64_t now, left;
	uint32_t v;
	long rc;

	if (spin && h->spin_ns > 0 && (bo == NULL || dvs_backoff_may_spin(bo))) {
		int64_t end = dvk_now_ns() + h->spin_ns;
		unsigned i;

		for (i = 1;; i++) {
			if (ready(arg)) {
				if (bo != NULL)
					dvs_backoff_result(bo, 1, 0, 0);
				return 0;
			}
			cpu_relax();
			if ((i & 31) == 0 && dvk_now_ns() > end)
				break;
		}
		if (bo != NULL)
			dvs_backoff_result(bo, 0, DVK_SPIN_SKIP_FIRST, DVK_SPIN_SKIP_MAX);
	}
	v = atomic_load_explicit(futex, memory_order_acquire);
	atomic_store_explicit(sleeping, 1, memory_order_relaxed);
	atomic_thread_fence(memory_order_seq_cst);
	if (ready(arg)) {
		atomic_store_explicit(sleeping, 0, memory_order_relaxed);
		return 0;
	}
	now = dvk_now_ns();
	if (now >= dl) {
		atomic_store_explicit(sleeping, 0, memory_order_relaxed);
		return -ETIMEDOUT;
	}
	left = dl - now;
	if (left > (int64_t)DVK_TICK_MS * 1000000)
		left = (int64_t)DVK_TICK_MS * 1000000;
	ts.tv_sec = left / 1000000000;
	ts.tv_nsec = left % 1000000000;
	rc = syscall(SYS_futex, (uint32_t *)futex, FUTEX_WAIT, v, &ts, NULL, 0);
	atomic_store_explicit(sleeping, 0, memory_order_relaxed);
	if (rc < 0 && errno == ETIMEDOUT) {
		/* A tick: look for a dead daemon and missed events. */
		dvk_ctl_poll(h, 1);
		if (h->daemon_gone)
			return -EDVS_NODAEMON;
	}
	if (dvk_now_ns() >= dl && !ready(arg))
		return -ETIMEDOUT;
	return 0;
}

int
dvk_check(const struct dvk *h)
{
	if (h == NULL || h->magic != DVK_HANDLE_MAGIC)
		return -EINVAL;
	if (h->daemon_gone)
		return -EDVS_NODAEMON;
	return 0;
}
