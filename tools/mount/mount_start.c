/* mount_start.c - the supervisor started and heard (see mount_start.h). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>

#include "dvs/clock.h"
#include "dvs/exit.h"
#include "dvs/log.h"
#include "mount_cli.h"
#include "mount_start.h"
#include "run_dir.h"
#include "supervise.h"

/* How long dvs mount waits for the supervisor's word. */
#define READY_WAIT_MS 40000

/* Forks the supervisor in its own session, its output in RUN/log. */
static pid_t
start_supervisor(const struct mount_opts *o, int *ready_rd)
{
	char log[PATH_MAX + 16];
	sigset_t stop, old;
	int p[2], fd;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) != 0)
		return -errno;
	snprintf(log, sizeof(log), "%s/log", o->run);
	fflush(NULL);
	/* The supervisor must not lose a stop signal before it blocks them. */
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGHUP);
	sigprocmask(SIG_BLOCK, &stop, &old);
	pid = fork();
	if (pid != 0)
		sigprocmask(SIG_SETMASK, &old, NULL);
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return -errno;
	}
	if (pid == 0) {
		close(p[0]);
		setsid();
		fd = open("/dev/null", O_RDONLY);
		if (fd >= 0 && fd != STDIN_FILENO) {
			dup2(fd, STDIN_FILENO);
			close(fd);
		}
		fd = open(log, O_WRONLY | O_APPEND | O_CREAT, 0600);
		if (fd < 0)
			_exit(1);
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		if (fd > STDERR_FILENO)
			close(fd);
		supervise(o, p[1]);
	}
	close(p[1]);
	*ready_rd = p[0];
	return pid;
}

/* A signal that came while we wait for the supervisor (Ctrl-C). */
static volatile sig_atomic_t interrupted;

static void
on_signal(int sig)
{
	interrupted = sig;
}

/* Ctrl-C, SIGTERM or SIGHUP while the mount starts stop it all: the
 * supervisor (in its own session, so the terminal's signals miss it) is
 * told, unmounts and stops what it started. */
static void
catch_signals(void)
{
	struct sigaction sa = {.sa_handler = on_signal};

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

static long
now_ms(void)
{
	return (long)(dvs_now_ns() / 1000000u);
}

/*
 * Reads what the supervisor says into buf until EOF or deadline (ms since
 * boot); returns the number of bytes, *eof set when it closed.
 */
static size_t
read_until(int fd, char *buf, size_t cap, size_t have, long deadline, int stop_at_line,
	   int *eof)
{
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	ssize_t n;
	long left;

	*eof = 0;
	while (have + 1 < cap) {
		if (stop_at_line && memchr(buf, '\n', have) != NULL)
			break;
		left = deadline - now_ms();
		if (left <= 0)
			break;
		if (poll(&pfd, 1, (int)left) <= 0) {
			if (errno == EINTR && !interrupted)
				continue;
			break;
		}
		n = read(fd, buf + have, cap - 1 - have);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			*eof = 1;
			break;
		}
		have += (size_t)n;
	}
	buf[have] = '\0';
	return have;
}

/* Prints the servers' log, indented, after the failure. */
static void
print_indented(const char *text)
{
	const char *line = text, *nl;

	while (*line != '\0') {
		nl = strchr(line, '\n');
		fprintf(stderr, "  %.*s\n",
			nl != NULL ? (int)(nl - line) : (int)strlen(line), line);
		if (nl == NULL)
			break;
		line = nl + 1;
	}
}

/* Waits for the supervisor's word; 0 mounted, else the exit status. */
static int
wait_ready(const struct mount_opts *o, pid_t sup, int fd)
{
	static char buf[1 << 16];
	const char *reason = "the supervisor stopped without saying why", *log = "";
	size_t n;
	int eof, w;
	char *nl;

	n = read_until(fd, buf, sizeof(buf), 0, now_ms() + READY_WAIT_MS, 1, &eof);
	if (strncmp(buf, "ok\n", 3) == 0) {
		close(fd);
		if (!o->quiet)
			printf(PROG
			       ": %s mounted on %s (servers' log: %s/log; stop with: "
			       "dvs umount %s)\n",
			       o->image, o->mnt, o->run, o->mnt);
		return DVS_EXIT_OK;
	}
	if (n == 0 && !eof) {
		/* No word in time, or we were interrupted: the supervisor
		 * unmounts and stops all. */
		reason = interrupted ? "interrupted" : "no mount after 40 s";
		kill(sup, SIGTERM);
	}
	/* From here on the supervisor is stopping: let it finish. */
	signal(SIGINT, SIG_IGN);
	signal(SIGTERM, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	n = read_until(fd, buf, sizeof(buf), n, now_ms() + 60000, 0, &eof);
	close(fd);
	if (strncmp(buf, "error: ", 7) == 0 && (nl = strchr(buf, '\n')) != NULL) {
		*nl = '\0';
		reason = buf + 7;
		log = nl + 1;
	}
	fprintf(stderr, PROG ": mounting %s on %s failed: %s\n", o->image, o->mnt,
		reason);
	if (log[0] != '\0') {
		fprintf(stderr, "the servers said:\n");
		print_indented(log);
	}
	if (!eof)
		kill(sup, SIGKILL);
	waitpid(sup, &w, 0);
	run_dir_remove(o->run);
	return DVS_EXIT_FAILURE;
}

int
mount_start(const struct mount_opts *o)
{
	pid_t sup;
	int fd;

	catch_signals();
	sup = start_supervisor(o, &fd);
	if (sup < 0) {
		run_dir_remove(o->run);
		return mount_fail("cannot start the supervisor: %s", strerror((int)-sup));
	}
	dvs_info("supervisor pid %d, run directory %s", (int)sup, o->run);
	return wait_ready(o, sup, fd);
}
