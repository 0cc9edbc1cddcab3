/*
 * bench_sh.c - the shell commands of the benchmarks that drive programs
 * (dvs-bench fs, smallio, ext): bash, not system()'s /bin/sh, which may
 * not be bash; every command's output goes to the work directory's
 * bench.log, which the benchmark names when something fails.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"

static int __attribute__((format(printf, 3, 0)))
vsh(const char *dir, int errexit, const char *fmt, va_list ap)
{
	char cmd[8192], line[sizeof(cmd) + PATH_MAX + 64];
	pid_t pid;
	int st;

	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	snprintf(line, sizeof(line), "exec >>'%s/bench.log' 2>&1; set %s pipefail; %s", dir,
		 errexit ? "-eo" : "-o", cmd);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		execl("/bin/bash", "bash", "-c", line, (char *)NULL);
		_exit(127);
	}
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

int
bench_sh(const char *dir, int errexit, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = vsh(dir, errexit, fmt, ap);
	va_end(ap);
	return rc;
}

double
bench_sh_timed(const char *dir, int errexit, const char *fmt, ...)
{
	uint64_t t0 = dvs_now_ns();
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = vsh(dir, errexit, fmt, ap);
	va_end(ap);
	return rc == 0 ? (double)(dvs_now_ns() - t0) / 1e9 : -1.0;
}
