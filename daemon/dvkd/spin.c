/*
 * spin.c - whether a CPU is idle, for the polls of spin.h.
 *
 * The answer comes from the count of runnable tasks in /proc/loadavg.
 * Reading it is three system calls' worth of work (a pread of a file the
 * kernel formats each time), so one answer serves every thread of dvkd
 * for DVKD_SPIN_LOAD_NS: the loop and the pump used to read it up to 100
 * times a second each while messages flowed.  The count is a snapshot
 * anyway (it moves every scheduler tick), so a fresher one is not a
 * better one; the polls' own back-off (spin.h) reacts within a batch.
 */
#include <fcntl.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dvkd.h"
#include "spin.h"

/* How old the answer may be. */
#define DVKD_SPIN_LOAD_NS 200000000ull

static _Atomic uint64_t load_next; /* when the answer goes stale */
static atomic_int load_idle = 1;   /* the answer */
static atomic_int load_fd = -1;	   /* /proc/loadavg, opened once */
static long ncpu;		   /* set by the thread that opened load_fd */

/* Reads the count of running tasks; 1 if a CPU is idle beside ours (or
 * if we cannot tell: poll as before). */
static int
load_read(void)
{
	char buf[128], *p;
	ssize_t n;
	long running;
	int fd = atomic_load(&load_fd);

	if (fd < 0) {
		int nfd = open("/proc/loadavg", O_RDONLY | O_CLOEXEC), expect = -1;

		if (nfd < 0)
			return 1;
		ncpu = sysconf(_SC_NPROCESSORS_ONLN);
		if (!atomic_compare_exchange_strong(&load_fd, &expect, nfd)) {
			close(nfd);
			nfd = expect;
		}
		fd = nfd;
	}
	n = pread(fd, buf, sizeof(buf) - 1, 0);
	if (n <= 0)
		return 1;
	buf[n] = '\0';
	/* "0.50 0.40 0.30 RUNNING/TOTAL LASTPID": RUNNING counts us. */
	p = strchr(buf, '/');
	if (p == NULL)
		return 1;
	while (p > buf && p[-1] != ' ')
		p--;
	running = strtol(p, NULL, 10);
	return running - 1 < (ncpu > 0 ? ncpu : 1);
}

int
dvkd_cpu_idle(void)
{
	uint64_t now = dvs_now_ns();
	uint64_t next = atomic_load_explicit(&load_next, memory_order_relaxed);

	/* One thread refreshes a stale answer; the others use the old one
	 * meanwhile rather than read the file too. */
	if (now < next ||
	    !atomic_compare_exchange_strong(&load_next, &next, now + DVKD_SPIN_LOAD_NS))
		return atomic_load_explicit(&load_idle, memory_order_relaxed);
	atomic_store_explicit(&load_idle, load_read(), memory_order_relaxed);
	return atomic_load_explicit(&load_idle, memory_order_relaxed);
}
