/*
 * wake.c - futex wake-ups, deferred to the end of a batch (wake.h).
 */
#include <limits.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "wake.h"

#define WAKE_MAX 64

static _Thread_local int deferring;
static _Thread_local int nwakes;
static _Thread_local _Atomic uint32_t *wakes[WAKE_MAX];

static void
wake_now(_Atomic uint32_t *f)
{
	/* Not FUTEX_PRIVATE: the words are shared with other processes. */
	syscall(SYS_futex, (uint32_t *)f, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
}

void
dvkd_wake_call(_Atomic uint32_t *f)
{
	int i;

	if (!deferring) {
		wake_now(f);
		return;
	}
	for (i = 0; i < nwakes; i++)
		if (wakes[i] == f)
			return;
	if (nwakes == WAKE_MAX) {
		wake_now(f);
		return;
	}
	wakes[nwakes++] = f;
}

void
dvkd_wake(_Atomic uint32_t *f)
{
	atomic_fetch_add(f, 1);
	dvkd_wake_call(f);
}

void
dvkd_wake_defer(void)
{
	deferring = 1;
}

void
dvkd_wake_flush(void)
{
	int i;

	deferring = 0;
	for (i = 0; i < nwakes; i++)
		wake_now(wakes[i]);
	nwakes = 0;
}
