/*
 * spin.c - whether a CPU is idle, for the polls of spin.h.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dvkd.h"
#include "spin.h"

/* How old the answer may be: 10 ms, a read of a few dozen bytes a time. */
#define DVKD_SPIN_LOAD_NS 10000000ull

int
dvkd_cpu_idle(void)
{
	static _Thread_local int fd = -1, idle = 1;
	static _Thread_local uint64_t next;
	static long ncpu;
	uint64_t now = dvs_now_ns();
	char buf[128], *p;
	ssize_t n;
	long running;

	if (now < next)
		return idle;
	next = now + DVKD_SPIN_LOAD_NS;
	if (ncpu == 0)
		ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	if (fd < 0)
		fd = open("/proc/loadavg", O_RDONLY | O_CLOEXEC);
	if (fd < 0 || (n = pread(fd, buf, sizeof(buf) - 1, 0)) <= 0)
		return idle = 1; /* no /proc: poll as before */
	buf[n] = '\0';
	/* "0.50 0.40 0.30 RUNNING/TOTAL LASTPID": RUNNING counts us. */
	p = strchr(buf, '/');
	if (p == NULL)
		return idle = 1;
	while (p > buf && p[-1] != ' ')
		p--;
	running = strtol(p, NULL, 10);
	idle = running - 1 < ncpu;
	return idle;
}
